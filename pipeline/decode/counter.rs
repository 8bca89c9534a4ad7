//! The four token counters of a record (`inputTokenCount`, `outputTokenCount`,
//! `cacheReadInputTokenCount`, `cacheWriteInputTokenCount`), read strictly: they are what the
//! ledger bills, so a value that is not a token count must reject the record, never become 0.
//!
//! A counter is a whole number from 0 to [`MAX_TOKEN_COUNT`], written as a JSON integer, as a
//! number with no fraction (`12.0`) or as a string of digits (`"12"`, as some exporters write
//! numbers). `null` is the same as an absent counter. Anything else (negative, fractional, out of
//! range, text, `true`, an object) is kept as [`Counter::Invalid`] with what stood there, for
//! normalization to reject the record with.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// The largest token count one request can report. No model reads or writes four billion
/// tokens in one request (the largest context windows of 2026 hold a few million), so a larger
/// count is corrupt; refusing it also keeps the sums of years of requests far inside `i64`.
pub const MAX_TOKEN_COUNT: u64 = u32::MAX as u64;

/// A token counter as a record states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Counter {
    Count(u64),
    /// Not a token count: what stood there, as JSON text (shortened).
    Invalid(String),
}

impl Counter {
    /// The count, or what stood there instead.
    pub fn count(&self) -> Result<u64, &str> {
        match self {
            Counter::Count(count) => Ok(*count),
            Counter::Invalid(found) => Err(found),
        }
    }
}

/// The longest piece of an invalid value kept for the reject's reason.
const SHOWN_CHARS: usize = 40;

fn shown(text: &str) -> String {
    let mut shown: String = text.chars().take(SHOWN_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

fn checked(count: u64, written: impl fmt::Display) -> Counter {
    if count <= MAX_TOKEN_COUNT {
        Counter::Count(count)
    } else {
        Counter::Invalid(shown(&written.to_string()))
    }
}

struct CounterVisitor;

impl<'de> Visitor<'de> for CounterVisitor {
    type Value = Counter;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a token count")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Counter, E> {
        Ok(checked(v, v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Counter, E> {
        Ok(match u64::try_from(v) {
            Ok(count) => checked(count, v),
            Err(_) => Counter::Invalid(v.to_string()),
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Counter, E> {
        let whole = v.fract() == 0.0 && (0.0..=MAX_TOKEN_COUNT as f64).contains(&v);
        Ok(if whole {
            Counter::Count(v as u64)
        } else {
            Counter::Invalid(shown(&v.to_string()))
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Counter, E> {
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        Ok(match v.parse::<u64>() {
            Ok(count) if digits => checked(count, format!("{v:?}")),
            _ => Counter::Invalid(shown(&format!("{v:?}"))),
        })
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Counter, E> {
        Ok(Counter::Invalid(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counter, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Counter::Invalid("an array".to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Counter, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Counter::Invalid("an object".to_owned()))
    }
}

impl<'de> Deserialize<'de> for Counter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CounterVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        #[serde(default)]
        n: Option<Counter>,
    }

    fn read(json: &str) -> Option<Counter> {
        serde_json::from_str::<Holder>(json).unwrap().n
    }

    #[test]
    fn reads_counts_and_keeps_what_is_not_one() {
        let count = |n| Some(Counter::Count(n));
        let invalid = |text: &str| Some(Counter::Invalid(text.to_owned()));
        let cases: &[(&str, Option<Counter>)] = &[
            (r#"{}"#, None),
            (r#"{"n": null}"#, None),
            (r#"{"n": 0}"#, count(0)),
            (r#"{"n": 1234}"#, count(1234)),
            (r#"{"n": 12.0}"#, count(12)),
            (r#"{"n": "12"}"#, count(12)),
            (r#"{"n": 4294967295}"#, count(MAX_TOKEN_COUNT)),
            (r#"{"n": -5}"#, invalid("-5")),
            (r#"{"n": 4294967296}"#, invalid("4294967296")),
            (
                r#"{"n": 18446744073709551616}"#,
                invalid("18446744073709552000"),
            ),
            (r#"{"n": 1.5}"#, invalid("1.5")),
            (r#"{"n": -0.5}"#, invalid("-0.5")),
            (r#"{"n": "12 tokens"}"#, invalid(r#""12 tokens""#)),
            (r#"{"n": ""}"#, invalid(r#""""#)),
            (r#"{"n": "-3"}"#, invalid(r#""-3""#)),
            (r#"{"n": true}"#, invalid("true")),
            (r#"{"n": [1]}"#, invalid("an array")),
            (r#"{"n": {"v": 1}}"#, invalid("an object")),
        ];
        for (json, expected) in cases {
            assert_eq!(&read(json), expected, "{json}");
        }
    }

    #[test]
    fn shortens_a_long_invalid_value() {
        let long = format!(r#"{{"n": "{}"}}"#, "x".repeat(100));
        let Some(Counter::Invalid(text)) = read(&long) else {
            panic!("a long string is not a count");
        };
        assert_eq!(text.chars().count(), SHOWN_CHARS + 1);
        assert!(text.ends_with('…'));
    }
}
