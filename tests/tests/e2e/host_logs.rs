//! `host_logs:` through the appliance: a syslog message over UDP and TCP and lines appended to a tailed file are
//! queryable through the Loki API with their labels; after a restart the file is resumed from its saved position
//! (nothing lost, nothing repeated).

use std::io::Write;
use std::time::Duration;

use lookout_e2e::{Lookout, free_port, get_json, urlencode, wait_for};
use tokio::io::AsyncWriteExt;

/// The lines of `query` over the last three days, oldest first, with each stream's labels.
async fn lines(url: &str, query: &str) -> Vec<(serde_json::Value, String)> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let (code, j) = get_json(&format!(
        "{url}/loki/api/v1/query_range?query={}&start={}&end={}&direction=forward&limit=1000",
        urlencode(query),
        now - 3 * 86_400_000_000_000,
        now + 60_000_000_000
    ))
    .await;
    assert_eq!(code, 200, "{j}");
    let mut out = Vec::new();
    for s in j["data"]["result"].as_array().unwrap() {
        for v in s["values"].as_array().unwrap() {
            out.push((s["stream"].clone(), v[1].as_str().unwrap().to_string()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syslog_and_tailed_files_reach_the_log_store_and_resume_after_a_restart() {
    let (udp, tcp) = (free_port(), free_port());
    let logs = tempfile::tempdir().unwrap();
    let file = logs.path().join("app.log");
    std::fs::write(&file, "first line\nsecond line\n").unwrap();
    let config = format!(
        "collectors: {{host: {{enabled: false}}}}\n\
         host_logs:\n  batch: {{batch_wait: 100ms}}\n  syslog:\n    udp_listen: ['127.0.0.1:{udp}']\n    tcp_listen: ['127.0.0.1:{tcp}']\n  \
         files:\n    - paths: ['{}/*.log']\n      labels: {{job: app}}\n      poll_interval: 100ms\n      sync_period: 1s\n",
        logs.path().display()
    );
    let lo = Lookout::start(Some(&config)).await;

    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(
            b"<34>1 2026-12-05T22:14:15.003Z pve1 sshd 4242 ID47 [origin ip=\"10.0.0.11\"] Failed password for root",
            ("127.0.0.1", udp),
        )
        .await
        .unwrap();
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", tcp))
        .await
        .unwrap();
    conn.write_all(b"<13>Dec  5 22:14:16 switch1 lldpd[7]: port 3 up\n")
        .await
        .unwrap();
    conn.flush().await.unwrap();

    let syslog = wait_for("both syslog messages", Duration::from_secs(20), || async {
        let l = lines(&lo.url, "{job=\"syslog\"}").await;
        (l.len() == 2).then_some(l)
    })
    .await;
    let by_host = |h: &str| {
        syslog
            .iter()
            .find(|(s, _)| s["hostname"] == h)
            .unwrap_or_else(|| panic!("no entry from {h}: {syslog:?}"))
            .clone()
    };
    let (sshd, line) = by_host("pve1");
    assert_eq!(sshd["app"], "sshd", "{sshd}");
    assert_eq!(sshd["level"], "crit", "{sshd}");
    assert_eq!(sshd["severity"], "critical", "{sshd}");
    assert_eq!(line, "Failed password for root");
    let (lldpd, line) = by_host("switch1");
    assert_eq!(lldpd["app"], "lldpd", "{lldpd}");
    assert_eq!(line, "port 3 up");

    let tailed = wait_for("the file's two lines", Duration::from_secs(20), || async {
        let l = lines(&lo.url, "{job=\"app\"}").await;
        (l.len() == 2).then_some(l)
    })
    .await;
    assert_eq!(tailed[0].0["filename"], file.display().to_string().as_str());
    let texts: Vec<&str> = tailed.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(texts, ["first line", "second line"]);

    // Lines written while Lookout is down are read after the restart; the first two are not read again.
    let lo = lo
        .restart_with(|| {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .unwrap();
            f.write_all(b"third line\n").unwrap();
        })
        .await;
    let tailed = wait_for("the third line", Duration::from_secs(20), || async {
        let l = lines(&lo.url, "{job=\"app\"}").await;
        (l.len() >= 3).then_some(l)
    })
    .await;
    let texts: Vec<&str> = tailed.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(texts, ["first line", "second line", "third line"]);
    lo.server.stop().await.unwrap();
}
