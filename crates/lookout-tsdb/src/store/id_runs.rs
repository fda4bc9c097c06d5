//! A postings value in sled: the ids as evenly spaced runs when that is smaller than roaring's own serialisation,
//! else roaring's.
//!
//! Why: a target's series get consecutive ids in its exposition order, and every target of one kind exposes the
//! same layout. So most postings are a few runs of consecutive ids (`job`, the all-series key) or of ids a fixed
//! step apart (`mode="idle"` is every eighth series of a CPU's block, a file system metric every fifth of its
//! block). Roaring 0.10 writes two bytes an id (it reads run containers but does not write them). At 10,900
//! nodegen series the postings were 91 KB, some values of 10–22 KB; sled writes a leaf over a quarter of its
//! segment as a blob file, rewritten whole each time ten inserts pile up on it.
//!
//! Runs: `b'P'`, the number of runs, then per run the gap from the id after the previous run's last (from 0 for
//! the first) to its first id, its number of ids − 1 and, when that is not 0, its step − 1; all unsigned varints.
//! Roaring's serialisation starts with its cookie (`0x3A` or `0x3B`), never `b'P'`, so both kinds read back, and
//! values written before runs existed stay valid.

use roaring::RoaringBitmap;

use super::codec::{Reader, put_uvarint};

const RUNS: u8 = b'P';
/// Ids a value may decode to: far beyond any series count here, it keeps a damaged count from looping for long.
const MAX_IDS: u64 = 1 << 28;

/// A run of `count` ids from `first`, `step` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    first: u32,
    step: u32,
    count: u32,
}

impl Run {
    fn last(&self) -> u32 {
        self.first + self.step * (self.count - 1)
    }
}

/// `bm` as evenly spaced runs, greedily: an id extends the run before it when it is one step on.
fn runs(bm: &RoaringBitmap) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for id in bm {
        match out.last_mut() {
            Some(r) if r.count == 1 => {
                r.step = id - r.first;
                r.count = 2;
            }
            Some(r) if r.last().checked_add(r.step) == Some(id) => r.count += 1,
            _ => out.push(Run {
                first: id,
                step: 1,
                count: 1,
            }),
        }
    }
    out
}

/// The sled value of a postings bitmap: runs or roaring's serialisation, whichever is smaller.
pub(crate) fn encode(bm: &RoaringBitmap) -> Vec<u8> {
    let runs = runs(bm);
    let mut v = Vec::with_capacity(2 + 4 * runs.len());
    v.push(RUNS);
    put_uvarint(&mut v, runs.len() as u64);
    let mut next = 0u64;
    for r in runs {
        put_uvarint(&mut v, u64::from(r.first) - next);
        put_uvarint(&mut v, u64::from(r.count) - 1);
        if r.count > 1 {
            put_uvarint(&mut v, u64::from(r.step) - 1);
        }
        next = u64::from(r.last()) + 1;
    }
    if v.len() <= bm.serialized_size() {
        return v;
    }
    let mut v = Vec::with_capacity(bm.serialized_size());
    bm.serialize_into(&mut v)
        .expect("writing into a Vec does not fail");
    v
}

/// A postings bitmap from its sled value (either kind); an error says what is wrong with it.
pub(crate) fn decode(b: &[u8]) -> Result<RoaringBitmap, String> {
    if b.first() != Some(&RUNS) {
        return RoaringBitmap::deserialize_from(b).map_err(|e| e.to_string());
    }
    let mut r = Reader::new(&b[1..]);
    let n = r.uvarint()?;
    // Every run takes at least two bytes, so a count larger than that is damage, not a reason to loop.
    if n > r.rest().len() as u64 / 2 {
        return Err(format!("postings of {n} runs in {} bytes", r.rest().len()));
    }
    let mut bm = RoaringBitmap::new();
    let (mut next, mut ids) = (0u64, 0u64);
    for _ in 0..n {
        let (gap, more) = (r.uvarint()?, r.uvarint()?);
        let step = if more > 0 {
            r.uvarint()?.saturating_add(1)
        } else {
            1
        };
        // Checked, so that damaged varints are an error rather than a wrapped run.
        let run = next.checked_add(gap).and_then(|first| {
            let last = step.checked_mul(more)?.checked_add(first)?;
            Some((first, last))
        });
        ids = ids.saturating_add(more.saturating_add(1));
        let Some((first, last)) =
            run.filter(|&(_, last)| last <= u64::from(u32::MAX) && ids <= MAX_IDS)
        else {
            return Err(format!(
                "postings run of {} ids after a gap of {gap}, {step} apart, is past the id range",
                more.saturating_add(1)
            ));
        };
        let count = more + 1;
        if step == 1 {
            bm.insert_range(first as u32..=last as u32);
        } else {
            bm.extend((0..count).map(|k| (first + k * step) as u32));
        }
        next = last + 1;
    }
    if !r.rest().is_empty() {
        return Err(format!(
            "{} bytes after the postings' last run",
            r.rest().len()
        ));
    }
    Ok(bm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitmap(ids: impl IntoIterator<Item = u32>) -> RoaringBitmap {
        ids.into_iter().collect()
    }

    #[test]
    fn runs_of_ids_take_a_few_bytes_and_read_back() {
        let all = bitmap(0..10_900);
        let v = encode(&all);
        assert!(v.len() <= 6, "{} bytes", v.len());
        assert_eq!(decode(&v).unwrap(), all);
        let targets = bitmap((0..100u32).flat_map(|t| t * 109 + 3..t * 109 + 19));
        let v = encode(&targets);
        assert!(v.len() < targets.serialized_size() / 5);
        assert_eq!(decode(&v).unwrap(), targets);
        // Every eighth id of each target's block of 32, and a step that carries across targets.
        let strided = bitmap((0..100u32).flat_map(|t| (0..4).map(move |c| t * 109 + 40 + c * 8)));
        let v = encode(&strided);
        assert!(v.len() < strided.serialized_size() / 2, "{} bytes", v.len());
        assert_eq!(decode(&v).unwrap(), strided);
        let across = bitmap((0..100u32).map(|t| t * 109 + 7));
        assert!(encode(&across).len() <= 6);
        assert_eq!(decode(&encode(&across)).unwrap(), across);
        for edge in [
            bitmap([u32::MAX]),
            bitmap([0, u32::MAX - 1, u32::MAX]),
            bitmap([0, u32::MAX]),
            bitmap([5, 6, 9, 12, 13]),
            RoaringBitmap::new(),
        ] {
            assert_eq!(decode(&encode(&edge)).unwrap(), edge);
        }
    }

    #[test]
    fn scattered_ids_keep_roaring_and_older_values_still_read() {
        let mut x = 1u64;
        let scattered = bitmap((0..2_000).map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 45) as u32
        }));
        let v = encode(&scattered);
        assert_eq!(v.len(), scattered.serialized_size());
        assert_ne!(v[0], RUNS);
        assert_eq!(decode(&v).unwrap(), scattered);
    }

    #[test]
    fn damaged_runs_are_errors() {
        let v = encode(&bitmap((0..50u32).map(|i| i * 3).chain(1000..1010)));
        assert_eq!(v[0], RUNS);
        for cut in 1..v.len() {
            assert!(decode(&v[..cut]).is_err(), "cut at {cut} decoded");
        }
        let mut longer = v.clone();
        longer.push(0);
        assert!(decode(&longer).unwrap_err().contains("after"));
        // A run count no value could hold, and a run past u32::MAX.
        assert!(decode(&[RUNS, 0xff, 0xff, 0xff, 0x7f, 0, 0]).is_err());
        let mut past = vec![RUNS, 1];
        put_uvarint(&mut past, u64::from(u32::MAX));
        put_uvarint(&mut past, 1);
        put_uvarint(&mut past, 0);
        assert!(decode(&past).unwrap_err().contains("past the id range"));
        let mut too_many = vec![RUNS, 1, 0];
        put_uvarint(&mut too_many, 1 << 30);
        put_uvarint(&mut too_many, 0);
        assert!(decode(&too_many).unwrap_err().contains("past the id range"));
        // Varints at their largest: no arithmetic wraps into a valid-looking run.
        let mut huge = vec![RUNS, 1];
        for _ in 0..3 {
            put_uvarint(&mut huge, u64::MAX);
        }
        assert!(decode(&huge).unwrap_err().contains("past the id range"));
        let mut wide = vec![RUNS, 1, 0];
        put_uvarint(&mut wide, 2);
        put_uvarint(&mut wide, u64::MAX / 2);
        assert!(decode(&wide).unwrap_err().contains("past the id range"));
    }
}
