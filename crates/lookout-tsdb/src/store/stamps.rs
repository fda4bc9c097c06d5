//! Shared timestamp sequences of a part: every series of one scrape target is sampled at the same (jittered)
//! instants, so a part keeps each such sequence once, in its directory, and a chunk refers to a run of it.
//!
//! Why: groups hold series in label order (one metric's series side by side, which is what makes values compress
//! and what queries read), so the series of one target lie in many groups and zstd cannot see that their
//! timestamps repeat. On noisygen (timestamps jittered by milliseconds) the timestamps were ~0.2 of the ~1.3 bytes
//! per sample of the part files. Evenly spaced timestamps cost nothing in a sealed chunk and stay there.
//!
//! A chunk that refers to the table is [`REF_TAG`], the sequence's index and the run's start (varints), then an
//! ordinary sealed chunk of its values whose timestamps are `0, 1, …, n − 1` (evenly spaced, so zero bytes). The
//! table itself is a count of entries, then per entry its kind: [`OWN`] (a byte length and a sealed chunk of
//! `(t, 0.0)` samples) or [`RUN_OF`] (another entry that has its own sequence, a start and a length).

use std::collections::HashMap;

use lookout_model::Sample;

use super::codec::{Reader, put_uvarint};
use crate::chunkenc::{ChunkError, decode_sealed, encode_sealed};

/// First byte of a chunk whose timestamps are in the part's table. A sealed chunk's first byte has format version 1
/// in its low three bits; this is 2 there, so no sealed chunk starts with it.
pub(crate) const REF_TAG: u8 = 0x02;
/// Sequences shorter than this stay in their chunk: a reference would save too little to pay for itself.
const MIN_SHARED: usize = 8;
/// Timestamps one part's table holds at most (its builder's index takes ~20 bytes per timestamp while a
/// persistence run builds the part); beyond, chunks keep their own. 1,000 targets over a 2 h block at 15 s need
/// 480,000.
const MAX_STAMPS: usize = 1 << 19;

/// A part's shared timestamp sequences, decoded: entry `k` is a run of one of the sequences stored.
#[derive(Debug, Default)]
pub(crate) struct StampTable {
    seqs: Vec<Vec<i64>>,
    /// Per entry: stored sequence, start, length.
    entries: Vec<(u32, u32, u32)>,
}

/// An entry whose own sequence follows.
const OWN: u64 = 0;
/// An entry that is a run of another (earlier or later) entry's own sequence.
const RUN_OF: u64 = 1;

impl StampTable {
    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The timestamps of entry `k`.
    fn entry(&self, k: usize) -> Option<&[i64]> {
        let &(s, start, len) = self.entries.get(k)?;
        self.seqs[s as usize].get(start as usize..(start + len) as usize)
    }

    /// Heap bytes, for the cache's weight.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.seqs
            .iter()
            .map(|s| s.capacity() * 8 + 24)
            .sum::<usize>()
            + self.entries.capacity() * 12
    }

    /// Decodes [`StampTableBuilder::encode`] from the reader's position; each sequence must be strictly
    /// increasing and each run must lie inside an entry with its own sequence.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<StampTable, String> {
        let n = r.uvarint()? as usize;
        let mut seqs = Vec::new();
        let mut raw: Vec<(u64, u64, u64, u64)> = Vec::with_capacity(n.min(1 << 16));
        let mut samples = Vec::new();
        for i in 0..n {
            match r.uvarint()? {
                OWN => {
                    let len = r.uvarint()? as usize;
                    samples.clear();
                    decode_sealed(r.bytes(len)?, &mut samples)
                        .map_err(|e| format!("timestamp sequence {i}: {e}"))?;
                    if !samples.windows(2).all(|w| w[0].t < w[1].t) {
                        return Err(format!("timestamp sequence {i} is not increasing"));
                    }
                    raw.push((OWN, seqs.len() as u64, 0, samples.len() as u64));
                    seqs.push(samples.iter().map(|s| s.t).collect::<Vec<i64>>());
                }
                RUN_OF => raw.push((RUN_OF, r.uvarint()?, r.uvarint()?, r.uvarint()?)),
                other => return Err(format!("timestamp entry {i} has unknown kind {other}")),
            }
        }
        let mut entries = Vec::with_capacity(raw.len());
        for (i, &(kind, a, start, len)) in raw.iter().enumerate() {
            let (seq, start) = if kind == OWN {
                (a, start)
            } else {
                match raw.get(a as usize) {
                    Some(&(OWN, seq, _, _)) => (seq, start),
                    _ => {
                        return Err(format!(
                            "timestamp entry {i} is a run of entry {a}, which has no sequence"
                        ));
                    }
                }
            };
            let fits = start
                .checked_add(len)
                .is_some_and(|end| end <= seqs[seq as usize].len() as u64);
            if !fits {
                return Err(format!(
                    "timestamp entry {i} runs past the end of its sequence"
                ));
            }
            entries.push((seq as u32, start as u32, len as u32));
        }
        Ok(StampTable { seqs, entries })
    }
}

/// Builds a part's table while its chunks are written: [`StampTableBuilder::refer`] finds a run of an earlier
/// sequence equal to a chunk's timestamps, or adds them as a new sequence.
#[derive(Debug, Default)]
pub(crate) struct StampTableBuilder {
    seqs: Vec<Vec<i64>>,
    /// Where each timestamp is found: sequence and position (in the longest sequence holding it).
    at: HashMap<i64, (u32, u32)>,
    stamps: usize,
}

impl StampTableBuilder {
    /// The sequence and start of a run equal to `samples`' timestamps (added to the table if none is), or `None`
    /// when they should stay in the chunk: few, evenly spaced, or the table full.
    pub(crate) fn refer(&mut self, samples: &[Sample]) -> Option<(u32, u32)> {
        let n = samples.len();
        if n < MIN_SHARED || evenly_spaced(samples) {
            return None;
        }
        if let Some(&(k, pos)) = self.at.get(&samples[0].t) {
            let seq = &self.seqs[k as usize];
            let run = seq.get(pos as usize..pos as usize + n);
            if run.is_some_and(|run| run.iter().zip(samples).all(|(&t, s)| t == s.t)) {
                return Some((k, pos));
            }
        }
        if self.stamps + n > MAX_STAMPS {
            return None;
        }
        // A timestamp points into the longest sequence holding it: a target's first series in label order may be
        // short (a pod that lived a while), and the series that come after should find the whole sequence.
        let k = self.seqs.len() as u32;
        for (i, s) in samples.iter().enumerate() {
            let here = (k, i as u32);
            self.at
                .entry(s.t)
                .and_modify(|at| {
                    if self.seqs[at.0 as usize].len() < n {
                        *at = here;
                    }
                })
                .or_insert(here);
        }
        self.stamps += n;
        self.seqs.push(samples.iter().map(|s| s.t).collect());
        Some((k, 0))
    }

    /// Appends the table's encoding. A sequence that turned out to be a run of a longer one added after it (a
    /// pod's scrapes inside its node's) is written as that run.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_uvarint(out, self.seqs.len() as u64);
        let mut samples = Vec::new();
        let mut body = Vec::new();
        for (k, seq) in self.seqs.iter().enumerate() {
            if let Some((target, pos)) = self.run_of_longer(k) {
                put_uvarint(out, RUN_OF);
                put_uvarint(out, u64::from(target));
                put_uvarint(out, u64::from(pos));
                put_uvarint(out, seq.len() as u64);
                continue;
            }
            put_uvarint(out, OWN);
            samples.clear();
            samples.extend(seq.iter().map(|&t| Sample { t, v: 0.0 }));
            body.clear();
            encode_sealed(&samples, &mut body);
            put_uvarint(out, body.len() as u64);
            out.extend_from_slice(&body);
        }
    }

    /// Where sequence `k` lies inside a longer one that is written whole (the one its first timestamp points to,
    /// which is the longest holding it, so never a run itself).
    fn run_of_longer(&self, k: usize) -> Option<(u32, u32)> {
        let seq = &self.seqs[k];
        let &(target, pos) = self.at.get(&seq[0])?;
        let longer = &self.seqs[target as usize];
        let holds = target as usize != k
            && longer.len() > seq.len()
            && longer.get(pos as usize..pos as usize + seq.len()) == Some(&seq[..]);
        holds.then_some((target, pos))
    }
}

fn evenly_spaced(samples: &[Sample]) -> bool {
    let step = samples[1].t.wrapping_sub(samples[0].t);
    samples
        .windows(2)
        .all(|w| w[1].t.wrapping_sub(w[0].t) == step)
}

/// Appends a chunk of `samples` whose timestamps are run `pos..` of sequence `k`; `scratch` is reused.
pub(crate) fn encode_ref(
    samples: &[Sample],
    (k, pos): (u32, u32),
    scratch: &mut Vec<Sample>,
    out: &mut Vec<u8>,
) {
    out.push(REF_TAG);
    put_uvarint(out, u64::from(k));
    put_uvarint(out, u64::from(pos));
    scratch.clear();
    scratch.extend(samples.iter().enumerate().map(|(i, s)| Sample {
        t: i as i64,
        v: s.v,
    }));
    encode_sealed(scratch, out);
}

/// Decodes a chunk of a part (sealed, or referring to `table`), appending its samples to `out`. Garbage, or a
/// reference outside the table, yields an error and leaves `out` as it was.
pub(crate) fn decode_chunk(
    bytes: &[u8],
    table: &StampTable,
    out: &mut Vec<Sample>,
) -> Result<(), String> {
    if bytes.first() != Some(&REF_TAG) {
        return decode_sealed(bytes, out).map_err(|e| e.to_string());
    }
    let mut r = Reader::new(&bytes[1..]);
    let k = r.uvarint()? as usize;
    let pos = r.uvarint()? as usize;
    let before = out.len();
    decode_sealed(r.rest(), out).map_err(|e: ChunkError| e.to_string())?;
    let n = out.len() - before;
    let run = table
        .entry(k)
        .and_then(|seq| seq.get(pos..pos.checked_add(n)?));
    let Some(run) = run else {
        out.truncate(before);
        return Err(format!(
            "chunk refers to timestamps {pos}..+{n} of sequence {k}, which the part's table ({} sequences) \
             does not hold",
            table.len()
        ));
    };
    for (s, &t) in out[before..].iter_mut().zip(run) {
        s.t = t;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jittered(start: i64, n: usize, seed: u64) -> Vec<i64> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                start + i as i64 * 15_000 + (x % 40) as i64
            })
            .collect()
    }

    fn samples(ts: &[i64], seed: f64) -> Vec<Sample> {
        ts.iter()
            .enumerate()
            .map(|(i, &t)| Sample {
                t,
                v: seed + i as f64 * 0.25,
            })
            .collect()
    }

    fn round_trip(b: &StampTableBuilder) -> StampTable {
        let mut bytes = Vec::new();
        b.encode(&mut bytes);
        let mut r = Reader::new(&bytes);
        let table = StampTable::decode(&mut r).unwrap();
        assert!(r.rest().is_empty());
        table
    }

    #[test]
    fn series_of_one_target_share_one_sequence_and_read_back_exactly() {
        let host_a = jittered(1_000_000, 480, 1);
        let host_b = jittered(1_000_007, 480, 2);
        let mut b = StampTableBuilder::default();
        let mut scratch = Vec::new();
        let mut chunks = Vec::new();
        let inputs = [
            samples(&host_a, 1.0),
            samples(&host_b, 2.0),
            samples(&host_a, 3.0),
            // A series born mid-block: a run inside host B's sequence.
            samples(&host_b[100..300], 4.0),
            samples(&host_a[470..], 5.0),
        ];
        let mut refs = Vec::new();
        for s in &inputs {
            let mut out = Vec::new();
            let r = b.refer(s).expect("jittered and long enough");
            refs.push(r);
            encode_ref(s, r, &mut scratch, &mut out);
            chunks.push(out);
        }
        assert_eq!(refs, [(0, 0), (1, 0), (0, 0), (1, 100), (0, 470)]);
        let table = round_trip(&b);
        assert_eq!(table.len(), 2);
        assert_eq!(table.seqs.len(), 2);
        for (c, s) in chunks.iter().zip(&inputs) {
            let mut got = vec![Sample { t: -1, v: -1.0 }];
            decode_chunk(c, &table, &mut got).unwrap();
            assert_eq!(&got[1..], &s[..]);
        }
    }

    #[test]
    fn a_sequence_seen_before_the_longer_one_holding_it_is_written_as_a_run_of_it() {
        let host = jittered(5_000_000, 480, 9);
        let pod = samples(&host[50..150], 1.0);
        let node = samples(&host, 2.0);
        let mut b = StampTableBuilder::default();
        let mut scratch = Vec::new();
        let mut chunks = Vec::new();
        for s in [&pod, &node, &pod] {
            let r = b.refer(s).unwrap();
            let mut c = Vec::new();
            encode_ref(s, r, &mut scratch, &mut c);
            chunks.push(c);
        }
        let table = round_trip(&b);
        assert_eq!(table.len(), 2, "two entries");
        assert_eq!(
            table.seqs.len(),
            1,
            "one sequence written: the pod's is a run of the node's"
        );
        assert_eq!(table.entries[0], (0, 50, 100));
        for (c, s) in chunks.iter().zip([&pod, &node, &pod]) {
            let mut got = Vec::new();
            decode_chunk(c, &table, &mut got).unwrap();
            assert_eq!(&got, s);
        }
        // A run of itself (a run), of an entry that does not exist, or past its sequence's end is refused. The
        // builder wrote entry 0 as a run (four varints after the count) and entry 1 as the node's own sequence.
        let mut written = Vec::new();
        b.encode(&mut written);
        let mut r = Reader::new(&written);
        assert_eq!(r.uvarint().unwrap(), 2);
        assert_eq!(r.uvarint().unwrap(), RUN_OF);
        for _ in 0..3 {
            r.uvarint().unwrap();
        }
        let node_entry = r.rest();
        for (target, start, len) in [(0u64, 0u64, 10u64), (2, 0, 1), (1, 400, 81)] {
            let mut bytes = Vec::new();
            put_uvarint(&mut bytes, 2);
            put_uvarint(&mut bytes, RUN_OF);
            put_uvarint(&mut bytes, target);
            put_uvarint(&mut bytes, start);
            put_uvarint(&mut bytes, len);
            bytes.extend_from_slice(node_entry);
            let err = StampTable::decode(&mut Reader::new(&bytes)).unwrap_err();
            assert!(err.contains("entry 0"), "{err}");
        }
    }

    #[test]
    fn short_evenly_spaced_or_overflowing_sequences_stay_in_their_chunk() {
        let mut b = StampTableBuilder::default();
        let even: Vec<i64> = (0..480).map(|i| i * 15_000).collect();
        assert_eq!(b.refer(&samples(&even, 0.0)), None);
        assert_eq!(
            b.refer(&samples(&jittered(0, MIN_SHARED - 1, 3), 0.0)),
            None
        );
        let mut start = 0;
        let mut added = 0;
        while b.refer(&samples(&jittered(start, 4096, 4), 0.0)).is_some() {
            added += 4096;
            start += 100_000_000;
        }
        assert_eq!(added, MAX_STAMPS);
        // A run of a sequence already held is still found once the table is full.
        assert_eq!(
            b.refer(&samples(&jittered(0, 4096, 4)[10..], 0.0)),
            Some((0, 10))
        );
    }

    #[test]
    fn a_reference_outside_the_table_or_garbage_is_an_error_and_leaves_the_output() {
        let host = jittered(0, 64, 5);
        let mut b = StampTableBuilder::default();
        let r = b.refer(&samples(&host, 0.0)).unwrap();
        let table = round_trip(&b);
        let mut scratch = Vec::new();
        for bad_ref in [(1, 0), (0, 1), (0, u32::MAX)] {
            let mut c = Vec::new();
            encode_ref(&samples(&host, 0.0), bad_ref, &mut scratch, &mut c);
            let mut out = vec![Sample { t: 7, v: 7.0 }];
            let err = decode_chunk(&c, &table, &mut out).unwrap_err();
            assert!(err.contains("does not hold"), "{err}");
            assert_eq!(out, [Sample { t: 7, v: 7.0 }]);
        }
        let mut good = Vec::new();
        encode_ref(&samples(&host, 0.0), r, &mut scratch, &mut good);
        for cut in 0..good.len() {
            let mut out = Vec::new();
            assert!(
                decode_chunk(&good[..cut], &table, &mut out).is_err(),
                "cut at {cut}"
            );
            assert!(out.is_empty());
        }
        let mut table_bytes = Vec::new();
        b.encode(&mut table_bytes);
        for cut in 0..table_bytes.len() {
            assert!(StampTable::decode(&mut Reader::new(&table_bytes[..cut])).is_err());
        }
    }
}
