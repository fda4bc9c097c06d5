//! Lookout scrapes a real node_exporter; promtool's query commands against Lookout return the expected data.

use std::process::Command;
use std::time::Duration;

use lookout_e2e::{Lookout, free_port, get_json, spawn_peer, wait_for};

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .arg("query")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("promtool is needed for this test (.ci/run installs it): {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "promtool {args:?} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Debian's prometheus-node-exporter and promtool (installed by .ci/run)"]
async fn promtool_queries_lookout_scraping_node_exporter() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("--web.listen-address=127.0.0.1:{port}");
    let _node = spawn_peer("prometheus-node-exporter", &[&listen], tmp.path());
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n"
    );
    let lo = Lookout::start(Some(&config)).await;
    let u = lo.url.clone();
    wait_for(
        "node_exporter samples in Lookout",
        Duration::from_secs(30),
        || async {
            let (_, j) = get_json(&format!(
                "{u}/api/v1/query?query=count(node_cpu_seconds_total)"
            ))
            .await;
            j["data"]["result"]
                .as_array()
                .filter(|r| !r.is_empty())
                .map(|_| ())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let u2 = u.clone();
    let (instant, range, series, labels) = tokio::task::spawn_blocking(move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let start = (now - 3).to_string();
        let end = now.to_string();
        (
            promtool(&["instant", &u2, "up{job=\"node\"}"]),
            promtool(&[
                "range",
                "--start",
                &start,
                "--end",
                &end,
                "--step",
                "1s",
                &u2,
                "node_load1",
            ]),
            promtool(&["series", "--match", "up", &u2]),
            promtool(&["labels", &u2, "job"]),
        )
    })
    .await
    .unwrap();
    let inst = format!("127.0.0.1:{port}");
    assert!(
        instant.contains("up{") && instant.contains(&inst) && instant.contains("=> 1 @"),
        "instant: {instant}"
    );
    assert!(
        range.contains("node_load1{") && range.contains(&inst),
        "range: {range}"
    );
    assert!(
        range.matches(" @[").count() >= 2,
        "range should have several points: {range}"
    );
    assert!(series.contains("job=\"node\""), "series: {series}");
    assert!(
        labels.lines().any(|l| l.trim() == "node"),
        "labels: {labels}"
    );
    lo.server.stop().await.unwrap();
}
