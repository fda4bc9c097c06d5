//! Tests of one head series: the append policy, and chunks cut, sealed and truncated.

use super::*;

fn series() -> MemSeries {
    MemSeries::new(Labels::from_pairs(&[("a", "b")]).unwrap())
}

#[test]
fn policy_orders_duplicates_and_window() {
    let last = Some((100, 1.0f64.to_bits()));
    assert_eq!(classify(last, 101, 0.0, 0, 0), Ok(Verdict::InOrder));
    assert_eq!(
        classify(last, 100, 1.0, 0, 0),
        Ok(Verdict::DuplicateIgnored)
    );
    assert_eq!(
        classify(last, 100, 2.0, 0, 0),
        Err(AppendError::DuplicateTimestamp { t: 100 })
    );
    assert_eq!(
        classify(last, 99, 2.0, 0, 0),
        Err(AppendError::OutOfOrder { t: 99, last_t: 100 })
    );
    assert_eq!(classify(last, 95, 2.0, 0, 10), Ok(Verdict::OutOfOrder));
    assert_eq!(
        classify(last, 89, 2.0, 0, 10),
        Err(AppendError::OutOfOrder { t: 89, last_t: 100 })
    );
    assert_eq!(
        classify(None, 5, 2.0, 10, 0),
        Err(AppendError::OutOfBounds { t: 5, min_t: 10 })
    );
}

#[test]
fn chunks_cut_by_count_and_block_seal_and_truncate() {
    let mut s = series();
    for i in 0..300 {
        s.apply(i * 10, i as f64, Verdict::InOrder, 1_000);
    }
    // 1000 ms blocks hold 100 samples each: cut at 100 and 200, never at 120; closed chunks are sealed.
    assert_eq!(
        s.sealed.iter().map(|c| c.len).collect::<Vec<_>>(),
        vec![100, 100]
    );
    let mut long = series();
    for i in 0..500 {
        long.apply(i * 10, i as f64, Verdict::InOrder, 1_000_000);
    }
    // Closed chunks of one block merge into one sealed chunk.
    assert_eq!(
        long.sealed.iter().map(|c| c.len).collect::<Vec<_>>(),
        vec![480]
    );
    assert_eq!(long.open.len(), 20);
    // Appended as four parts, none encoded twice; they read back as one run.
    let mut merged = Vec::new();
    long.sealed[0].decode(&mut merged);
    assert_eq!(merged.len(), 480);
    assert!(
        merged
            .iter()
            .enumerate()
            .all(|(i, x)| x.t == i as i64 * 10 && x.v == i as f64)
    );
    let mut first_part = Vec::new();
    crate::chunkenc::decode_sealed(&long.sealed[0].bytes, &mut first_part).unwrap();
    assert_eq!(first_part.len(), 120);
    assert_eq!(long.sealed.capacity(), 1, "no spare sealed slots");
    assert_eq!(s.open.len(), 100);
    assert_eq!(s.chunk_count(), 3);
    s.apply(55, -1.0, Verdict::OutOfOrder, 1_000);
    s.apply(50, -1.0, Verdict::OutOfOrder, 1_000);
    assert_eq!(&*s.ooo, &[Sample::new(55, -1.0)]);
    let mut out = Vec::new();
    s.samples_before(70, &mut out);
    assert_eq!(
        out.iter().map(|s| s.t).collect::<Vec<_>>(),
        vec![0, 10, 20, 30, 40, 50, 55, 60]
    );
    let mut all = Vec::new();
    s.samples_before(i64::MAX, &mut all);
    assert_eq!(all.len(), 301);
    assert!(
        all.iter()
            .filter(|x| x.t != 55)
            .enumerate()
            .all(|(i, x)| x.t == i as i64 * 10 && x.v == i as f64)
    );
    s.truncate_before(1_500);
    assert_eq!(s.sealed.iter().map(|c| c.len).collect::<Vec<_>>(), vec![50]);
    assert_eq!(s.open.len(), 100);
    assert!(s.ooo.is_empty());
    assert_eq!(s.snapshot(2_000, 2_050).estimated, 100);
    assert_eq!(s.min_t(), Some(1_500));
}
