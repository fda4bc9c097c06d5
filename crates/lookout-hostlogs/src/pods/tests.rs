use std::collections::BTreeMap;

use super::discovery::{parse_pod_dir, stream_labels};
use super::format::{Parsed, Stream, parse};
use super::lines::ContainerLines;
use crate::labels::StaticLabels;

fn ns(rfc3339: &str) -> Option<i64> {
    Some(rfc3339.parse::<jiff::Timestamp>().unwrap().as_nanosecond() as i64)
}

#[test]
fn cri_lines() {
    assert_eq!(
        parse("2026-12-05T10:15:00.123456789Z stdout F  indented text"),
        Some(Parsed {
            ts: ns("2026-12-05T10:15:00.123456789Z"),
            stream: Stream::Stdout,
            partial: false,
            content: " indented text".into(),
        })
    );
    // CRI-O writes an offset; tags may carry more after `:`; the content may be empty.
    let p = parse("2019-05-07T18:57:50.904275087+00:00 stderr P:x part").unwrap();
    assert_eq!(
        (p.ts, p.stream, p.partial, p.content.as_str()),
        (
            ns("2019-05-07T18:57:50.904275087Z"),
            Stream::Stderr,
            true,
            "part"
        )
    );
    assert_eq!(parse("2026-12-05T10:15:00Z stdout F").unwrap().content, "");
    for bad in [
        "hello stdout F world",
        "2026-12-05T10:15:00Z stdin F x",
        "2026-12-05T10:15:00Z stdout X x",
        "plain line",
        "",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

#[test]
fn docker_lines() {
    let p = parse(r#"{"log":"hello \"x\"\n","stream":"stderr","time":"2026-12-05T10:15:00.5Z"}"#)
        .unwrap();
    assert_eq!(
        (p.ts, p.stream, p.partial, p.content.as_str()),
        (
            ns("2026-12-05T10:15:00.5Z"),
            Stream::Stderr,
            false,
            "hello \"x\""
        )
    );
    let p = parse(r#"{"log":"no newline","stream":"stdout","time":"bad","attrs":{}}"#).unwrap();
    assert_eq!((p.ts, p.partial), (None, true));
    for bad in [
        r#"{"level":"info"}"#,
        r#"{"log":"x\n","stream":"other"}"#,
        "{not json",
    ] {
        assert_eq!(parse(bad), None, "{bad:?}");
    }
}

#[test]
fn partial_lines_join_per_stream_and_hold_the_limit() {
    let mut c = ContainerLines::new(0);
    let mut out = Vec::new();
    assert!(c.push("2026-12-05T10:00:01Z stdout P ab".into(), 0, &mut out));
    assert!(c.push("2026-12-05T10:00:02Z stderr F err".into(), 30, &mut out));
    assert!(c.push("2026-12-05T10:00:03Z stdout P cd".into(), 60, &mut out));
    assert_eq!(c.pending_start(), Some(0));
    assert!(c.push("2026-12-05T10:00:04Z stdout F ef".into(), 90, &mut out));
    assert_eq!(c.pending_start(), None);
    let got: Vec<_> = out
        .iter()
        .map(|d| (d.text.as_str(), d.stream, d.ts))
        .collect();
    assert_eq!(
        got,
        vec![
            ("err", Some(Stream::Stderr), ns("2026-12-05T10:00:02Z")),
            ("abcdef", Some(Stream::Stdout), ns("2026-12-05T10:00:04Z")),
        ]
    );
    // Not container format: passed on unchanged, reported as such.
    out.clear();
    assert!(!c.push("just text".into(), 120, &mut out));
    assert_eq!(
        (out[0].text.as_str(), out[0].ts, out[0].stream),
        ("just text", None, None)
    );

    // With a 4-byte limit only 5 bytes are kept, but the full length is known; é is not cut in half.
    let mut c = ContainerLines::new(4);
    let mut out = Vec::new();
    c.push(r#"{"log":"abc","stream":"stdout"}"#.into(), 0, &mut out);
    c.push(r#"{"log":"déf","stream":"stdout"}"#.into(), 40, &mut out);
    c.push(r#"{"log":"g\n","stream":"stdout"}"#.into(), 80, &mut out);
    assert_eq!((out[0].text.as_str(), out[0].full_len), ("abcd", 8));
    // At the end of a file a pending partial line is sent as it is.
    c.push("2026-12-05T10:00:01Z stderr P tail".into(), 120, &mut out);
    c.flush(&mut out);
    assert_eq!(out[1].text, "tail");
    assert_eq!(c.pending_start(), None);
}

#[test]
fn pod_dirs_and_labels() {
    assert_eq!(
        parse_pod_dir("kube-system_coredns-5d78c9869d-abcde_0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"),
        Some((
            "kube-system",
            "coredns-5d78c9869d-abcde",
            "0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"
        ))
    );
    assert_eq!(parse_pod_dir("no-underscores"), None);
    assert_eq!(parse_pod_dir("a_b_c_d"), None);
    assert_eq!(parse_pod_dir("a__c"), None);

    let fixed =
        StaticLabels::new("", &[("cluster".to_string(), "lab".to_string())].into()).unwrap();
    let l = stream_labels(&BTreeMap::new(), &fixed, ("web", "api-0", "nginx"));
    assert_eq!(
        l.to_string(),
        r#"{cluster="lab", container="nginx", job="web/nginx", namespace="web", pod="api-0"}"#
    );
    let meta: BTreeMap<String, String> = [
        ("app", "api"),
        ("node_name", "n1"),
        ("pod", "spoofed"),
        ("__hidden", "x"),
        ("bad-name", "x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let l = stream_labels(&meta, &fixed, ("web", "api-0", "nginx"));
    assert_eq!(
        l.to_string(),
        r#"{app="api", cluster="lab", container="nginx", job="web/api", namespace="web", node_name="n1", pod="api-0"}"#
    );
}
