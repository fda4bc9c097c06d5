//! PromQL evaluation with Prometheus's semantics, over the [`lookout_storage::Storage`] contract.
//!
//! Architecture invariant: this crate parses with `promql-parser`, reads through `lookout-storage` traits only,
//! does no I/O, and knows nothing about HTTP or the TSDB.
//!
//! How a query runs: [`Engine`] parses it (rewriting experimental syntax the parser lacks, see
//! `duration_expr` and `extended_syntax`), opens one querier for the time range the expression reads, and
//! evaluates it with an `eval::Evaluator` over the query's steps (one step for an instant query).
//! Every expression evaluates to a matrix over those steps: selectors and range functions work series by
//! series (`eval/selector.rs`, `eval/range_call.rs`, `eval/subquery.rs`), holding the raw samples of one
//! series at a time; aggregations, binary operators and the other functions work step by step on instant
//! vectors (`eval/aggregate.rs`, `eval/topk.rs`, `eval/binary.rs` with `eval/matching.rs`, `functions`).
//! Aggregations over a selector or a range function fold series as they are computed when their
//! accumulators are few. `__name__` removal is delayed to the end, as Prometheus 3 does. A per-query
//! `limits::Budget` tracks the samples held (`query.max_samples`), the deadline and cancellation; warnings
//! and infos are collected with Prometheus's wording.

mod aliases;
mod annotations;
mod duration_expr;
pub mod engine;
pub mod error;
mod eval;
mod extended_syntax;
pub mod functions;
mod limits;
mod literals;
pub mod nesting;
mod par;
mod parse_position;
mod regex_guard;
pub mod value;

#[cfg(test)]
mod tests;

pub use engine::{Engine, format_query, parse_duration, parse_metric_selector, parse_query};
pub use error::QueryError;
pub use par::query_threads;
pub use value::{
    Annotation, AnnotationKind, Annotations, MatrixSeries, QueryOutput, QueryStats, Value,
    VectorSample,
};

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Engine-wide settings (Prometheus's defaults).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5 m).
    pub lookback_delta_ms: i64,
    /// Maximum samples held in memory by one query at once (`query.max_samples`, default 50 M).
    pub max_samples: usize,
    /// Maximum points per series in a range query result (default 11,000).
    pub max_points_per_series: usize,
    /// Wall-clock budget of one query (default 2 m).
    pub timeout: Duration,
    /// Step of a subquery written without one (default 1 m, the evaluation interval).
    pub default_subquery_step_ms: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            max_points_per_series: 11_000,
            timeout: Duration::from_secs(120),
            default_subquery_step_ms: 60 * 1000,
        }
    }
}

/// Per-query controls from the caller: cancellation (client went away) and an earlier deadline.
#[derive(Debug, Clone, Default)]
pub struct QueryContext {
    /// Set to true to cancel the query; checked regularly during evaluation.
    pub cancel: Option<Arc<AtomicBool>>,
    /// A deadline tighter than the engine timeout (e.g. the API's `timeout` parameter).
    pub deadline: Option<Instant>,
}
