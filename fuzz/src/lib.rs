//! The fuzz targets' bodies: one function per target, taking the input bytes. The AFL binaries in
//! `targets/` call these inside `afl::fuzz!`; `targets/replay.rs` calls them on files without AFL.
//!
//! Every function drives public entry points of `bedrock_ledger` only. A panic anywhere is a
//! finding; so is a failed `assert!` below (each states a property the library documents).

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use bedrock_ledger::attribution::{Request, TeamRules, attribute};
use bedrock_ledger::decode::compression::{Compression, detect_compression};
use bedrock_ledger::decode::envelope::{ApiEvent, decode_api_events, decode_documents};
use bedrock_ledger::decode::lines::{LineBlock, decode_block, for_each_block};
use bedrock_ledger::decode::message::{UnitContext, decode_log_message, decode_record};
use bedrock_ledger::decode::record::parse_record;
use bedrock_ledger::decode::sniff::{
    SNIFF_BYTES, classify, export_line_time, is_permission_text, top_level_keys,
};
use bedrock_ledger::decode::{DecodeOptions, Normalize, ObjectBytes, Unit, decode_object};
use bedrock_ledger::normalize::{ProfileMap, resolve_model};
use bedrock_ledger::pricing::PriceBookInUse;
use bedrock_ledger::pricing::book::{PriceBook, write_csv};
use bedrock_ledger::rows::{Decoded, SourceFormat};

/// A target's body: runs one input, panics on a finding.
pub type Body = fn(&[u8]);

/// The targets, by name, as `run.sh` and `replay` know them.
pub const TARGETS: [(&str, Body); 7] = [
    ("sniff", sniff),
    ("object", object),
    ("lines", lines),
    ("envelope", envelope),
    ("record", record),
    ("price_book", price_book),
    ("teams", teams),
];

/// The body of target `name`, if there is one.
pub fn target(name: &str) -> Option<Body> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// An offloaded-body key (the only names `classify` looks at) and an ordinary one.
const OFFLOADED_NAME: &str = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/10/01/09/data/r-1_input.json.gz";
const PLAIN_NAME: &str = "AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/10/01/09/20261001T091500123Z_x.json.gz";

/// A profile map with a chain and a cycle, so normalization walks profile hops on every record
/// that names one of these ARNs (the seeds do).
fn profiles() -> ProfileMap {
    let app = |id: &str| {
        format!("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/{id}")
    };
    ProfileMap::new([
        (
            app("k3m9x2p7q4ab"),
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0".to_owned(),
        ),
        (app("a1b2c3d4e5f6"), app("k3m9x2p7q4ab")),
        (app("loop1"), app("loop2")),
        (app("loop2"), app("loop1")),
    ])
}

/// Empties what a decoder emits, touching every field a caller reads.
fn drain(decoded: Decoded) -> usize {
    let mut n = decoded.noise_events as usize;
    for invocation in &decoded.invocations {
        assert!(
            !invocation.request_id.trim().is_empty(),
            "an invocation has a request id"
        );
        n += invocation.request_id.len();
    }
    for reject in &decoded.rejects {
        n += reject.reason.len() + reject.excerpt.len();
    }
    n
}

fn drain_unit(unit: Unit) -> usize {
    match unit {
        Unit::Invocation(invocation) => invocation.request_id.len(),
        Unit::Noise => 0,
        Unit::Reject { reason, excerpt } => {
            assert!(!excerpt.is_empty(), "a reject always shows an excerpt");
            reason.len() + excerpt.len()
        }
    }
}

/// `sniff`: `classify` (whole and truncated, with both kinds of name, and with a name taken from
/// the input's first line), `detect_compression`, and the helpers `classify` is built from.
/// A gzip input is also inflated (at most `SNIFF_BYTES`) and its content classified, as
/// `decode_object` does.
pub fn sniff(data: &[u8]) {
    let name_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let name = String::from_utf8_lossy(&name_line[..name_line.len().min(256)]);
    for (complete, name) in [(true, PLAIN_NAME), (false, OFFLOADED_NAME), (true, &*name)] {
        std::hint::black_box(classify(data, complete, name));
    }
    std::hint::black_box(top_level_keys(data));
    std::hint::black_box(export_line_time(data));
    std::hint::black_box(is_permission_text(data));
    if detect_compression(data) == Compression::Gzip {
        let mut content = Vec::new();
        let complete = flate2::read::MultiGzDecoder::new(data)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut content)
            .is_ok()
            && content.len() < SNIFF_BYTES;
        std::hint::black_box(classify(&content, complete, PLAIN_NAME));
    }
}

/// `object`: `decode_object` on the input as a whole object (gzip or not, any shape), exactly
/// as `ingest` calls it (a `ProfileMap` as the normalizer), both ways `ingest` hands objects
/// over: held whole and streamed. Both must emit the same, and the summary must count it.
pub fn object(data: &[u8]) {
    let open = || -> io::Result<Box<dyn BufRead + Send + '_>> { Ok(Box::new(data)) };
    let whole = decode_emitted(ObjectBytes::Whole(data));
    let streamed = decode_emitted(ObjectBytes::Stream(&open));
    assert_eq!(whole, streamed, "whole and streamed decoding differ");
}

/// Decodes an object and returns what it emitted, printed.
fn decode_emitted(bytes: ObjectBytes<'_>) -> Vec<String> {
    let source: Arc<str> = Arc::from("fuzz:///object");
    let profiles = profiles();
    let (mut invocations, mut rejects, mut noise) = (0u64, 0u64, 0u64);
    let mut emitted = Vec::new();
    let summary = decode_object(
        &source,
        PLAIN_NAME,
        bytes,
        DecodeOptions {
            normalizer: &profiles,
        },
        &mut |decoded| {
            invocations += decoded.invocations.len() as u64;
            rejects += decoded.rejects.len() as u64;
            noise += decoded.noise_events;
            emitted.push(format!("{decoded:?}"));
            drain(decoded);
        },
    )
    .expect("reading from memory cannot fail");
    assert_eq!(
        (summary.invocations, summary.rejects, summary.noise_events),
        (invocations, rejects, noise),
        "the summary counts what was emitted"
    );
    emitted.push(format!("{summary:?}"));
    emitted
}

/// A reader that hands out at most `chunk` bytes per call and, if `fail`, errors at the end.
struct Trickle<'a> {
    rest: &'a [u8],
    chunk: usize,
    fail: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.rest.is_empty() {
            if std::mem::take(&mut self.fail) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "fuzz: stream broke",
                ));
            }
            return Ok(0);
        }
        let n = self.rest.len().min(out.len()).min(self.chunk);
        out[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// `lines`: the line framing (`for_each_block` then `decode_block`) of native and export
/// objects. The first byte is a control byte: bit 0 picks the format (0 native, 1 export),
/// bit 1 makes the stream break at its end, bits 2..8 set where the already-read head ends and
/// how many bytes each read returns. The rest is the decompressed object. Checks that every
/// byte read is handed out exactly once, in order.
pub fn lines(data: &[u8]) {
    let Some((&control, content)) = data.split_first() else {
        return;
    };
    let format = if control & 1 == 0 {
        SourceFormat::S3Native
    } else {
        SourceFormat::CloudWatchExport
    };
    let fail = control & 2 != 0;
    let knob = usize::from(control >> 2);
    let head_len = content.len() * knob / 63;
    // Reads of 4 to 64 KiB, as a gzip decoder or a network body gives them (the framing sizes
    // its buffer per read, so one-byte reads would only measure that).
    let mut rest = Trickle {
        rest: &content[head_len..],
        chunk: 4096 << (knob % 5),
        fail,
    };
    let source: Arc<str> = Arc::from("fuzz:///lines");
    let profiles = profiles();
    let mut handed_out = Vec::new();
    let mut next_line = 1u64;
    let result = for_each_block(
        content[..head_len].to_vec(),
        &mut rest,
        |block: LineBlock<'_>| {
            assert_eq!(
                block.offset,
                handed_out.len() as u64,
                "blocks are contiguous"
            );
            assert_eq!(block.first_line, next_line, "line numbers are contiguous");
            next_line += block.bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            handed_out.extend_from_slice(block.bytes);
            drain(decode_block(block, format, &source, &profiles));
        },
    );
    match result {
        Ok(()) => assert!(!fail, "a broken stream is reported"),
        Err(broken) => {
            assert!(fail, "only a broken stream is reported");
            assert_eq!(
                broken.offset,
                handed_out.len() as u64,
                "it broke after the blocks"
            );
            assert!(!broken.tail_excerpt.is_empty());
        }
    }
    assert!(
        content.starts_with(&handed_out),
        "blocks are the content, in order"
    );
    if !fail {
        assert_eq!(handed_out.len(), content.len(), "every byte is handed out");
    }
}

/// `envelope`: the document framings, `decode_documents` (Firehose envelopes and CLI pages, one
/// or several back to back) and `decode_api_events` (events read through the CloudWatch Logs
/// API, one per input line). The first byte picks the format (bit 0: Firehose or CLI page).
pub fn envelope(data: &[u8]) {
    let Some((&control, content)) = data.split_first() else {
        return;
    };
    let format = if control & 1 == 0 {
        SourceFormat::Firehose
    } else {
        SourceFormat::LogsCliPage
    };
    let source: Arc<str> = Arc::from("fuzz:///envelope");
    let profiles = profiles();
    let units = decode_documents(content, format, &source, &profiles);
    for unit in units.units {
        drain_unit(unit);
    }
    if let Some((reason, excerpt)) = units.broken {
        assert!(!reason.is_empty() && !excerpt.is_empty());
    }
    let events: Vec<ApiEvent> = content
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| ApiEvent {
            source: Arc::from(format!("cwlogs://g/s/{i}")),
            timestamp_ms: i64::from(control) * 1_000_000_000 - 1,
            message: String::from_utf8_lossy(line).into_owned(),
        })
        .collect();
    let decoded = decode_api_events(&events, &profiles);
    assert_eq!(
        decoded.invocations.len() + decoded.rejects.len() + decoded.noise_events as usize,
        events.len(),
        "every API event is one invocation, reject or noise"
    );
    drain(decoded);
}

/// `record`: the record parser `parse_record`, then `decode_record` and `decode_log_message`
/// (parse + normalize with a `ProfileMap`), for the input as one record's JSON text.
pub fn record(data: &[u8]) {
    let profiles = profiles();
    if let Ok(raw) = parse_record(data) {
        std::hint::black_box(&raw);
        if let Some(model_id) = raw.model_id.as_deref() {
            std::hint::black_box(resolve_model(model_id, &profiles));
        }
    }
    let source: Arc<str> = Arc::from("fuzz:///record");
    let normalizer: &dyn Normalize = &profiles;
    for (format, framing_time_ms) in [
        (SourceFormat::S3Native, None),
        (SourceFormat::CloudWatchExport, Some(1_759_276_800_000)),
    ] {
        let ctx = UnitContext {
            source: &source,
            format,
            line: 1,
            framing_time_ms,
            normalizer,
        };
        drain_unit(decode_record(data, ctx));
        drain_unit(decode_log_message(data, ctx));
    }
}

/// `price_book`: `PriceBookInUse::parse` (CSV → validated book). A book that parses is written
/// back with `write_csv` and re-read: the documented round trip ("reading the output gives the
/// same rows back"), checked as a fixed point of writing. Every row is also looked up.
pub fn price_book(data: &[u8]) {
    let Ok(in_use) = PriceBookInUse::parse(data, "fuzz") else {
        return;
    };
    let rows = in_use.book.rows();
    let written = write_csv(rows.iter().copied());
    let again = PriceBook::from_csv(&written).unwrap_or_else(|e| {
        panic!(
            "a written book re-reads: {e}\n{}",
            String::from_utf8_lossy(&written)
        )
    });
    let again_rows = again.rows();
    assert_eq!(rows.len(), again_rows.len(), "same number of rows");
    for (a, b) in rows.iter().zip(&again_rows) {
        assert_eq!(
            (
                &a.model,
                &a.scope,
                &a.region,
                &a.tier,
                a.effective_from,
                a.standard,
                &a.long_context,
                &a.source,
                &a.note
            ),
            (
                &b.model,
                &b.scope,
                &b.region,
                &b.tier,
                b.effective_from,
                b.standard,
                &b.long_context,
                &b.source,
                &b.note
            ),
            "a row reads back as written"
        );
    }
    for row in &rows {
        for scope in [Some(row.scope.as_str()), Some("geo"), None] {
            std::hint::black_box(in_use.book.lookup(
                &row.model,
                scope,
                &row.tier,
                row.region.as_str(),
                row.effective_from,
            ));
        }
    }
}

/// `teams`: the two attribution files, `TeamRules::from_csv` (`--teams`) and
/// `ProfileMap::from_csv` (`--profiles`), on the same bytes. Whatever parses is used as report
/// time uses it: `attribute` for identities taken from the input's cells, `resolve_model` for
/// every mapped ARN (the hop limit must stop cycles).
pub fn teams(data: &[u8]) {
    let rules = TeamRules::from_csv(data).unwrap_or_default();
    let profiles = ProfileMap::from_csv(data).unwrap_or_default();
    let rule_texts: Vec<(String, String)> = rules
        .rules()
        .map(|r| (r.pattern.to_owned(), r.team.to_owned()))
        .collect();
    let tags: Vec<(String, String)> = profiles
        .team_tags()
        .into_iter()
        .map(|(arn, team, _)| (arn.to_owned(), team.to_owned()))
        .collect();
    let text = String::from_utf8_lossy(data);
    let cells: Vec<&str> = text.split(['\n', ',']).map(str::trim).take(64).collect();
    let keys = rules.metadata_keys();
    fn request<'a>(
        identity: Option<&'a str>,
        model_id: Option<&'a str>,
        metadata: &'a [(&'a str, &'a str)],
    ) -> Request<'a> {
        Request {
            identity,
            model_id,
            metadata,
        }
    }
    for cell in &cells {
        let by_identity = attribute(&request(Some(cell), None, &[]), &rules, &profiles);
        assert!(!by_identity.team.is_empty(), "a team is never empty");
        let by_profile = attribute(&request(None, Some(cell), &[]), &rules, &profiles);
        assert!(!by_profile.team.is_empty(), "a team is never empty");
        let metadata: Vec<(&str, &str)> = keys.iter().map(|key| (*key, *cell)).collect();
        let by_metadata = attribute(&request(None, None, &metadata), &rules, &profiles);
        assert!(
            by_metadata.end_user.is_empty() || by_metadata.end_user == *cell,
            "the end user is the metadata value a rule matched"
        );
        std::hint::black_box(resolve_model(cell, &profiles));
    }
    for (pattern, _) in &rule_texts {
        std::hint::black_box(attribute(
            &request(Some(pattern), None, &[]),
            &rules,
            &profiles,
        ));
    }
    for (arn, team) in &tags {
        let by_profile = attribute(&request(Some("x"), Some(arn), &[]), &rules, &profiles);
        assert_eq!(&by_profile.team, team, "a tagged profile's team wins");
        std::hint::black_box(resolve_model(arn, &profiles));
    }
}
