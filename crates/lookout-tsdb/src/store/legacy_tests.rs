//! Parts written before part files (groups in sled's `chunks` tree, the directory in the header) stay readable and
//! deletable: an upgraded appliance keeps the history it had.

use super::codec::{self, DirEntry, Group, PartKey};
use super::*;

fn open(dir: &Path) -> Store {
    let store = Store::open(
        &dir.join("sled"),
        &dir.join("parts"),
        4 << 20,
        1000,
        4 << 20,
    )
    .unwrap();
    store.open_part_files(false).unwrap();
    store
}

/// Writes a part the way earlier versions did: groups under `part key ‖ group`, header followed by the zstd
/// directory.
fn put_legacy_part(store: &Store, key: PartKey, chunks: &[&[u8]]) -> PartInfo {
    let mut raw = Vec::new();
    let lens: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
    Group::encode(&lens, &chunks.concat(), &mut raw);
    let z = codec::compress(&raw, 3).unwrap();
    store.chunks.insert(key.group_key(0), z.clone()).unwrap();
    let dir: Vec<DirEntry> = (0..chunks.len() as u32)
        .map(|i| DirEntry {
            id: i + 1,
            group: 0,
            index: i,
            count: 1,
            mint: key.block_start + i64::from(i),
            maxt: key.block_start + i64::from(i),
        })
        .collect();
    let mut raw_dir = Vec::new();
    codec::encode_dir(&dir, key.block_start, &mut raw_dir);
    let dir_z = codec::compress(&raw_dir, 3).unwrap();
    let info = PartInfo {
        key,
        mint: key.block_start,
        maxt: key.block_start + chunks.len() as i64 - 1,
        series: chunks.len() as u32,
        samples: chunks.len() as u64,
        groups: 1,
        bytes: (z.len() + dir_z.len()) as u64,
        in_file: false,
    };
    let mut v = Vec::new();
    info.encode_header(&mut v);
    v.extend_from_slice(&dir_z);
    let mut k = PART_PREFIX.to_vec();
    k.extend_from_slice(&key.bytes());
    store.db.insert(k, v).unwrap();
    store.flush().unwrap();
    info
}

#[test]
fn parts_kept_in_sled_by_earlier_versions_are_read_and_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let key = PartKey {
        block_start: 7_200_000,
        seq: 0,
    };
    let written = {
        let store = open(tmp.path());
        put_legacy_part(&store, key, &[b"first chunk", b"second"])
    };
    let store = open(tmp.path());
    let view = store.view();
    assert_eq!(
        view.parts,
        vec![written],
        "the header reads back as an in-sled part"
    );
    let dir = store.dir(&view.parts[0]).unwrap();
    assert_eq!(dir.len(), 2);
    assert_eq!(dir[1].index, 1);
    let g = store.group(key, 0).unwrap();
    assert_eq!(g.chunk(0), Some(&b"first chunk"[..]));
    assert_eq!(g.chunk(1), Some(&b"second"[..]));
    store.delete_part(written).unwrap();
    assert!(store.view().parts.is_empty());
    assert_eq!(store.chunks.len(), 0, "its groups went with it");
    drop(store);
    assert!(open(tmp.path()).view().parts.is_empty());
}

#[test]
fn a_database_keeps_the_segment_size_it_was_created_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sled");
    // As earlier versions created it: 64 KiB segments.
    let old = sled::Config::new()
        .path(&path)
        .segment_size(64 << 10)
        .open()
        .unwrap();
    old.insert(b"k", b"v").unwrap();
    old.flush().unwrap();
    drop(old);
    assert_eq!(segment_size(&path), 64 << 10);
    let store = open(dir.path());
    assert_eq!(store.db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    drop(store);
    let fresh = tempfile::tempdir().unwrap();
    drop(open(fresh.path()));
    assert_eq!(segment_size(&fresh.path().join("sled")), SLED_SEGMENT_SIZE);
}

#[test]
fn part_files_written_before_the_timestamp_table_are_read() {
    use crate::chunkenc::encode_sealed;
    use lookout_model::Sample;

    let tmp = tempfile::tempdir().unwrap();
    let key = PartKey {
        block_start: 7_200_000,
        seq: 0,
    };
    // Two series with the same jittered timestamps, each chunk holding its own (as `LKPART01` files do).
    let ts: Vec<i64> = (0..40).map(|i| 7_200_000 + i * 15_000 + i % 7).collect();
    let series: Vec<Vec<Sample>> = (0..2)
        .map(|s| {
            ts.iter()
                .map(|&t| Sample {
                    t,
                    v: (t % 1000 + s) as f64,
                })
                .collect()
        })
        .collect();
    let written = {
        let store = open(tmp.path());
        let mut w = part_file::PartFileWriter::create_v1(&tmp.path().join("parts"), key).unwrap();
        let mut body = Vec::new();
        let mut lens = Vec::new();
        for s in &series {
            let before = body.len();
            encode_sealed(s, &mut body);
            lens.push(body.len() - before);
        }
        let mut raw = Vec::new();
        Group::encode(&lens, &body, &mut raw);
        w.append_group(&codec::compress(&raw, 3).unwrap()).unwrap();
        let dir: Vec<DirEntry> = (0..2)
            .map(|i| DirEntry {
                id: i + 1,
                group: 0,
                index: i,
                count: ts.len() as u32,
                mint: ts[0],
                maxt: ts[ts.len() - 1],
            })
            .collect();
        let mut raw_dir = Vec::new();
        codec::encode_dir(&dir, ts[0], &mut raw_dir);
        let bytes = store
            .finish_part_file(w, &codec::compress(&raw_dir, 3).unwrap())
            .unwrap();
        let info = PartInfo {
            key,
            mint: ts[0],
            maxt: ts[ts.len() - 1],
            series: 2,
            samples: 2 * ts.len() as u64,
            groups: 1,
            bytes,
            in_file: true,
        };
        store
            .commit_persist(vec![PendingPart { info }], 7_200_000 + 3_600_000, 1)
            .unwrap();
        info
    };
    let store = open(tmp.path());
    let view = store.view();
    assert_eq!(view.parts, vec![written]);
    let dir = store.dir(&view.parts[0]).unwrap();
    assert_eq!(dir.len(), 2);
    assert_eq!(dir.stamps.len(), 0);
    let g = store.group(key, 0).unwrap();
    for (i, want) in series.iter().enumerate() {
        let mut got = Vec::new();
        stamps::decode_chunk(g.chunk(i).unwrap(), &dir.stamps, &mut got).unwrap();
        assert_eq!(&got, want);
    }
}

/// Series (id, `a`=id % 3, `seg`=segment) in the old layout: one sled value per segment of 1,024 ids in the
/// `series` tree, and postings as roaring's serialisation.
fn put_legacy_series(store: &Store, ids: &[u32]) -> Vec<(u32, Labels)> {
    let entries: Vec<(u32, Labels)> = ids
        .iter()
        .map(|&id| {
            let l = Labels::from_pairs(&[
                ("__name__", "m"),
                ("a", (id % 3).to_string().as_str()),
                ("seg", (id / SERIES_SEGMENT).to_string().as_str()),
            ])
            .unwrap();
            (id, l)
        })
        .collect();
    let legacy = store.db.open_tree("series").unwrap();
    let mut by_seg: std::collections::BTreeMap<u32, Vec<(u32, Labels)>> = Default::default();
    for (id, l) in &entries {
        by_seg
            .entry(id / SERIES_SEGMENT)
            .or_default()
            .push((*id, l.clone()));
    }
    for (seg, e) in by_seg {
        let mut raw = Vec::new();
        codec::encode_series(&e, &mut raw);
        legacy
            .insert(seg.to_be_bytes(), codec::compress(&raw, 3).unwrap())
            .unwrap();
    }
    let mut pairs: std::collections::BTreeMap<Vec<u8>, roaring::RoaringBitmap> = Default::default();
    for (id, l) in &entries {
        for p in l {
            pairs
                .entry(postings::pair_key(&p.name, &p.value))
                .or_default()
                .insert(*id);
        }
        pairs
            .entry(ALL_POSTINGS_KEY.to_vec())
            .or_default()
            .insert(*id);
    }
    for (k, bm) in pairs {
        let mut v = Vec::new();
        bm.serialize_into(&mut v).unwrap();
        store.postings.insert(k, v).unwrap();
    }
    store.flush().unwrap();
    entries
}

fn all_series(store: &Store) -> Vec<(u32, Labels)> {
    let mut got = Vec::new();
    store
        .for_each_series(&mut |id, l| got.push((id, l.clone())))
        .unwrap();
    got
}

#[test]
fn a_series_table_and_postings_written_before_groups_are_moved_and_read() {
    use crate::query::postings::PostingsIndex;

    let tmp = tempfile::tempdir().unwrap();
    // Segments 0 and 1 (group 0) and 17 (group 1).
    let ids: Vec<u32> = (0..40)
        .chain(1024..1030)
        .chain(17 * 1024..17 * 1024 + 5)
        .collect();
    let entries = put_legacy_series(&open(tmp.path()), &ids);
    let store = open(tmp.path());
    assert!(
        store.db.open_tree("series").unwrap().is_empty(),
        "moved out of the old tree"
    );
    assert_eq!(store.series.len(), 2, "two groups");
    assert_eq!(all_series(&store), entries);
    for (id, l) in &entries {
        assert_eq!(store.labels(*id).unwrap().as_ref(), Some(l));
    }
    let p = store.postings();
    assert_eq!(p.all(), ids.iter().copied().collect());
    assert_eq!(p.get("seg", "17").len(), 5);
    assert_eq!(
        p.get("a", "1"),
        ids.iter().copied().filter(|i| i % 3 == 1).collect()
    );
    p.finish().unwrap();

    // Adding to one segment and removing another whole keeps the rest of their group.
    let added = (
        1030,
        Labels::from_pairs(&[("__name__", "m"), ("a", "x")]).unwrap(),
    );
    store.put_series(vec![added.clone()], 3).unwrap();
    let gone: Vec<(u32, Labels)> = entries.iter().filter(|(id, _)| *id < 40).cloned().collect();
    store.remove_series(&gone, 3).unwrap();
    drop(store);
    let store = open(tmp.path());
    let mut want: Vec<(u32, Labels)> = entries
        .iter()
        .filter(|(id, _)| *id >= 40)
        .cloned()
        .collect();
    want.insert(6, added);
    assert_eq!(all_series(&store), want);
    assert_eq!(store.labels(5).unwrap(), None);
    assert_eq!(store.labels(1030).unwrap().unwrap().get("a"), Some("x"));
    let p = store.postings();
    assert_eq!(p.get("a", "x").iter().collect::<Vec<_>>(), vec![1030]);
    assert_eq!(p.all().len(), want.len() as u64);
    p.finish().unwrap();
}

#[test]
fn moving_the_series_table_again_after_a_crash_gives_the_same_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let ids: Vec<u32> = (0..10).chain(3 * 1024..3 * 1024 + 3).collect();
    let entries = {
        let store = open(tmp.path());
        put_legacy_series(&store, &ids)
    };
    let store = open(tmp.path());
    let moved: Vec<(sled::IVec, sled::IVec)> = store.series.iter().map(|kv| kv.unwrap()).collect();
    // As if the last run stopped after writing the groups but before emptying the old tree.
    put_legacy_series(&store, &ids);
    drop(store);
    let store = open(tmp.path());
    let again: Vec<(sled::IVec, sled::IVec)> = store.series.iter().map(|kv| kv.unwrap()).collect();
    assert_eq!(again, moved);
    assert_eq!(all_series(&store), entries);
}
