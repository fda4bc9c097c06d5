//! The Loki API against the running appliance: JSON and protobuf+snappy pushes (as Alloy and Promtail send them),
//! gzip, `service_name`, log range queries with line filters, labels/values/series, and bad input answered with
//! Loki's status codes while the process stays healthy.

use std::io::Write;

use lookout_e2e::{Lookout, get_json, get_text, post_bytes, urlencode};
use lookout_wire::loki::{EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp};
use prost::Message;
use serde_json::{Value, json};

const NS: i64 = 1_000_000_000;

/// A refused push: body, headers, and a phrase its error must contain.
type BadPush = (
    Vec<u8>,
    &'static [(&'static str, &'static str)],
    &'static str,
);
/// 2026-12-01T00:00:00Z in ns: inside the default one-hour window only with explicit start/end.
const T0: i64 = 1_796_083_200 * NS;

async fn push_json(url: &str, body: &Value) -> (u16, Value) {
    post_bytes(
        &format!("{url}/loki/api/v1/push"),
        body.to_string().into_bytes(),
        &[("content-type", "application/json")],
    )
    .await
}

fn protobuf(stream: &str, entries: &[(i64, &str)]) -> Vec<u8> {
    let req = PushRequest {
        streams: vec![StreamAdapter {
            labels: stream.to_string(),
            entries: entries
                .iter()
                .map(|(ts, line)| EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: ts / NS,
                        nanos: (ts % NS) as i32,
                    }),
                    line: line.to_string(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "trace_id".into(),
                        value: "abc".into(),
                    }],
                    parsed: vec![],
                })
                .collect(),
            hash: 0,
        }],
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap()
}

async fn query_range(url: &str, q: &str, extra: &str) -> (u16, Value) {
    get_json(&format!(
        "{url}/loki/api/v1/query_range?query={}&start={}&end={}{extra}",
        urlencode(q),
        T0,
        T0 + 3600 * NS
    ))
    .await
}

fn lines(v: &Value) -> Vec<String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for s in v["data"]["result"].as_array().unwrap() {
        for e in s["values"].as_array().unwrap() {
            out.push((
                e[0].as_str().unwrap().to_string(),
                e[1].as_str().unwrap().to_string(),
            ));
        }
    }
    out.sort();
    out.into_iter().map(|(_, l)| l).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_are_queried_back_through_the_loki_api() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    let (code, body) = push_json(
        &url,
        &json!({"streams": [
            {"stream": {"app": "api", "env": "prod"}, "values": [
                [(T0 + NS).to_string(), "GET /pods/pod-123 200"],
                [(T0 + 2 * NS).to_string(), "level=error msg=\"timeout\"", {"trace_id": "t1"}]]},
            {"stream": {"job": "web"}, "values": [[(T0 + 3 * NS).to_string(), "pod-123 served"]]}
        ]}),
    )
    .await;
    assert_eq!(code, 204, "{body}");
    // Protobuf + snappy, as Alloy sends it; and JSON under gzip.
    let (code, body) = post_bytes(
        &format!("{url}/loki/api/v1/push"),
        protobuf(
            r#"{app="api", env="prod"}"#,
            &[(T0 + 4 * NS, "GET /pods/pod-9 500")],
        ),
        &[("content-type", "application/x-protobuf")],
    )
    .await;
    assert_eq!(code, 204, "{body}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(
        json!({"streams": [{"stream": {"app": "api", "env": "prod"}, "values": [[(T0 + 5 * NS).to_string(), "gzipped"]]}]})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let (code, body) = post_bytes(
        &format!("{url}/loki/api/v1/push"),
        gz.finish().unwrap(),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
    )
    .await;
    assert_eq!(code, 204, "{body}");

    let (code, r) = query_range(&url, r#"{app="api"}"#, "&direction=forward").await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["data"]["resultType"], "streams");
    assert_eq!(
        lines(&r),
        [
            "GET /pods/pod-123 200",
            "level=error msg=\"timeout\"",
            "GET /pods/pod-9 500",
            "gzipped"
        ]
    );
    // Structured metadata folds into the stream labels without the categorize flag.
    let streams = r["data"]["result"].as_array().unwrap();
    assert!(
        streams
            .iter()
            .any(|s| s["stream"]["trace_id"] == "t1" && s["stream"]["service_name"] == "api"),
        "{r}"
    );
    let (_, r) = query_range(&url, r#"{service_name=~"api|web"} |= "pod-123""#, "").await;
    assert_eq!(lines(&r), ["GET /pods/pod-123 200", "pod-123 served"]);
    let (_, r) = query_range(&url, r#"{app="api"} != "pod" |~ "time(out)?""#, "").await;
    assert_eq!(lines(&r), ["level=error msg=\"timeout\""]);
    let (_, r) = query_range(&url, r#"{app="api"}"#, "&limit=1").await;
    assert_eq!(lines(&r), ["gzipped"], "backward by default: the newest");

    let range = format!("start={}&end={}", T0, T0 + 3600 * NS);
    let (_, l) = get_json(&format!("{url}/loki/api/v1/labels?{range}")).await;
    assert_eq!(l["data"], json!(["app", "env", "job", "service_name"]));
    let (_, v) = get_json(&format!(
        "{url}/loki/api/v1/label/service_name/values?{range}"
    ))
    .await;
    assert_eq!(v["data"], json!(["api", "web"]));
    let (_, s) = get_json(&format!(
        "{url}/loki/api/v1/series?match[]={}&{range}",
        urlencode(r#"{job="web"}"#)
    ))
    .await;
    assert_eq!(s["data"], json!([{"job": "web", "service_name": "web"}]));
    let (code, b) = get_json(&format!("{url}/loki/api/v1/status/buildinfo")).await;
    assert_eq!(code, 200);
    assert!(b["version"].is_string());
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pushes_and_queries_get_loki_errors_and_nothing_is_stored() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    let push = format!("{url}/loki/api/v1/push");
    const JSON_CT: &[(&str, &str)] = &[("content-type", "application/json")];
    let cases: Vec<BadPush> = vec![
        (b"{not json".to_vec(), JSON_CT, "invalid JSON"),
        (
            json!({"streams": [{"stream": {"app": "a"}, "values": [[1, "number timestamp"]]}]}).to_string().into_bytes(),
            JSON_CT,
            "string of integer nanoseconds",
        ),
        (
            json!({"streams": [{"stream": {"app": "a"}, "values": [[T0.to_string(), "x".repeat(300 * 1024)]]}]})
                .to_string()
                .into_bytes(),
            JSON_CT,
            "above the limit of 262144 bytes",
        ),
        (
            json!({"streams": [{"stream": {"0bad": "a"}, "values": [[T0.to_string(), "x"]]}]}).to_string().into_bytes(),
            JSON_CT,
            "invalid stream labels",
        ),
        (b"definitely not snappy".to_vec(), &[("content-type", "application/x-protobuf")], "snappy"),
        (
            snap::raw::Encoder::new().compress_vec(b"\xff\xff\xff garbage").unwrap(),
            &[("content-type", "application/x-protobuf")],
            "invalid protobuf",
        ),
        (protobuf(r#"{app=~"x"}"#, &[(T0, "x")]), &[], "only name=\"value\" pairs"),
        (
            json!({"streams": [{"stream": {}, "values": [[T0.to_string(), "no labels"]]}]}).to_string().into_bytes(),
            JSON_CT,
            "at least one label pair is required per stream",
        ),
    ];
    for (body, headers, expect) in cases {
        let (code, text) = post_bytes(&push, body, headers).await;
        assert_eq!(code, 400, "{expect}: {text}");
        assert!(
            text.as_str().unwrap_or_default().contains(expect),
            "{expect}: {text}"
        );
    }
    for (q, expect) in [
        (r#"{app="a"} | json | x >"#, "invalid label filter"),
        ("{app=~\".*\"}", "at least one"),
        (r#"{app="a"} |~ "(a+""#, "invalid regex"),
    ] {
        let (code, text) = query_range(&url, q, "").await;
        assert_eq!(code, 400, "{q}: {text}");
        assert!(
            text.as_str().unwrap_or_default().contains(expect),
            "{q}: {text}"
        );
    }
    let (code, text) = get_json(&format!(
        "{url}/loki/api/v1/query?query={}",
        urlencode(r#"{app="a"}"#)
    ))
    .await;
    assert_eq!(code, 400);
    assert!(
        text.as_str()
            .unwrap_or_default()
            .contains("not supported as an instant query"),
        "{text}"
    );
    // Nothing of the refused pushes is there, and the process still answers.
    let (_, r) = query_range(&url, r#"{app="a"}"#, "").await;
    assert_eq!(r["data"]["result"], json!([]), "{r}");
    let (code, _) = get_text(&format!("{url}/-/healthy")).await;
    assert_eq!(code, 200);
    let (_, m) = get_text(&format!("{url}/metrics")).await;
    assert!(
        m.contains(r#"lookout_logs_refused_total{limit="line_too_long"} 1"#),
        "{m}"
    );
    lo.server.stop().await.unwrap();
}
