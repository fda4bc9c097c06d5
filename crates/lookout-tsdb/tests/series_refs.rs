//! Series references across batches: a reference handed out for a series a batch creates must never reach
//! another series in a later batch (a scrape cache keeps references from one scrape to the next).

use lookout_model::{Labels, Matcher, TimeRange};
use lookout_storage::{AppendError, SelectHints, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};

fn series(name: &str) -> Labels {
    Labels::from_pairs(&[("__name__", name), ("job", "x")]).unwrap()
}

/// `(t, v)` of every sample of `name`.
fn samples(db: &Tsdb, name: &str) -> Vec<(i64, f64)> {
    let q = db.querier(TimeRange::ALL).unwrap();
    let mut out = Vec::new();
    for s in q
        .select(
            &[Matcher::equal("__name__", name)],
            SelectHints::samples(TimeRange::ALL),
        )
        .unwrap()
    {
        let mut s = s.unwrap();
        let mut v = Vec::new();
        s.samples.collect_into(&mut v);
        out.extend(v.iter().map(|p| (p.t, p.v)));
    }
    out
}

/// Appends by reference when one is known, by labels when the storage no longer knows it: what the scrape
/// path does.
fn append_cached(
    a: &mut dyn lookout_storage::Appender,
    labels: &Labels,
    r: &mut Option<u64>,
    t: i64,
    v: f64,
) {
    if let Some(known) = *r {
        match a.append_ref(known, t, v) {
            Err(AppendError::UnknownRef(_)) => {}
            other => return other.unwrap(),
        }
    }
    *r = Some(a.append(labels, t, v).unwrap());
}

#[test]
fn a_new_series_reference_never_reaches_a_series_created_by_a_later_batch() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let (a_labels, c_labels) = (series("a"), series("c"));
    let (mut a_ref, mut c_ref) = (None, None);

    // Batch 1 creates `a`; the caller keeps the reference it got.
    let mut batch = db.appender();
    append_cached(&mut *batch, &a_labels, &mut a_ref, 1_000, 1.0);
    batch.commit().unwrap();

    // Batch 2 creates `c` first, then appends to `a` by the kept reference.
    let mut batch = db.appender();
    append_cached(&mut *batch, &c_labels, &mut c_ref, 2_000, 5.0);
    append_cached(&mut *batch, &a_labels, &mut a_ref, 2_000, 2.0);
    batch.commit().unwrap();

    // Batch 3: both by reference again.
    let mut batch = db.appender();
    append_cached(&mut *batch, &c_labels, &mut c_ref, 3_000, 6.0);
    append_cached(&mut *batch, &a_labels, &mut a_ref, 3_000, 3.0);
    batch.commit().unwrap();

    assert_eq!(
        samples(&db, "a"),
        vec![(1_000, 1.0), (2_000, 2.0), (3_000, 3.0)]
    );
    assert_eq!(samples(&db, "c"), vec![(2_000, 5.0), (3_000, 6.0)]);
}

#[test]
fn series_labels_are_the_heads_copy_for_committed_series_only() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let a = series("a");
    let mut batch = db.appender();
    let pending = batch.append(&a, 1_000, 1.0).unwrap();
    // Before the commit the reference names no head series.
    assert_eq!(db.series_labels(pending), None);
    batch.commit().unwrap();
    let mut batch = db.appender();
    let committed = batch.append(&a, 2_000, 2.0).unwrap();
    batch.commit().unwrap();
    let stored = db.series_labels(committed).expect("a committed series");
    assert_eq!(stored, a);
    // The head's own copy, the same allocation each time it is asked.
    let again = db.series_labels(committed).unwrap();
    assert_eq!(stored.as_slice().as_ptr(), again.as_slice().as_ptr());
    // An equal set built apart is not the head's: asking the store to intern it gives the head's.
    let apart = series("a");
    assert_ne!(stored.as_slice().as_ptr(), apart.as_slice().as_ptr());
    let interned = db.intern_labels(&apart).unwrap();
    assert_eq!(
        interned.as_slice()[0].value.as_ptr(),
        stored.as_slice()[0].value.as_ptr()
    );
    assert_eq!(db.series_labels(u64::from(u32::MAX)), None);
}

#[test]
fn a_set_interned_by_the_store_is_the_one_its_series_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let fresh = series("b");
    let interned = db.intern_labels(&fresh).expect("the TSDB interns");
    assert_eq!(interned, fresh);
    let mut batch = db.appender();
    batch.append(&interned, 1_000, 1.0).unwrap();
    batch.commit().unwrap();
    let mut batch = db.appender();
    let r = batch.append(&interned, 2_000, 2.0).unwrap();
    batch.commit().unwrap();
    // One label set between the caller and the head: no copy was made at the series' creation.
    let stored = db.series_labels(r).unwrap();
    assert_eq!(stored.as_slice().as_ptr(), interned.as_slice().as_ptr());
    // Interning again returns the same set.
    let again = db.intern_labels(&interned).unwrap();
    assert_eq!(again.as_slice().as_ptr(), interned.as_slice().as_ptr());
}

#[test]
fn references_appended_together_are_checked_like_one_at_a_time() {
    use lookout_model::Sample;
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), TsdbOptions::for_test()).unwrap();
    let names: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut app = db.appender();
    for n in &names {
        app.append(&series(n), 1_000, 1.0).unwrap();
    }
    app.commit().unwrap();
    // The first batch's references were for series it created: the head's come from a lookup by labels.
    let mut app = db.appender();
    let refs: Vec<u64> = names
        .iter()
        .map(|n| app.append(&series(n), 2_000, 2.0).unwrap())
        .collect();
    app.commit().unwrap();
    let later = [Sample::new(3_000, 3.0), Sample::new(4_000, 4.0)];
    let items: Vec<(u64, &[Sample])> = refs.iter().map(|&r| (r, &later[..])).collect();
    let mut app = db.appender();
    let created = app.append(&series("new"), 3_000, 1.0).unwrap();
    app.append_refs(&items).unwrap();
    // A new series' batch reference, a repeat within the batch, then a stale time: refused at its index.
    let old = [Sample::new(2_500, 0.0)];
    let fresh = [Sample::new(4_000, 5.0)];
    let more: Vec<(u64, &[Sample])> = vec![(created, &fresh[..]), (refs[7], &old[..])];
    assert_eq!(
        app.append_refs(&more),
        Err((
            1,
            AppendError::OutOfOrder {
                t: 2_500,
                last_t: 4_000
            }
        ))
    );
    assert_eq!(
        app.append_refs(&[(1 << 40, &fresh[..])]),
        Err((0, AppendError::UnknownRef(1 << 40)))
    );
    app.commit().unwrap();
    for n in &names {
        assert_eq!(
            samples(&db, n),
            [(1_000, 1.0), (2_000, 2.0), (3_000, 3.0), (4_000, 4.0)]
        );
    }
    assert_eq!(samples(&db, "new"), [(3_000, 1.0), (4_000, 5.0)]);
}
