//! Agent mode end to end: `lookout agent` scrapes a target and tails a file, stores nothing, answers no queries,
//! and forwards the samples (remote_write) and the lines (Loki push) to a Lookout server, where both are queryable.

use std::time::Duration;

use lookout_e2e::{Lookout, get_json, get_text, instant_query, serve_fixed, urlencode, wait_for};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_forwards_scraped_samples_and_tailed_lines_to_a_server() {
    let server = Lookout::start(Some("scrape_configs: []\n")).await;
    let target =
        serve_fixed("# TYPE agent_fixture_value gauge\nagent_fixture_value{kind=\"a\"} 42\n").await;
    let logs = tempfile::tempdir().unwrap();
    let file = logs.path().join("app.log");
    std::fs::write(&file, "hello from the node\nsecond line\n").unwrap();
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
         scrape_configs:\n  - job_name: fixture\n    static_configs: [{{targets: ['{target}']}}]\n\
         remote_write:\n  - url: {url}/api/v1/write\n    queue_config: {{batch_send_deadline: 200ms}}\n\
         loki_write:\n  - url: {url}/loki/api/v1/push\n    batch_wait: 200ms\n\
         host_logs:\n  batch: {{batch_wait: 100ms}}\n  files:\n    - paths: ['{dir}/*.log']\n      labels: {{job: node-app}}\n      poll_interval: 100ms\n",
        url = server.url,
        dir = logs.path().display()
    );
    let agent = Lookout::start_agent(&config).await;

    // The samples arrive at the server with the agent's target labels.
    let got = wait_for(
        "the fixture's sample on the server",
        Duration::from_secs(30),
        || async {
            instant_query(&server.url, "agent_fixture_value")
                .await
                .pop()
        },
    )
    .await;
    assert_eq!(got["metric"]["job"], "fixture", "{got}");
    assert_eq!(
        got["metric"]["instance"],
        target.to_string().as_str(),
        "{got}"
    );
    assert_eq!(got["value"][1], "42");
    let up = wait_for(
        "up{job=\"fixture\"} on the server",
        Duration::from_secs(30),
        || async {
            instant_query(&server.url, "up{job=\"fixture\"}")
                .await
                .pop()
        },
    )
    .await;
    assert_eq!(up["value"][1], "1");

    // The lines arrive through the Loki push API.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let query = format!(
        "{}/loki/api/v1/query_range?query={}&start={}&end={}&direction=forward",
        server.url,
        urlencode("{job=\"node-app\"}"),
        now - 3_600_000_000_000,
        now + 600_000_000_000
    );
    let lines = wait_for(
        "the tailed lines on the server",
        Duration::from_secs(30),
        || async {
            let (_, j) = get_json(&query).await;
            let values: Vec<String> = j["data"]["result"]
                .as_array()?
                .iter()
                .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
                .filter_map(|v| v[1].as_str().map(str::to_string))
                .collect();
            (values.len() == 2).then_some(values)
        },
    )
    .await;
    assert_eq!(lines, ["hello from the node", "second line"]);

    // The agent stores nothing and says so; it reports its forwarding.
    let (code, body) = get_text(&format!("{}/api/v1/query?query=up", agent.url)).await;
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("agent mode"), "{body}");
    let (code, _) = get_text(&format!("{}/loki/api/v1/labels", agent.url)).await;
    assert_eq!(code, 422);
    let (_, metrics) = get_text(&format!("{}/metrics", agent.url)).await;
    assert!(
        metrics.contains("prometheus_remote_storage_samples_total"),
        "{metrics:.2000}"
    );
    assert!(metrics.contains("lookout_loki_forward_entries_total"));
    // The harness gives 512MiB; an agent's split has no head, sled cache or query share.
    assert!(
        metrics.contains("lookout_memory_budget_bytes{component=\"head\"} 0"),
        "{metrics:.3000}"
    );
    assert!(metrics.contains("lookout_memory_budget_bytes{component=\"queries\"} 0"));
    agent.server.stop().await.unwrap();
    server.server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_a_place_to_forward_to_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.yml");
    std::fs::write(&path, "scrape_configs: []\n").unwrap();
    let args = lookout::serve::ServeArgs {
        config: Some(path),
        data_dir: Some(dir.path().join("data")),
        listen: Some("127.0.0.1:0".into()),
        memory_limit: None,
        log_format: None,
        web_config_file: None,
        wal_repair: false,
        drop_damaged_parts: false,
        agent: true,
    };
    let err = match lookout::serve::Server::start(args).await {
        Ok(_) => panic!("an agent with nothing to forward to started"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("remote_write"), "{err}");
}
