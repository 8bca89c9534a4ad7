//! Decoding one whole object: detect compression, classify the content, pick the framing and
//! emit what it holds in slices as it goes. A small object (the tens of KB Bedrock delivers) is
//! decoded from memory, inflated in one call if it is one gzip member; any other is streamed, so
//! memory is bounded by the block size, not the object size (CLI pages excepted: a page is one
//! JSON document and is read whole). Both ways give the same outcome.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::sync::Arc;

use flate2::bufread::{GzDecoder, MultiGzDecoder};
use rayon::prelude::*;

use super::buffer::with_thread_buffer;
use super::compression::{Compression, detect_compression};
use super::envelope::{DocumentUnits, decode_documents};
use super::inflate::inflate_single_member;
use super::lines::{BLOCK_BYTES, decode_block, for_each_block, for_each_block_in};
use super::sniff::{Classification, NoiseKind, SNIFF_BYTES, classify};
use super::{Normalize, Unit};
use crate::rows::{Decoded, Reject, SourceFormat, excerpt};

/// What decoding needs besides the bytes.
#[derive(Clone, Copy, Debug)]
pub struct DecodeOptions<'a> {
    pub normalizer: &'a dyn Normalize,
}

/// What an object turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Log(SourceFormat),
    Noise(NoiseKind),
    /// Not a log shape (or unreadable); the object is one reject.
    Unrecognized,
}

/// Totals of one decoded object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectSummary {
    pub kind: ObjectKind,
    pub invocations: u64,
    pub rejects: u64,
    pub noise_events: u64,
}

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// First bytes read to classify an object; doubled until classification succeeds.
const FIRST_SNIFF_BYTES: usize = 64 << 10;

/// An object's raw bytes, as they are handed to [`decode_object`].
#[derive(Clone, Copy)]
pub enum ObjectBytes<'a> {
    /// All of them, in memory: a fetched object, a small file read at once. One gzip member
    /// (as Bedrock writes to S3) is inflated in one call ([`inflate`](super::inflate)) and plain
    /// JSON is decoded where it lies.
    Whole(&'a [u8]),
    /// Read from the start each time this is called (at most twice: Firehose objects are
    /// classified from the inflated start, then re-read member by member).
    Stream(&'a dyn Fn() -> io::Result<Box<dyn BufRead + Send + 'a>>),
}

thread_local! {
    /// The inflated content of the last whole object this thread decoded, kept for the next.
    static INFLATED: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Decodes one object. `source` is the object's URI and `name` its key or path.
pub fn decode_object(
    source: &Arc<str>,
    name: &str,
    bytes: ObjectBytes<'_>,
    options: DecodeOptions<'_>,
    emit: &mut dyn FnMut(Decoded),
) -> io::Result<ObjectSummary> {
    let mut summary = ObjectSummary {
        kind: ObjectKind::Unrecognized,
        invocations: 0,
        rejects: 0,
        noise_events: 0,
    };
    let mut emit_counted = |decoded: Decoded| {
        summary.invocations += decoded.invocations.len() as u64;
        summary.rejects += decoded.rejects.len() as u64;
        summary.noise_events += decoded.noise_events;
        if !decoded.is_empty() {
            emit(decoded);
        }
    };
    let object = Object {
        source,
        name,
        options,
    };
    let kind = match bytes {
        ObjectBytes::Whole(raw) => match detect_compression(raw) {
            Compression::None => object.decode_whole(raw, Compression::None, &mut emit_counted),
            Compression::Gzip => with_thread_buffer(&INFLATED, |content| {
                if inflate_single_member(raw, content) {
                    Ok(object.decode_whole(content, Compression::Gzip, &mut emit_counted))
                } else {
                    // Several members, too large or damaged: streamed, which reports where.
                    let open = || -> io::Result<Box<dyn BufRead + Send + '_>> { Ok(Box::new(raw)) };
                    object.decode_streamed(&open, &mut emit_counted)
                }
            })?,
        },
        ObjectBytes::Stream(open) => object.decode_streamed(open, &mut emit_counted)?,
    };
    summary.kind = kind;
    Ok(summary)
}

/// One object being decoded: what every framing needs to name where a unit came from.
struct Object<'a> {
    source: &'a Arc<str>,
    name: &'a str,
    options: DecodeOptions<'a>,
}

impl Object<'_> {
    /// Decodes an object whose content is all in `content` (inflated already if it was one gzip
    /// member, as `compression` says), with the same outcome as streaming it.
    fn decode_whole(
        &self,
        content: &[u8],
        compression: Compression,
        emit: &mut dyn FnMut(Decoded),
    ) -> ObjectKind {
        let source = self.source;
        let classification = sniff_whole(content, self.name);
        let kind = ObjectKind::from(classification);
        // A member's envelope is decoded as it is; otherwise a byte-order mark is not content.
        let framed = content.strip_prefix(UTF8_BOM).unwrap_or(content);
        match kind {
            ObjectKind::Noise(_) => {}
            ObjectKind::Unrecognized => emit(not_a_log_shape(source, framed)),
            ObjectKind::Log(format @ (SourceFormat::S3Native | SourceFormat::CloudWatchExport)) => {
                for_each_block_in(framed, |block| {
                    emit(decode_block(block, format, source, self.options.normalizer))
                })
            }
            ObjectKind::Log(format) => {
                // One gzip member is one Firehose envelope document, at offset 0.
                let (documents, offset) = match (format, compression) {
                    (SourceFormat::Firehose, Compression::Gzip) => (content, Some(0)),
                    _ => (framed, None),
                };
                let units = decode_documents(documents, format, source, self.options.normalizer);
                emit(Ordinals::default().number(units, source, format, offset));
            }
        }
        kind
    }

    /// Decodes an object read from the streams `open` returns, block by block.
    fn decode_streamed<'r>(
        &self,
        open: &dyn Fn() -> io::Result<Box<dyn BufRead + Send + 'r>>,
        emit: &mut dyn FnMut(Decoded),
    ) -> io::Result<ObjectKind> {
        let (source, options) = (self.source, self.options);
        let mut raw = open()?;
        let compression = detect_compression(raw.fill_buf()?);
        let mut content: Box<dyn Read + Send + 'r> = match compression {
            Compression::Gzip => Box::new(MultiGzDecoder::new(raw)),
            Compression::None => Box::new(raw),
        };
        let Sniffed {
            mut head,
            complete,
            classification,
            error,
        } = sniff(&mut content, self.name);
        // A UTF-8 byte-order mark (Windows tools write one, PowerShell among them) is not content.
        if head.starts_with(UTF8_BOM) {
            head.drain(..UTF8_BOM.len());
        }
        if let Some(error) = error {
            if classification == Classification::Unrecognized {
                emit(object_reject(
                    source,
                    None,
                    format!("unreadable content: {error}"),
                    &head,
                ));
                return Ok(ObjectKind::Unrecognized);
            }
            // What was read before the damage still counts; the framing reports where it broke.
            content = Box::new(BrokenStream(Some(error)));
        }
        let kind = ObjectKind::from(classification);
        match kind {
            ObjectKind::Noise(_) => {}
            ObjectKind::Unrecognized => emit(not_a_log_shape(source, &head)),
            ObjectKind::Log(format @ (SourceFormat::S3Native | SourceFormat::CloudWatchExport)) => {
                let result = for_each_block(head, &mut content, |block| {
                    emit(decode_block(block, format, source, options.normalizer))
                });
                if let Err(broken) = result {
                    emit(Decoded {
                        rejects: vec![Reject {
                            source: Arc::clone(source),
                            format: Some(format),
                            line: Some(broken.line),
                            byte_offset: Some(broken.offset),
                            reason: format!("object broke off: {}", broken.error),
                            excerpt: broken.tail_excerpt,
                        }],
                        ..Decoded::default()
                    });
                }
            }
            ObjectKind::Log(SourceFormat::Firehose) if compression == Compression::Gzip => {
                drop(content);
                decode_gzip_members(source, open()?, options, emit)?;
            }
            ObjectKind::Log(format) => {
                let mut all = head;
                if !complete && let Err(error) = content.read_to_end(&mut all) {
                    let offset = all.len() as u64;
                    emit(object_reject(
                        source,
                        Some(offset),
                        format!("object broke off: {error}"),
                        &[],
                    ));
                }
                let units = decode_documents(&all, format, source, options.normalizer);
                emit(Ordinals::default().number(units, source, format, None));
            }
        }
        Ok(kind)
    }
}

impl From<Classification> for ObjectKind {
    fn from(classification: Classification) -> Self {
        match classification {
            Classification::Log(format) => ObjectKind::Log(format),
            Classification::Noise(noise) => ObjectKind::Noise(noise),
            Classification::Unrecognized => ObjectKind::Unrecognized,
        }
    }
}

/// Classifies content held whole from its start, reading as far as [`sniff`] would.
fn sniff_whole(content: &[u8], name: &str) -> Classification {
    let mut limit = FIRST_SNIFF_BYTES;
    loop {
        let complete = content.len() < limit;
        let classification = classify(&content[..content.len().min(limit)], complete, name);
        if complete || classification != Classification::Unrecognized || limit >= SNIFF_BYTES {
            return classification;
        }
        limit *= 2;
    }
}

/// The start of an object's content and what it was classified as.
struct Sniffed {
    head: Vec<u8>,
    /// `head` is the whole content.
    complete: bool,
    classification: Classification,
    /// Reading broke off after `head`.
    error: Option<io::Error>,
}

/// Reads the start of the content until it can be classified (or [`SNIFF_BYTES`] are read).
fn sniff(content: &mut dyn Read, name: &str) -> Sniffed {
    let mut head = Vec::new();
    let mut limit = FIRST_SNIFF_BYTES;
    loop {
        let wanted = (limit - head.len()) as u64;
        let error = (&mut *content).take(wanted).read_to_end(&mut head).err();
        let complete = error.is_none() && head.len() < limit;
        let classification = classify(&head, complete, name);
        let decided = classification != Classification::Unrecognized;
        if complete || decided || error.is_some() || limit >= SNIFF_BYTES {
            return Sniffed {
                head,
                complete,
                classification,
                error,
            };
        }
        limit *= 2;
    }
}

/// A stream that already failed: yields its error once, then ends.
struct BrokenStream(Option<io::Error>);

impl Read for BrokenStream {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// The reject of an object whose content, starting with `head`, is no log shape.
fn not_a_log_shape(source: &Arc<str>, head: &[u8]) -> Decoded {
    let reason = "content is not a Bedrock log shape (record lines, CloudWatch export, Firehose envelopes or a CLI page)";
    object_reject(source, None, reason.to_owned(), head)
}

fn object_reject(source: &Arc<str>, offset: Option<u64>, reason: String, head: &[u8]) -> Decoded {
    Decoded {
        rejects: vec![Reject {
            source: Arc::clone(source),
            format: None,
            line: None,
            byte_offset: Some(offset.unwrap_or(0)),
            reason,
            excerpt: excerpt(head),
        }],
        ..Decoded::default()
    }
}

/// Numbers the log events of an object 1, 2, 3, ... across its documents.
#[derive(Default)]
struct Ordinals {
    next: u64,
}

impl Ordinals {
    fn number(
        &mut self,
        units: DocumentUnits,
        source: &Arc<str>,
        format: SourceFormat,
        byte_offset: Option<u64>,
    ) -> Decoded {
        let mut decoded = Decoded {
            noise_events: units.control_messages,
            ..Decoded::default()
        };
        for unit in units.units {
            self.next += 1;
            match unit {
                Unit::Invocation(mut invocation) => {
                    invocation.origin.line = self.next;
                    decoded.invocations.push(*invocation);
                }
                Unit::Noise => decoded.noise_events += 1,
                Unit::Reject { reason, excerpt } => decoded.rejects.push(Reject {
                    source: Arc::clone(source),
                    format: Some(format),
                    line: Some(self.next),
                    byte_offset,
                    reason,
                    excerpt,
                }),
            }
        }
        if let Some((reason, excerpt)) = units.broken {
            decoded.rejects.push(Reject {
                source: Arc::clone(source),
                format: Some(format),
                line: None,
                byte_offset,
                reason,
                excerpt,
            });
        }
        decoded
    }
}

/// A `BufRead` that knows how many bytes have been consumed from it.
struct Counting<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amount: usize) {
        self.consumed += amount as u64;
        self.inner.consume(amount);
    }
}

/// Firehose objects: one envelope per gzip member. Members are inflated one at a time, so each
/// keeps its own offset for rejects, and decoded in parallel a block's worth at a time.
fn decode_gzip_members(
    source: &Arc<str>,
    raw: Box<dyn BufRead + Send + '_>,
    options: DecodeOptions<'_>,
    emit: &mut dyn FnMut(Decoded),
) -> io::Result<()> {
    let format = SourceFormat::Firehose;
    let mut input = Counting {
        inner: raw,
        consumed: 0,
    };
    let mut ordinals = Ordinals::default();
    let mut batch: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut batch_bytes = 0;
    let mut flush = |batch: &mut Vec<(u64, Vec<u8>)>, emit: &mut dyn FnMut(Decoded)| {
        let decoded: Vec<(u64, DocumentUnits)> = batch
            .par_iter()
            .map(|(offset, doc)| {
                (
                    *offset,
                    decode_documents(doc, format, source, options.normalizer),
                )
            })
            .collect();
        for (offset, units) in decoded {
            emit(ordinals.number(units, source, format, Some(offset)));
        }
        batch.clear();
    };
    loop {
        if input.fill_buf()?.is_empty() {
            break;
        }
        let offset = input.consumed;
        let mut doc = Vec::new();
        if let Err(error) = GzDecoder::new(&mut input).read_to_end(&mut doc) {
            flush(&mut batch, emit);
            let mut reject = object_reject(
                source,
                Some(offset),
                format!("corrupt gzip member: {error}"),
                &doc,
            );
            reject.rejects[0].format = Some(format);
            emit(reject);
            return Ok(());
        }
        batch_bytes += doc.len();
        batch.push((offset, doc));
        if batch_bytes >= BLOCK_BYTES {
            flush(&mut batch, emit);
            batch_bytes = 0;
        }
    }
    flush(&mut batch, emit);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::compression::gzip;
    use crate::normalize::ProfileMap;

    type Outcome = (ObjectSummary, Vec<String>, Vec<Reject>);

    /// Decodes `bytes` streamed and held whole, checks that both give the same outcome, and
    /// returns it.
    fn decode(name: &str, bytes: Vec<u8>) -> Outcome {
        let open = || -> io::Result<Box<dyn BufRead + Send + '_>> {
            Ok(Box::new(io::Cursor::new(bytes.as_slice())))
        };
        let streamed = decode_as(name, ObjectBytes::Stream(&open));
        let whole = decode_as(name, ObjectBytes::Whole(&bytes));
        assert_eq!(
            format!("{whole:?}"),
            format!("{streamed:?}"),
            "{name}: whole and streamed decoding differ"
        );
        whole
    }

    fn decode_as(name: &str, bytes: ObjectBytes<'_>) -> Outcome {
        let source: Arc<str> = Arc::from(format!("file:///{name}"));
        let profiles = ProfileMap::default();
        let mut ids = Vec::new();
        let mut rejects = Vec::new();
        let summary = decode_object(
            &source,
            name,
            bytes,
            DecodeOptions {
                normalizer: &profiles,
            },
            &mut |d| {
                ids.extend(
                    d.invocations
                        .iter()
                        .map(|i| format!("{}@{}", i.request_id, i.origin.line)),
                );
                rejects.extend(d.rejects);
            },
        )
        .unwrap();
        (summary, ids, rejects)
    }

    fn record(id: &str) -> String {
        format!(
            r#"{{"requestId":"{id}","timestamp":"2025-10-01T00:00:00Z","modelId":"amazon.nova-lite-v1:0"}}"#
        )
    }

    fn envelope(ids: &[&str]) -> String {
        let events: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"id":"e","timestamp":1,"message":{}}}"#,
                    serde_json::to_string(&record(id)).unwrap()
                )
            })
            .collect();
        format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
            events.join(",")
        )
    }

    #[test]
    fn decodes_every_shape_of_object() {
        let native = format!("{}\n{}\n", record("a"), record("b"));
        let export = format!(
            "2025-10-01T00:00:01.000Z {}\n2025-10-01T00:00:00.000Z {}\n",
            record("d"),
            record("c")
        );
        let mut firehose = gzip(envelope(&["e", "f"]).as_bytes());
        firehose.extend(gzip(br#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#));
        firehose.extend(gzip(envelope(&["g"]).as_bytes()));
        let page = format!(
            "{{\n    \"events\": [{{\"timestamp\": 1, \"message\": {}}}]\n}}",
            serde_json::to_string(&record("h")).unwrap()
        );
        let bom = |text: &str| [UTF8_BOM, text.as_bytes()].concat();
        // As people save pages: Logs Insights' `@timestamp`/`@message`, a message that is the
        // record itself, CRLF line ends.
        let saved_page = format!(
            "{{\r\n  \"events\": [{{\"@timestamp\": \"2025-10-01 00:00:00.000\", \"@message\": {}}},\r\n    {{\"timestamp\": 1, \"message\": {}}}]\r\n}}\r\n",
            serde_json::to_string(&record("i")).unwrap(),
            record("j")
        );
        use ObjectKind::*;
        // (name, bytes, kind, ids, rejects)
        type Case<'a> = (&'a str, Vec<u8>, ObjectKind, Vec<&'a str>, usize);
        let cases: Vec<Case> = vec![
            (
                "bom.json",
                bom(&native),
                Log(SourceFormat::S3Native),
                vec!["a@1", "b@2"],
                0,
            ),
            (
                "bom-crlf.json.gz",
                gzip(&bom(&native.replace('\n', "\r\n"))),
                Log(SourceFormat::S3Native),
                vec!["a@1", "b@2"],
                0,
            ),
            (
                "bom-page.json",
                bom(&saved_page),
                Log(SourceFormat::LogsCliPage),
                vec!["i@1", "j@2"],
                0,
            ),
            (
                "insights.json",
                bom(&format!(
                    "[\r\n  {{\"@timestamp\": \"2025-10-01 00:00:00.000\", \"@message\": {}}},\r\n  {{\"@message\": {}}}\r\n]",
                    serde_json::to_string(&record("k")).unwrap(),
                    serde_json::to_string(&record("l")).unwrap()
                )),
                Log(SourceFormat::LogsCliPage),
                vec!["k@1", "l@2"],
                0,
            ),
            (
                "bom-export",
                bom(&export),
                Log(SourceFormat::CloudWatchExport),
                vec!["d@1", "c@2"],
                0,
            ),
            (
                "n.json.gz",
                gzip(native.as_bytes()),
                Log(SourceFormat::S3Native),
                vec!["a@1", "b@2"],
                0,
            ),
            (
                "plain.json.gz",
                native.clone().into_bytes(),
                Log(SourceFormat::S3Native),
                vec!["a@1", "b@2"],
                0,
            ),
            (
                "000000.gz",
                gzip(export.as_bytes()),
                Log(SourceFormat::CloudWatchExport),
                vec!["d@1", "c@2"],
                0,
            ),
            (
                "stream-1-2025",
                firehose,
                Log(SourceFormat::Firehose),
                vec!["e@1", "f@2", "g@3"],
                0,
            ),
            (
                "one-member-firehose",
                gzip(envelope(&["m", "n"]).as_bytes()),
                Log(SourceFormat::Firehose),
                vec!["m@1", "n@2"],
                0,
            ),
            (
                "firehose-with-a-bad-event",
                gzip(
                    br#"{"messageType":"DATA_MESSAGE","logEvents":[{"id":"e","timestamp":1,"message":"{\"requestId\":"}]}"#,
                ),
                Log(SourceFormat::Firehose),
                vec![],
                1,
            ),
            (
                "plain-firehose",
                envelope(&["x", "y"]).into_bytes(),
                Log(SourceFormat::Firehose),
                vec!["x@1", "y@2"],
                0,
            ),
            (
                "page.json",
                page.into_bytes(),
                Log(SourceFormat::LogsCliPage),
                vec!["h@1"],
                0,
            ),
            (
                "page.json.gz",
                gzip(b"{\"events\":[]}"),
                Log(SourceFormat::LogsCliPage),
                vec![],
                0,
            ),
            ("marker", Vec::new(), Noise(NoiseKind::Empty), vec![], 0),
            ("empty.gz", gzip(b""), Noise(NoiseKind::Empty), vec![], 0),
            (
                "09/data/r_input.json.gz",
                gzip(b"{\"messages\":[]}"),
                Noise(NoiseKind::OffloadedBody),
                vec![],
                0,
            ),
            ("notes.txt", b"dear diary".to_vec(), Unrecognized, vec![], 1),
        ];
        for (name, bytes, kind, ids, rejects) in cases {
            let (summary, got, got_rejects) = decode(name, bytes);
            assert_eq!(summary.kind, kind, "{name}");
            assert_eq!(got, ids, "{name}");
            assert_eq!(got_rejects.len(), rejects, "{name}: {got_rejects:?}");
            assert_eq!(summary.invocations, ids.len() as u64, "{name}");
        }
    }

    #[test]
    fn keeps_what_precedes_corruption() {
        let mut native = gzip(format!("{}\n{}\n", record("a"), record("b")).as_bytes());
        native.truncate(native.len() - 12);
        let (_, ids, rejects) = decode("cut.json.gz", native);
        assert!(ids.len() <= 2);
        assert_eq!(rejects.len(), 1, "{rejects:?}");
        assert!(
            rejects[0].reason.starts_with("object broke off"),
            "{rejects:?}"
        );

        let mut firehose = gzip(envelope(&["e"]).as_bytes());
        let second = firehose.len() as u64;
        firehose.extend(b"\x1f\x8bnot really gzip");
        let (_, ids, rejects) = decode("stream", firehose);
        assert_eq!(ids, ["e@1"]);
        assert_eq!(rejects.len(), 1);
        assert_eq!(rejects[0].byte_offset, Some(second));
        assert!(
            rejects[0].reason.starts_with("corrupt gzip member"),
            "{rejects:?}"
        );
    }
}
