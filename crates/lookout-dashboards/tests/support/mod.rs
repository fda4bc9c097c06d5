//! Shared by the integration tests: the checker wired to Lookout's own PromQL and LogQL parsers.

use lookout_dashboards::check::Parsers;

fn promql(q: &str) -> Result<(), String> {
    lookout_promql::parse_query(q)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn logql(q: &str) -> Result<(), String> {
    lookout_logql::parse(q)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The parsers the API itself uses.
pub fn parsers() -> Parsers<'static> {
    Parsers {
        promql: &promql,
        logql: &logql,
    }
}
