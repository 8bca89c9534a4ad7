//! Classifying an object by the first bytes of its (decompressed) content.
//!
//! The shapes are told apart by their framing and top-level JSON keys: a record has `requestId`,
//! `modelId`, ...; a Firehose envelope `messageType`/`logEvents`; a CLI page `events`; an export
//! line starts with a 24-character timestamp. Only when the content is none of these does the
//! object name count, to recognise offloaded request/response bodies (whose content is arbitrary).

use memchr::memchr2;

use crate::rows::SourceFormat;

/// How many decompressed bytes are enough to classify any object: the first record line of a
/// native object is at most a few hundred KB, since Bedrock offloads bodies over ~100 KB.
pub const SNIFF_BYTES: usize = 1 << 20;

/// Objects (or events) that are not records and not errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NoiseKind {
    /// No content at all, e.g. the `amazon-bedrock-logs-permission-check` marker.
    Empty,
    /// `Permissions are correctly set ...` or an export task's `aws-logs-write-test`.
    PermissionCheck,
    /// A request or response body that Bedrock offloaded under `.../data/`.
    OffloadedBody,
}

impl NoiseKind {
    /// A short stable name for summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            NoiseKind::Empty => "empty",
            NoiseKind::PermissionCheck => "permission_check",
            NoiseKind::OffloadedBody => "offloaded_body",
        }
    }
}

/// What an object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    Log(SourceFormat),
    Noise(NoiseKind),
    Unrecognized,
}

/// Texts Bedrock and CloudWatch write to prove they may write; they are not records.
const PERMISSION_TEXTS: [&[u8]; 2] = [
    b"Permissions are correctly set for Amazon Bedrock logs",
    b"Permission Check Successful",
];
const RECORD_KEYS: [&[u8]; 5] = [
    b"requestId",
    b"schemaType",
    b"modelId",
    b"operation",
    b"accountId",
];
const ENVELOPE_KEYS: [&[u8]; 2] = [b"messageType", b"logEvents"];
const PAGE_KEYS: [&[u8]; 1] = [b"events"];
const EVENT_MESSAGE_KEYS: [&[u8]; 2] = [b"@message", b"message"];
/// Lines looked at when the first one does not decide (it may be a malformed line).
const MAX_SNIFF_LINES: usize = 64;

/// Classifies an object from the first bytes of its content. `complete` says whether `head` is
/// the whole content; `name` is the object's key or path, used only for offloaded bodies.
pub fn classify(head: &[u8], complete: bool, name: &str) -> Classification {
    let text = head.trim_ascii_start();
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if text.is_empty() && complete {
        return Classification::Noise(NoiseKind::Empty);
    }
    if is_permission_text(text) {
        return Classification::Noise(NoiseKind::PermissionCheck);
    }
    if let Some(format) = classify_json_document(text) {
        return Classification::Log(format);
    }
    if is_offloaded_body_name(name) {
        return Classification::Noise(NoiseKind::OffloadedBody);
    }
    for line in text.split(|&b| b == b'\n').take(MAX_SNIFF_LINES) {
        let line = line.trim_ascii();
        if export_line_time(line).is_some() {
            return Classification::Log(SourceFormat::CloudWatchExport);
        }
        if has_any_key(line, &RECORD_KEYS) {
            return Classification::Log(SourceFormat::S3Native);
        }
    }
    Classification::Unrecognized
}

/// True for the permission-check texts that Bedrock and CloudWatch write as objects or events.
pub fn is_permission_text(text: &[u8]) -> bool {
    let text = text.trim_ascii();
    PERMISSION_TEXTS.iter().any(|p| text.starts_with(p))
}

/// The shape of a JSON document, told by the first of its top-level keys that belongs to one
/// (the keys are read no further, so the bodies of a record are never scanned here).
fn classify_json_document(text: &[u8]) -> Option<SourceFormat> {
    if export_line_time(text).is_some() {
        return Some(SourceFormat::CloudWatchExport);
    }
    let shape = top_level_keys(text).find_map(|key| {
        if ENVELOPE_KEYS.contains(&key) {
            Some(SourceFormat::Firehose)
        } else if PAGE_KEYS.contains(&key) {
            Some(SourceFormat::LogsCliPage)
        } else if RECORD_KEYS.contains(&key) {
            Some(SourceFormat::S3Native)
        } else {
            None
        }
    });
    shape.or_else(|| is_array_of_events(text).then_some(SourceFormat::LogsCliPage))
}

/// `[{"@timestamp": …, "@message": …}, …]`: query results saved from the Logs Insights console.
fn is_array_of_events(text: &[u8]) -> bool {
    let Some(rest) = text.strip_prefix(b"[") else {
        return false;
    };
    has_any_key(rest, &EVENT_MESSAGE_KEYS)
}

/// Whether the object `text` starts with has one of `wanted` among its top-level keys (read up
/// to the first such key).
fn has_any_key(text: &[u8], wanted: &[&[u8]]) -> bool {
    top_level_keys(text).any(|key| wanted.contains(&key))
}

/// `.../data/<requestId>_input.json[.gz]` or `_output.json[.gz]`.
fn is_offloaded_body_name(name: &str) -> bool {
    let Some((dir, file)) = name.rsplit_once('/') else {
        return false;
    };
    let stem = file.strip_suffix(".gz").unwrap_or(file);
    (dir == "data" || dir.ends_with("/data"))
        && (stem.ends_with("_input.json") || stem.ends_with("_output.json"))
}

/// Length of the timestamp that starts every line of a CloudWatch export: `2025-08-18T16:57:13.000Z`.
pub const EXPORT_TIME_LEN: usize = 24;

/// The event time in ms of an export line's `<24-char timestamp><space>` prefix, if it has one.
pub fn export_line_time(line: &[u8]) -> Option<i64> {
    let prefix = line.get(..EXPORT_TIME_LEN)?;
    if line.get(EXPORT_TIME_LEN) != Some(&b' ') || !prefix[0].is_ascii_digit() || prefix[23] != b'Z'
    {
        return None;
    }
    crate::normalize::parse_timestamp_ms(std::str::from_utf8(prefix).ok()?)
}

/// The keys of the JSON object that `text` starts with, as far as `text` holds them. A truncated
/// or malformed object yields the keys read before the damage; text that is not an object none.
/// Keys are returned raw (escapes are not decoded): the keys we look for have none.
///
/// The keys are read lazily: a value is skipped only when the key after it is asked for, so a
/// caller that stops at the key it looks for never scans the bodies behind it.
pub fn top_level_keys(text: &[u8]) -> TopLevelKeys<'_> {
    let start = skip_ws(text, 0);
    TopLevelKeys {
        text,
        next: (text.get(start) == Some(&b'{')).then_some(KeyScan::Key(start + 1)),
    }
}

/// Iterator of [`top_level_keys`].
#[derive(Debug)]
pub struct TopLevelKeys<'a> {
    text: &'a [u8],
    /// Where the scan goes on from; `None` once it ended.
    next: Option<KeyScan>,
}

#[derive(Debug)]
enum KeyScan {
    /// A key (or whitespace before it) starts here.
    Key(usize),
    /// The value of the key last returned starts here (after its colon).
    Value(usize),
}

impl<'a> Iterator for TopLevelKeys<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let text = self.text;
        let mut pos = match self.next.take()? {
            KeyScan::Key(pos) => pos,
            KeyScan::Value(pos) => {
                let after = skip_ws(text, skip_value(text, skip_ws(text, pos))?);
                if text.get(after) != Some(&b',') {
                    return None;
                }
                after + 1
            }
        };
        pos = skip_ws(text, pos);
        if text.get(pos) != Some(&b'"') {
            return None;
        }
        let end = string_end(text, pos + 1)?;
        let colon = skip_ws(text, end + 1);
        if text.get(colon) != Some(&b':') {
            return None;
        }
        self.next = Some(KeyScan::Value(colon + 1));
        Some(&text[pos + 1..end])
    }
}

fn skip_ws(text: &[u8], mut pos: usize) -> usize {
    while text.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// Index of the closing quote of a string whose content starts at `pos`.
fn string_end(text: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let hit = pos + memchr2(b'"', b'\\', text.get(pos..)?)?;
        if text[hit] == b'"' {
            return Some(hit);
        }
        pos = hit + 2;
    }
}

/// Index just past the JSON value starting at `pos`, or `None` if it is not complete.
fn skip_value(text: &[u8], pos: usize) -> Option<usize> {
    match *text.get(pos)? {
        b'"' => string_end(text, pos + 1).map(|end| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut pos = pos;
            loop {
                match *text.get(pos)? {
                    b'"' => pos = string_end(text, pos + 1)?,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(pos + 1);
                        }
                    }
                    _ => {}
                }
                pos += 1;
            }
        }
        _ => {
            let rest = &text[pos..];
            let end = rest
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(pos + end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Classification::*;
    use SourceFormat::*;

    const RECORD: &str = r#"{"schemaType":"ModelInvocationLog","requestId":"r","input":{"inputBodyJson":{"messages":[{"content":"a \"messageType\": {["}]}}}"#;

    #[test]
    fn classifies_objects_by_content() {
        let envelope = r#"{"messageType":"DATA_MESSAGE","owner":"111122223333","logEvents":[{"id":"1","timestamp":1,"message":"{\"requestId\":\"r\"}"}]}"#;
        let envelope_reordered = r#"{"owner":"1","logEvents":[],"messageType":"CONTROL_MESSAGE"}"#;
        let page = "{\n    \"events\": [\n        {\n            \"timestamp\": 1,";
        let export = format!("2025-08-18T16:57:13.000Z {RECORD}\n");
        let garbage_then_record = format!("{{\"requestId\": trunc\nnot json\n{RECORD}\n");
        let truncated_record = &RECORD[..60];
        let two_records = format!("{RECORD}\n{RECORD}\n");
        // The first key that names a shape decides; what follows it is not read.
        let record_then_damage =
            r#"{"schemaType":"ModelInvocationLog","input":{"inputBodyJson":[}"#;
        let record_key_first = r#"{"requestId":"r","logEvents":[]}"#;
        let cases: &[(&[u8], bool, &str, Classification)] = &[
            (RECORD.as_bytes(), true, "x.json.gz", Log(S3Native)),
            (two_records.as_bytes(), true, "x", Log(S3Native)),
            (truncated_record.as_bytes(), false, "x", Log(S3Native)),
            (record_then_damage.as_bytes(), true, "x", Log(S3Native)),
            (record_key_first.as_bytes(), true, "x", Log(S3Native)),
            (envelope.as_bytes(), true, "firehose-1-2025", Log(Firehose)),
            (envelope_reordered.as_bytes(), true, "f", Log(Firehose)),
            (page.as_bytes(), false, "dump.json", Log(LogsCliPage)),
            (export.as_bytes(), true, "000000.gz", Log(CloudWatchExport)),
            (
                garbage_then_record.as_bytes(),
                true,
                "x.json.gz",
                Log(S3Native),
            ),
            (
                b"",
                true,
                "AWSLogs/1/BedrockModelInvocationLogs/amazon-bedrock-logs-permission-check",
                Noise(NoiseKind::Empty),
            ),
            (b"  \n", true, "x", Noise(NoiseKind::Empty)),
            (
                b"Permission Check Successful",
                true,
                "exportedlogs/aws-logs-write-test",
                Noise(NoiseKind::PermissionCheck),
            ),
            (
                b"Permissions are correctly set for Amazon Bedrock logs.",
                true,
                "x",
                Noise(NoiseKind::PermissionCheck),
            ),
            (
                br#"{"messages":[{"role":"user"}]}"#,
                true,
                "AWSLogs/1/B/us-east-1/2025/10/01/09/data/r-1_input.json.gz",
                Noise(NoiseKind::OffloadedBody),
            ),
            (
                br#"{"output":{}}"#,
                true,
                "09/data/r-1_output.json",
                Noise(NoiseKind::OffloadedBody),
            ),
            (
                br#"{"messages":[{"role":"user"}]}"#,
                true,
                "notes/r-1_input.json.gz",
                Unrecognized,
            ),
            (b"hello world\n", true, "notes.txt", Unrecognized),
            (b"", false, "x", Unrecognized),
        ];
        for (head, complete, name, expected) in cases {
            assert_eq!(
                classify(head, *complete, name),
                *expected,
                "{:?} named {name}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn reads_top_level_keys_only() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"{"a":1,"b":{"c":2},"d":[{"e":"}"}],"f":"x\"y","g":true}"#,
                &["a", "b", "d", "f", "g"],
            ),
            (r#" { "a" : "b" , "c":null }"#, &["a", "c"]),
            (r#"{"a":{"b":"#, &["a"]),
            (r#"{"a":1,"b"#, &["a"]),
            (r#"{"a\"b":1}"#, &["a\\\"b"]),
            ("[1]", &[]),
            ("", &[]),
        ];
        for (text, expected) in cases {
            let keys: Vec<&str> = top_level_keys(text.as_bytes())
                .map(|k| std::str::from_utf8(k).unwrap())
                .collect();
            assert_eq!(&keys, expected, "{text}");
        }
    }

    #[test]
    fn reads_export_line_prefixes() {
        let cases: &[(&str, Option<i64>)] = &[
            ("2025-08-18T16:57:13.000Z {}", Some(1_755_536_233_000)),
            ("2025-08-18T16:57:13.250Z x", Some(1_755_536_233_250)),
            ("2025-08-18T16:57:13.000Z", None),
            ("2025-08-18T16:57:13Z {}", None),
            ("2025-13-18T16:57:13.000Z {}", None),
            ("{\"timestamp\":\"2025-08-18T16:57:13Z\"}", None),
        ];
        for (line, expected) in cases {
            assert_eq!(export_line_time(line.as_bytes()), *expected, "{line}");
        }
    }
}
