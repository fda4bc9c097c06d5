//! Loki's JSON push body (`{"streams":[{"stream":{…},"values":[["<ns>","<line>",{…}],…]}]}`), read in one pass
//! straight into each stream's [`EntryColumns`]: a line is unescaped into the stream's text, with no string, no
//! `serde_json::Value` and no metadata vector of its own. An entry of the wrong shape does not fail the parse; the
//! stream keeps the first such entry's index and reason, so the caller can name the stream and the entry at fault.
//! A body that is not JSON of this outline fails with serde_json's position.

use std::borrow::Cow;
use std::fmt;

use lookout_model::EntryColumns;
use serde::Deserialize;
use serde::de::{
    DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

/// A JSON push body: every valid entry in one set of columns, stream after stream.
#[derive(Debug, Default)]
pub struct JsonPush<'a> {
    /// The entries of every stream.
    pub entries: EntryColumns,
    /// The streams, in body order.
    pub streams: Vec<JsonStream<'a>>,
}

/// One stream of a JSON push.
#[derive(Debug, Default)]
pub struct JsonStream<'a> {
    /// Its labels (the `stream` object) sorted by name, a repeated name's last value kept; borrowed from the body
    /// unless escaped.
    pub labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Its valid entries: this range of the push's columns.
    pub range: std::ops::Range<usize>,
    /// The first `values` element that is not an entry: its index and why.
    pub invalid: Option<(usize, &'static str)>,
}

/// Reads a JSON push body.
pub fn parse_json_push(body: &[u8]) -> Result<JsonPush<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let push = de.deserialize_map(PushVisitor)?;
    de.end()?;
    Ok(push)
}

/// The keys this outline knows.
enum Field {
    Streams,
    Stream,
    Values,
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Field, E> {
                Ok(match v {
                    "streams" => Field::Streams,
                    "stream" => Field::Stream,
                    "values" => Field::Values,
                    _ => Field::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The body: `{"streams": [...]}`.
struct PushVisitor;

impl<'de> Visitor<'de> for PushVisitor {
    type Value = JsonPush<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct JsonPush")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut push = JsonPush::default();
        let mut seen = false;
        while let Some(key) = a.next_key::<Field>()? {
            match key {
                Field::Streams if seen => return Err(A::Error::duplicate_field("streams")),
                Field::Streams => {
                    a.next_value_seed(StreamsSeed(&mut push))?;
                    seen = true;
                }
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen {
            return Err(A::Error::missing_field("streams"));
        }
        Ok(push)
    }
}

/// The `streams` array.
struct StreamsSeed<'p, 'de>(&'p mut JsonPush<'de>);

impl<'de> DeserializeSeed<'de> for StreamsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for StreamsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while let Some(s) = a.next_element_seed(StreamSeed(&mut self.0.entries))? {
            self.0.streams.push(s);
        }
        Ok(())
    }
}

/// One `streams` element: `{"stream": {...}, "values": [...]}`, keys in any order.
struct StreamSeed<'c>(&'c mut EntryColumns);

impl<'de> DeserializeSeed<'de> for StreamSeed<'_> {
    type Value = JsonStream<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for StreamSeed<'_> {
    type Value = JsonStream<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("struct JsonStream")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = JsonStream::default();
        let (mut labels, mut values) = (false, false);
        while let Some(key) = a.next_key::<Field>()? {
            match key {
                Field::Stream if labels => return Err(A::Error::duplicate_field("stream")),
                Field::Stream => {
                    out.labels = a.next_value_seed(LabelsSeed)?;
                    labels = true;
                }
                Field::Values if values => return Err(A::Error::duplicate_field("values")),
                Field::Values => {
                    let from = self.0.len();
                    a.next_value_seed(ValuesSeed {
                        entries: self.0,
                        invalid: &mut out.invalid,
                    })?;
                    out.range = from..self.0.len();
                    values = true;
                }
                _ => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !labels {
            return Err(A::Error::missing_field("stream"));
        }
        if !values {
            return Err(A::Error::missing_field("values"));
        }
        Ok(out)
    }
}

/// The `stream` object: string values only, sorted by name, a repeated name's last value kept.
struct LabelsSeed;

impl<'de> DeserializeSeed<'de> for LabelsSeed {
    type Value = Vec<(Cow<'de, str>, Cow<'de, str>)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LabelsSeed {
    type Value = Vec<(Cow<'de, str>, Cow<'de, str>)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some((k, v)) = a.next_entry::<Str, Str>()? {
            out.push((k.0, v.0));
        }
        // Last value wins, as in a map: reversed, a stable sort puts each name's last value first.
        out.reverse();
        out.sort_by(|x, y| x.0.cmp(&y.0));
        out.dedup_by(|later, first| later.0 == first.0);
        Ok(out)
    }
}

/// A JSON string, borrowed from the body unless it holds escapes; anything else is an error.
struct Str<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A stream's `values` array, appended to its columns.
struct ValuesSeed<'c> {
    entries: &'c mut EntryColumns,
    invalid: &'c mut Option<(usize, &'static str)>,
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while let Some(outcome) = a.next_element_seed(EntrySeed(self.entries))? {
            if let Err(why) = outcome
                && self.invalid.is_none()
            {
                *self.invalid = Some((index, why));
            }
            index += 1;
        }
        Ok(())
    }
}

/// One `values` element, appended to the columns when it is an entry; otherwise why it is not.
struct EntrySeed<'c>(&'c mut EntryColumns);

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = Result<(), &'static str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = Result<(), &'static str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entry array [\"<unix ns>\", \"<line>\"] with optional metadata")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let cols = self.0;
        let ts = a.next_element::<MaybeStr>()?.and_then(|t| t.0);
        let line = a.next_element_seed(LineSeed(cols.line_buffer()))?;
        let metadata = a.next_element::<Metadata>()?;
        // Loki ignores elements after the third.
        while a.next_element::<IgnoredAny>()?.is_some() {}
        let verdict = match (ts.and_then(|t| t.parse::<i64>().ok()), line, metadata) {
            (None, _, _) => Err(BAD_TS),
            (_, None | Some(false), _) => Err(BAD_LINE),
            (_, _, Some(Metadata(Err(why)))) => Err(why),
            (Some(ts), Some(true), None) => Ok((ts, Vec::new())),
            (Some(ts), Some(true), Some(Metadata(Ok(m)))) => Ok((ts, m)),
        };
        Ok(match verdict {
            Ok((ts, metadata)) => {
                cols.finish_entry(ts, metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                Ok(())
            }
            Err(why) => {
                cols.abandon_line();
                Err(why)
            }
        })
    }
}

/// The line element: a string is appended to the line being built (`true`); anything else is consumed (`false`).
struct LineSeed<'c>(&'c mut String);

impl<'de> DeserializeSeed<'de> for LineSeed<'_> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LineSeed<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        self.0.push_str(v);
        Ok(true)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<bool, A::Error> {
        while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stream's entries as (ts, line, metadata), and its first invalid element.
    type Got = Vec<(
        Vec<(i64, String, Vec<(String, String)>)>,
        Option<(usize, &'static str)>,
    )>;

    fn parsed(body: &str) -> Got {
        let push = parse_json_push(body.as_bytes()).unwrap();
        let c = &push.entries;
        push.streams
            .into_iter()
            .map(|s| {
                let entries = s
                    .range
                    .map(|i| {
                        let meta = c
                            .metadata(i)
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .collect();
                        (c.ts(i), c.line(i).to_owned(), meta)
                    })
                    .collect();
                (entries, s.invalid)
            })
            .collect()
    }

    #[test]
    fn entries_with_and_without_metadata_and_escapes() {
        let got = parsed(
            r#"{"streams":[{"stream":{"app":"x"},"values":[
                ["1","plain"],
                ["2","with \"escapes\" \u00e9\n",{"trace_id":"t1","k":""}],
                ["3","extra", {}, "ignored", [1]]]}]}"#,
        );
        assert_eq!(
            got,
            [(
                vec![
                    (1, "plain".into(), vec![]),
                    (
                        2,
                        "with \"escapes\" é\n".into(),
                        vec![("trace_id".into(), "t1".into()), ("k".into(), "".into())]
                    ),
                    (3, "extra".into(), vec![]),
                ],
                None
            )]
        );
    }

    #[test]
    fn keys_in_any_order_and_unknown_keys_ignored() {
        let body = r#"{"other":1,"streams":[{"values":[["7","a"]],"x":[],"stream":{"b":"2","a":"1","b":"3","c\u0021":"x"}},
            {"stream":{},"values":[["8","b"],["9","c"]]}]}"#;
        let push = parse_json_push(body.as_bytes()).unwrap();
        assert_eq!(push.streams.len(), 2);
        let labels: Vec<(&str, &str)> = push.streams[0]
            .labels
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .collect();
        assert_eq!(labels, [("a", "1"), ("b", "3"), ("c!", "x")]);
        assert!(matches!(push.streams[0].labels[0].0, Cow::Borrowed(_)));
        assert_eq!(push.streams[0].range, 0..1);
        assert_eq!(push.streams[1].range, 1..3);
        assert_eq!(push.entries.line(2), "c");
    }

    #[test]
    fn a_wrong_element_is_kept_with_its_reason_and_the_rest_still_parses() {
        for (element, why) in [
            (r#"[1,"numeric ts"]"#, BAD_TS),
            (r#"["x","bad ts"]"#, BAD_TS),
            (r#"["1",{"a":[1,2]}]"#, BAD_LINE),
            (r#"["1","m",[]]"#, BAD_META),
            (r#"["1","m",{"a":1}]"#, BAD_META_VALUE),
            (r#"["1","m","s"]"#, BAD_META),
            ("[]", BAD_TS),
        ] {
            let body = format!(
                r#"{{"streams":[{{"stream":{{}},"values":[["4","before"],{element},["5","fine"],[2,"x"]]}}]}}"#
            );
            let got = parsed(&body);
            assert_eq!(
                got,
                [(
                    vec![(4, "before".into(), vec![]), (5, "fine".into(), vec![])],
                    Some((1, why))
                )],
                "{element}"
            );
        }
    }

    #[test]
    fn bodies_of_another_outline_fail_with_a_position() {
        for body in [
            r#"{"streams":[{"stream":{},"values":["notarray"]}]}"#,
            "{",
            r#"{"streams":3}"#,
            r#"{"streams":[{"values":[]}]}"#,
            r#"{"streams":[{"stream":{}}]}"#,
            r#"{"streams":[{"stream":{"a":1},"values":[]}]}"#,
            r#"{"streams":[],"streams":[]}"#,
            r#"{"streams":[]} x"#,
            r#"{}"#,
        ] {
            let e = parse_json_push(body.as_bytes()).unwrap_err();
            assert!(e.to_string().contains("line 1"), "{body}: {e}");
        }
    }
}
