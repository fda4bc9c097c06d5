//! The `streams` result of a log query written straight to JSON bytes (no `serde_json::Value` tree per line), on
//! the query pool, so a thousand-line answer costs the runtime nothing but sending it.

use lookout_logql::{LogLine, group_streams};
use lookout_model::Labels;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// Pairs as a JSON object.
struct Pairs<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone>(I);

impl<'a, I: Iterator<Item = (&'a str, &'a str)> + Clone> Serialize for Pairs<'a, I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for (k, v) in self.0.clone() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

fn pairs(p: &[(String, String)]) -> Pairs<'_, impl Iterator<Item = (&str, &str)> + Clone> {
    Pairs(p.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The extra object of a categorized entry: structured metadata and parsed labels, each only when present.
struct Extra<'a>(&'a LogLine);

impl Serialize for Extra<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if !self.0.metadata.is_empty() {
            m.serialize_entry("structuredMetadata", &pairs(&self.0.metadata))?;
        }
        if !self.0.parsed.is_empty() {
            m.serialize_entry("parsed", &pairs(&self.0.parsed))?;
        }
        m.end()
    }
}

/// One entry: `["<ns>", "<line>"]`, plus the extra object when categorized.
struct EntryJson<'a>(&'a LogLine, bool);

impl Serialize for EntryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(if self.1 { 3 } else { 2 }))?;
        seq.serialize_element(&self.0.ts.to_string())?;
        seq.serialize_element(&self.0.line)?;
        if self.1 {
            seq.serialize_element(&Extra(self.0))?;
        }
        seq.end()
    }
}

struct Values<'a>(&'a [LogLine], bool);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for l in self.0 {
            seq.serialize_element(&EntryJson(l, self.1))?;
        }
        seq.end()
    }
}

struct Stream<'a>(&'a Labels, &'a [LogLine], bool);

impl Serialize for Stream<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(
            "stream",
            &Pairs(self.0.iter().map(|l| (&*l.name, &*l.value))),
        )?;
        m.serialize_entry("values", &Values(self.1, self.2))?;
        m.end()
    }
}

struct Streams<'a>(&'a [(Labels, Vec<LogLine>)], bool);

impl Serialize for Streams<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (labels, lines) in self.0 {
            seq.serialize_element(&Stream(labels, lines, self.1))?;
        }
        seq.end()
    }
}

/// The whole success body of a log query: `{"status":"success","data":{"resultType":"streams","result":[…],
/// "stats":…}}`, with `encodingFlags` when categorized.
pub fn streams_body(lines: Vec<LogLine>, categorized: bool, stats: &serde_json::Value) -> Vec<u8> {
    let groups = group_streams(lines, categorized);
    let mut out = Vec::with_capacity(
        groups
            .iter()
            .flat_map(|(_, l)| l.iter().map(|l| l.line.len() + 40))
            .sum::<usize>()
            + 256,
    );
    out.extend_from_slice(br#"{"status":"success","data":{"resultType":"streams","result":"#);
    serde_json::to_writer(&mut out, &Streams(&groups, categorized))
        .expect("serialising to a Vec cannot fail");
    out.extend_from_slice(br#","stats":"#);
    serde_json::to_writer(&mut out, stats).expect("serialising to a Vec cannot fail");
    if categorized {
        out.extend_from_slice(br#","encodingFlags":["categorize-labels"]"#);
    }
    out.extend_from_slice(b"}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(ts: i64, text: &str, stream: &[(&str, &str)], meta: &[(&str, &str)]) -> LogLine {
        let own = |p: &[(&str, &str)]| -> Vec<(String, String)> {
            p.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        LogLine {
            ts,
            line: text.into(),
            stream: own(stream).into(),
            metadata: own(meta),
            parsed: Vec::new(),
        }
    }

    #[test]
    fn writes_what_the_value_tree_wrote() {
        let lines = || {
            vec![
                line(2, "b \"quoted\"\n", &[("app", "x")], &[("trace", "t1")]),
                line(1, "a", &[("app", "x")], &[]),
                line(3, "c", &[("app", "y")], &[]),
            ]
        };
        let stats = json!({"summary": {"totalLinesProcessed": 3}});
        for categorized in [false, true] {
            let got: serde_json::Value =
                serde_json::from_slice(&streams_body(lines(), categorized, &stats)).unwrap();
            let result = if categorized {
                json!([
                    {"stream": {"app": "x"}, "values": [["2", "b \"quoted\"\n", {"structuredMetadata": {"trace": "t1"}}], ["1", "a", {}]]},
                    {"stream": {"app": "y"}, "values": [["3", "c", {}]]}
                ])
            } else {
                json!([
                    {"stream": {"app": "x"}, "values": [["1", "a"]]},
                    {"stream": {"app": "x", "trace": "t1"}, "values": [["2", "b \"quoted\"\n"]]},
                    {"stream": {"app": "y"}, "values": [["3", "c"]]}
                ])
            };
            let mut want = json!({"status": "success", "data": {"resultType": "streams", "result": result, "stats": stats}});
            if categorized {
                want["data"]["encodingFlags"] = json!(["categorize-labels"]);
            }
            assert_eq!(got, want, "categorized: {categorized}");
        }
    }
}
