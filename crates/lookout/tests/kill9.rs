//! The acknowledgement contract of the binary: a write answered 2xx is in the WAL, so `kill -9` of the real
//! process loses none of it and the next start serves it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &std::path::Path, port: u16) -> Killed {
    let child = Command::new(env!("CARGO_BIN_EXE_lookout"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--memory-limit",
            "256MiB",
            "--config",
        ])
        .arg(dir.join("lookout.yml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("lookout binary starts");
    Killed(child)
}

async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{base}/-/ready")).await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "lookout did not become ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lookout.yml"), "scrape_configs: []\n").unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut child = start(dir.path(), port);
    wait_ready(&base).await;
    let t0 = 1_700_000_000_000i64;
    let mut acked = 0;
    for batch in 0..40i64 {
        let mut body = String::new();
        for s in 0..25i64 {
            let i = batch * 25 + s;
            body.push_str(&format!(
                "kill9_metric{{series=\"{}\"}} {i} {}\n",
                s % 5,
                t0 + i * 1000
            ));
        }
        let r = client
            .post(format!("{base}/api/v1/import/prometheus"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 204);
        acked += 25;
    }
    // SIGKILL: no shutdown, no final fsync.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    drop(child);

    let _child = start(dir.path(), port);
    wait_ready(&base).await;
    let q = format!(
        "{base}/api/v1/query?query=sum(count_over_time(kill9_metric[1h]))&time={}",
        (t0 + 3_599_000) / 1000
    );
    let j: serde_json::Value = client.get(q).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        j["data"]["result"][0]["value"][1],
        acked.to_string(),
        "every acknowledged sample survives: {j}"
    );
}
