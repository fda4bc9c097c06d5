//! The evaluator entry points. PLACEHOLDER until the evaluator lands: every query fails with an execution error.

use lookout_storage::Storage;

use crate::{EngineOptions, QueryContext, QueryError, QueryOutput};

/// Evaluates PromQL queries against a [`Storage`].
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with the given options.
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    /// The options in force.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at time `t_ms` (ms since epoch).
    pub fn instant_query(
        &self,
        _storage: &dyn Storage,
        _query: &str,
        _t_ms: i64,
        _ctx: &QueryContext,
    ) -> Result<QueryOutput, QueryError> {
        Err(QueryError::Execution("evaluator not implemented yet".into()))
    }

    /// Evaluates `query` at every step from `start_ms` to `end_ms` inclusive; the result is a matrix
    /// (or a scalar/string error for string results, as Prometheus).
    pub fn range_query(
        &self,
        _storage: &dyn Storage,
        _query: &str,
        _start_ms: i64,
        _end_ms: i64,
        _step_ms: i64,
        _ctx: &QueryContext,
    ) -> Result<QueryOutput, QueryError> {
        Err(QueryError::Execution("evaluator not implemented yet".into()))
    }
}
