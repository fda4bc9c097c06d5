//! The query threads: one per core (at most 8), shared by every reader of the stores (PromQL's series, LogQL's
//! blocks), so one query uses the machine's cores and all queries together never more than the cores.

/// The shared pool, `None` when its threads could not be started or the machine has one core (work then runs on
/// the calling thread).
pub fn query_threads() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        if threads < 2 {
            return None;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("query-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}
