//! Loki's JSON push body (`{"streams":[{"stream":{…},"values":[["<ns>","<line>",{…}],…]}]}`), read in one pass
//! straight into owned lines: no `serde_json::Value` per element. An entry of the wrong shape does not fail the
//! parse; it is kept as [`JsonEntry::Invalid`] with the reason, so the caller can name the stream and the entry at
//! fault. A body that is not JSON of this outline fails with serde_json's position.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON push body.
#[derive(Debug, Deserialize)]
pub struct JsonPush {
    /// Its streams.
    pub streams: Vec<JsonStream>,
}

/// One stream of a JSON push.
#[derive(Debug, Deserialize)]
pub struct JsonStream {
    /// Its labels.
    pub stream: BTreeMap<String, String>,
    /// Its entries.
    pub values: Vec<JsonEntry>,
}

/// One `values` element.
#[derive(Debug, PartialEq, Eq)]
pub enum JsonEntry {
    /// `[ts, line]` or `[ts, line, {metadata}]`.
    Valid {
        /// Unix nanoseconds.
        ts: i64,
        /// The line.
        line: String,
        /// Structured metadata, in the body's order.
        metadata: Vec<(String, String)>,
    },
    /// Why the element is not an entry.
    Invalid(&'static str),
}

/// Reads a JSON push body.
pub fn parse_json_push(body: &[u8]) -> Result<JsonPush, serde_json::Error> {
    serde_json::from_slice(body)
}

/// A JSON value read as a string when it is one; anything else is consumed and read as `None`.
struct MaybeStr<'de>(Option<Cow<'de, str>>);

impl<'de> Deserialize<'de> for MaybeStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(MaybeStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

const BAD_TS: &str = "the timestamp must be a string of integer nanoseconds";
const BAD_LINE: &str = "the line must be a string";
const BAD_META: &str = "the third element must be an object of structured metadata";
const BAD_META_VALUE: &str = "structured metadata values must be strings";

/// The optional third element: metadata, or why it is not.
struct Metadata(Result<Vec<(String, String)>, &'static str>);

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Metadata;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                let mut bad = false;
                while let Some((k, v)) = a.next_entry::<String, MaybeStr>()? {
                    match v.0 {
                        Some(v) => out.push((k, v.into_owned())),
                        None => bad = true,
                    }
                }
                Ok(Metadata(if bad { Err(BAD_META_VALUE) } else { Ok(out) }))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Metadata(Err(BAD_META)))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for JsonEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = JsonEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an entry array [\"<unix ns>\", \"<line>\"] with optional metadata")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let ts = a.next_element::<MaybeStr>()?.and_then(|t| t.0);
                let line = a.next_element::<MaybeStr>()?.and_then(|l| l.0);
                let metadata = a.next_element::<Metadata>()?;
                // Loki ignores elements after the third.
                while a.next_element::<IgnoredAny>()?.is_some() {}
                let Some(ts) = ts.and_then(|t| t.parse::<i64>().ok()) else {
                    return Ok(JsonEntry::Invalid(BAD_TS));
                };
                let Some(line) = line else {
                    return Ok(JsonEntry::Invalid(BAD_LINE));
                };
                let metadata = match metadata {
                    None => Vec::new(),
                    Some(Metadata(Ok(m))) => m,
                    Some(Metadata(Err(why))) => return Ok(JsonEntry::Invalid(why)),
                };
                Ok(JsonEntry::Valid {
                    ts,
                    line: line.into_owned(),
                    metadata,
                })
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(body: &str) -> Vec<JsonEntry> {
        parse_json_push(body.as_bytes())
            .unwrap()
            .streams
            .into_iter()
            .flat_map(|s| s.values)
            .collect()
    }

    #[test]
    fn entries_with_and_without_metadata_and_escapes() {
        let got = entries(
            r#"{"streams":[{"stream":{"app":"x"},"values":[
                ["1","plain"],
                ["2","with \"escapes\" \u00e9\n",{"trace_id":"t1","k":""}],
                ["3","extra", {}, "ignored", [1]]]}]}"#,
        );
        assert_eq!(
            got,
            [
                JsonEntry::Valid {
                    ts: 1,
                    line: "plain".into(),
                    metadata: vec![]
                },
                JsonEntry::Valid {
                    ts: 2,
                    line: "with \"escapes\" é\n".into(),
                    metadata: vec![("trace_id".into(), "t1".into()), ("k".into(), "".into())],
                },
                JsonEntry::Valid {
                    ts: 3,
                    line: "extra".into(),
                    metadata: vec![]
                },
            ]
        );
    }

    #[test]
    fn a_wrong_element_is_kept_with_its_reason_and_the_rest_still_parses() {
        let got = entries(
            r#"{"streams":[{"stream":{},"values":[
                [1,"numeric ts"], ["x","bad ts"], ["1",{"a":[1,2]}], ["1","m",[]],
                ["1","m",{"a":1}], ["1","m","s"], [], ["5","fine"]]}]}"#,
        );
        assert_eq!(
            got,
            [
                JsonEntry::Invalid(BAD_TS),
                JsonEntry::Invalid(BAD_TS),
                JsonEntry::Invalid(BAD_LINE),
                JsonEntry::Invalid(BAD_META),
                JsonEntry::Invalid(BAD_META_VALUE),
                JsonEntry::Invalid(BAD_META),
                JsonEntry::Invalid(BAD_TS),
                JsonEntry::Valid {
                    ts: 5,
                    line: "fine".into(),
                    metadata: vec![]
                },
            ]
        );
    }

    #[test]
    fn bodies_of_another_outline_fail_with_a_position() {
        for body in [
            r#"{"streams":[{"stream":{},"values":["notarray"]}]}"#,
            "{",
            r#"{"streams":3}"#,
        ] {
            let e = parse_json_push(body.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("line 1"), "{e}");
        }
    }
}
