//! One record-bearing unit — a JSON line, an export line's message, a log event's message — to an
//! [`Unit`]: an invocation, noise, or a reject with its reason.

use std::sync::Arc;

use super::record::parse_record;
use super::sniff::is_permission_text;
use super::{Normalize, Unit};
use crate::rows::{Origin, SourceFormat, excerpt};

/// What the unit's framing knows about it.
#[derive(Clone, Copy, Debug)]
pub struct UnitContext<'a> {
    pub source: &'a Arc<str>,
    pub format: SourceFormat,
    pub line: u64,
    pub framing_time_ms: Option<i64>,
    pub normalizer: &'a dyn Normalize,
}

/// Decodes a record given as JSON text, e.g. one line of a native object.
pub fn decode_record(json: &[u8], ctx: UnitContext<'_>) -> Unit {
    let raw = match parse_record(json) {
        Ok(raw) => raw,
        Err(error) => return reject(error.to_string(), json),
    };
    let origin = Origin {
        source: Arc::clone(ctx.source),
        format: ctx.format,
        line: ctx.line,
        framing_time_ms: ctx.framing_time_ms,
    };
    match ctx.normalizer.normalize(raw, origin) {
        Ok(invocation) => Unit::Invocation(Box::new(invocation)),
        Err(error) => reject(error.to_string(), json),
    }
}

/// Decodes the message of a CloudWatch Logs event: a record, or the permission-check text.
pub fn decode_log_message(message: &[u8], ctx: UnitContext<'_>) -> Unit {
    if is_permission_text(message) {
        Unit::Noise
    } else if message.trim_ascii_start().starts_with(b"{") {
        decode_record(message, ctx)
    } else {
        reject("log event message is not a JSON record".to_owned(), message)
    }
}

/// A reject unit showing the start of `bytes`.
pub fn reject(reason: String, bytes: &[u8]) -> Unit {
    Unit::Reject {
        reason,
        excerpt: excerpt(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::ProfileMap;

    fn ctx<'a>(source: &'a Arc<str>, normalizer: &'a ProfileMap) -> UnitContext<'a> {
        UnitContext {
            source,
            format: SourceFormat::CloudWatchExport,
            line: 7,
            framing_time_ms: Some(1),
            normalizer,
        }
    }

    #[test]
    fn sorts_messages_into_records_noise_and_rejects() {
        let source: Arc<str> = Arc::from("file:///x");
        let profiles = ProfileMap::default();
        // (message, expected: Some(request id) / None for noise / Err(reason prefix))
        let cases: &[(&str, Result<Option<&str>, &str>)] = &[
            (
                r#"{"requestId":"r-1","timestamp":"2025-10-01T00:00:00Z"}"#,
                Ok(Some("r-1")),
            ),
            (r#"  {"requestId":"r-2"}"#, Ok(Some("r-2"))),
            (
                "Permissions are correctly set for Amazon Bedrock logs.",
                Ok(None),
            ),
            (
                r#"{"requestId":"r-3","timestamp":"2025-10-01T00:0"#,
                Err("invalid record JSON"),
            ),
            (
                r#"{"timestamp":"2025-10-01T00:00:00Z"}"#,
                Err("record has no requestId"),
            ),
            (
                "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
                Err("log event message is not a JSON record"),
            ),
        ];
        for (message, expected) in cases {
            let unit = decode_log_message(message.as_bytes(), ctx(&source, &profiles));
            match (unit, expected) {
                (Unit::Invocation(inv), Ok(Some(id))) => {
                    assert_eq!(inv.request_id, *id);
                    assert_eq!(inv.origin.line, 7);
                    assert_eq!(inv.origin.format, SourceFormat::CloudWatchExport);
                }
                (Unit::Noise, Ok(None)) => {}
                (Unit::Reject { reason, excerpt }, Err(prefix)) => {
                    assert!(reason.starts_with(prefix), "{reason} for {message}");
                    assert_eq!(excerpt, *message);
                }
                (unit, _) => panic!("{message}: unexpected {unit:?}"),
            }
        }
    }
}
