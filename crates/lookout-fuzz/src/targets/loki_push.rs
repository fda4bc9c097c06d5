//! Loki push bodies, protobuf (snappy) and JSON, decoded as `POST /loki/api/v1/push` decodes them: the wire
//! decoders of `lookout_wire`, the stream selector through `lookout_logql::parse_selector`, the label checks and
//! `service_name` / `detected_level` derivation of `lookout_logql::ingest`. The handler's own glue
//! (`lookout_api::loki::push::{decode_protobuf, decode_json}`) is private, so it is mirrored here step for step.

use lookout_logql::ingest::{add_detected_level, add_service_name};
use lookout_model::{Labels, MatchOp};
use lookout_storage::logs::{Entry, PushStream};
use lookout_wire::body::decode_snappy;
use lookout_wire::loki::PushRequest;
use lookout_wire::loki_json::{JsonEntry, parse_json_push};
use lookout_wire::remote_write::snappy_compress;
use prost::Message;

use super::remote_write::snappy_protobuf_bound;
use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target};

/// The API's cap on a decoded push body (`limits.max_write_decoded`).
fn max_decoded() -> usize {
    lookout_api::ApiLimits::default().max_write_decoded_bytes
}

/// Protobuf push bodies.
pub const TARGET_PROTOBUF: Target = Target {
    name: "loki_push_protobuf",
    entry: "lookout_wire::body::decode_snappy + lookout_wire::loki::PushRequest::decode + \
            lookout_logql::parse_selector + lookout_logql::ingest::{add_service_name, add_detected_level}",
    grammar: Grammar {
        dictionary: &[
            b"\x0a",
            b"\x12",
            b"\x1a",
            b"\x22",
            b"\x08",
            b"\x10",
            b"\x18",
            b"\x0a\x00",
            b"\x12\x00",
            b"\x0a\x0b{job=\"app\"}",
            b"\x0a\x02{}",
            b"\x0a\x06{a=~\"\"}",
            b"\x12\x05level",
            b"\x12\x05error",
            b"\x0a\x06\x08\x80\xe0\xd2\xaa\x06",
            b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
            b"\x10\xff\xff\xff\xff\x07",
            b"\x10\x80\x80\x80\x80\xf8\xff\xff\xff\xff\x01",
            b"{",
            b"}",
            b"=\"",
            b"\",",
            b"level=error",
            b"{\"level\":\"warn\"}",
            b"\xc3\x28",
            b"\xff\xff\xff\xff",
        ],
        nesting: &[(b"\x0a\x7f", b""), (b"{", b"}")],
        max_len: 16 << 10,
    },
    run: run_protobuf,
    alloc_bound: snappy_protobuf_bound,
    alloc_rule: "65 x the decoded size (at most 22 x body: snappy's densest encoding) + 1 MiB; \
                 limits.max_write_decoded (128 MiB) caps the decoded size",
};

/// JSON push bodies.
pub const TARGET_JSON: Target = Target {
    name: "loki_push_json",
    entry: "lookout_wire::loki_json::parse_json_push + lookout_logql::ingest::{add_service_name, \
            add_detected_level}",
    grammar: Grammar {
        dictionary: &[
            b"{\"streams\":[",
            b"{\"stream\":{",
            b"\"values\":[",
            b"[\"1700000000000000000\",\"line\"]",
            b"[\"1\",\"l\",{\"trace_id\":\"t\"}]",
            b"\"level\":\"error\"",
            b"\"service_name\":\"x\"",
            b"\"detected_level\":\"x\"",
            b"\"__name__\":\"x\"",
            b"\"\":\"\"",
            b"{",
            b"}",
            b"[",
            b"]",
            b",",
            b":",
            b"\"",
            b"\\\"",
            b"\\u0000",
            b"\\ud800",
            b"\\uDBFF\\uDFFF",
            b"null",
            b"true",
            b"1e999",
            b"-9223372036854775809",
            b"\"9223372036854775807\"",
            b"\"-9223372036854775808\"",
            b"level=warn msg=x",
        ],
        nesting: &[(b"[", b"]"), (b"{\"a\":", b"}")],
        max_len: 16 << 10,
    },
    run: run_json,
    alloc_bound: |len| 64 * len + MIB,
    alloc_rule: "64 x body + 1 MiB (a JSON body is bounded by limits.max_write_decoded, 128 MiB)",
};

fn run_protobuf(input: &[u8]) -> Outcome {
    let max = max_decoded();
    let outcome = Outcome::of(&decode_protobuf(&snappy_compress(input), max));
    let _ = decode_protobuf(input, max);
    outcome
}

fn run_json(input: &[u8]) -> Outcome {
    Outcome::of(&decode_json(input))
}

/// Why a push body is refused (the handler answers 400 or 413 with it).
type Refused = String;

/// `decode_protobuf` of the push handler, then `add_detected_level` as the handler does before storing.
fn decode_protobuf(raw: &[u8], max: usize) -> Result<Vec<PushStream>, Refused> {
    let bytes = decode_snappy(raw, max).map_err(|e| e.to_string())?;
    let req = PushRequest::decode(bytes.as_slice()).map_err(|e| e.to_string())?;
    let mut streams = req
        .streams
        .into_iter()
        .map(|s| {
            let labels = stream_labels(&s.labels)?;
            let entries = s
                .entries
                .into_iter()
                .map(|e| {
                    let t = e.timestamp.unwrap_or_default();
                    Entry {
                        ts: t
                            .seconds
                            .saturating_mul(1_000_000_000)
                            .saturating_add(i64::from(t.nanos)),
                        line: e.line,
                        metadata: e
                            .structured_metadata
                            .into_iter()
                            .map(|p| (p.name, p.value))
                            .collect(),
                    }
                })
                .collect();
            Ok(PushStream { labels, entries })
        })
        .collect::<Result<Vec<_>, Refused>>()?;
    add_detected_level(&mut streams);
    Ok(streams)
}

/// `decode_json` of the push handler, then `add_detected_level`.
fn decode_json(bytes: &[u8]) -> Result<Vec<PushStream>, Refused> {
    let body = parse_json_push(bytes).map_err(|e| e.to_string())?;
    let mut streams = body
        .streams
        .into_iter()
        .map(|s| {
            let labels = with_service_name(s.stream.into_iter().collect())?;
            let entries = s
                .values
                .into_iter()
                .map(|v| match v {
                    JsonEntry::Valid { ts, line, metadata } => Ok(Entry { ts, line, metadata }),
                    JsonEntry::Invalid(why) => Err(why.to_string()),
                })
                .collect::<Result<_, Refused>>()?;
            Ok(PushStream { labels, entries })
        })
        .collect::<Result<Vec<_>, Refused>>()?;
    add_detected_level(&mut streams);
    Ok(streams)
}

/// `stream_labels` of the push handler: a selector of `name="value"` pairs, no duplicates.
fn stream_labels(s: &str) -> Result<Labels, Refused> {
    let matchers = lookout_logql::parse_selector(s).map_err(|e| e.to_string())?;
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(matchers.len() + 1);
    for m in &matchers {
        if m.op != MatchOp::Equal {
            return Err("only name=\"value\" pairs are allowed".into());
        }
        if pairs.iter().any(|(n, _)| *n == m.name) {
            return Err(format!("duplicate label name {:?}", m.name));
        }
        pairs.push((m.name.clone(), m.value.clone()));
    }
    with_service_name(pairs)
}

/// `with_service_name` of the push handler.
fn with_service_name(mut pairs: Vec<(String, String)>) -> Result<Labels, Refused> {
    if pairs.is_empty() {
        return Err("at least one label pair is required per stream".into());
    }
    add_service_name(&mut pairs);
    Labels::from_pairs(&pairs).map_err(|e| e.to_string())
}
