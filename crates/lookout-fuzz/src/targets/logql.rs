//! LogQL as the Loki API takes it: `lookout_logql::parse` (lexer and parser), the canonical text of
//! `format_query`, `parse_selector` (`match[]`, `query=` of the label endpoints), and the engine over a small
//! in-memory log source (pipeline stages, templates, range and vector aggregations) with small limits.

use std::sync::OnceLock;
use std::time::Duration;

use lookout_logql::ast::Expr;
use lookout_logql::{LogqlEngine, LogqlLimits, QueryParams};
use lookout_model::Labels;
use lookout_storage::logs::mem::MemLogs;
use lookout_storage::logs::{Entry, LogSink, PushStream, QueryDirection};

use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target, as_text};

/// Samples one fuzzed metric query may hold.
pub const MAX_SAMPLES: usize = 20_000;

const SECOND: i64 = 1_000_000_000;

/// The target.
pub const TARGET: Target = Target {
    name: "logql",
    entry: "lookout_logql::{parse, format_query, parse_selector} + LogqlEngine::run over a MemLogs \
            (max_samples 20,000, timeout 250 ms)",
    grammar: Grammar {
        dictionary: &[
            b"{",
            b"}",
            b"(",
            b")",
            b"[5m]",
            b"[1s]",
            b"[1000000h]",
            b"app=\"api\"",
            b"app=~\".+\"",
            b"=",
            b"!=",
            b"=~",
            b"!~",
            b"|=",
            b"|~",
            b"|>",
            b"!>",
            b"|",
            b" or ",
            b" and ",
            b",",
            b"\"",
            b"`",
            b"\\",
            b"json",
            b"logfmt",
            b" --strict",
            b" --keep-empty",
            b"regexp \"(?P<x>.)\"",
            b"pattern \"<_> <x>\"",
            b"\"<_> <x> <_>\"",
            b"unpack",
            b"line_format \"{{.app}}\"",
            b"label_format a=b",
            b"label_format a=\"{{ .x | upper }}\"",
            b"{{",
            b"}}",
            b"{{ range $i, $v := . }}",
            b"{{ end }}",
            b"{{ if .a }}",
            b"drop",
            b"keep",
            b"decolorize",
            b"unwrap",
            b" bytes(",
            b" duration(",
            b"ip(\"10.0.0.0/8\")",
            b"ip(\"::1-::ff\")",
            b"__error__",
            b"status >= 400",
            b"dur > 1.5s",
            b"size < 20MB",
            b"count_over_time(",
            b"rate(",
            b"bytes_rate(",
            b"sum_over_time(",
            b"quantile_over_time(0.99,",
            b"absent_over_time(",
            b"rate_counter(",
            b"sum",
            b"topk(2,",
            b"approx_topk(",
            b"sort_desc(",
            b"label_replace(",
            b"vector(1)",
            b" by (app)",
            b" without (app)",
            b" on (app)",
            b" group_left ",
            b" bool ",
            b" offset 5m",
            b"+",
            b"-",
            b"/",
            b"*",
            b"%",
            b"^",
            b"==",
            b">",
            b"#",
            b"\n",
            b"1e308",
            b"-1",
        ],
        nesting: &[
            (b"(", b")"),
            (b"| (", b")"),
            (b"sum(", b")"),
            (b"-", b""),
            (b"{{", b"}}"),
            (b"\"", b"\""),
        ],
        max_len: 8 << 10,
    },
    run,
    alloc_bound: |len| 1024 * MAX_SAMPLES + 256 * len + 4 * MIB,
    alloc_rule: "1 KiB x max_samples (20,000 here) + 256 x query + 4 MiB: samples held by range aggregations are \
                 counted against the budget, the rest is the pipeline's per-line labels, the tree and the text",
};

/// Lines of each kind the pipeline stages parse (logfmt, JSON, packed, coloured, plain), four of each.
fn logs() -> &'static MemLogs {
    static LOGS: OnceLock<MemLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = MemLogs::new();
        let lines = [
            (
                [("app", "api"), ("env", "prod")],
                "level=info msg=\"GET /users\" status=200 dur=15ms size=2KB ip=10.0.0.5",
            ),
            (
                [("app", "api"), ("env", "prod")],
                "level=error msg=\"POST /orders\" status=500 dur=1.5s size=20MB ip=192.168.1.9",
            ),
            (
                [("app", "web"), ("env", "dev")],
                r#"{"level":"info","req":{"path":"/a","ms":12},"tags":["x","y"],"user":"bob"}"#,
            ),
            (
                [("app", "packed"), ("env", "dev")],
                r#"{"_entry":"original line","pod":"p1","n":3}"#,
            ),
            (
                [("app", "color"), ("env", "dev")],
                "\x1b[31mred\x1b[0m text 2001:db8::1",
            ),
        ];
        let streams = lines
            .iter()
            .enumerate()
            .map(|(i, (labels, line))| PushStream {
                labels: Labels::from_pairs(labels).expect("valid labels"),
                entries: (0..4)
                    .map(|k| Entry {
                        ts: (k * 75 + i as i64) * SECOND,
                        line: (*line).to_string(),
                        metadata: vec![("trace_id".into(), format!("t{k}"))],
                    })
                    .collect(),
            })
            .collect();
        logs.push(streams).expect("push to the in-memory log store");
        logs
    })
}

fn limits() -> LogqlLimits {
    LogqlLimits {
        max_samples: MAX_SAMPLES,
        max_intermediate_series: 1000,
        max_lines_read: 100_000,
        timeout: Duration::from_millis(250),
        ..LogqlLimits::default()
    }
}

/// Parses once for the parser and the canonical text (`format_query` is these calls after the same parse), reads
/// log queries as a bare selector too (`parse_selector`, which refuses anything after the braces), and runs the
/// engine: a range query for every query, an instant query for metric queries.
fn run(input: &[u8]) -> Outcome {
    let q = as_text(input);
    let parsed = lookout_logql::parse(&q);
    let outcome = Outcome::of(&parsed);
    if let Ok(expr) = parsed {
        std::hint::black_box(expr.to_string());
        if matches!(expr, Expr::Log(_)) {
            let _ = lookout_logql::parse_selector(&q);
        }
        let engine = LogqlEngine::new(logs(), limits(), None);
        let range = QueryParams {
            start: 0,
            end: 300 * SECOND,
            step: 60 * SECOND,
            limit: 100,
            direction: QueryDirection::Backward,
            instant: false,
        };
        let _ = engine.run(&expr, &range);
        if matches!(expr, Expr::Metric(_)) {
            let instant = QueryParams {
                start: 300 * SECOND,
                end: 300 * SECOND,
                instant: true,
                ..range
            };
            let _ = engine.run(&expr, &instant);
        }
    }
    outcome
}
