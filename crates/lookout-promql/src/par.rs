//! The query threads: one per core (at most 8), shared by every query, so a query's independent series use the
//! machine's cores and all queries together never more. Work handed to them is pure (no annotations, no sink):
//! results come back in input order and the evaluating thread folds them, so answers and annotations do not
//! depend on scheduling.

use rayon::prelude::*;

/// Inputs handed to the threads at once: enough to keep every core busy, few enough that the batch's decoded
/// samples (one series per thread at a time) and results stay a small part of the query's budget.
pub(crate) const BATCH: usize = 64;

/// The shared pool, `None` when its threads could not be started or the machine has one core (work then runs
/// on the calling thread).
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

/// Maps `items` through `f` on the query threads, results in input order; on one thread when there is no pool
/// or a single item.
pub(crate) fn map_ordered<I, T, F>(items: Vec<I>, f: F) -> Vec<T>
where
    I: Send,
    T: Send,
    F: Fn(I) -> T + Sync + Send,
{
    match query_threads() {
        Some(pool) if items.len() > 1 => {
            pool.install(|| items.into_par_iter().with_max_len(1).map(f).collect())
        }
        _ => items.into_iter().map(f).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_input_order() {
        let out = map_ordered((0..1000u64).collect(), |i| {
            // Uneven work, so threads finish out of order.
            let mut x = i;
            for _ in 0..(i % 7) * 1000 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            (i, x)
        });
        let order: Vec<u64> = out.iter().map(|(i, _)| *i).collect();
        assert_eq!(order, (0..1000u64).collect::<Vec<_>>());
    }
}
