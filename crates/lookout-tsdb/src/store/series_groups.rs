//! The series table's sled values: groups of [`SEGMENTS_PER_GROUP`] segments (`id / 1024`), each segment its own
//! zstd frame, under the key `group number (u32, big-endian)` in the `series_groups` tree.
//!
//! Why groups: sled logs every insert as a fragment of its leaf and rewrites the whole leaf once ten fragments
//! pile up, the old versions staying on disk until its segment is cleaned; only a leaf that takes fewer than ten
//! inserts is written about once. One value per segment of 1,024 series made the first persistence run of 10,900
//! series write eleven 5 KB values into one leaf: 148 KB of blob files for 55 KB held. Sixteen segments a value
//! make that one write, and 109,000 series seven. Reading a series still decompresses only its own segment.
//!
//! A value: `b'G'`, the number of segments n (one byte), n × (slot in the group: one byte, frame length: u32 LE),
//! then the n frames in that order, slots ascending.
//!
//! Databases written before groups keep one value per segment in the `series` tree; [`migrate`] moves them into
//! groups when the store opens.

use lookout_storage::StorageError;

/// Series-table segments per sled value.
pub(crate) const SEGMENTS_PER_GROUP: u32 = 16;
const TAG: u8 = b'G';

/// The group holding segment `seg`, and the segment's slot in it.
pub(crate) fn locate(seg: u32) -> (u32, u8) {
    (seg / SEGMENTS_PER_GROUP, (seg % SEGMENTS_PER_GROUP) as u8)
}

/// A decoded group value: its segments' frames by slot, slots ascending.
pub(crate) fn parse(v: &[u8]) -> Result<Vec<(u8, &[u8])>, String> {
    let (&tag, rest) = v.split_first().ok_or("empty series group")?;
    if tag != TAG {
        return Err(format!("series group starts with {tag:#04x}, not 'G'"));
    }
    let (&n, mut rest) = rest
        .split_first()
        .ok_or("series group ends after its tag")?;
    let mut slots = Vec::with_capacity(n as usize);
    for _ in 0..n {
        if rest.len() < 5 {
            return Err("series group's table of segments is cut short".into());
        }
        let len = u32::from_le_bytes(rest[1..5].try_into().expect("4")) as usize;
        slots.push((rest[0], len));
        rest = &rest[5..];
    }
    let mut out = Vec::with_capacity(slots.len());
    let mut last = None;
    for (slot, len) in slots {
        if u32::from(slot) >= SEGMENTS_PER_GROUP || last.is_some_and(|l| l >= slot) {
            return Err(format!(
                "series group's slot {slot} is out of order or past {SEGMENTS_PER_GROUP}"
            ));
        }
        last = Some(slot);
        if rest.len() < len {
            return Err(format!(
                "series group's segment in slot {slot} needs {len} bytes, {} are left",
                rest.len()
            ));
        }
        let (frame, tail) = rest.split_at(len);
        out.push((slot, frame));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(format!(
            "series group has {} bytes after its last segment",
            rest.len()
        ));
    }
    Ok(out)
}

/// The value of a group holding `frames` (slot, zstd frame), which need not be sorted; one frame per slot.
pub(crate) fn build(frames: &mut [(u8, Vec<u8>)]) -> Vec<u8> {
    frames.sort_by_key(|(slot, _)| *slot);
    let body: usize = frames.iter().map(|(_, f)| f.len()).sum();
    let mut v = Vec::with_capacity(2 + 5 * frames.len() + body);
    v.push(TAG);
    v.push(frames.len() as u8);
    for (slot, f) in frames.iter() {
        v.push(*slot);
        v.extend_from_slice(&(f.len() as u32).to_le_bytes());
    }
    for (_, f) in frames.iter() {
        v.extend_from_slice(f);
    }
    v
}

/// Moves a series table written before groups (the `series` tree) into `groups`, when there is one.
pub(crate) fn move_legacy_series(
    db: &sled::Db,
    groups: &sled::Tree,
    path: &std::path::Path,
) -> Result<(), StorageError> {
    let err = |e: sled::Error| match e {
        sled::Error::Io(source) => StorageError::Io {
            path: path.display().to_string(),
            source,
        },
        other => super::corrupt(path, "moving the series table into groups", other),
    };
    let legacy = db.open_tree("series").map_err(err)?;
    if legacy.is_empty() {
        return Ok(());
    }
    let bad = |d: String| super::corrupt(path, "series table", d);
    let moved = migrate(&legacy, groups, &err, &bad)?;
    tracing::info!(path = %path.display(), segments = moved, "moved the series table into groups of segments");
    Ok(())
}

/// Moves the segments of a database written before groups (`legacy`: `segment (u32 BE) → zstd frame`) into
/// `groups`, then empties `legacy`. Safe to cut short: the groups are written (merged with any the same run wrote
/// before a crash, the same bytes again) before any legacy segment is removed, and the next open runs it again.
pub(crate) fn migrate(
    legacy: &sled::Tree,
    groups: &sled::Tree,
    err: &dyn Fn(sled::Error) -> StorageError,
    corrupt: &dyn Fn(String) -> StorageError,
) -> Result<usize, StorageError> {
    let mut by_group: std::collections::BTreeMap<u32, Vec<(u8, Vec<u8>)>> = Default::default();
    for kv in legacy.iter() {
        let (k, v) = kv.map_err(err)?;
        let seg: [u8; 4] = k[..]
            .try_into()
            .map_err(|_| corrupt(format!("series segment key of {} bytes", k.len())))?;
        let (group, slot) = locate(u32::from_be_bytes(seg));
        by_group.entry(group).or_default().push((slot, v.to_vec()));
    }
    let moved = by_group.values().map(Vec::len).sum();
    for (group, mut frames) in by_group {
        if let Some(existing) = groups.get(group.to_be_bytes()).map_err(err)? {
            for (slot, frame) in parse(&existing).map_err(corrupt)? {
                if !frames.iter().any(|(s, _)| *s == slot) {
                    frames.push((slot, frame.to_vec()));
                }
            }
        }
        groups
            .insert(group.to_be_bytes(), build(&mut frames))
            .map_err(err)?;
    }
    groups.flush().map_err(err)?;
    legacy.clear().map_err(err)?;
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_reads_back_each_segment_by_slot() {
        let mut frames = vec![(7u8, vec![7; 10]), (0, vec![0; 3]), (15, vec![])];
        let v = build(&mut frames);
        let parsed = parse(&v).unwrap();
        assert_eq!(
            parsed,
            vec![(0, &[0u8; 3][..]), (7, &[7u8; 10][..]), (15, &[][..])]
        );
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(17), (1, 1));
    }

    #[test]
    fn a_damaged_group_is_an_error_for_every_truncation_and_bad_table() {
        let v = build(&mut [(1, vec![1; 4]), (2, vec![2; 4])]);
        for cut in 0..v.len() {
            assert!(parse(&v[..cut]).is_err(), "cut at {cut} parsed");
        }
        let mut longer = v.clone();
        longer.push(0);
        assert!(parse(&longer).unwrap_err().contains("after its last"));
        let mut bad_tag = v.clone();
        bad_tag[0] = b'X';
        assert!(parse(&bad_tag).is_err());
        let mut unordered = v.clone();
        unordered[7] = 1; // the second slot equal to the first
        assert!(parse(&unordered).unwrap_err().contains("out of order"));
        let mut past = v;
        past[7] = SEGMENTS_PER_GROUP as u8;
        assert!(parse(&past).is_err());
    }
}
