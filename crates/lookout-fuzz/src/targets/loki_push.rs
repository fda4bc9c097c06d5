//! Loki push bodies, protobuf (snappy) and JSON, decoded by the push handler's own functions
//! (`lookout_api::loki::{decode_push_protobuf, decode_push_json}`: the wire decoders of `lookout_wire`, the stream
//! selector through `lookout_logql::parse_selector`, the label checks and `service_name` derivation), then
//! `detected_level` as the handler adds it.

use lookout_logql::ingest::add_detected_level_columns;
use lookout_storage::logs::ColumnPush;
use lookout_wire::remote_write::snappy_compress;

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
    entry: "lookout_api::loki::decode_push_protobuf (decode_snappy, PushRequest::decode, parse_selector, \
            add_service_name) + lookout_logql::ingest::add_detected_level_columns",
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
    entry: "lookout_api::loki::decode_push_json (parse_json_push, add_service_name) + \
            lookout_logql::ingest::add_detected_level_columns",
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

/// The push handler's decoding (`lookout_api::loki::decode_push_protobuf`), then `add_detected_level_columns` as the
/// handler does before storing.
fn decode_protobuf(raw: &[u8], max: usize) -> Result<ColumnPush, lookout_api::ApiError> {
    let mut streams = lookout_api::loki::decode_push_protobuf(raw, max, &Default::default())?;
    add_detected_level_columns(&mut streams);
    Ok(streams)
}

/// The push handler's JSON decoding (`lookout_api::loki::decode_push_json`), then `add_detected_level_columns`.
fn decode_json(bytes: &[u8]) -> Result<ColumnPush, lookout_api::ApiError> {
    let mut streams = lookout_api::loki::decode_push_json(bytes, &Default::default())?;
    add_detected_level_columns(&mut streams);
    Ok(streams)
}
