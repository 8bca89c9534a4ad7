//! CloudWatch Logs documents: Firehose subscription envelopes, saved CLI pages, and Logs Insights
//! results saved from the console (a JSON array of events).
//!
//! All are JSON documents carrying log events ([`super::event`]) whose message is a record. A
//! Firehose object is several gzip members back to back, each holding one envelope; a CLI file
//! is one page (or several pages appended). Documents may follow each other with or without
//! whitespace between them. `CONTROL_MESSAGE` envelopes carry no data.

use std::sync::Arc;

use rayon::prelude::*;
use serde::Deserialize;

use super::event::{EventMessage, LogEvent, describe_keys};
use super::lenient::LenientString;
use super::message::{UnitContext, decode_log_message, decode_record, reject};
use super::{Normalize, Unit};
use crate::rows::{Decoded, Reject, SourceFormat, excerpt};

/// Log events below this many per rayon task are not worth splitting further.
const MIN_EVENTS_PER_TASK: usize = 8;

/// A document of log events: a Firehose envelope or a CLI page (objects), or a JSON array of
/// events as the Logs Insights console saves query results.
#[derive(Debug, Default, Deserialize)]
struct Document {
    #[serde(rename = "messageType", default)]
    message_type: Option<LenientString>,
    #[serde(rename = "logEvents", default)]
    log_events: Option<Vec<LogEvent>>,
    #[serde(default)]
    events: Option<Vec<LogEvent>>,
}

/// [`Document`], from an object or from an array of events.
#[derive(Debug)]
struct AnyDocument(Document);

struct AnyDocumentVisitor;

impl<'de> serde::de::Visitor<'de> for AnyDocumentVisitor {
    type Value = AnyDocument;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a log document (an object, or an array of events)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<AnyDocument, A::Error> {
        Document::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(AnyDocument)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnyDocument, A::Error> {
        let mut events = Vec::new();
        while let Some(event) = seq.next_element::<LogEvent>()? {
            events.push(event);
        }
        Ok(AnyDocument(Document {
            events: Some(events),
            ..Document::default()
        }))
    }
}

impl<'de> Deserialize<'de> for AnyDocument {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyDocumentVisitor)
    }
}

const CONTROL_MESSAGE: &str = "CONTROL_MESSAGE";

/// The units of the documents in one byte range, in order.
#[derive(Debug, Default)]
pub struct DocumentUnits {
    /// One unit per log event; their ordinal within the object is assigned by the caller.
    pub units: Vec<Unit>,
    pub control_messages: u64,
    /// The documents broke off here: what was wrong and what the rest looked like.
    pub broken: Option<(String, String)>,
}

/// Decodes every log event of the concatenated documents in `bytes`.
pub fn decode_documents(
    bytes: &[u8],
    format: SourceFormat,
    source: &Arc<str>,
    normalizer: &dyn Normalize,
) -> DocumentUnits {
    let mut out = DocumentUnits::default();
    let mut events = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<AnyDocument>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(AnyDocument(document))) => {
                let is_control = document
                    .message_type
                    .and_then(LenientString::into_inner)
                    .is_some_and(|t| t == CONTROL_MESSAGE);
                if is_control {
                    out.control_messages += 1;
                } else {
                    events.extend(document.log_events.into_iter().flatten());
                    events.extend(document.events.into_iter().flatten());
                }
            }
            Some(Err(error)) => {
                let rest = &bytes[start..];
                out.broken = Some((
                    format!("invalid log document JSON: {error}"),
                    excerpt(rest.trim_ascii_start()),
                ));
                break;
            }
        }
    }
    out.units = events
        .into_par_iter()
        .with_min_len(MIN_EVENTS_PER_TASK)
        .map(|event| {
            let ctx = UnitContext {
                source,
                format,
                line: 0,
                framing_time_ms: event.timestamp.and_then(|t| t.0),
                normalizer,
            };
            match &event.message {
                Some(EventMessage::Text(text)) => decode_log_message(text.as_bytes(), ctx),
                Some(EventMessage::Json(json)) => decode_record(json.as_bytes(), ctx),
                Some(EventMessage::Other(what)) => reject(
                    format!("log event message is {what}, not a JSON record"),
                    what.as_bytes(),
                ),
                None => reject(
                    "log event has no message (nor @message)".to_owned(),
                    describe_keys(&event).as_bytes(),
                ),
            }
        })
        .collect();
    out
}

/// A log event read through the CloudWatch Logs API, with the URI it is recorded under.
#[derive(Clone, Debug)]
pub struct ApiEvent {
    pub source: Arc<str>,
    pub timestamp_ms: i64,
    pub message: String,
}

/// Decodes events read through the CloudWatch Logs API; each is its own source (line 1), so the
/// copy of a request kept does not depend on how the events were paged.
pub fn decode_api_events(events: &[ApiEvent], normalizer: &dyn Normalize) -> Decoded {
    let format = SourceFormat::CloudWatchLogs;
    let units: Vec<Unit> = events
        .par_iter()
        .with_min_len(MIN_EVENTS_PER_TASK)
        .map(|event| {
            let ctx = UnitContext {
                source: &event.source,
                format,
                line: 1,
                framing_time_ms: Some(event.timestamp_ms),
                normalizer,
            };
            decode_log_message(event.message.as_bytes(), ctx)
        })
        .collect();
    let mut decoded = Decoded::default();
    for (event, unit) in events.iter().zip(units) {
        match unit {
            Unit::Invocation(invocation) => decoded.invocations.push(*invocation),
            Unit::Noise => decoded.noise_events += 1,
            Unit::Reject { reason, excerpt } => decoded.rejects.push(Reject {
                source: Arc::clone(&event.source),
                format: Some(format),
                line: Some(1),
                byte_offset: None,
                reason,
                excerpt,
            }),
        }
    }
    decoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::ProfileMap;

    fn record(id: &str) -> String {
        format!(r#"{{\"requestId\":\"{id}\",\"timestamp\":\"2025-10-01T00:00:00Z\"}}"#)
    }

    fn ids(units: &[Unit]) -> Vec<String> {
        units
            .iter()
            .map(|u| match u {
                Unit::Invocation(i) => i.request_id.clone(),
                Unit::Noise => "noise".to_owned(),
                Unit::Reject { reason, .. } => format!("reject: {reason}"),
            })
            .collect()
    }

    #[test]
    fn decodes_envelopes_and_pages() {
        let source: Arc<str> = Arc::from("file:///f");
        let profiles = ProfileMap::default();
        let data = |id| {
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":1759276800000,"message":"{}"}}]}}"#,
                record(id)
            )
        };
        let control = r#"{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
        let page = format!(
            "{{\n    \"events\": [\n        {{\"logStreamName\": \"s\", \"timestamp\": 1, \"message\": \"{}\"}},\n        {{\"timestamp\": 2, \"message\": \"Permissions are correctly set for Amazon Bedrock logs.\"}}\n    ],\n    \"nextToken\": \"t\"\n}}\n",
            record("p")
        );
        // (input, ids, control messages, broken)
        let cases: Vec<(String, Vec<&str>, u64, bool)> = vec![
            (
                format!("{}{}{}", data("a"), control, data("b")),
                vec!["a", "b"],
                1,
                false,
            ),
            (
                format!("{}\n{}\n", data("a"), data("b")),
                vec!["a", "b"],
                0,
                false,
            ),
            (page.clone(), vec!["p", "noise"], 0, false),
            (
                format!("{page}{page}"),
                vec!["p", "noise", "p", "noise"],
                0,
                false,
            ),
            (
                format!("{}{{\"messageType\":\"DATA_MES", data("a")),
                vec!["a"],
                0,
                true,
            ),
            (String::new(), vec![], 0, false),
        ];
        for (input, expected, controls, broken) in cases {
            let out =
                decode_documents(input.as_bytes(), SourceFormat::Firehose, &source, &profiles);
            assert_eq!(ids(&out.units), expected, "{input}");
            assert_eq!(out.control_messages, controls, "{input}");
            assert_eq!(out.broken.is_some(), broken, "{input}");
        }
    }

    #[test]
    fn decodes_api_events_each_under_its_own_source() {
        let events: Vec<ApiEvent> = [
            (
                r#"{"requestId":"a","timestamp":"2025-10-01T00:00:00Z"}"#,
                "cwlogs://g/s/1",
            ),
            (
                "Permissions are correctly set for Amazon Bedrock logs.",
                "cwlogs://g/s/2",
            ),
            ("{broken", "cwlogs://g/s/3"),
        ]
        .into_iter()
        .map(|(message, source)| ApiEvent {
            source: Arc::from(source),
            timestamp_ms: 1,
            message: message.to_owned(),
        })
        .collect();
        let decoded = decode_api_events(&events, &ProfileMap::default());
        assert_eq!(decoded.invocations.len(), 1);
        assert_eq!(&*decoded.invocations[0].origin.source, "cwlogs://g/s/1");
        assert_eq!(
            decoded.invocations[0].origin.format,
            SourceFormat::CloudWatchLogs
        );
        assert_eq!(decoded.noise_events, 1);
        assert_eq!(&*decoded.rejects[0].source, "cwlogs://g/s/3");
    }

    #[test]
    fn event_time_backs_up_a_record_without_one() {
        let source: Arc<str> = Arc::from("file:///f");
        let input =
            r#"{"logEvents":[{"timestamp":1759276800000,"message":"{\"requestId\":\"x\"}"}]}"#;
        let out = decode_documents(
            input.as_bytes(),
            SourceFormat::Firehose,
            &source,
            &ProfileMap::default(),
        );
        match &out.units[..] {
            [Unit::Invocation(i)] => assert_eq!(i.timestamp_ms, 1_759_276_800_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_event_without_a_usable_message_is_a_reject_that_says_why() {
        let source: Arc<str> = Arc::from("file:///f");
        let profiles = ProfileMap::default();
        let page = br#"{"events":[{"timestamp":1,"msg":"x"},{"timestamp":2,"message":7},{"timestamp":3,"message":""}]}"#;
        let units = decode_documents(page, SourceFormat::LogsCliPage, &source, &profiles).units;
        let rejects: Vec<(String, String)> = units
            .into_iter()
            .map(|unit| match unit {
                Unit::Reject { reason, excerpt } => (reason, excerpt),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            rejects,
            [
                (
                    "log event has no message (nor @message)".to_owned(),
                    "event keys: msg".to_owned()
                ),
                (
                    "log event message is the number 7, not a JSON record".to_owned(),
                    "the number 7".to_owned()
                ),
                (
                    "log event message is not a JSON record".to_owned(),
                    "(empty)".to_owned()
                ),
            ]
        );
    }
}
