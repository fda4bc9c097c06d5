//! Tests of the head: series creation and lookup.

use super::*;

#[test]
fn create_lookup_apply_and_truncate() {
    let h = Head::new(1_000, 0);
    let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]).unwrap();
    assert_eq!(h.lookup(&l), Lookup::Unknown);
    let id = h.alloc_id();
    assert!(h.create(id, &l, false));
    assert!(!h.create(id, &l, false));
    assert_eq!(h.lookup(&l), Lookup::Head(id));
    assert_eq!(h.apply(id, 10, 1.0), Ok(Verdict::InOrder));
    assert_eq!(
        h.apply(id, 5, 1.0),
        Err(AppendError::OutOfOrder { t: 5, last_t: 10 })
    );
    assert_eq!(h.apply(id, 1_010, 1.0), Ok(Verdict::InOrder));
    assert_eq!(h.chunk_count(), 2);
    assert!(h.bytes() > 0);
    // Not yet in sled: the series stays even when its samples go.
    h.truncate_before(2_000);
    assert_eq!(h.series_count(), 1);
    h.shard(id).series.get_mut(&id).unwrap().in_sled = true;
    assert_eq!(h.truncate_before(2_000), 1);
    assert_eq!(h.series_count(), 0);
    assert_eq!(h.lookup(&l), Lookup::Persisted(vec![id]));
}

#[test]
fn a_batch_applies_shard_by_shard_keeping_each_series_in_batch_order() {
    let h = Head::new(1_000_000, 0);
    // Ids in several shards, interleaved in the batch as a time-major remote_write request has them.
    let ids: Vec<u32> = (0..5)
        .map(|i| {
            let l = Labels::from_pairs(&[("__name__", "m"), ("i", &i.to_string())]).unwrap();
            let id = h.alloc_id();
            assert!(h.create(id, &l, false));
            id
        })
        .collect();
    assert!(
        ids.iter()
            .map(|&id| shard_of_id(id))
            .collect::<std::collections::HashSet<_>>()
            .len()
            > 1,
        "the batch must span shards"
    );
    let unknown = ids.iter().max().unwrap() + 1;
    let mut batch = Vec::new();
    for t in [10, 20, 30] {
        for &id in &ids {
            batch.push((u64::from(id), t, t as f64));
        }
    }
    // Per series: a duplicate (same t and value), an out-of-order sample, an unknown id.
    batch.push((u64::from(ids[1]), 30, 30.0));
    batch.push((u64::from(ids[2]), 15, 0.0));
    batch.push((u64::from(unknown), 10, 0.0));
    let mut totals = ApplyTotals::default();
    let mut verdicts = Vec::new();
    h.apply_batch(&batch, &mut totals, |r| verdicts.push(r));
    h.finish_apply(totals);
    assert_eq!(verdicts.len(), batch.len(), "one verdict per sample");
    let count = |want: &dyn Fn(&Result<Verdict, AppendError>) -> bool| {
        verdicts.iter().filter(|r| want(r)).count()
    };
    assert_eq!(count(&|r| *r == Ok(Verdict::InOrder)), 15);
    assert_eq!(count(&|r| *r == Ok(Verdict::DuplicateIgnored)), 1);
    assert_eq!(
        count(&|r| *r == Err(AppendError::OutOfOrder { t: 15, last_t: 30 })),
        1
    );
    assert_eq!(
        count(&|r| *r == Err(AppendError::UnknownRef(u64::from(unknown)))),
        1
    );
    for &id in &ids {
        let s = h.shard(id);
        let series = s.series.get(&id).unwrap();
        assert_eq!(series.last(), Some((30, 30f64.to_bits())));
        assert_eq!(
            series.open.len(),
            3,
            "each series took its three samples in order"
        );
    }
}
