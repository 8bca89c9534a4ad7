//! Forgiving leaf types for the parts of a record that live inside request/response bodies.
//!
//! Bodies are written by many model providers and change without notice; a field of an unexpected
//! type there must cost us that one field, not the whole record. Every type here accepts any JSON
//! value, keeps what it understands and skips the rest without building a tree of it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A non-negative integer, or `None` for anything else (floats with a fraction, text, objects).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LenientU64(pub Option<u64>);

/// A string, or `None` for any other JSON type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LenientString(pub Option<String>);

/// An object deserialized as `T`, or `None` when the value is not an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lenient<T>(pub Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Implements the visitor methods shared by all lenient types: every JSON type the visitor does
/// not override yields `Default::default()`, consuming containers fully.
macro_rules! skip_other_json_types {
    ($out:ty; $($skip:ident),*) => {
        $(skip_other_json_types!(@one $out; $skip);)*
    };
    (@one $out:ty; bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<$out, E> { Ok(Default::default()) }
        fn visit_none<E: de::Error>(self) -> Result<$out, E> { Ok(Default::default()) }
    };
    (@one $out:ty; seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<$out, A::Error> {
            drain_seq(seq)?;
            Ok(Default::default())
        }
    };
    (@one $out:ty; map) => {
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$out, A::Error> {
            drain_map(map)?;
            Ok(Default::default())
        }
    };
}

struct U64Visitor;

impl<'de> Visitor<'de> for U64Visitor {
    type Value = LenientU64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientU64, E> {
        Ok(LenientU64(Some(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientU64, E> {
        Ok(LenientU64(u64::try_from(v).ok()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientU64, E> {
        let whole = v >= 0.0 && v.fract() == 0.0 && v < u64::MAX as f64;
        Ok(LenientU64(whole.then_some(v as u64)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientU64, E> {
        Ok(LenientU64(v.trim().parse().ok()))
    }

    skip_other_json_types!(LenientU64; bool, unit, seq, map);
}

impl<'de> Deserialize<'de> for LenientU64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(U64Visitor)
    }
}

struct StringVisitor;

impl<'de> Visitor<'de> for StringVisitor {
    type Value = LenientString;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientString, E> {
        Ok(LenientString(Some(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<LenientString, E> {
        Ok(LenientString(Some(v)))
    }

    skip_other_json_types!(LenientString; bool, i64, u64, f64, unit, seq, map);
}

impl<'de> Deserialize<'de> for LenientString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StringVisitor)
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for ObjectVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lenient<T>, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Lenient(Some(t)))
    }

    skip_other_json_types!(Lenient<T>; bool, i64, u64, f64, str, unit, seq);
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjectVisitor(PhantomData))
    }
}

impl LenientString {
    /// The string, if the value was one.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

impl<T> Lenient<T> {
    /// The object, if the value was one.
    pub fn into_inner(self) -> Option<T> {
        self.0
    }

    /// A reference to the object, if the value was one.
    pub fn get(&self) -> Option<&T> {
        self.0.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Probe {
        n: Option<LenientU64>,
        s: Option<LenientString>,
        o: Option<Lenient<Inner>>,
        after: u8,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Inner {
        k: Option<LenientU64>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn keeps_what_it_understands_and_skips_the_rest() {
        // (json, n, s, o.k)
        type Case<'a> = (&'a str, Option<u64>, Option<&'a str>, Option<Option<u64>>);
        let cases: &[Case] = &[
            (
                r#"{"n":5,"s":"x","o":{"k":1},"after":1}"#,
                Some(5),
                Some("x"),
                Some(Some(1)),
            ),
            (
                r#"{"n":5.0,"s":7,"o":"text","after":1}"#,
                Some(5),
                None,
                None,
            ),
            (
                r#"{"n":5.5,"s":null,"o":[1,{"a":[2]}],"after":1}"#,
                None,
                None,
                None,
            ),
            (
                r#"{"n":-3,"s":{"a":"b"},"o":{"k":"12","z":{"deep":[1,2]}},"after":1}"#,
                None,
                None,
                Some(Some(12)),
            ),
            (
                r#"{"n":"42","s":["a"],"o":null,"after":1}"#,
                Some(42),
                None,
                None,
            ),
            (
                r#"{"n":{"x":1},"s":"a\"b","o":{"k":true},"after":1}"#,
                None,
                Some("a\"b"),
                Some(None),
            ),
        ];
        for (json, n, s, o) in cases {
            let got = probe(json);
            assert_eq!(got.n.and_then(|n| n.0), *n, "n in {json}");
            assert_eq!(got.s.and_then(|s| s.0).as_deref(), *s, "s in {json}");
            assert_eq!(
                got.o.and_then(|o| o.0).map(|i| i.k.and_then(|k| k.0)),
                *o,
                "o in {json}"
            );
            assert_eq!(
                got.after, 1,
                "parsing resumed after the lenient fields in {json}"
            );
        }
    }
}
