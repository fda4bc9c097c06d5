//! The memory budget: one limit (flag, config, or 80 % of the cgroup limit, else 1 GiB) split among the components
//! that hold data. No component sizes itself; each gets its share from here.

use std::path::Path;

/// Fallback when neither a flag nor a cgroup limit gives one.
pub const DEFAULT_BUDGET_BYTES: u64 = 1 << 30;

/// Where the total came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSource {
    /// `--memory-limit` or `server.memory_limit`.
    Configured,
    /// 80 % of the cgroup's memory limit.
    Cgroup,
    /// No limit found: the 1 GiB default.
    Default,
}

/// The split of the budget, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    /// The whole budget.
    pub total: u64,
    /// Where it came from.
    pub source: BudgetSource,
    /// TSDB head (series, open chunks, postings): 43 %.
    pub head: u64,
    /// sled's page cache (`cache_capacity`): 9 %.
    pub sled_cache: u64,
    /// Query evaluation (samples held by running queries): 24 %.
    pub queries: u64,
    /// Ingest buffers (request bodies being decoded, scrape bodies): 8 %.
    pub ingest: u64,
    /// The pushed-series cache (remote_write series known to the head, appended by reference): 2 %. When full,
    /// its older half is dropped and those series take the slow path once.
    pub push_cache: u64,
    /// Kubernetes watch stores (discovery and kube-state metrics): 4 %. Objects are never dropped to fit (a dropped
    /// pod is a lost target); above the share a warning is logged and
    /// `lookout_memory_over_budget{component="discovery"}` is 1, so the limit or the watched scope can be changed.
    pub discovery: u64,
    /// The log store (tantivy's writer heap a third of it, since tantivy may reach 2× its budget; a quarter for the
    /// entries awaiting the once-a-second commit; a sixteenth for the push API's remembered stream label sets): 5 %.
    pub logs: u64,
    /// Everything else (runtime, code, allocator slack): 5 %.
    pub other: u64,
    /// Forwarding (the remote_write series map, read buffers of the disk queues, batches in flight): 0 % on a
    /// server whose forwarding is off, else taken from the head; 35 % in agent mode.
    pub forward: u64,
}

/// The agent's budget when none is configured: an agent is one small process per node.
pub const DEFAULT_AGENT_BUDGET_BYTES: u64 = 64 << 20;

/// What one forwarded series costs in an agent's scrape cache beside the forwarder's own entry (its label set,
/// cache key, staleness entries and their map slots, plus allocator slack), counted against the forwarding share
/// because nothing else bounds it. Measured with heaptrack and RSS on a 100,000-series target (BENCHMARKS.md,
/// "Forwarding and agent mode").
pub const AGENT_SCRAPE_CACHE_BYTES_PER_SERIES: usize = 700;

/// The log store's least share: tantivy's writer thread needs 15 MB and may use twice that, plus the backlog
/// awaiting its commit. Below it the share would be a fiction, so small budgets take it from the head's share
/// (at most a third of the total).
pub const LOG_STORE_FLOOR_BYTES: u64 = 40 << 20;

impl MemoryBudget {
    /// Splits `total` bytes.
    pub fn split(total: u64, source: BudgetSource) -> Self {
        let pct = |p: u64| total / 100 * p;
        let logs = pct(5).max(LOG_STORE_FLOOR_BYTES.min(total / 3));
        MemoryBudget {
            total,
            source,
            head: pct(43).saturating_sub(logs - pct(5)),
            sled_cache: pct(9),
            queries: pct(24),
            ingest: pct(8),
            push_cache: pct(2),
            discovery: pct(4),
            logs,
            other: pct(5),
            forward: 0,
        }
    }

    /// A server that forwards: the forwarding share (5 %) comes out of the head's.
    pub fn with_forwarding(mut self) -> Self {
        let share = self.total / 100 * 5;
        self.head -= share;
        self.forward = share;
        self
    }

    /// Splits `total` bytes for agent mode: no head, sled cache, queries or log store; forwarding 35 %, ingest
    /// buffers (scrape bodies) 25 %, Kubernetes watch stores 15 %, host log sources 10 %, other 15 %.
    pub fn split_agent(total: u64, source: BudgetSource) -> Self {
        let pct = |p: u64| total / 100 * p;
        MemoryBudget {
            total,
            source,
            head: 0,
            sled_cache: 0,
            queries: 0,
            ingest: pct(25),
            push_cache: 0,
            discovery: pct(15),
            logs: pct(10),
            other: pct(15),
            forward: pct(35),
        }
    }

    /// The agent's budget from a configured value, else [`DEFAULT_AGENT_BUDGET_BYTES`] (not the cgroup: an
    /// agent's limit is its own, usually set next to the container's).
    pub fn resolve_agent(configured: Option<u64>) -> Self {
        match configured {
            Some(b) => Self::split_agent(b, BudgetSource::Configured),
            None => Self::split_agent(DEFAULT_AGENT_BUDGET_BYTES, BudgetSource::Default),
        }
    }

    /// The budget from a configured value, else the cgroup, else the default.
    pub fn resolve(configured: Option<u64>) -> Self {
        if let Some(b) = configured {
            return Self::split(b, BudgetSource::Configured);
        }
        match cgroup_limit(Path::new("/sys/fs/cgroup")) {
            Some(limit) => Self::split(limit / 10 * 8, BudgetSource::Cgroup),
            None => Self::split(DEFAULT_BUDGET_BYTES, BudgetSource::Default),
        }
    }

    /// Samples one query may hold at once: its share of the query budget at 16 bytes a sample.
    pub fn query_samples(&self, concurrency: usize) -> usize {
        (self.queries / concurrency.max(1) as u64 / 16) as usize
    }

    /// Name/value rows for the status endpoint and self-metrics.
    pub fn rows(&self) -> [(&'static str, u64); 10] {
        [
            ("total", self.total),
            ("head", self.head),
            ("sled_cache", self.sled_cache),
            ("queries", self.queries),
            ("ingest", self.ingest),
            ("push_cache", self.push_cache),
            ("discovery", self.discovery),
            ("logs", self.logs),
            ("other", self.other),
            ("forward", self.forward),
        ]
    }
}

/// The memory limit of the cgroup this process runs in (v2 `memory.max`, else v1), if one is set.
pub fn cgroup_limit(root: &Path) -> Option<u64> {
    let read = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    if let Some(v) = read(&root.join("memory.max")) {
        return v.parse::<u64>().ok();
    }
    let v1 = read(&root.join("memory/memory.limit_in_bytes"))?
        .parse::<u64>()
        .ok()?;
    // cgroup v1 reports "no limit" as a huge page-aligned number.
    (v1 < (1 << 60)).then_some(v1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_adds_up_to_at_most_the_total() {
        let b = MemoryBudget::split(1 << 30, BudgetSource::Default);
        let sum: u64 = b.rows()[1..].iter().map(|r| r.1).sum();
        assert!(sum <= b.total && sum > b.total / 100 * 99);
        assert_eq!(
            b.query_samples(4),
            ((1u64 << 30) / 100 * 24 / 4 / 16) as usize
        );
    }

    #[test]
    fn small_budgets_give_the_log_store_its_floor_from_the_head() {
        let b = MemoryBudget::split(128 << 20, BudgetSource::Configured);
        assert_eq!(b.logs, LOG_STORE_FLOOR_BYTES);
        let sum: u64 = b.rows()[1..].iter().map(|r| r.1).sum();
        assert!(sum <= b.total, "{b:?}");
        assert!(b.head > 16 << 20, "{b:?}");
        let tiny = MemoryBudget::split(60 << 20, BudgetSource::Configured);
        assert_eq!(tiny.logs, 20 << 20);
        let big = MemoryBudget::split(8 << 30, BudgetSource::Configured);
        assert_eq!(big.logs, (8u64 << 30) / 100 * 5);
    }

    #[test]
    fn agent_and_forwarding_splits_add_up_to_at_most_the_total() {
        for b in [
            MemoryBudget::resolve_agent(None),
            MemoryBudget::split(1 << 30, BudgetSource::Default).with_forwarding(),
        ] {
            let sum: u64 = b.rows()[1..].iter().map(|r| r.1).sum();
            assert!(sum <= b.total && sum > b.total / 100 * 99, "{b:?}");
            assert!(b.forward > 0);
        }
        assert_eq!(MemoryBudget::resolve_agent(None).total, 64 << 20);
        assert_eq!(MemoryBudget::resolve_agent(None).head, 0);
    }

    #[test]
    fn cgroup_v2_and_v1_limits_are_read() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("memory.max"), "max\n").unwrap();
        assert_eq!(cgroup_limit(d.path()), None);
        std::fs::write(d.path().join("memory.max"), "8589934592\n").unwrap();
        assert_eq!(cgroup_limit(d.path()), Some(8589934592));
        let d1 = tempfile::tempdir().unwrap();
        std::fs::create_dir(d1.path().join("memory")).unwrap();
        std::fs::write(
            d1.path().join("memory/memory.limit_in_bytes"),
            "9223372036854771712",
        )
        .unwrap();
        assert_eq!(cgroup_limit(d1.path()), None);
        std::fs::write(d1.path().join("memory/memory.limit_in_bytes"), "1073741824").unwrap();
        assert_eq!(cgroup_limit(d1.path()), Some(1073741824));
    }
}
