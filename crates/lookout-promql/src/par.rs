//! Work on the query threads ([`lookout_storage::threads::query_threads`], shared with the log store's scans).
//! Work handed to them is pure (no annotations, no sink): results come back in input order and the evaluating
//! thread folds them, so answers and annotations do not depend on scheduling.

use rayon::prelude::*;

/// Inputs handed to the threads at once: enough to keep every core busy, few enough that the batch's decoded
/// samples (one series per thread at a time) and results stay a small part of the query's budget.
pub(crate) const BATCH: usize = 64;

pub use lookout_storage::threads::query_threads;

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

/// Maps the batches `next_batch` pulls (until an empty one) through `f` on the query threads, while this thread
/// hands the previous batch's results to `sink` and pulls the next batch, so the fold and the reads overlap the
/// work. `sink` sees every result in input order; the first error (of `next_batch` or `sink`) ends the run.
pub(crate) fn pipeline<I, T, E>(
    mut next_batch: impl FnMut() -> Result<Vec<I>, E>,
    f: impl Fn(I) -> T + Sync + Send,
    mut sink: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    I: Send,
    T: Send,
{
    let Some(pool) = query_threads() else {
        loop {
            let batch = next_batch()?;
            if batch.is_empty() {
                return Ok(());
            }
            for item in batch {
                sink(f(item))?;
            }
        }
    };
    let f = &f;
    let mut batch = next_batch()?;
    let mut done: Vec<T> = Vec::new();
    while !batch.is_empty() {
        let mut computed: Vec<T> = Vec::new();
        let work = std::mem::take(&mut batch);
        let out = &mut computed;
        let next = pool.in_place_scope(|scope| {
            scope.spawn(move |_| {
                *out = work.into_par_iter().with_max_len(1).map(f).collect();
            });
            for t in done.drain(..) {
                sink(t)?;
            }
            next_batch()
        });
        batch = next?;
        done = computed;
    }
    for t in done {
        sink(t)?;
    }
    Ok(())
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

    #[test]
    fn pipeline_sinks_every_result_in_order_and_stops_at_the_first_error() {
        let mut input = (0..1000u64).collect::<Vec<_>>().into_iter();
        let mut seen = Vec::new();
        pipeline(
            || Ok::<_, String>(input.by_ref().take(64).collect()),
            |i| i * 3,
            |t| {
                seen.push(t);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..1000u64).map(|i| i * 3).collect::<Vec<_>>());

        let mut input = (0..1000u64).collect::<Vec<_>>().into_iter();
        let mut seen = 0;
        let err = pipeline(
            || Ok(input.by_ref().take(64).collect()),
            |i| i,
            |t| {
                seen += 1;
                if t == 300 {
                    Err(format!("stop at {t}"))
                } else {
                    Ok(())
                }
            },
        )
        .unwrap_err();
        assert_eq!((err.as_str(), seen), ("stop at 300", 301));
    }
}
