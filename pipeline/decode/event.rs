//! One CloudWatch Logs event as the documents that carry events write it: Firehose envelopes and
//! CLI pages (`timestamp` in epoch milliseconds, `message` a string), and also what people save
//! from the console and Logs Insights: `@timestamp` (`2025-10-02 09:14:07.000`, UTC) and
//! `@message`, and a `message` that is the record itself as a JSON object rather than a string.

use std::collections::BTreeSet;
use std::fmt;

use chrono::NaiveDateTime;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::normalize::parse_timestamp_ms;

/// A log event.
#[derive(Debug, Default)]
pub struct LogEvent {
    /// `timestamp` or `@timestamp`.
    pub timestamp: Option<EventTime>,
    /// `message` or `@message` (`null` is none).
    pub message: Option<EventMessage>,
    /// The other keys, named in the reject of an event without a message.
    pub other: BTreeSet<String>,
}

/// An event's time in epoch milliseconds, when it is one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventTime(pub Option<i64>);

/// An event's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventMessage {
    /// A string: a record serialized as text, or a text such as the permission check.
    Text(String),
    /// The record itself, as a JSON object (serialized back to text here).
    Json(String),
    /// Neither: what it was (`the number 7`, `an array`).
    Other(String),
}

/// What an event without a usable message showed instead, for its reject.
pub fn describe_keys(event: &LogEvent) -> String {
    let keys: Vec<&str> = event.other.iter().map(String::as_str).collect();
    if keys.is_empty() {
        "{}".to_owned()
    } else {
        format!("event keys: {}", keys.join(", "))
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = LogEvent;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a log event object")
    }

    /// Written by hand rather than derived with a flattened map of the other keys, which would
    /// make serde buffer every event (messages included) before reading it.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogEvent, A::Error> {
        let mut event = LogEvent::default();
        while let Some(key) = map.next_key::<EventKey>()? {
            match key {
                EventKey::Timestamp => event.timestamp = Some(map.next_value()?),
                EventKey::Message => event.message = map.next_value()?,
                EventKey::Other(name) => {
                    map.next_value::<IgnoredAny>()?;
                    event.other.insert(name);
                }
            }
        }
        Ok(event)
    }
}

/// A key of a log event; only the keys of no interest are copied.
enum EventKey {
    Timestamp,
    Message,
    Other(String),
}

struct EventKeyVisitor;

impl Visitor<'_> for EventKeyVisitor {
    type Value = EventKey;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<EventKey, E> {
        Ok(match v {
            "timestamp" | "@timestamp" => EventKey::Timestamp,
            "message" | "@message" => EventKey::Message,
            other => EventKey::Other(other.to_owned()),
        })
    }
}

impl<'de> Deserialize<'de> for EventKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(EventKeyVisitor)
    }
}

impl<'de> Deserialize<'de> for LogEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = EventTime;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event time")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EventTime, E> {
        Ok(EventTime(i64::try_from(v).ok()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EventTime, E> {
        Ok(EventTime((v >= 0).then_some(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<EventTime, E> {
        let whole = v.fract() == 0.0 && (0.0..i64::MAX as f64).contains(&v);
        Ok(EventTime(whole.then_some(v as i64)))
    }

    /// Epoch milliseconds as text, Logs Insights' `2025-10-02 09:14:07.000` (UTC) or RFC 3339.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<EventTime, E> {
        let v = v.trim();
        let ms = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            v.parse().ok()
        } else {
            NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().timestamp_millis())
                .or_else(|| parse_timestamp_ms(v))
        };
        Ok(EventTime(ms))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<EventTime, E> {
        Ok(EventTime(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<EventTime, E> {
        Ok(EventTime(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventTime, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(EventTime(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventTime, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(EventTime(None))
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimeVisitor)
    }
}

struct MessageVisitor;

impl<'de> Visitor<'de> for MessageVisitor {
    type Value = EventMessage;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an event message")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<EventMessage, E> {
        Ok(EventMessage::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<EventMessage, E> {
        Ok(EventMessage::Text(v))
    }

    /// Rare (saved by hand from a console), so the object is parsed into a tree and written
    /// back as text for the record parser, rather than kept as raw bytes.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EventMessage, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(EventMessage::Json(value.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<EventMessage, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(EventMessage::Other("an array".to_owned()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<EventMessage, E> {
        Ok(EventMessage::Other(format!("the boolean {v}")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EventMessage, E> {
        Ok(EventMessage::Other(format!("the number {v}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EventMessage, E> {
        Ok(EventMessage::Other(format!("the number {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<EventMessage, E> {
        Ok(EventMessage::Other(format!("the number {v}")))
    }
}

impl<'de> Deserialize<'de> for EventMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MessageVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_events_as_the_api_writes_them_and_as_people_save_them() {
        let text = |s: &str| Some(EventMessage::Text(s.to_owned()));
        let cases: &[(&str, Option<i64>, Option<EventMessage>)] = &[
            (
                r#"{"timestamp":1759396447000,"message":"m"}"#,
                Some(1759396447000),
                text("m"),
            ),
            (
                r#"{"@timestamp":"2025-10-02 09:14:07.000","@message":"m"}"#,
                Some(1759396447000),
                text("m"),
            ),
            (
                r#"{"timestamp":"2025-10-02T09:14:07Z","message":"m"}"#,
                Some(1759396447000),
                text("m"),
            ),
            (
                r#"{"timestamp":"1759396447000","message":"m"}"#,
                Some(1759396447000),
                text("m"),
            ),
            (
                r#"{"timestamp":1,"message":{"requestId":"r","n":[1,2]}}"#,
                Some(1),
                Some(EventMessage::Json(
                    r#"{"n":[1,2],"requestId":"r"}"#.to_owned(),
                )),
            ),
            (
                r#"{"timestamp":-1,"message":7}"#,
                None,
                Some(EventMessage::Other("the number 7".to_owned())),
            ),
            (
                r#"{"timestamp":"soon","message":[1]}"#,
                None,
                Some(EventMessage::Other("an array".to_owned())),
            ),
            (r#"{"message":null}"#, None, None),
        ];
        for (json, time, message) in cases {
            let event: LogEvent = serde_json::from_str(json).unwrap();
            assert_eq!(event.timestamp.unwrap_or_default().0, *time, "{json}");
            assert_eq!(&event.message, message, "{json}");
        }
    }

    #[test]
    fn names_the_keys_of_an_event_without_a_message() {
        let event: LogEvent =
            serde_json::from_str(r#"{"timestamp":1,"msg":"x","ingestionTime":2}"#).unwrap();
        assert!(event.message.is_none());
        assert_eq!(describe_keys(&event), "event keys: ingestionTime, msg");
    }
}
