//! The bad-input sweep against the real binary: oversized bodies and headers, slow and flooding clients,
//! invalid UTF-8, deep nesting, regex bombs, huge label counts and timestamps at the i64 limits, each with its
//! expected status. Between and after them the process stays healthy (`/-/healthy` answers quickly even during
//! a flood) and everything acknowledged before is still served.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Proc, free_port, lookout_in, wait_ready};

const CONFIG: &str = r#"
scrape_configs: []
server:
  max_connections: 64
  header_read_timeout: 2s
  body_read_timeout: 2s
  max_header_bytes: 16KiB
limits:
  max_write_body: 1MiB
  max_form_body: 64KiB
logs:
  max_line_size: 4KiB
"#;

/// A protobuf field key.
fn key(field: u32, wire: u8, out: &mut Vec<u8>) {
    varint(u64::from(field << 3 | u32::from(wire)), out);
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u32, b: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// A remote_write 1.0 body (snappy) of one series with `labels` (raw bytes, so invalid UTF-8 can be sent) and
/// one sample.
fn write_request(labels: &[(&[u8], &[u8])], value: f64, ts: i64) -> Vec<u8> {
    let mut series = Vec::new();
    for (n, v) in labels {
        let mut l = Vec::new();
        bytes_field(1, n, &mut l);
        bytes_field(2, v, &mut l);
        bytes_field(1, &l, &mut series);
    }
    let mut sample = Vec::new();
    key(1, 1, &mut sample);
    sample.extend_from_slice(&value.to_le_bytes());
    key(2, 0, &mut sample);
    varint(ts as u64, &mut sample);
    bytes_field(2, &sample, &mut series);
    let mut req = Vec::new();
    bytes_field(1, &series, &mut req);
    lookout_wire::remote_write::snappy_compress(&req)
}

/// Sends raw bytes on a new connection and returns the status code of the answer (0: closed without one).
fn raw_status(addr: &str, request: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(request);
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

struct Sweep {
    base: String,
    client: reqwest::Client,
    failures: Vec<String>,
}

impl Sweep {
    async fn expect(&mut self, what: &str, req: reqwest::RequestBuilder, want: u16) {
        let started = Instant::now();
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let body = r.text().await.unwrap_or_default();
                if status != want {
                    self.failures
                        .push(format!("{what}: status {status}, want {want}: {body:.300}"));
                }
            }
            Err(e) => self.failures.push(format!("{what}: {e}")),
        }
        if started.elapsed() > Duration::from_secs(5) {
            self.failures
                .push(format!("{what}: took {:?}", started.elapsed()));
        }
        self.healthy(what).await;
    }

    async fn healthy(&mut self, after: &str) {
        let started = Instant::now();
        let ok = self
            .client
            .get(format!("{}/-/healthy", self.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .map(|r| r.status() == 200)
            .unwrap_or(false);
        if !ok {
            self.failures.push(format!(
                "not healthy after {after} (waited {:?})",
                started.elapsed()
            ));
        }
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.base))
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.base))
    }
}

fn remote_write(s: &Sweep, body: Vec<u8>) -> reqwest::RequestBuilder {
    s.post("/api/v1/write")
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-write-version", "0.1.0")
        .body(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_sweep_leaves_the_process_healthy_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lookout.yml"), CONFIG).unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    let child = lookout_in("serve", dir.path(), port, "256MiB");
    wait_ready(&format!("{base}/-/ready"), Duration::from_secs(30)).await;
    let mut s = Sweep {
        base: base.clone(),
        // No connection reuse: a refused request's connection may be closed by the server before its body is
        // read, which says nothing about the next request.
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap(),
        failures: Vec::new(),
    };

    // Accepted data first: it must survive everything below.
    let now_ms = common::now_ms();
    s.expect(
        "a good remote_write",
        remote_write(
            &s,
            write_request(
                &[(b"__name__", b"kept_metric"), (b"job", b"sweep")],
                42.0,
                now_ms,
            ),
        ),
        204,
    )
    .await;
    let push = serde_json::json!({"streams": [{"stream": {"job": "sweep"}, "values": [[format!("{}", now_ms * 1_000_000), "kept line"]]}]});
    s.expect(
        "a good Loki push",
        s.post("/loki/api/v1/push").json(&push),
        204,
    )
    .await;

    // Oversized bodies.
    s.expect(
        "remote_write over max_write_body",
        remote_write(&s, vec![0u8; 2 << 20]),
        413,
    )
    .await;
    s.expect(
        "a query form over max_form_body",
        s.post("/api/v1/query")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("query={}", "a".repeat(200 << 10))),
        413,
    )
    .await;
    let long_line = serde_json::json!({"streams": [{"stream": {"job": "sweep"}, "values": [[format!("{}", now_ms * 1_000_000), "x".repeat(8 << 10)]]}]});
    s.expect(
        "a log line over max_line_size",
        s.post("/loki/api/v1/push").json(&long_line),
        400,
    )
    .await;

    // Oversized and too many headers.
    let big_header = format!(
        "GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(32 << 10)
    );
    let status = raw_status(&addr, big_header.as_bytes());
    if status != 431 {
        s.failures
            .push(format!("a 32 KiB header: status {status}, want 431"));
    }
    let mut many = String::from("GET /-/healthy HTTP/1.1\r\nHost: x\r\n");
    for i in 0..300 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let status = raw_status(&addr, many.as_bytes());
    if status != 431 {
        s.failures
            .push(format!("300 headers: status {status}, want 431"));
    }
    s.healthy("oversized headers").await;

    // Invalid UTF-8.
    s.expect(
        "a query that is not UTF-8",
        s.get("/api/v1/query?query=%FF%FE"),
        400,
    )
    .await;
    s.expect(
        "a remote_write label value that is not UTF-8",
        remote_write(
            &s,
            write_request(&[(b"__name__", b"m"), (b"l", b"\xff\xfe")], 1.0, now_ms),
        ),
        400,
    )
    .await;
    s.expect(
        "an import line that is not UTF-8",
        s.post("/api/v1/import/prometheus")
            .body(b"m{l=\"\xff\"} 1\n".to_vec()),
        400,
    )
    .await;
    s.expect(
        "a Loki push that is not UTF-8",
        s.post("/loki/api/v1/push")
            .header("content-type", "application/json")
            .body(b"{\"streams\":[{\"stream\":{\"a\":\"\xff\"},\"values\":[]}]}".to_vec()),
        400,
    )
    .await;

    // Deep nesting.
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    s.expect(
        "PromQL nested 10,000 deep",
        s.post("/api/v1/query").form(&[("query", deep.as_str())]),
        400,
    )
    .await;
    let deep_logql = format!(
        "{}count_over_time({{job=\"sweep\"}}[1m]){}",
        "sum(".repeat(5_000),
        ")".repeat(5_000)
    );
    s.expect(
        "LogQL nested 5,000 deep",
        s.post("/loki/api/v1/query")
            .form(&[("query", deep_logql.as_str())]),
        400,
    )
    .await;
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    s.expect(
        "a Loki push nested 100,000 deep",
        s.post("/loki/api/v1/push")
            .header("content-type", "application/json")
            .body(deep_json),
        400,
    )
    .await;

    // Regex bombs.
    s.expect(
        "a PromQL regex bomb",
        s.post("/api/v1/query")
            .form(&[("query", r#"{__name__=~"((a{100}){100}){100}"}"#)]),
        400,
    )
    .await;
    s.expect(
        "a series matcher regex bomb",
        s.get(&format!(
            "/api/v1/series?match[]={}",
            lookout_e2e_enc(r#"{__name__=~"((a{100}){100}){100}"}"#)
        )),
        400,
    )
    .await;
    s.expect(
        "a LogQL line-filter regex bomb",
        s.post("/loki/api/v1/query_range")
            .form(&[("query", r#"{job="sweep"} |~ "((a{100}){100}){100}""#)]),
        400,
    )
    .await;

    // Huge label counts.
    let names: Vec<String> = (0..10_000).map(|i| format!("l{i:05}")).collect();
    let mut labels: Vec<(&[u8], &[u8])> = vec![(b"__name__", b"wide")];
    labels.extend(names.iter().map(|n| (n.as_bytes(), b"v".as_slice())));
    s.expect(
        "a series with 10,000 labels",
        remote_write(&s, write_request(&labels, 1.0, now_ms)),
        400,
    )
    .await;
    let mut stream = serde_json::Map::new();
    for n in names.iter().take(1000) {
        stream.insert(n.clone(), "v".into());
    }
    let wide_push = serde_json::json!({"streams": [{"stream": stream, "values": [[format!("{}", now_ms * 1_000_000), "x"]]}]});
    s.expect(
        "a log stream with 1,000 labels",
        s.post("/loki/api/v1/push").json(&wide_push),
        400,
    )
    .await;

    // Timestamps at the i64 limits.
    s.expect(
        "a sample at i64::MAX ms",
        remote_write(&s, write_request(&[(b"__name__", b"far")], 1.0, i64::MAX)),
        400,
    )
    .await;
    // The distant past is a valid time (Prometheus accepts negative timestamps); it must just not break anything.
    s.expect(
        "a sample at i64::MIN ms",
        remote_write(&s, write_request(&[(b"__name__", b"far")], 1.0, i64::MIN)),
        204,
    )
    .await;
    s.expect(
        "a query over the far past",
        s.get("/api/v1/query?query=count_over_time(far[1y])"),
        200,
    )
    .await;
    s.expect(
        "a query at time 1e300",
        s.get("/api/v1/query?query=1&time=1e300"),
        400,
    )
    .await;
    s.expect(
        "a range query from i64::MIN",
        s.get("/api/v1/query_range?query=1&start=-9223372036854775808&end=0&step=15"),
        400,
    )
    .await;
    // Loki reads i64::MAX ns as a valid time (the year 2262): an empty answer.
    s.expect(
        "a log query at i64::MAX ns",
        s.get("/loki/api/v1/query_range?query=%7Bjob%3D%22sweep%22%7D&start=9223372036854775807&end=9223372036854775807"),
        200,
    )
    .await;

    // A slow client: headers one byte a second are cut off at header_read_timeout (2 s), not held.
    let slow_addr = addr.clone();
    let slow = std::thread::spawn(move || {
        let mut c = TcpStream::connect(&slow_addr).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let started = Instant::now();
        let request = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
        for b in request {
            if c.write_all(&[*b]).is_err() {
                return started.elapsed();
            }
            let mut buf = [0u8; 64];
            match c.read(&mut buf) {
                Ok(0) => return started.elapsed(),
                Ok(_) => return started.elapsed(),
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(900));
        }
        started.elapsed()
    });

    // A slow body: the head arrives at once, the body a byte a second; cut off at body_read_timeout (2 s).
    let body_addr = addr.clone();
    let slow_body = std::thread::spawn(move || {
        let mut c = TcpStream::connect(&body_addr).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let started = Instant::now();
        let head =
            b"POST /api/v1/import/prometheus HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n";
        if c.write_all(head).is_err() {
            return (started.elapsed(), String::new());
        }
        for _ in 0..30 {
            let mut buf = [0u8; 256];
            if let Ok(n) = c.read(&mut buf) {
                return (
                    started.elapsed(),
                    String::from_utf8_lossy(&buf[..n]).into_owned(),
                );
            }
            if c.write_all(b"x").is_err() {
                return (started.elapsed(), String::new());
            }
            std::thread::sleep(Duration::from_millis(900));
        }
        (started.elapsed(), String::new())
    });

    // A flood of bad requests on many connections, /-/healthy answering quickly throughout.
    let flood_addr = addr.clone();
    let flood = std::thread::spawn(move || {
        let mut answered = 0;
        for round in 0..20 {
            let conns: Vec<_> = (0..40)
                .filter_map(|i| {
                    let mut c = TcpStream::connect(&flood_addr).ok()?;
                    let junk: &[u8] = match (round + i) % 3 {
                        0 => b"GARBAGE\r\n\r\n",
                        1 => b"GET /%%%% HTTP/1.1\r\nHost\r\n\r\n",
                        _ => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                    };
                    let _ = c.write_all(junk);
                    Some(c)
                })
                .collect();
            for mut c in conns {
                c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 64];
                if c.read(&mut buf).is_ok() {
                    answered += 1;
                }
            }
        }
        answered
    });
    let mut slowest = Duration::ZERO;
    for _ in 0..30 {
        let started = Instant::now();
        let r = s
            .client
            .get(format!("{base}/-/healthy"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if !r.map(|r| r.status() == 200).unwrap_or(false) {
            s.failures.push("/-/healthy failed during the flood".into());
        }
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if slowest > Duration::from_secs(1) {
        s.failures
            .push(format!("/-/healthy took {slowest:?} during the flood"));
    }
    let answered = flood.join().unwrap();
    assert!(
        answered > 0,
        "the flood's connections were answered or closed"
    );
    let (body_held, answer) = slow_body.join().unwrap();
    if body_held > Duration::from_secs(6) {
        s.failures.push(format!(
            "a slow body held its connection for {body_held:?}: {answer:.100}"
        ));
    }
    let held = slow.join().unwrap();
    if held > Duration::from_secs(6) {
        s.failures
            .push(format!("a slow client held its connection for {held:?}"));
    }

    // Nothing acknowledged was lost, and the process is still the same one.
    let (code, body) = {
        let r = s
            .get(&format!(
                "/api/v1/query?query=kept_metric&time={}",
                now_ms as f64 / 1000.0
            ))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    if code != 200 || !body.contains("\"42\"") {
        s.failures
            .push(format!("kept_metric after the sweep: {code} {body}"));
    }
    let r = s
        .get(&format!(
            "/loki/api/v1/query_range?query=%7Bjob%3D%22sweep%22%7D&start={}&end={}&limit=10",
            (now_ms - 60_000) * 1_000_000,
            (now_ms + 60_000) * 1_000_000
        ))
        .send()
        .await
        .unwrap();
    let body = r.text().await.unwrap();
    if !body.contains("kept line") {
        s.failures
            .push(format!("the kept log line after the sweep: {body:.300}"));
    }
    let mut child: Proc = child;
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the process exited during the sweep"
    );
    assert!(
        s.failures.is_empty(),
        "{} problems:\n{}",
        s.failures.len(),
        s.failures.join("\n")
    );
    child.terminate();
}

/// Percent-encodes a query parameter.
fn lookout_e2e_enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
