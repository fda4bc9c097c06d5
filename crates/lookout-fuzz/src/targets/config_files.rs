//! The YAML files an operator (or, through the Kubernetes API, a PrometheusRule author) hands Lookout: the main
//! configuration (`lookout::config::parse`), rule files (`lookout_rules::parse` with the alert-template check the
//! binary uses) and the web configuration (`lookout_auth::WebConfig::parse`, the text half of loading it).

use std::path::Path;

use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target, as_text};

/// YAML syntax every file shares.
#[allow(dead_code)]
const YAML: &[&[u8]] = &[
    b": ",
    b":\n  ",
    b"\n- ",
    b"\n  - ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b", ",
    b"\"",
    b"'",
    b"|\n  ",
    b">-\n  ",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!!str ",
    b"!!binary ",
    b"!!map ",
    b"? ",
    b"---\n",
    b"...\n",
    b"# c\n",
    b"~",
    b"null",
    b"true",
    b"0x10",
    b"0o17",
    b".inf",
    b"-.nan",
    b"1e400",
    b"\t",
    b"\n",
    b"  ",
    b"\\u0000",
    b"\xef\xbb\xbf",
];

/// Brackets and structures YAML nests.
const YAML_NESTING: &[(&[u8], &[u8])] = &[
    (b"[", b"]"),
    (b"{a: ", b"}"),
    (b"- ", b""),
    (b"&a [*a, ", b"]"),
];

/// Lookout's configuration file.
pub const CONFIG: Target = Target {
    name: "config",
    entry: "lookout::config::parse",
    grammar: Grammar {
        dictionary: &[
            b"global:\n  ",
            b"scrape_interval: 15s",
            b"scrape_timeout: 1h",
            b"body_size_limit: 10MB",
            b"sample_limit: 0",
            b"scrape_configs:\n  - job_name: x\n    ",
            b"static_configs:\n      - targets: [\"a:1\"]",
            b"file_sd_configs:\n      - files: [\"/x/*.json\"]",
            b"relabel_configs:\n      - source_labels: [a]\n        regex: (.*)\n        target_label: b",
            b"metric_relabel_configs:\n      - action: drop\n        regex: x.*",
            b"action: hashmod",
            b"modulus: 0",
            b"action: labelmap",
            b"replacement: $1",
            b"basic_auth: {username: u, password: p}",
            b"authorization: {credentials: x}",
            b"tls_config: {insecure_skip_verify: true}",
            b"scheme: https",
            b"metrics_path: /m",
            b"params: {a: [b]}",
            b"honor_labels: true",
            b"storage:\n  retention_time: 15d",
            b"limits:\n  query_max_concurrency: 0",
            b"query_timeout: 2m",
            b"max_write_body: 32MiB",
            b"server:\n  listen: \":9090\"",
            b"route_prefix: /x",
            b"log_format: json",
            b"memory_limit: 1GiB",
            b"logs:\n  enabled: true",
            b"host_logs:\n  journal: {}",
            b"collectors:\n  host: {}",
            b"proxmox: {api_url: https://x:8006}",
            b"remote_write:\n  - url: http://x/api/v1/write",
            b"loki_write:\n  - url: http://x/loki/api/v1/push",
            b"kubernetes:\n  enabled: true",
            b"rule_files: [a.yml]",
            b"alerting:\n  alertmanagers:\n    - static_configs: [{targets: [a:9093]}]",
            b"notifications: {}",
            b"remote_read: []",
            b"1y",
            b"0s",
            b"-1s",
            b"99999999999d",
            b"1KiB",
            b"18446744073709551616B",
        ],
        nesting: YAML_NESTING,
        max_len: 4 << 10,
    },
    run: run_config,
    alloc_bound: |len| 256 * len + 4 * MIB,
    alloc_rule: "256 x file + 4 MiB (no documented size limit for the file; serde_yaml_ng caps nesting at 128 and \
                 alias expansion)",
};

/// Rule files.
pub const RULES: Target = Target {
    name: "rules",
    entry: "lookout_rules::parse(path, text, &lookout_rules::check_alert_template)",
    grammar: Grammar {
        dictionary: &[
            b"groups:\n  - name: g\n    rules:\n      - ",
            b"record: job:up:sum",
            b"alert: Down",
            b"expr: up == 0",
            b"expr: sum by (job) (rate(x[5m]))",
            b"for: 5m",
            b"keep_firing_for: 1h",
            b"interval: 1m",
            b"query_offset: 30s",
            b"limit: 10",
            b"labels:\n          severity: page",
            b"annotations:\n          summary: \"{{ $labels.job }} is down\"",
            b"{{ $value | humanize }}",
            b"{{ range query \"up\" }}{{ .Labels.job }}{{ end }}",
            b"{{ template \"x\" . }}",
            b"{{ define \"x\" }}{{ template \"x\" . }}{{ end }}",
            b"{{ if gt $value 1.0 }}",
            b"{{ printf \"%99999999d\" 1 }}",
            b"{{ $x := 1 }}",
            b"{{",
            b"}}",
            b"$labels",
            b"$value",
            b"$externalLabels",
            b"humanizeDuration",
            b"title",
            b"reReplaceAll",
            b"__name__",
        ],
        nesting: YAML_NESTING,
        max_len: 4 << 10,
    },
    run: run_rules,
    alloc_bound: |len| 256 * len + 4 * MIB,
    alloc_rule: "256 x file + 4 MiB (no documented size limit; the parse keeps the tree, the positions and the \
                 parsed expressions and templates)",
};

/// The web configuration file.
pub const WEB_CONFIG: Target = Target {
    name: "web_config",
    entry: "lookout_auth::WebConfig::parse(text, path)",
    grammar: Grammar {
        dictionary: &[
            b"tls_server_config:\n  ",
            b"cert_file: server.crt",
            b"key_file: server.key",
            b"client_ca_file: ca.crt",
            b"client_auth_type: RequireAndVerifyClientCert",
            b"client_auth_type: VerifyClientCertIfGiven",
            b"client_allowed_sans: [a.example]",
            b"min_version: TLS13",
            b"max_version: TLS10",
            b"cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]",
            b"prefer_server_cipher_suites: false",
            b"curve_preferences: [X25519, CurveP256]",
            b"cert: |\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----",
            b"key: secret",
            b"http_server_config:\n  ",
            b"http2: false",
            b"headers:\n    Strict-Transport-Security: max-age=31536000",
            b"X-Frame-Options: deny",
            b"X-Content-Type-Options: nosniff",
            b"Content-Security-Policy: \"default-src 'self'\"",
            b"basic_auth_users:\n  ",
            b"alice: $2y$10$X0CbMH6Y/Ee8G8KDiWu4BOmvx4Pze6n1gTFuSXvYpTyb9CRTsY1Ce",
            b"$2b$31$",
            b"$2a$04$",
            b"rate_limit:\n  ",
            b"interval: 1s",
            b"interval: 18446744073709551615",
            b"burst: 0",
            b"burst: 4294967296",
        ],
        nesting: YAML_NESTING,
        max_len: 4 << 10,
    },
    run: run_web_config,
    alloc_bound: |len| 256 * len + 4 * MIB,
    alloc_rule: "256 x file + 4 MiB (no documented size limit for the file)",
};

fn run_config(input: &[u8]) -> Outcome {
    Outcome::of(&lookout::config::parse(&as_text(input), "lookout.yml"))
}

fn run_rules(input: &[u8]) -> Outcome {
    let text = as_text(input);
    let parsed = lookout_rules::parse("rules.yml", &text, &lookout_rules::check_alert_template);
    Outcome::of(&parsed)
}

fn run_web_config(input: &[u8]) -> Outcome {
    let parsed = lookout_auth::WebConfig::parse(&as_text(input), Path::new("/etc/lookout/web.yml"));
    Outcome::of(&parsed)
}
