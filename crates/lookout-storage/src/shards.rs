//! A batch grouped by lock shard: a store (or a cache in front of one) whose entries sit behind sharded locks
//! serves a batch one shard at a time, taking each lock once instead of once per item (a lock per item moves its
//! cache line between the threads ingesting at once, and independent lookups under one lock overlap their misses).

/// The indices of a batch's items grouped by shard, each shard's in batch order (a counting sort).
#[derive(Debug, Clone)]
pub struct ShardOrder {
    /// `order[starts[s]..starts[s + 1]]` are shard `s`'s items.
    starts: Vec<u32>,
    order: Vec<u32>,
}

impl ShardOrder {
    /// Groups `len` items over `shards` shards; `shard_of(i)` (below `shards`) is item `i`'s.
    pub fn new(shards: usize, len: usize, shard_of: impl Fn(usize) -> usize) -> Self {
        let mut starts = vec![0u32; shards + 1];
        for i in 0..len {
            starts[shard_of(i) + 1] += 1;
        }
        for s in 1..=shards {
            starts[s] += starts[s - 1];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; len];
        for i in 0..len {
            let slot = &mut next[shard_of(i)];
            order[*slot as usize] = i as u32;
            *slot += 1;
        }
        ShardOrder { starts, order }
    }

    /// Each shard holding items, with their indices in batch order.
    pub fn runs(&self) -> impl Iterator<Item = (usize, &[u32])> {
        self.starts
            .windows(2)
            .enumerate()
            .map(|(s, w)| (s, &self.order[w[0] as usize..w[1] as usize]))
            .filter(|(_, run)| !run.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_shard_and_keeps_batch_order_within_each() {
        let shard_of = [2usize, 0, 2, 1, 0, 2];
        let o = ShardOrder::new(4, shard_of.len(), |i| shard_of[i]);
        let runs: Vec<(usize, Vec<u32>)> = o.runs().map(|(s, r)| (s, r.to_vec())).collect();
        assert_eq!(
            runs,
            [(0, vec![1, 4]), (1, vec![3]), (2, vec![0, 2, 5])],
            "shard 3 holds nothing and is skipped"
        );
        assert_eq!(ShardOrder::new(4, 0, |_| 0).runs().count(), 0);
    }
}
