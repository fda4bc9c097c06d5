//! PromQL as the API takes it: `lookout_promql::parse_query` (promql-parser, with Lookout's error positions),
//! `format_query` (the pretty printer of `/api/v1/format_query`), `parse_metric_selector` (`match[]`), and the
//! engine's instant and range queries (the extension rewrites, the checks on the parsed tree, evaluation) over an
//! empty in-memory store, with small limits so evaluation stays cheap.

use std::sync::OnceLock;
use std::time::Duration;

use lookout_promql::{Engine, EngineOptions, QueryContext};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;
use promql_parser::parser::Expr;

use crate::mutate::Grammar;
use crate::target::{MIB, Outcome, Target, as_text};

/// Samples one fuzzed query may hold (`query.max_samples`), kept small so evaluation is cheap.
pub const MAX_SAMPLES: usize = 20_000;

/// The instant queries' time and the range queries' end (ms).
const END_MS: i64 = 600_000;

/// The target.
pub const TARGET: Target = Target {
    name: "promql",
    entry: "lookout_promql::{parse_query, format_query, parse_metric_selector} + \
            Engine::{instant_query, range_query} over an empty MemStorage (max_samples 20,000, timeout 250 ms)",
    grammar: Grammar {
        dictionary: &[
            b"sum",
            b"avg",
            b"count",
            b"min",
            b"max",
            b"topk(",
            b"bottomk(",
            b"quantile(",
            b"count_values(",
            b"limitk(",
            b"limit_ratio(",
            b"group",
            b"stddev",
            b" by (",
            b" without (",
            b" on(",
            b" ignoring(",
            b" group_left(",
            b" group_right ",
            b" bool ",
            b" and ",
            b" or ",
            b" unless ",
            b" offset ",
            b" @ ",
            b"start()",
            b"end()",
            b"step()",
            b"rate(",
            b"irate(",
            b"increase(",
            b"delta(",
            b"deriv(",
            b"predict_linear(",
            b"histogram_quantile(",
            b"holt_winters(",
            b"double_exponential_smoothing(",
            b"label_replace(",
            b"label_join(",
            b"absent(",
            b"absent_over_time(",
            b"vector(",
            b"scalar(",
            b"time()",
            b"timestamp(",
            b"sort_by_label(",
            b"quantile_over_time(",
            b"count_over_time(",
            b"last_over_time(",
            b"info(",
            b"round(",
            b"clamp(",
            b"abs(",
            b"ln(",
            b"exp(",
            b"sgn(",
            b"days_in_month(",
            b" anchored",
            b" smoothed",
            b"[5m]",
            b"[1h:1m]",
            b"[5m+30s]",
            b"[step()]",
            b"[0s]",
            b"[1y]",
            b"[30000000d]",
            b"[1ms:1ms]",
            b":",
            b"up",
            b"http_requests_total",
            b"http_request_duration_seconds_bucket",
            b"{",
            b"}",
            b"(",
            b")",
            b"[",
            b"]",
            b"=~",
            b"!~",
            b"!=",
            b"==",
            b"=",
            b">=",
            b"<",
            b"+",
            b"-",
            b"*",
            b"/",
            b"%",
            b"^",
            b"atan2",
            b",",
            b"\"",
            b"`",
            b"'",
            b"__name__",
            b"job",
            b"le",
            b"\".+\"",
            b"\"(.*)\"",
            b"\"$1$1$1\"",
            b"0x1f",
            b"1e308",
            b"Inf",
            b"NaN",
            b"#",
            b"\n",
        ],
        nesting: &[
            (b"(", b")"),
            (b"-", b""),
            (b"sum(", b")"),
            (b"abs(", b")"),
            (b"max_over_time(", b"[5m:1m])"),
            (b"1+", b""),
            (b"{", b"}"),
        ],
        max_len: 2 << 10,
    },
    run,
    alloc_bound: |len| 1024 * MAX_SAMPLES + 256 * len + 4 * MIB,
    alloc_rule: "1 KiB x query.max_samples (20,000 here) + 256 x query + 4 MiB: the engine's budget counts samples \
                 (16 bytes each), the rest is series labels, the parse tree and the formatted query",
};

/// The store queries run against: empty, as the evaluation of selectors over data is not what is fuzzed here (a
/// subquery's step loop over stored samples does not check the query deadline: see the crate's report), while every
/// check on the parsed tree, the rewrites and the evaluation of literals and functions still run.
fn storage() -> &'static MemStorage {
    static STORE: OnceLock<MemStorage> = OnceLock::new();
    STORE.get_or_init(MemStorage::new)
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Engine::new(EngineOptions {
            max_samples: MAX_SAMPLES,
            timeout: Duration::from_millis(250),
            ..EngineOptions::default()
        })
    })
}

/// Parses once for the parser, the pretty printer and `match[]`'s selector reading (`format_query` and
/// `parse_metric_selector` are these calls after the same parse), then runs the engine's own entry points, which
/// parse again with the extension rewrites; the range query only for queries the instant query accepted.
fn run(input: &[u8]) -> Outcome {
    let q = as_text(input);
    let parsed = lookout_promql::parse_query(&q);
    let outcome = Outcome::of(&parsed);
    if let Ok(expr) = &parsed {
        std::hint::black_box(expr.prettify());
        if matches!(expr, Expr::VectorSelector(_)) {
            let _ = lookout_promql::parse_metric_selector(&q);
        }
    }
    drop(parsed);
    let store: &dyn Storage = storage();
    let ctx = QueryContext::default();
    if engine().instant_query(store, &q, END_MS, &ctx).is_ok() {
        let _ = engine().range_query(store, &q, END_MS - 180_000, END_MS, 60_000, &ctx);
    }
    outcome
}
