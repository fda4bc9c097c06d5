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
