//! End-to-end tests (one test binary). Tests that need real peers are `#[ignore]`d; `.ci/run` installs the peers
//! and runs them with `--include-ignored`.

mod agent;
mod architecture;
mod auth;
mod bad_input;
mod browser;
mod chart;
mod collectors;
mod default_config;
mod fake_kube;
mod grafana;
mod host_logs;
mod kube_state;
mod kubernetes;
mod loki;
mod loki_clients;
mod loki_query;
mod metadata;
mod peer_prometheus;
mod peer_promtool;
mod peer_rules;
mod reload;
mod rule_files;
mod rules;
mod tls;
