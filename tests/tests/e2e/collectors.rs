//! The built-in collectors through the whole appliance: the host collector's job scrapes on the default
//! configuration, its series are queryable and its exposition is served at `/exporters/node/metrics`; a Proxmox
//! module whose API cannot be reached fails its target (`up` 0, the error in the target's health) without
//! touching the host collector.

use std::time::Duration;

use lookout_e2e::{Lookout, free_port, get_json, get_text, instant_query, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_collector_is_scraped_on_the_default_configuration() {
    let lo = Lookout::start(None).await;
    let up = wait_for("up{job=\"node\"} = 1", Duration::from_secs(30), || async {
        instant_query(&lo.url, "up{job=\"node\"} == 1").await.pop()
    })
    .await;
    let instance = up["metric"]["instance"].as_str().unwrap().to_string();
    assert_eq!(instance, lookout::collectors::host_name());
    // node_exporter's names, labels and the instance of the built-in job.
    let cpu = instant_query(
        &lo.url,
        "count by (mode) (node_cpu_seconds_total{job=\"node\"})",
    )
    .await;
    let modes: Vec<&str> = cpu
        .iter()
        .filter_map(|s| s["metric"]["mode"].as_str())
        .collect();
    for mode in ["user", "system", "idle", "iowait"] {
        assert!(modes.contains(&mode), "mode {mode} missing from {modes:?}");
    }
    let mem = instant_query(&lo.url, "node_memory_MemTotal_bytes").await;
    assert_eq!(mem.len(), 1, "{mem:?}");
    assert_eq!(mem[0]["metric"]["instance"], instance.as_str());
    let total: f64 = mem[0]["value"][1].as_str().unwrap().parse().unwrap();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(total, kib * 1024.0);
    // The same exporter at its own path, for another Prometheus.
    let (code, text) = get_text(&format!("{}/exporters/node/metrics", lo.url)).await;
    assert_eq!(code, 200);
    assert!(
        text.contains("# TYPE node_cpu_seconds_total counter"),
        "{text:.400}"
    );
    assert!(text.contains("node_scrape_collector_success{collector=\"cpu\"} 1"));
    // The targets page shows the built-in job with the path it is served at.
    let (_, targets) = get_json(&format!("{}/api/v1/targets", lo.url)).await;
    let node = targets["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scrapePool"] == "node")
        .cloned()
        .expect("a node target");
    assert_eq!(node["health"], "up", "{node}");
    assert!(
        node["scrapeUrl"]
            .as_str()
            .unwrap()
            .ends_with("/exporters/node/metrics"),
        "{node}"
    );
    lo.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_proxmox_api_fails_its_target_and_nothing_else() {
    // A closed port on loopback: nothing listens there.
    let port = free_port();
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
         collectors:\n  host: {{scrape_interval: 1s}}\n  proxmox:\n    scrape_interval: 1s\n    modules:\n      \
         - {{name: lab, targets: ['127.0.0.1:{port}'], user: prometheus@pve, token_name: mon, token_value: s3cret, timeout: 500ms}}\n"
    );
    let lo = Lookout::start(Some(&config)).await;
    let pve = wait_for(
        "the pve target is down",
        Duration::from_secs(20),
        || async {
            let (_, j) = get_json(&format!("{}/api/v1/targets", lo.url)).await;
            j["data"]["activeTargets"]
                .as_array()?
                .iter()
                .find(|t| t["scrapePool"] == "pve" && t["health"] == "down")
                .cloned()
        },
    )
    .await;
    let instance = format!("127.0.0.1:{port}");
    assert_eq!(pve["labels"]["instance"], instance.as_str(), "{pve}");
    let error = pve["lastError"].as_str().unwrap();
    assert!(error.contains("built-in exporter pve"), "{error}");
    assert!(
        !error.contains("s3cret"),
        "the token leaked into the error: {error}"
    );
    let up = instant_query(&lo.url, "up{job=\"pve\"}").await;
    assert_eq!(up.len(), 1, "{up:?}");
    assert_eq!(up[0]["value"][1], "0");
    // The module's parameters come from the target, as prometheus-pve-exporter's /pve takes them.
    let (code, text) = get_text(&format!(
        "{}/exporters/pve/metrics?target=127.0.0.1:{port}&module=nope",
        lo.url
    ))
    .await;
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("Module 'nope' not found in config"), "{text}");
    // The host collector keeps its own schedule meanwhile.
    wait_for("up{job=\"node\"} = 1", Duration::from_secs(10), || async {
        instant_query(&lo.url, "up{job=\"node\"} == 1").await.pop()
    })
    .await;
    lo.server.stop().await.unwrap();
}
