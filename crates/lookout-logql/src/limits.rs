//! Query limits and the guard that enforces them (lines read, intermediate series, deadline, cancellation).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lookout_storage::logs::LogSourceError;

use crate::ParseError;

/// Why a query failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LogqlError {
    /// The query does not parse.
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// The query or its parameters are invalid, or the pipeline failed.
    #[error("{0}")]
    BadRequest(String),
    /// A limit was reached.
    #[error("{message}")]
    Limit {
        /// The limit's configuration name.
        name: &'static str,
        /// Its value.
        limit: u64,
        /// What happened.
        message: String,
    },
    /// The client went away.
    #[error("query cancelled")]
    Cancelled,
    /// The deadline passed.
    #[error("query timed out after {0:?}")]
    Timeout(Duration),
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

impl From<LogSourceError> for LogqlError {
    fn from(e: LogSourceError) -> Self {
        match e {
            LogSourceError::Store(s) => LogqlError::Store(s),
            LogSourceError::Limit {
                name,
                limit,
                message,
            } => LogqlError::Limit {
                name,
                limit,
                message,
            },
        }
    }
}

/// Query limits (each configurable, each named in its error).
#[derive(Debug, Clone)]
pub struct LogqlLimits {
    /// Largest `limit` a log query may ask for (Loki's `max_entries_limit_per_query`, 5000).
    pub max_entries: usize,
    /// Series a metric query may return (Loki's `max_query_series`, 500).
    pub max_series: usize,
    /// Series a range aggregation may build before its result is reduced.
    pub max_intermediate_series: usize,
    /// Lines one query may read.
    pub max_lines_read: u64,
    /// Wall-clock budget.
    pub timeout: Duration,
    /// Points per series of a range query.
    pub max_points: usize,
    /// Live tails open at once (Loki's `max_concurrent_tail_requests`).
    pub max_tail_sessions: usize,
    /// Samples a metric query may hold while it evaluates its range aggregations (the PromQL engine's
    /// `query.max_samples`, from the same share of the memory budget).
    pub max_samples: usize,
}

impl Default for LogqlLimits {
    fn default() -> Self {
        LogqlLimits {
            max_entries: 5000,
            max_series: 500,
            max_intermediate_series: 100_000,
            max_lines_read: 200_000_000,
            timeout: Duration::from_secs(120),
            max_points: 11_000,
            max_tail_sessions: 10,
            max_samples: 50_000_000,
        }
    }
}

/// Checks limits, the deadline and cancellation while a query reads lines.
pub struct Guard {
    limits: LogqlLimits,
    deadline: Instant,
    cancel: Option<Arc<AtomicBool>>,
    /// Lines read.
    pub lines: u64,
    /// Line bytes read.
    pub bytes: u64,
    /// Samples held by range aggregations.
    pub samples: u64,
}

impl Guard {
    /// A guard for one query.
    pub fn new(limits: &LogqlLimits, cancel: Option<Arc<AtomicBool>>) -> Guard {
        Guard {
            deadline: Instant::now() + limits.timeout,
            limits: limits.clone(),
            cancel,
            lines: 0,
            bytes: 0,
            samples: 0,
        }
    }

    /// Counts one line read.
    pub fn line(&mut self, bytes: usize) -> Result<(), LogqlError> {
        self.lines += 1;
        self.bytes += bytes as u64;
        if self.lines > self.limits.max_lines_read {
            return Err(LogqlError::Limit {
                name: "logs.max_lines_read",
                limit: self.limits.max_lines_read,
                message: format!(
                    "the query would read more than {} lines (logs.max_lines_read); narrow the selector, add line filters or shorten the range",
                    self.limits.max_lines_read
                ),
            });
        }
        if self.lines.is_multiple_of(4096) {
            self.check()?;
        }
        Ok(())
    }

    /// Checks cancellation and the deadline.
    pub fn check(&self) -> Result<(), LogqlError> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            return Err(LogqlError::Cancelled);
        }
        if Instant::now() > self.deadline {
            return Err(LogqlError::Timeout(self.limits.timeout));
        }
        Ok(())
    }

    /// Counts `bytes` a query holds besides samples (the lines and labels of a log query's answer, the labels of
    /// a range aggregation's series) against the same limit at 16 bytes a sample, so a log query holds no more of
    /// the memory budget than a metric query may.
    pub fn held_bytes(&mut self, bytes: usize) -> Result<(), LogqlError> {
        self.samples += bytes.div_ceil(16) as u64;
        if self.samples > self.limits.max_samples as u64 {
            return Err(LogqlError::Limit {
                name: "query.max_samples",
                limit: self.limits.max_samples as u64,
                message: format!(
                    "the query would hold more than {} bytes of lines and labels in memory (query.max_samples = {} at 16 bytes a sample); lower the limit, shorten the range or narrow the selector",
                    self.limits.max_samples.saturating_mul(16),
                    self.limits.max_samples
                ),
            });
        }
        Ok(())
    }

    /// Counts one held sample of a range aggregation.
    pub fn sample(&mut self) -> Result<(), LogqlError> {
        self.samples += 1;
        if self.samples > self.limits.max_samples as u64 {
            return Err(LogqlError::Limit {
                name: "query.max_samples",
                limit: self.limits.max_samples as u64,
                message: format!(
                    "query processing would load too many samples into memory in query execution (more than {}, query.max_samples); shorten the range or narrow the selector",
                    self.limits.max_samples
                ),
            });
        }
        Ok(())
    }

    /// Checks an intermediate series count.
    pub fn series(&self, n: usize) -> Result<(), LogqlError> {
        if n > self.limits.max_intermediate_series {
            return Err(LogqlError::Limit {
                name: "logs.max_intermediate_series",
                limit: self.limits.max_intermediate_series as u64,
                message: format!(
                    "the query builds more than {} series before aggregating (logs.max_intermediate_series); group by fewer labels or drop high-cardinality labels with | drop or | keep",
                    self.limits.max_intermediate_series
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lookout_model::Labels;
    use lookout_storage::logs::mem::MemLogs;
    use lookout_storage::logs::{Entry, LogSink, PushStream, QueryDirection};

    use crate::{LogqlEngine, LogqlError, LogqlLimits, QueryParams, QueryResult};

    /// 50 lines of 1000 bytes, each with a distinct `n` once parsed.
    fn store() -> MemLogs {
        let store = MemLogs::new();
        let entries = (1..=50)
            .map(|i| Entry {
                ts: i * 1_000_000_000,
                line: format!("n={i} pad={}", "x".repeat(990)),
                metadata: Vec::new(),
            })
            .collect();
        store
            .push(vec![PushStream {
                labels: Labels::from_pairs_unchecked(&[("app", "a")]),
                entries,
            }])
            .unwrap();
        store
    }

    fn params(instant: bool) -> QueryParams {
        QueryParams {
            // An instant query evaluates at `start`.
            start: if instant { 100_000_000_000 } else { 0 },
            end: 100_000_000_000,
            step: 100_000_000_000,
            limit: 1000,
            direction: QueryDirection::Backward,
            instant,
        }
    }

    fn limited(max_samples: usize) -> LogqlLimits {
        LogqlLimits {
            max_samples,
            max_entries: 1000,
            ..LogqlLimits::default()
        }
    }

    #[test]
    fn a_log_query_holds_no_more_line_bytes_than_its_share() {
        let store = store();
        let q = r#"{app="a"}"#;
        // 50 lines of about 1000 bytes: about 3200 samples' worth at 16 bytes each.
        let err = LogqlEngine::new(&store, limited(1000), None)
            .query(q, &params(false))
            .unwrap_err();
        assert!(
            matches!(
                &err,
                LogqlError::Limit {
                    name: "query.max_samples",
                    limit: 1000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("16000 bytes"), "{err}");
        let (ok, _) = LogqlEngine::new(&store, limited(10_000), None)
            .query(q, &params(false))
            .unwrap();
        let QueryResult::Streams(lines) = ok else {
            panic!("a log query answers streams")
        };
        assert_eq!(lines.len(), 50);
        // A template that repeats the line grows what is held with it.
        let q = r#"{app="a"} | line_format "{{.__line__}}{{.__line__}}{{.__line__}}{{.__line__}}""#;
        let err = LogqlEngine::new(&store, limited(10_000), None)
            .query(q, &params(false))
            .unwrap_err();
        assert!(matches!(err, LogqlError::Limit { .. }), "{err:?}");
    }

    #[test]
    fn range_aggregation_series_labels_count_against_the_share() {
        let store = store();
        // `| logfmt` makes a series per line, each holding a label of about 1000 bytes.
        let q = r#"sum by (pad, n) (count_over_time({app="a"} | logfmt [100s]))"#;
        let err = LogqlEngine::new(&store, limited(1000), None)
            .query(q, &params(true))
            .unwrap_err();
        assert!(
            matches!(
                err,
                LogqlError::Limit {
                    name: "query.max_samples",
                    ..
                }
            ),
            "{err:?}"
        );
        let ok = LogqlEngine::new(&store, limited(10_000), None).query(q, &params(true));
        assert!(ok.is_ok(), "{ok:?}");
    }
}
