//! Configuration parsing and validation: defaults, and errors that name the offending field by path.

use lookout_notify::{AlertingConfig, ConfigError, WebhookNotifierConfig};

fn alerting_err(yaml: &str) -> ConfigError {
    AlertingConfig::from_yaml(yaml).expect_err(yaml)
}

fn webhook_err(yaml: &str) -> ConfigError {
    WebhookNotifierConfig::from_yaml(yaml).expect_err(yaml)
}

#[test]
fn alerting_defaults_match_prometheus() {
    let c =
        AlertingConfig::from_yaml("alertmanagers:\n  - static_configs: [{targets: ['am:9093']}]\n")
            .unwrap();
    let am = &c.alertmanagers[0];
    assert_eq!(am.scheme, "http");
    assert_eq!(am.path_prefix, "/");
    assert_eq!(am.timeout.as_millis(), 10_000);
    assert_eq!(am.api_version, "v2");
    assert!(am.http.follow_redirects);
    assert_eq!(am.static_configs[0].targets, ["am:9093"]);
}

#[test]
fn alerting_accepts_prometheus_http_settings() {
    let yaml = "\
alert_relabel_configs:
  - {source_labels: [severity], regex: debug, action: drop}
alertmanagers:
  - scheme: https
    path_prefix: /alertmanager
    timeout: 5s
    api_version: v2
    basic_auth: {username: prom, password_file: /etc/secret}
    tls_config: {insecure_skip_verify: true}
    follow_redirects: false
    enable_http2: true
    static_configs: [{targets: ['a:9093', 'b:9093'], labels: {dc: x}}]
    relabel_configs:
      - {source_labels: [dc], regex: y, action: drop}
  - authorization: {credentials: t0ken}
    static_configs: [{targets: ['c:9093']}]
";
    let c = AlertingConfig::from_yaml(yaml).unwrap();
    assert_eq!(c.alertmanagers.len(), 2);
    assert_eq!(c.alert_relabel_configs.len(), 1);
    assert_eq!(
        c.alertmanagers[0]
            .http
            .basic_auth
            .as_ref()
            .unwrap()
            .username,
        "prom"
    );
    assert_eq!(
        c.alertmanagers[1].http.authorization.as_ref().unwrap().kind,
        "Bearer"
    );
}

#[test]
fn alerting_errors_name_the_field() {
    let cases = [
        (
            "alertmanagers:\n  - api_version: v1\n",
            "alerting.alertmanagers[0].api_version",
            "no longer supported",
        ),
        (
            "alertmanagers:\n  - api_version: v3\n",
            "alerting.alertmanagers[0].api_version",
            "expected one of",
        ),
        (
            "alertmanagers:\n  - {}\n  - timeout: 10x\n",
            "alerting.alertmanagers[1].timeout",
            "invalid duration",
        ),
        (
            "alertmanagers:\n  - dns_sd_configs: []\n",
            "alerting.alertmanagers[0]",
            "dns_sd_configs",
        ),
        (
            "alertmanagers:\n  - colour: blue\n",
            "alerting.alertmanagers[0]",
            "unknown field `colour`",
        ),
        (
            "alertmanagers:\n  - oauth2: {client_id: x}\n",
            "alerting.alertmanagers[0]",
            "oauth2",
        ),
        (
            "alertmanagers:\n  - tls_config: {server_name: x}\n",
            "alerting.alertmanagers[0].tls_config.server_name",
            "not supported for notifications",
        ),
        (
            "alertmanagers:\n  - scheme: ftp\n",
            "alerting.alertmanagers[0].scheme",
            "http",
        ),
        (
            "alertmanagers:\n  - static_configs: [{targets: ['a/b']}]\n",
            "alerting.alertmanagers[0].static_configs[0].targets[0]",
            "host:port",
        ),
        (
            "alertmanagers:\n  - basic_auth: {username: u}\n    bearer_token: t\n",
            "alerting.alertmanagers[0].authorization",
            "at most one",
        ),
        (
            "alertmanagers:\n  - relabel_configs: [{action: hashmod, target_label: x}]\n",
            "alerting.alertmanagers[0].relabel_configs[0].modulus",
            "modulus",
        ),
        (
            "alert_relabel_configs: [{action: replace}]\n",
            "alerting.alert_relabel_configs[0].target_label",
            "required",
        ),
        (
            "alertmanager: []\n",
            "alerting.alertmanager",
            "unknown field `alertmanager`",
        ),
        (
            "alertmanagers:\n  - static_configs: [{targets: ['a:1']}]\n    relabel_configs: [{regex: '('}]\n",
            "alerting.alertmanagers[0].relabel_configs[0].regex",
            "invalid regex",
        ),
    ];
    for (yaml, path, reason) in cases {
        let e = alerting_err(yaml);
        assert_eq!(e.path, path, "{yaml}: {e}");
        assert!(e.reason.contains(reason), "{yaml}: {e}");
    }
}

const RECEIVERS: &str = "receivers:\n  - name: default\n    webhook_configs: [{url: 'http://hook:8080/'}]\n  - name: pager\n";

#[test]
fn webhook_config_parses_with_defaults() {
    let yaml = format!(
        "route:\n  receiver: default\n  group_by: ['...']\n  routes:\n    - matchers: ['severity=\"critical\"', 'team=~\"db|infra\"']\n      receiver: pager\n      continue: true\n      group_wait: 10s\n{RECEIVERS}"
    );
    let c = WebhookNotifierConfig::from_yaml(&yaml).unwrap();
    let hook = &c.receivers[0].webhook_configs[0];
    assert!(hook.send_resolved);
    assert_eq!(hook.max_alerts, 0);
    assert_eq!(c.route.routes[0].matchers.len(), 2);
    assert!(c.route.routes[0].continue_matching);
}

#[test]
fn webhook_errors_name_the_field() {
    let route = |body: &str| format!("route:\n  receiver: default\n{body}{RECEIVERS}");
    let cases = [
        (
            route("  routes:\n    - receiver: pager\n    - receiver: nobody\n"),
            "route.routes[1].receiver",
            "undefined receiver \"nobody\"",
        ),
        (
            route(
                "  routes:\n    - receiver: pager\n    - matchers: ['severity=\"critical\"', 'sev=\"unterminated']\n",
            ),
            "route.routes[1].matchers[1]",
            "unescaped double quote",
        ),
        (
            route("  routes:\n    - matchers: ['1bad=x']\n"),
            "route.routes[0].matchers[0]",
            "bad matcher format",
        ),
        (
            route("  routes:\n    - matchers: ['a=~\"(\"']\n"),
            "route.routes[0].matchers[0]",
            "invalid regular expression",
        ),
        (
            route("  routes:\n    - group_wait: soon\n"),
            "route.routes[0].group_wait",
            "invalid duration",
        ),
        (
            route("  routes:\n    - routes:\n        - group_interval: 0s\n"),
            "route.routes[0].routes[0].group_interval",
            "zero",
        ),
        (
            route("  repeat_interval: 0s\n"),
            "route.repeat_interval",
            "zero",
        ),
        (
            route("  group_by: ['...', job]\n"),
            "route.group_by",
            "wildcard",
        ),
        (
            route("  group_by: [job, job]\n"),
            "route.group_by[1]",
            "duplicated",
        ),
        (
            route("  group_by: ['bad-name']\n"),
            "route.group_by[0]",
            "invalid label name",
        ),
        (
            route("  matchers: ['a=b']\n"),
            "route.matchers",
            "root route must not have any matchers",
        ),
        (route("  continue: true\n"), "route.continue", "root route"),
        (
            route("  routes: [{match_re: {job: '('}}]\n"),
            "route.routes[0].match_re.job",
            "invalid regular expression",
        ),
        (
            route("  grouping: [a]\n"),
            "route.grouping",
            "unknown field `grouping`",
        ),
        (
            format!("route: {{group_wait: 1s}}\n{RECEIVERS}"),
            "route.receiver",
            "default receiver",
        ),
        (
            route("").replace("- name: pager\n", "- name: default\n"),
            "receivers[1].name",
            "duplicate",
        ),
        (
            route("").replace("http://hook:8080/", "hook:8080"),
            "receivers[0].webhook_configs[0].url",
            "http",
        ),
        (
            route("").replace(
                "{url: 'http://hook:8080/'}",
                "{url: 'http://h/', http_config: {tls_config: {cert_file: c}}}",
            ),
            "receivers[0].webhook_configs[0].http_config.tls_config.key_file",
            "together",
        ),
        (
            route("").replace("webhook_configs", "slack_configs"),
            "receivers[0].slack_configs",
            "unknown field `slack_configs`",
        ),
    ];
    for (yaml, path, reason) in cases {
        let e = webhook_err(&yaml);
        assert_eq!(e.path, path, "{yaml}\n=> {e}");
        assert!(e.reason.contains(reason), "{yaml}\n=> {e}");
    }
}
