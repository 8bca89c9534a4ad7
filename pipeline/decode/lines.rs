//! Line framings: native S3 objects (one record per line) and CloudWatch export objects
//! (`<24-char timestamp> <message>` per line).
//!
//! An object is cut into blocks of whole lines; the lines of a block are decoded in parallel and
//! come back in their original order, so output never depends on scheduling.

use std::io::{self, Read};
use std::sync::Arc;

use memchr::{memchr, memchr_iter, memrchr};
use rayon::prelude::*;

use super::message::{UnitContext, decode_log_message, decode_record, reject};
use super::sniff::{EXPORT_TIME_LEN, export_line_time};
use super::{Normalize, Unit};
use crate::rows::{Decoded, Reject, SourceFormat, excerpt};

/// Decompressed bytes per block: large enough to keep both cores busy inside one object, small
/// enough that memory stays a few blocks per worker.
pub const BLOCK_BYTES: usize = 8 << 20;
const READ_BYTES: usize = 1 << 20;
/// Lines below this many per rayon task are not worth splitting further.
const MIN_LINES_PER_TASK: usize = 16;

/// A run of whole lines and where it starts in the decompressed object.
#[derive(Clone, Copy, Debug)]
pub struct LineBlock<'a> {
    pub bytes: &'a [u8],
    /// 1-based number of the block's first line.
    pub first_line: u64,
    /// Offset of the block in the decompressed object.
    pub offset: u64,
}

/// The decompressed stream broke off (corrupt gzip, I/O error) after `offset` bytes.
#[derive(Debug)]
pub struct StreamBroken {
    pub offset: u64,
    pub line: u64,
    pub tail_excerpt: String,
    pub error: io::Error,
}

/// Reads `head` followed by `rest` and hands every block of whole lines to `on_block`.
/// The last line needs no trailing newline.
pub fn for_each_block(
    head: Vec<u8>,
    rest: &mut dyn Read,
    mut on_block: impl FnMut(LineBlock<'_>),
) -> Result<(), StreamBroken> {
    let mut buf = head;
    let mut first_line = 1u64;
    let mut offset = 0u64;
    let mut want = BLOCK_BYTES;
    let mut eof = false;
    let mut broken = None;
    loop {
        while !eof && buf.len() < want {
            match read_some(rest, &mut buf) {
                Ok(0) => eof = true,
                Ok(_) => {}
                Err(error) => {
                    eof = true;
                    broken = Some(error);
                }
            }
        }
        let cut = match memrchr(b'\n', &buf) {
            _ if eof && broken.is_none() => buf.len(),
            Some(last_newline) => last_newline + 1,
            None if eof => 0,
            None => {
                // One line longer than a block: read on until it ends.
                want = buf.len() * 2;
                continue;
            }
        };
        if cut > 0 {
            let bytes = &buf[..cut];
            on_block(LineBlock {
                bytes,
                first_line,
                offset,
            });
            first_line += memchr_iter(b'\n', bytes).count() as u64;
            offset += cut as u64;
            buf.drain(..cut);
        }
        want = BLOCK_BYTES;
        if eof {
            return match broken {
                None => Ok(()),
                Some(error) => Err(StreamBroken {
                    offset,
                    line: first_line,
                    tail_excerpt: excerpt(&buf),
                    error,
                }),
            };
        }
    }
}

/// Hands every block of whole lines of `content`, held whole, to `on_block`: the blocks
/// [`for_each_block`] would make of it, without copying.
pub fn for_each_block_in(content: &[u8], mut on_block: impl FnMut(LineBlock<'_>)) {
    let mut first_line = 1u64;
    let mut start = 0;
    while start < content.len() {
        let rest = &content[start..];
        let cut = if rest.len() <= BLOCK_BYTES {
            rest.len()
        } else {
            match memrchr(b'\n', &rest[..BLOCK_BYTES]) {
                Some(last_newline) => last_newline + 1,
                // One line longer than a block: it ends the block.
                None => memchr(b'\n', rest).map_or(rest.len(), |newline| newline + 1),
            }
        };
        let bytes = &rest[..cut];
        on_block(LineBlock {
            bytes,
            first_line,
            offset: start as u64,
        });
        first_line += memchr_iter(b'\n', bytes).count() as u64;
        start += cut;
    }
}

/// Appends up to [`READ_BYTES`] to `buf`; 0 at the end. `read_to_end` grows `buf` as the data
/// comes and never zeroes spare capacity it already initialized, where a `resize` before each
/// read would clear a whole [`READ_BYTES`] for an object of a few KB, twice.
fn read_some(reader: &mut dyn Read, buf: &mut Vec<u8>) -> io::Result<usize> {
    reader.take(READ_BYTES as u64).read_to_end(buf)
}

/// Decodes every line of a block in parallel.
pub fn decode_block(
    block: LineBlock<'_>,
    format: SourceFormat,
    source: &Arc<str>,
    normalizer: &dyn Normalize,
) -> Decoded {
    let mut spans = Vec::new();
    let mut start = 0;
    for newline in memchr_iter(b'\n', block.bytes).chain(std::iter::once(block.bytes.len())) {
        if start <= newline && start < block.bytes.len() {
            spans.push((start, newline));
        }
        start = newline + 1;
    }
    let units: Vec<Option<Unit>> = spans
        .par_iter()
        .with_min_len(MIN_LINES_PER_TASK)
        .enumerate()
        .map(|(index, &(start, end))| {
            let line = block.bytes[start..end].trim_ascii();
            if line.is_empty() {
                return None;
            }
            let ctx = UnitContext {
                source,
                format,
                line: block.first_line + index as u64,
                framing_time_ms: None,
                normalizer,
            };
            Some(decode_line(line, ctx))
        })
        .collect();

    let mut decoded = Decoded::default();
    for (index, unit) in units.into_iter().enumerate() {
        match unit {
            None => {}
            Some(Unit::Invocation(invocation)) => decoded.invocations.push(*invocation),
            Some(Unit::Noise) => decoded.noise_events += 1,
            Some(Unit::Reject { reason, excerpt }) => decoded.rejects.push(Reject {
                source: Arc::clone(source),
                format: Some(format),
                line: Some(block.first_line + index as u64),
                byte_offset: Some(block.offset + spans[index].0 as u64),
                reason,
                excerpt,
            }),
        }
    }
    decoded
}

fn decode_line(line: &[u8], ctx: UnitContext<'_>) -> Unit {
    match ctx.format {
        SourceFormat::CloudWatchExport => match export_line_time(line) {
            Some(time_ms) => decode_log_message(
                &line[EXPORT_TIME_LEN + 1..],
                UnitContext {
                    framing_time_ms: Some(time_ms),
                    ..ctx
                },
            ),
            None => reject(
                "export line does not start with a 24-character UTC timestamp".to_owned(),
                line,
            ),
        },
        _ => decode_record(line, ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::ProfileMap;

    fn blocks_of(input: &[u8], head_len: usize) -> Vec<(String, u64, u64)> {
        let mut rest = &input[head_len..];
        let mut seen = Vec::new();
        for_each_block(input[..head_len].to_vec(), &mut rest, |block| {
            seen.push((
                String::from_utf8_lossy(block.bytes).into_owned(),
                block.first_line,
                block.offset,
            ))
        })
        .unwrap();
        seen
    }

    #[test]
    fn hands_out_whole_lines_with_positions() {
        let cases: &[(&[u8], usize)] = &[
            (b"a\nbb\nccc", 0),
            (b"a\nbb\nccc\n", 3),
            (b"", 0),
            (b"x", 1),
        ];
        for (input, head_len) in cases {
            let blocks = blocks_of(input, *head_len);
            let joined: String = blocks.iter().map(|b| b.0.as_str()).collect();
            assert_eq!(joined.as_bytes(), *input, "all bytes handed out once");
            assert!(
                blocks.iter().all(|b| b.1 == 1 && b.2 == 0),
                "one block for small input"
            );
        }
    }

    /// Every line of the blocks with its number and offset, as the blocks place it.
    fn placed_lines(blocks: &[(String, u64, u64)]) -> Vec<(u64, u64, String)> {
        let mut placed = Vec::new();
        for (bytes, first_line, offset) in blocks {
            let mut at = 0;
            for (index, line) in bytes.split_inclusive('\n').enumerate() {
                placed.push((first_line + index as u64, offset + at, line.to_owned()));
                at += line.len() as u64;
            }
        }
        placed
    }

    #[test]
    fn blocks_of_whole_content_place_every_line_as_streamed_blocks_do() {
        let line = format!("{{\"requestId\":\"{}\"}}\n", "r".repeat(1000));
        let many_lines = line.repeat(2 * BLOCK_BYTES / line.len() + 3);
        let one_long_line = format!("{}\nshort\n", "x".repeat(BLOCK_BYTES + 10));
        let cases: &[(&str, &[u8])] = &[
            ("empty", b""),
            ("no final newline", b"a\nbb\nccc"),
            ("final newline", b"a\nbb\nccc\n"),
            ("three blocks", many_lines.as_bytes()),
            ("a line longer than a block", one_long_line.as_bytes()),
        ];
        for (name, input) in cases {
            let mut whole = Vec::new();
            for_each_block_in(input, |block| {
                assert!(
                    block.bytes.len() <= BLOCK_BYTES
                        || !block.bytes[..block.bytes.len() - 1].contains(&b'\n'),
                    "{name}: a block over the size is one line"
                );
                whole.push((
                    String::from_utf8_lossy(block.bytes).into_owned(),
                    block.first_line,
                    block.offset,
                ))
            });
            let joined: String = whole.iter().map(|b| b.0.as_str()).collect();
            assert_eq!(
                joined.as_bytes(),
                *input,
                "{name}: all bytes handed out once"
            );
            assert_eq!(
                placed_lines(&whole),
                placed_lines(&blocks_of(input, 0)),
                "{name}"
            );
        }
        let mut blocks = 0;
        for_each_block_in(many_lines.as_bytes(), |_| blocks += 1);
        assert_eq!(blocks, 3, "cut near the block size");
    }

    #[test]
    fn reports_where_a_stream_breaks() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "corrupt deflate stream",
                    ));
                }
                let n = self.0.len().min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut lines = Vec::new();
        let error = for_each_block(Vec::new(), &mut Failing(b"one\ntwo\nthr"), |block| {
            lines.push(String::from_utf8_lossy(block.bytes).into_owned())
        })
        .unwrap_err();
        assert_eq!(lines, ["one\ntwo\n"]);
        assert_eq!(
            (error.offset, error.line, error.tail_excerpt.as_str()),
            (8, 3, "thr")
        );
    }

    #[test]
    fn decodes_lines_of_both_framings() {
        let source: Arc<str> = Arc::from("file:///o");
        let profiles = ProfileMap::default();
        let native = b"{\"requestId\":\"a\",\"timestamp\":\"2025-10-01T00:00:00Z\"}\r\n\n{broken\n{\"requestId\":\"b\",\"timestamp\":\"2025-10-01T00:00:01Z\"}";
        let decoded = decode_block(
            LineBlock {
                bytes: native,
                first_line: 10,
                offset: 100,
            },
            SourceFormat::S3Native,
            &source,
            &profiles,
        );
        let ids: Vec<(&str, u64)> = decoded
            .invocations
            .iter()
            .map(|i| (i.request_id.as_str(), i.origin.line))
            .collect();
        assert_eq!(ids, [("a", 10), ("b", 13)]);
        assert_eq!(decoded.rejects.len(), 1);
        let reject = &decoded.rejects[0];
        assert_eq!(
            (reject.line, reject.byte_offset, reject.excerpt.as_str()),
            (Some(12), Some(155), "{broken")
        );

        let export = b"2025-08-18T16:57:13.000Z {\"requestId\":\"c\"}\n2025-08-18T16:57:14.000Z Permissions are correctly set for Amazon Bedrock logs.\n2025-08-18 16:57 {\"requestId\":\"d\"}\n";
        let decoded = decode_block(
            LineBlock {
                bytes: export,
                first_line: 1,
                offset: 0,
            },
            SourceFormat::CloudWatchExport,
            &source,
            &profiles,
        );
        assert_eq!(decoded.invocations.len(), 1);
        assert_eq!(
            decoded.invocations[0].timestamp_ms, 1_755_536_233_000,
            "prefix time as fallback"
        );
        assert_eq!(decoded.noise_events, 1);
        assert_eq!(decoded.rejects.len(), 1);
        assert_eq!(decoded.rejects[0].line, Some(3));
    }
}
