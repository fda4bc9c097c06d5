use super::*;

fn ids(v: impl IntoIterator<Item = u32>) -> RoaringBitmap {
    v.into_iter().collect()
}

fn pods(n: u32) -> BTreeMap<String, RoaringBitmap> {
    (0..n)
        .map(|i| {
            (
                format!("api-{:010x}", u64::from(i) * 0x9e37_79b9),
                ids([2 * i, 2 * i + 1]),
            )
        })
        .collect()
}

/// Pods `range` with one id each, named as [`pods`] names them.
fn more_pods(range: std::ops::Range<u32>) -> BTreeMap<String, RoaringBitmap> {
    range
        .map(|i| {
            (
                format!("api-{:010x}", u64::from(i) * 0x9e37_79b9),
                ids([2 * i]),
            )
        })
        .collect()
}

/// The blocks `plan` leaves, applied to `blocks` the way the store applies them (both batches, or the first only).
fn apply(
    blocks: &mut BTreeMap<Vec<u8>, Vec<u8>>,
    change: NameChange,
    both_batches: bool,
) -> BlockWrites {
    let scanned: Vec<(Vec<u8>, Vec<u8>)> = blocks.clone().into_iter().collect();
    let w = plan(&scanned, change).unwrap();
    for (low, b) in &w.insert_first {
        blocks.insert(low.as_bytes().to_vec(), b.clone());
    }
    if both_batches {
        for (low, b) in &w.then {
            match b {
                Some(b) => blocks.insert(low.clone(), b.clone()),
                None => blocks.remove(low),
            };
        }
    }
    w
}

/// Every (value, ids) the blocks hold, read as the store reads them (values past the next key ignored).
fn read_all(blocks: &BTreeMap<Vec<u8>, Vec<u8>>) -> BTreeMap<String, RoaringBitmap> {
    let keys: Vec<&Vec<u8>> = blocks.keys().collect();
    let mut out = BTreeMap::new();
    for (i, (low, v)) in blocks.iter().enumerate() {
        for (value, b) in decode(low, v).unwrap() {
            if keys
                .get(i + 1)
                .is_some_and(|n| value.as_bytes() >= n.as_slice())
            {
                break;
            }
            assert!(out.insert(value, id_runs::decode(b).unwrap()).is_none());
        }
    }
    out
}

/// Every block's values lie between its key and the next block's.
fn assert_no_leftovers(blocks: &BTreeMap<Vec<u8>, Vec<u8>>) {
    let keys: Vec<&Vec<u8>> = blocks.keys().collect();
    for (i, (low, v)) in blocks.iter().enumerate() {
        for (value, _) in decode(low, v).unwrap() {
            assert!(value.as_bytes() >= low.as_slice());
            assert!(
                keys.get(i + 1)
                    .is_none_or(|n| value.as_bytes() < n.as_slice())
            );
        }
    }
}

#[test]
fn blocks_round_trip_share_prefixes_and_are_cut_near_the_limit() {
    let entries = pods(3_000);
    let blocks = encode(&entries);
    assert!(blocks.len() > 5, "{} blocks", blocks.len());
    let mut back = BTreeMap::new();
    for (first, b) in &blocks {
        assert!(b.len() < BLOCK_BYTES + 64, "{} bytes", b.len());
        let got = decode(first.as_bytes(), b).unwrap();
        assert_eq!(&got[0].0, first);
        for (v, i) in got {
            back.insert(v, id_runs::decode(i).unwrap());
        }
    }
    assert_eq!(back, entries);
    let total: usize = blocks.iter().map(|(_, b)| b.len()).sum();
    let plain: usize = entries.keys().map(|v| v.len() + 4).sum();
    assert!(total < plain, "prefixes shared: {total} < {plain}");
}

#[test]
fn a_value_written_before_blocks_reads_as_one_entry() {
    let legacy = id_runs::encode(&ids([3, 4, 5]));
    let got = decode(b"node", &legacy).unwrap();
    assert_eq!(got, vec![("node".to_string(), &legacy[..])]);
}

#[test]
fn writing_keeps_keys_opens_blocks_before_the_first_and_removes_emptied_ones() {
    let mut blocks = BTreeMap::new();
    let w = apply(
        &mut blocks,
        NameChange {
            ids: pods(2_000),
            add: true,
        },
        true,
    );
    assert!(w.then.is_empty());
    let first_keys: Vec<Vec<u8>> = blocks.keys().cloned().collect();
    assert_eq!(read_all(&blocks), pods(2_000));

    // Growth inside a block cuts it; the old keys stay.
    let more = more_pods(2_000..4_000);
    apply(
        &mut blocks,
        NameChange {
            ids: more.clone(),
            add: true,
        },
        true,
    );
    assert!(first_keys.iter().all(|k| blocks.contains_key(k)));
    let mut want = pods(2_000);
    want.extend(more);
    assert_eq!(read_all(&blocks), want);

    // A value before every key opens a block of its own.
    let early = BTreeMap::from([("aaa".to_string(), ids([9_999]))]);
    let w = apply(
        &mut blocks,
        NameChange {
            ids: early.clone(),
            add: true,
        },
        true,
    );
    assert_eq!(w.insert_first.len(), 1);
    assert!(w.then.is_empty());
    want.extend(early);
    assert_eq!(read_all(&blocks), want);

    // Taking every id of a block's values away removes its key.
    let (low, v) = blocks
        .iter()
        .nth(3)
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let gone: BTreeMap<String, RoaringBitmap> = decode(&low, &v)
        .unwrap()
        .into_iter()
        .map(|(value, b)| (value, id_runs::decode(b).unwrap()))
        .collect();
    apply(
        &mut blocks,
        NameChange {
            ids: gone.clone(),
            add: false,
        },
        true,
    );
    assert!(!blocks.contains_key(&low));
    want.retain(|v, _| !gone.contains_key(v));
    assert_eq!(read_all(&blocks), want);
}

#[test]
fn a_run_cut_between_its_batches_reads_the_same_and_the_next_run_repairs_it() {
    let mut blocks = BTreeMap::new();
    apply(
        &mut blocks,
        NameChange {
            ids: pods(200),
            add: true,
        },
        true,
    );
    let grow = more_pods(200..2_000);
    let mut want = pods(200);
    want.extend(grow.clone());
    // Only the new keys were written: the old blocks still hold what the new pieces now hold too.
    let w = apply(
        &mut blocks,
        NameChange {
            ids: grow,
            add: true,
        },
        false,
    );
    assert!(!w.insert_first.is_empty() && !w.then.is_empty());
    let before_repair = read_all(&blocks);
    for (value, have) in &pods(200) {
        assert!(have.is_subset(&before_repair[value]));
    }
    // The next run rewrites the blocks it touches without the left-overs.
    let last = BTreeMap::from([("zzz".to_string(), ids([77_777]))]);
    apply(
        &mut blocks,
        NameChange {
            ids: last.clone(),
            add: true,
        },
        true,
    );
    let touched_all: BTreeMap<String, RoaringBitmap> = want.clone();
    apply(
        &mut blocks,
        NameChange {
            ids: touched_all,
            add: true,
        },
        true,
    );
    want.extend(last);
    assert_no_leftovers(&blocks);
    assert_eq!(read_all(&blocks), want);
}

#[test]
fn damaged_blocks_are_errors() {
    let (low, v) = encode(&pods(20)).remove(0);
    for cut in 1..v.len() {
        assert!(
            decode(low.as_bytes(), &v[..cut]).is_err(),
            "cut at {cut} decoded"
        );
    }
    let mut longer = v.clone();
    longer.push(0);
    assert!(
        decode(low.as_bytes(), &longer)
            .unwrap_err()
            .contains("after")
    );
    // Two entries with the same value, and an entry sharing more than the value before it has.
    let mut body = Vec::new();
    put_entry(&mut body, "", "a", &[1, 2]);
    put_entry(&mut body, "", "a", &[1, 2]);
    assert!(
        decode(b"a", &finish(2, &body))
            .unwrap_err()
            .contains("ascend")
    );
    let mut body = Vec::new();
    put_entry(&mut body, "", "a", &[1, 2]);
    body.extend_from_slice(&[5, 1, b'b', 1, 0]);
    assert!(
        decode(b"a", &finish(2, &body))
            .unwrap_err()
            .contains("shares")
    );
    assert!(decode(b"a", &[BLOCK, 0xff, 0x7f]).is_err());
}

#[test]
fn the_store_answers_postings_from_blocks_as_it_wrote_them() {
    use crate::query::postings::PostingsIndex;
    use lookout_model::Labels;

    let tmp = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(
        &tmp.path().join("sled"),
        &tmp.path().join("parts"),
        4 << 20,
        1000,
        4 << 20,
    )
    .unwrap();
    let series: Vec<(u32, Labels)> = (0..3_000u32)
        .map(|id| {
            let pod = format!("web-{:08x}", (id / 2).wrapping_mul(0x9e37_79b9));
            let l = Labels::from_pairs(&[
                ("__name__", if id % 2 == 0 { "cpu" } else { "mem" }),
                ("pod", pod.as_str()),
            ])
            .unwrap();
            (id, l)
        })
        .collect();
    store.put_series(series.clone(), 3).unwrap();
    let p = store.postings();
    assert_eq!(p.names(), vec!["__name__".to_string(), "pod".to_string()]);
    assert_eq!(p.get("__name__", "cpu").len(), 1_500);
    let mut values = Vec::new();
    p.for_each_value("pod", "", &mut |v, bm| {
        values.push((v.to_string(), bm.len()))
    });
    assert_eq!(values.len(), 1_500);
    assert!(values.windows(2).all(|w| w[0].0 < w[1].0) && values.iter().all(|(_, n)| *n == 2));
    for (id, l) in series.iter().step_by(97) {
        let pod = l.get("pod").unwrap();
        assert!(p.get("pod", pod).contains(*id));
        let mut under_prefix = Vec::new();
        p.for_each_value("pod", &pod[..7], &mut |v, _| {
            under_prefix.push(v.to_string())
        });
        assert!(under_prefix.contains(&pod.to_string()));
        assert!(under_prefix.iter().all(|v| v.starts_with(&pod[..7])));
    }
    assert!(p.get("pod", "web-").is_empty() && p.get("pod", "zzz").is_empty());
    p.finish().unwrap();
    let pod_keys = store.postings.scan_prefix(b"pod\xff").count();
    assert!(pod_keys < 15, "{pod_keys} keys for 1,500 pods");

    // Removing half the series leaves exactly the other half.
    store.remove_series(&series[..1_500], 3).unwrap();
    let p = store.postings();
    assert_eq!(p.all(), (1_500..3_000).collect());
    assert_eq!(
        p.get("__name__", "mem"),
        (1_500..3_000).filter(|i| i % 2 == 1).collect()
    );
    let mut left = 0;
    p.for_each_value("pod", "", &mut |_, bm| {
        assert!(bm.min().unwrap() >= 1_500);
        left += 1;
    });
    assert_eq!(left, 750);
    p.finish().unwrap();
}
