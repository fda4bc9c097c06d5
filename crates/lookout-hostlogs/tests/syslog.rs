//! The syslog receiver over real sockets on 127.0.0.1.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use common::{TestSink, metric, wait_for};
use lookout_hostlogs::{HostLogs, HostLogsConfig, SyslogConfig};
use lookout_model::ByteSize;

fn config(max: u64, max_conns: usize) -> HostLogsConfig {
    HostLogsConfig {
        syslog: Some(SyslogConfig {
            udp_listen: vec!["127.0.0.1:0".into()],
            tcp_listen: vec!["127.0.0.1:0".into()],
            max_message_length: ByteSize(max),
            max_connections: max_conns,
            peer_label: Some("peer".into()),
            ..SyslogConfig::default()
        }),
        ..HostLogsConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_and_tcp_messages_become_entries() {
    let dir = tempfile::tempdir().unwrap();
    let sink = TestSink::new();
    let h = HostLogs::start(config(1024, 8), dir.path(), sink.clone()).unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        b"<165>1 2003-10-11T22:14:15.003Z host1 app1 42 ID7 [ex@1 k=\"v\"] over udp\n",
        h.syslog_udp_addrs()[0],
    )
    .unwrap();
    let mut tcp = TcpStream::connect(h.syslog_tcp_addrs()[0]).unwrap();
    // Octet counting, one message split over two writes.
    let m = b"<13>1 2024-01-01T00:00:00Z host2 app2 - - - octet counted";
    tcp.write_all(format!("{} ", m.len()).as_bytes()).unwrap();
    tcp.write_all(&m[..10]).unwrap();
    tcp.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    tcp.write_all(&m[10..]).unwrap();
    let mut tcp2 = TcpStream::connect(h.syslog_tcp_addrs()[0]).unwrap();
    tcp2.write_all(b"<34>Oct 11 22:14:15 host3 su[9]: newline one\n<34>Oct 11 22:14:16 host3 su: newline two\n")
        .unwrap();
    wait_for(10, "4 entries", || sink.all().len() == 4).await;
    let all = sink.all();
    let find = |line: &str| all.iter().find(|(_, e)| e.line == line).unwrap().clone();
    let (l, e) = find("over udp");
    assert_eq!(l.get("job"), Some("syslog"));
    assert_eq!(l.get("hostname"), Some("host1"));
    assert_eq!(l.get("app"), Some("app1"));
    assert_eq!(l.get("severity"), Some("notice"));
    assert_eq!(l.get("level"), Some("notice"));
    assert_eq!(l.get("facility"), Some("local4"));
    assert_eq!(l.get("peer"), Some("127.0.0.1"));
    assert_eq!(e.ts, 1_065_910_455_003_000_000);
    assert_eq!(
        e.metadata,
        vec![
            ("proc_id".to_string(), "42".to_string()),
            ("msg_id".into(), "ID7".into()),
            ("sd_ex_1_k".into(), "v".into())
        ]
    );
    let (l, _) = find("octet counted");
    assert_eq!(
        (l.get("hostname"), l.get("app")),
        (Some("host2"), Some("app2"))
    );
    let (l, e) = find("newline one");
    assert_eq!(
        (l.get("app"), l.get("severity")),
        (Some("su"), Some("critical"))
    );
    assert_eq!(e.metadata, vec![("proc_id".to_string(), "9".to_string())]);
    find("newline two");
    // The counter moves right after the store acknowledged.
    wait_for(10, "pushed counted", || {
        metric(
            &h,
            "lookout_hostlogs_entries_pushed_total{source=\"syslog\"}",
        ) == 4
    })
    .await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_garbage_are_counted_and_listeners_survive() {
    let dir = tempfile::tempdir().unwrap();
    let sink = TestSink::new();
    let h = HostLogs::start(config(64, 8), dir.path(), sink.clone()).unwrap();
    let (udp_addr, tcp_addr) = (h.syslog_udp_addrs()[0], h.syslog_tcp_addrs()[0]);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let big = format!("<13>1 - h a - - - {}", "x".repeat(100));
    udp.send_to(big.as_bytes(), udp_addr).unwrap();
    udp.send_to(b"\x00\xff garbage", udp_addr).unwrap();
    // Newline framing: an oversized line, then a good one on the same connection.
    let mut tcp = TcpStream::connect(tcp_addr).unwrap();
    tcp.write_all(format!("{big}\n<13>1 - h a - - - after big\n").as_bytes())
        .unwrap();
    // Octet counting: an oversized message is skipped whole, the next one still read.
    let mut oc = TcpStream::connect(tcp_addr).unwrap();
    let ok = b"<13>1 - h a - - - after octet big";
    oc.write_all(format!("{} {big}{} ", big.len(), ok.len()).as_bytes())
        .unwrap();
    oc.write_all(ok).unwrap();
    // Broken octet framing closes only that connection.
    let mut bad = TcpStream::connect(tcp_addr).unwrap();
    bad.write_all(b"12x garbage\n").unwrap();
    wait_for(10, "2 entries", || sink.all().len() == 2).await;
    wait_for(10, "drops counted", || {
        metric(
            &h,
            "lookout_hostlogs_entries_dropped_total{source=\"syslog\",reason=\"too_large\"}",
        ) == 3
            && metric(
                &h,
                "lookout_hostlogs_entries_dropped_total{source=\"syslog\",reason=\"malformed\"}",
            ) == 2
    })
    .await;
    // Still listening.
    udp.send_to(b"<13>1 - h a - - - still alive", udp_addr)
        .unwrap();
    wait_for(10, "entry after garbage", || {
        sink.lines().contains(&"still alive".to_string())
    })
    .await;
    let mut lines = sink.lines();
    lines.sort();
    assert_eq!(lines, vec!["after big", "after octet big", "still alive"]);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let sink = TestSink::new();
    let h = HostLogs::start(config(1024, 3), dir.path(), sink.clone()).unwrap();
    let addr = h.syslog_tcp_addrs()[0];
    let mut held = Vec::new();
    for i in 0..3 {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(format!("<13>1 - h a - - - held {i}\n").as_bytes())
            .unwrap();
        held.push(c);
    }
    wait_for(10, "3 open connections", || {
        metric(&h, "lookout_hostlogs_syslog_connections ") == 3
    })
    .await;
    let mut extra = Vec::new();
    for _ in 0..5 {
        extra.push(TcpStream::connect(addr).unwrap());
    }
    wait_for(10, "5 rejected", || {
        metric(&h, "lookout_hostlogs_syslog_connections_rejected_total") == 5
    })
    .await;
    assert_eq!(metric(&h, "lookout_hostlogs_syslog_connections "), 3);
    drop(held);
    wait_for(10, "connections closed", || {
        metric(&h, "lookout_hostlogs_syslog_connections ") == 0
    })
    .await;
    // A slot is free again.
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(b"<13>1 - h a - - - after limit\n").unwrap();
    drop(c);
    wait_for(10, "4 entries", || sink.all().len() == 4).await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let sink = TestSink::new();
    let mut cfg = config(1024, 8);
    cfg.syslog.as_mut().unwrap().idle_timeout = lookout_model::PromDuration::from_millis(200);
    let h = HostLogs::start(cfg, dir.path(), sink.clone()).unwrap();
    let _c = TcpStream::connect(h.syslog_tcp_addrs()[0]).unwrap();
    wait_for(10, "connection open", || {
        metric(&h, "lookout_hostlogs_syslog_connections ") == 1
    })
    .await;
    wait_for(10, "idle close", || {
        metric(&h, "lookout_hostlogs_syslog_connections ") == 0
    })
    .await;
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_invalid_entries_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let sink = TestSink::new();
    sink.rate_limit
        .store(2, std::sync::atomic::Ordering::SeqCst);
    *sink.poison.lock() = Some("POISON".into());
    let mut cfg = config(1024, 8);
    cfg.batch.min_backoff = lookout_model::PromDuration::from_millis(20);
    cfg.batch.batch_wait = lookout_model::PromDuration::from_millis(300);
    let h = HostLogs::start(cfg, dir.path(), sink.clone() as Arc<_>).unwrap();
    let mut tcp = TcpStream::connect(h.syslog_tcp_addrs()[0]).unwrap();
    for m in ["a", "b", "POISON c", "d", "e"] {
        tcp.write_all(format!("<13>1 - h a - - - {m}\n").as_bytes())
            .unwrap();
    }
    wait_for(10, "4 entries", || sink.all().len() == 4).await;
    assert_eq!(sink.lines(), vec!["a", "b", "d", "e"]);
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_push_rate_limited_total{source=\"syslog\"}"
        ),
        2
    );
    assert_eq!(
        metric(
            &h,
            "lookout_hostlogs_entries_dropped_total{source=\"syslog\",reason=\"invalid\"}"
        ),
        1
    );
    h.shutdown().await;
}
