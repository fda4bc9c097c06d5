//! Persisted postings in blocks: the key `name ‖ 0xff ‖ low` holds the ids of every value of `name` from `low`
//! up to the next block's low, sorted, in one sled value.
//!
//! Why blocks: sled logs each insert as a fragment of its leaf and rewrites the leaf once ten pile up, so every key
//! costs about three writes of itself and more of its leaf's neighbours. Pod churn gives a label thousands of values
//! with a few series each (2,038 pod names in two hours of noisygen): one key a pair made sled's log six times the
//! 86 KB it held. A block of [`BLOCK_BYTES`] holds ~300 such values, so sled sees a hundred times fewer keys.
//! Measured on that data set (`tsdb_bench`, sled's files after one persistence run): 620 KB with a key a pair;
//! blocks of 256 bytes 403 KB, 512 281 KB, 1 KiB 377 KB, 2 KiB 367 KB, 4 KiB 231 KB, 8 KiB 255 KB.
//!
//! A block: `b'B'`, the number of entries, then per entry the bytes its value shares with the previous one's, the
//! rest of the value (length, bytes) and its ids (length, bytes in `id_runs`' form); all lengths are unsigned
//! varints, values ascend. A value that does not start with `b'B'` is one written before blocks: the ids of the
//! single value `low`. A block's key is at most its first value; values it holds at or past the next block's key are
//! left over from a persistence run cut short between its two batches and are ignored.
//!
//! Writing never moves a key: values before a name's first block open a block of their own, a block that grows
//! past [`BLOCK_BYTES`] is cut into pieces (the first keeps the key), an emptied block is removed. New keys are
//! written in one batch before the changed blocks in a second, so a concurrent reader finds every value in one or
//! the other.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use super::codec::{Reader, put_uvarint};
use super::id_runs;

/// A block is cut once its encoding passes this many bytes.
pub(crate) const BLOCK_BYTES: usize = 4096;
const BLOCK: u8 = b'B';

/// One block's entries: (value, encoded ids), values ascending.
pub(crate) type Entries<'a> = Vec<(String, &'a [u8])>;

/// The entries of the block stored at key value `low` (the key after `name ‖ 0xff`).
pub(crate) fn decode<'a>(low: &[u8], v: &'a [u8]) -> Result<Entries<'a>, String> {
    if v.first() != Some(&BLOCK) {
        let low =
            String::from_utf8(low.to_vec()).map_err(|_| "postings key is not UTF-8".to_string())?;
        return Ok(vec![(low, v)]);
    }
    let mut r = Reader::new(&v[1..]);
    let n = r.uvarint()?;
    // Every entry takes at least three bytes.
    if n > r.rest().len() as u64 / 3 {
        return Err(format!(
            "postings block of {n} entries in {} bytes",
            r.rest().len()
        ));
    }
    let mut out: Entries<'a> = Vec::with_capacity(n as usize);
    let mut prev: Vec<u8> = Vec::new();
    for _ in 0..n {
        let shared = r.uvarint()? as usize;
        if shared > prev.len() {
            return Err(format!(
                "postings entry shares {shared} bytes of a {}-byte value",
                prev.len()
            ));
        }
        let len = r.uvarint()? as usize;
        let mut value = prev[..shared].to_vec();
        value.extend_from_slice(r.bytes(len)?);
        if !out.is_empty() && value <= prev {
            return Err("postings block's values do not ascend".into());
        }
        let ids_len = r.uvarint()? as usize;
        let ids = r.bytes(ids_len)?;
        prev.clone_from(&value);
        let value =
            String::from_utf8(value).map_err(|_| "postings value is not UTF-8".to_string())?;
        out.push((value, ids));
    }
    if !r.rest().is_empty() {
        return Err(format!(
            "{} bytes after the postings block's last entry",
            r.rest().len()
        ));
    }
    Ok(out)
}

/// Appends the encoding of one entry after `prev` (empty for the first).
fn put_entry(out: &mut Vec<u8>, prev: &str, value: &str, ids: &[u8]) {
    let shared = prev
        .bytes()
        .zip(value.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    put_uvarint(out, shared as u64);
    put_uvarint(out, (value.len() - shared) as u64);
    out.extend_from_slice(&value.as_bytes()[shared..]);
    put_uvarint(out, ids.len() as u64);
    out.extend_from_slice(ids);
}

fn finish(count: usize, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(body.len() + 6);
    v.push(BLOCK);
    put_uvarint(&mut v, count as u64);
    v.extend_from_slice(body);
    v
}

/// `entries` (values ascending, none empty) as blocks of at most about [`BLOCK_BYTES`]: (first value, block).
pub(crate) fn encode(entries: &BTreeMap<String, RoaringBitmap>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let (mut first, mut prev, mut body, mut count) = (String::new(), String::new(), Vec::new(), 0);
    for (value, ids) in entries {
        if count > 0 && body.len() >= BLOCK_BYTES {
            out.push((std::mem::take(&mut first), finish(count, &body)));
            (prev, count) = (String::new(), 0);
            body.clear();
        }
        if count == 0 {
            first.clone_from(value);
        }
        put_entry(&mut body, &prev, value, &id_runs::encode(ids));
        prev.clone_from(value);
        count += 1;
    }
    if count > 0 {
        out.push((first, finish(count, &body)));
    }
    out
}

/// A change to the postings of one label name: ids to add or take away, by value.
pub(crate) struct NameChange {
    /// Ids by value.
    pub(crate) ids: BTreeMap<String, RoaringBitmap>,
    /// Whether the ids are added (else removed).
    pub(crate) add: bool,
}

/// The writes one change makes: new keys first (`insert_first`), then changed and emptied blocks (`then`).
#[derive(Debug, Default)]
pub(crate) struct BlockWrites {
    /// New keys: (key value after `name ‖ 0xff`, block).
    pub(crate) insert_first: Vec<(String, Vec<u8>)>,
    /// Existing keys: (key value, `Some(block)` to replace, `None` to remove).
    pub(crate) then: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// What `change` does to a name's `blocks`: (key value after `name ‖ 0xff`, block), key values ascending, as one
/// scan of the name's keys gives them.
pub(crate) fn plan<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    blocks: &[(K, V)],
    change: NameChange,
) -> Result<BlockWrites, String> {
    let low = |i: usize| blocks[i].0.as_ref();
    // The block each value falls in (None: before the first block).
    let mut by_block: BTreeMap<Option<usize>, Vec<(String, RoaringBitmap)>> = BTreeMap::new();
    for (value, ids) in change.ids {
        let at = blocks.partition_point(|(low, _)| low.as_ref() <= value.as_bytes());
        by_block
            .entry(at.checked_sub(1))
            .or_default()
            .push((value, ids));
    }
    let mut writes = BlockWrites::default();
    for (block, values) in by_block {
        let mut entries: BTreeMap<String, RoaringBitmap> = BTreeMap::new();
        if let Some(i) = block {
            let next = (i + 1 < blocks.len()).then(|| low(i + 1));
            for (value, ids) in decode(low(i), blocks[i].1.as_ref())? {
                if next.is_some_and(|n| value.as_bytes() >= n) {
                    continue; // left over from a run cut short: the next block holds it
                }
                entries.insert(value, id_runs::decode(ids)?);
            }
        }
        for (value, ids) in values {
            if change.add {
                *entries.entry(value).or_default() |= ids;
            } else if let Some(have) = entries.get_mut(&value) {
                *have -= ids;
                if have.is_empty() {
                    entries.remove(&value);
                }
            }
        }
        let mut pieces = encode(&entries).into_iter();
        match block {
            Some(i) => {
                writes
                    .then
                    .push((low(i).to_vec(), pieces.next().map(|(_, b)| b)));
                writes.insert_first.extend(pieces);
            }
            None => writes.insert_first.extend(pieces),
        }
    }
    Ok(writes)
}

#[cfg(test)]
#[path = "postings_blocks_tests.rs"]
mod tests;
