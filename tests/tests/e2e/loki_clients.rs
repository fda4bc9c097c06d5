//! Real Loki clients against the running appliance, as CI runs them (`.ci/run` installs the PyPI packages):
//! PyPI `python-logging-loki` logging through Python's `logging` module (JSON pushes), and a protobuf + snappy push
//! whose `logproto.PushRequest` is built by the `protobuf` runtime from Loki's push schema (see
//! `tests/loki_clients/push_protobuf.py` for where that schema comes from). Both are read back through
//! `/loki/api/v1/query_range` and the label endpoints.
//!
//! Loki 3 may also add a `detected_level` structured-metadata field on ingest; Lookout does not (yet), so the
//! comparisons below drop that one field (checking its value where the level is known) and are exact otherwise.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lookout_e2e::{Lookout, get_json, urlencode, wait_for};
use serde_json::{Map, Value, json};

const NS: i64 = 1_000_000_000;
/// Where a missing interpreter or package comes from.
const INSTALL: &str = "python3 with PyPI python-logging-loki, protobuf and python-snappy is needed; .ci/run installs \
                       them in its step '== peers (PyPI packages for the Loki client checks)'";

fn now_ns() -> i64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(d.as_nanos()).expect("ns fit i64")
}

/// Runs `tests/loki_clients/<script>` with `args`; fails the test (naming the `.ci/run` step) if it cannot run or
/// exits non-zero. Proxy settings are removed so the client talks to 127.0.0.1 directly.
async fn run_script(script: &str, args: &[String]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("loki_clients")
        .join(script);
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(&path)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "127.0.0.1")
        .env("no_proxy", "127.0.0.1");
    let out = cmd
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}\n{INSTALL}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}\n({INSTALL})",
        out.status
    );
    stdout
}

/// `query_range` over `[start, end)`, optionally with Grafana's `categorize-labels` encoding flag.
async fn query_range(
    url: &str,
    q: &str,
    (start, end): (i64, i64),
    extra: &str,
    categorize: bool,
) -> Value {
    let full = format!(
        "{url}/loki/api/v1/query_range?query={}&start={start}&end={end}{extra}",
        urlencode(q)
    );
    let mut req = reqwest::Client::new().get(&full);
    if categorize {
        req = req.header("X-Loki-Response-Encoding-Flags", "categorize-labels");
    }
    let resp = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {full}: {e}"));
    let code = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(code, 200, "{q}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{q}: {e}: {text}"))
}

fn entry_count(r: &Value) -> usize {
    r["data"]["result"]
        .as_array()
        .map(|streams| {
            streams
                .iter()
                .map(|s| s["values"].as_array().map_or(0, Vec::len))
                .sum()
        })
        .unwrap_or(0)
}

/// Polls `q` (forward) until it returns at least `want` entries; entries are visible within about 2 s.
async fn poll(url: &str, q: &str, window: (i64, i64), want: usize, categorize: bool) -> Value {
    let r = wait_for(
        &format!("{want} entries of {q}"),
        Duration::from_secs(5),
        || async move {
            let r = query_range(url, q, window, "&direction=forward", categorize).await;
            (entry_count(&r) >= want).then_some(r)
        },
    )
    .await;
    assert_eq!(entry_count(&r), want, "{q}: {r}");
    r
}

/// Removes `detected_level` (which Loki 3 may add and Lookout does not) from a label or metadata object and
/// returns its value.
fn take_detected_level(m: &mut Value) -> Option<String> {
    m.as_object_mut()
        .and_then(|o| o.remove("detected_level"))
        .map(|v| v.as_str().unwrap_or_default().to_string())
}

/// Every entry of a default-encoded streams result as (timestamp, line, stream labels without
/// `detected_level`), in time order.
fn flat(r: &Value) -> Vec<(i64, String, Value)> {
    let mut out = Vec::new();
    for s in r["data"]["result"].as_array().expect("streams result") {
        let mut labels = s["stream"].clone();
        take_detected_level(&mut labels);
        for e in s["values"].as_array().expect("values") {
            let ts = e[0].as_str().expect("ts string").parse::<i64>().unwrap();
            out.push((ts, e[1].as_str().expect("line").to_string(), labels.clone()));
        }
    }
    out.sort_by_key(|e| e.0);
    out
}

fn lines(r: &Value) -> Vec<String> {
    flat(r).into_iter().map(|(_, l, _)| l).collect()
}

/// The values of a categorized stream with `detected_level` taken out of each entry's structured metadata (and
/// `structuredMetadata` dropped when nothing else is left), as Lookout answers without level detection.
fn categorized_values(stream: &Value) -> Value {
    let mut values = stream["values"].clone();
    for e in values.as_array_mut().expect("values") {
        let extra = &mut e[2];
        assert!(
            extra.is_object(),
            "categorized entry without its third element: {e}"
        );
        if let Some(sm) = extra.get_mut("structuredMetadata") {
            take_detected_level(sm);
            if sm.as_object().is_some_and(Map::is_empty) {
                extra.as_object_mut().unwrap().remove("structuredMetadata");
            }
        }
    }
    values
}

/// Loki's normalised `detected_level` for python-logging-loki's `severity` values.
fn loki_level(severity: &str) -> &str {
    match severity {
        "warning" => "warn",
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PyPI python-logging-loki (installed by .ci/run)"]
async fn python_logging_loki_records_are_queried_back() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    let before = now_ns();
    run_script("push_logging.py", std::slice::from_ref(&url)).await;
    let after = now_ns();
    let window = (before - NS, after + NS);

    let r = poll(&url, r#"{application="checkout"}"#, window, 6, false).await;
    assert_eq!(r["data"]["resultType"], "streams", "{r}");
    // One JSON push per record; labels are the handler's tags, `severity` (the level name in lower case),
    // `logger`, the record's extra tags (names reduced to [A-Za-z0-9_]), and `service_name` derived by Loki's rule
    // (`service` before `application`).
    let base = |severity: &str| {
        json!({"application": "checkout", "env": "ci", "logger": "shop.orders", "severity": severity,
               "service_name": "checkout"})
    };
    let payments = json!({"application": "checkout", "env": "ci", "logger": "shop.orders", "severity": "error",
                          "service": "payments", "tenant_id": "t-1", "service_name": "payments"});
    let expected: Vec<(&str, Value)> = vec![
        ("cache warmed in 12 ms", base("debug")),
        ("order 1042 accepted \u{2713} (caf\u{e9})", base("info")),
        ("retrying upstream call (attempt 2)", base("warning")),
        ("payment declined for order 1042", payments),
        ("disk almost full: 97%", base("critical")),
        ("unhandled error in worker", base("error")),
    ];
    // Level detection, where the server does it, must agree with the `severity` label.
    for s in r["data"]["result"].as_array().unwrap() {
        let mut labels = s["stream"].clone();
        if let Some(level) = take_detected_level(&mut labels) {
            assert_eq!(
                level,
                loki_level(labels["severity"].as_str().unwrap()),
                "{s}"
            );
        }
    }
    let got = flat(&r);
    assert_eq!(got.len(), expected.len(), "{r}");
    for ((ts, line, labels), (want_line, want_labels)) in got.iter().zip(&expected) {
        assert!(
            (before..=after).contains(ts),
            "timestamp {ts} of {line:?} outside the run [{before}, {after}]"
        );
        assert_eq!(labels, want_labels, "labels of {line:?}");
        if *want_line == "unhandled error in worker" {
            // logger.exception: the formatted record carries the traceback, one multi-line entry.
            assert!(
                line.starts_with(
                    "unhandled error in worker\nTraceback (most recent call last):\n  File "
                ) && line.contains("raise ValueError(\"bad input\")")
                    && line.ends_with("\nValueError: bad input"),
                "{line:?}"
            );
        } else {
            assert_eq!(line, want_line);
        }
    }

    let (_, l) = get_json(&format!(
        "{url}/loki/api/v1/labels?start={}&end={}",
        window.0, window.1
    ))
    .await;
    assert_eq!(
        l["data"],
        json!([
            "application",
            "env",
            "logger",
            "service",
            "service_name",
            "severity",
            "tenant_id"
        ]),
        "{l}"
    );
    let (_, v) = get_json(&format!(
        "{url}/loki/api/v1/label/severity/values?start={}&end={}",
        window.0, window.1
    ))
    .await;
    assert_eq!(
        v["data"],
        json!(["critical", "debug", "error", "info", "warning"]),
        "{v}"
    );
    let (_, v) = get_json(&format!(
        "{url}/loki/api/v1/label/service_name/values?start={}&end={}",
        window.0, window.1
    ))
    .await;
    assert_eq!(v["data"], json!(["checkout", "payments"]), "{v}");

    let r = query_range(
        &url,
        r#"{application="checkout"} |= "1042""#,
        window,
        "",
        false,
    )
    .await;
    assert_eq!(
        lines(&r),
        [
            "order 1042 accepted \u{2713} (caf\u{e9})",
            "payment declined for order 1042"
        ]
    );
    let r = query_range(
        &url,
        r#"{service_name="payments", severity="error"}"#,
        window,
        "",
        false,
    )
    .await;
    assert_eq!(lines(&r), ["payment declined for order 1042"]);
    // Backward (the default) with a limit: the newest two records.
    let r = query_range(&url, r#"{env="ci"}"#, window, "&limit=2", false).await;
    let newest = lines(&r);
    assert_eq!(newest.len(), 2, "{r}");
    assert_eq!(newest[0], "disk almost full: 97%");
    assert!(
        newest[1].starts_with("unhandled error in worker\n"),
        "{newest:?}"
    );
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PyPI protobuf and python-snappy (installed by .ci/run)"]
async fn logproto_protobuf_push_is_queried_back() {
    let lo = Lookout::start(None).await;
    let url = lo.url.clone();
    // Whole seconds, two minutes ago: the script adds fixed offsets, so every timestamp is known here exactly.
    let base = (now_ns() / NS - 120) * NS;
    let window = (base, base + 10 * NS);
    run_script("push_protobuf.py", &[url.clone(), base.to_string()]).await;
    let ts = |offset: i64| (base + offset).to_string();

    // With Grafana's encoding flag: indexed labels in `stream`, structured metadata per entry.
    let r = poll(&url, r#"{job="checkout"}"#, window, 3, true).await;
    assert_eq!(
        r["data"]["encodingFlags"],
        json!(["categorize-labels"]),
        "{r}"
    );
    let streams = r["data"]["result"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{r}");
    assert_eq!(
        streams[0]["stream"],
        json!({"env": "ci", "job": "checkout", "service_name": "checkout"}),
        "{r}"
    );
    assert_eq!(
        categorized_values(&streams[0]),
        json!([
            [ts(NS + 123), "GET /orders/1042 200",
             {"structuredMetadata": {"trace_id": "4bf92f3577b34da6", "user": "alice smith"}}],
            [ts(2 * NS), "GET /orders/1043 500", {"structuredMetadata": {"trace_id": "00f067aa0ba902b7"}}],
            [ts(3 * NS + 999_999_999), "healthz ok", {}]
        ]),
        "{r}"
    );

    // The label value's escaped quote and backslash arrive unescaped; `parsed` (query-side only) is not stored.
    let billing = json!({"app": "billing", "note": "say \"hi\" C:\\tmp", "region": "eu-west-1",
                         "service_name": "billing"});
    let r = poll(&url, r#"{app="billing"}"#, window, 1, true).await;
    let streams = r["data"]["result"].as_array().unwrap();
    assert_eq!(streams.len(), 1, "{r}");
    assert_eq!(streams[0]["stream"], billing, "{r}");
    assert_eq!(
        categorized_values(&streams[0]),
        json!([[ts(NS + 500_000_000), "level=info msg=\"invoice 77 sent \u{2713}\"",
                {"structuredMetadata": {"invoice": "77"}}]]),
        "{r}"
    );

    // Default encoding: structured metadata folds into the stream labels, one result stream per distinct set.
    let r = query_range(
        &url,
        r#"{job="checkout"}"#,
        window,
        "&direction=forward",
        false,
    )
    .await;
    let web = json!({"env": "ci", "job": "checkout", "service_name": "checkout"});
    let with = |extra: Value| {
        let mut m = web.clone();
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m
    };
    assert_eq!(
        flat(&r),
        vec![
            (
                base + NS + 123,
                "GET /orders/1042 200".to_string(),
                with(json!({"trace_id": "4bf92f3577b34da6", "user": "alice smith"}))
            ),
            (
                base + 2 * NS,
                "GET /orders/1043 500".to_string(),
                with(json!({"trace_id": "00f067aa0ba902b7"}))
            ),
            (
                base + 3 * NS + 999_999_999,
                "healthz ok".to_string(),
                web.clone()
            ),
        ],
        "{r}"
    );

    // Label endpoints list indexed labels only, never structured metadata or `parsed`.
    let range = format!("start={}&end={}", window.0, window.1);
    let (_, l) = get_json(&format!("{url}/loki/api/v1/labels?{range}")).await;
    assert_eq!(
        l["data"],
        json!(["app", "env", "job", "note", "region", "service_name"]),
        "{l}"
    );
    let (_, s) = get_json(&format!(
        "{url}/loki/api/v1/series?match[]={}&{range}",
        urlencode(r#"{app="billing"}"#)
    ))
    .await;
    assert_eq!(s["data"], json!([billing]), "{s}");
    lo.server.stop().await.unwrap();
}
