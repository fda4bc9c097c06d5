//! The mutation engine: byte-level edits (flips, inserts, deletes, copies), splices between corpus entries,
//! dictionary tokens of the target's grammar, interesting numbers, and the blow-ups that find resource bugs
//! (a chunk repeated many times, a range wrapped in many levels of the grammar's brackets).

use crate::rng::Rng;

/// What a target's inputs are made of, for the grammar-aware mutations.
#[derive(Debug, Clone, Copy)]
pub struct Grammar {
    /// Tokens worth inserting: keywords, operators, delimiters, field tags.
    pub dictionary: &'static [&'static [u8]],
    /// Opening and closing brackets the grammar nests (`(`/`)`, `{`/`}`, `[`/`]`, …).
    pub nesting: &'static [(&'static [u8], &'static [u8])],
    /// Longest input the mutator produces (blow-ups stop here).
    pub max_len: usize,
}

/// Numbers at the edges of the types parsers convert to.
const INTERESTING_NUMBERS: &[&[u8]] = &[
    b"0",
    b"-0",
    b"1",
    b"-1",
    b"127",
    b"255",
    b"256",
    b"65535",
    b"2147483647",
    b"-2147483648",
    b"4294967295",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"9223372036854775808",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999999999",
    b"1e308",
    b"1e309",
    b"-1e309",
    b"4.9e-324",
    b"0x7fffffffffffffff",
    b"NaN",
    b"+Inf",
    b"-Inf",
    b"1.5",
    b"0.000001",
    b"1_000",
];

/// Bytes at the edges of encodings: NUL, DEL, continuation and lead bytes of UTF-8, varint high bits.
const INTERESTING_BYTES: &[u8] = &[
    0x00, 0x01, 0x07, 0x08, b'\t', b'\n', b'\r', 0x1b, b' ', b'"', b'\'', b'\\', b'`', b'#', b'{',
    b'}', b'(', b')', b'[', b']', b',', b'=', b':', b'-', b'.', 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2,
    0xed, 0xf0, 0xf4, 0xf8, 0xfe, 0xff,
];

/// Protobuf varints at the edges: lengths and tags that overflow or point past the end.
const INTERESTING_VARINTS: &[&[u8]] = &[
    &[0x00],
    &[0x7f],
    &[0x80, 0x01],
    &[0xff, 0x7f],
    &[0xff, 0xff, 0xff, 0xff, 0x0f],
    &[0xff, 0xff, 0xff, 0xff, 0x07],
    &[0x80, 0x80, 0x80, 0x80, 0x10],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    &[
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
    ],
];

impl Grammar {
    /// Applies a few random mutations to `data`, with `donor` (another corpus entry) for splices.
    pub fn mutate(&self, rng: &mut Rng, data: &mut Vec<u8>, donor: &[u8]) {
        let rounds = if rng.one_in(8) {
            1 + rng.below(16)
        } else {
            1 + rng.below(3)
        };
        for _ in 0..rounds {
            self.mutate_once(rng, data, donor);
            if data.len() > self.max_len {
                data.truncate(self.max_len);
            }
        }
    }

    fn mutate_once(&self, rng: &mut Rng, data: &mut Vec<u8>, donor: &[u8]) {
        match rng.below(32) {
            0..=1 => flip_bit(rng, data),
            2..=3 => {
                let at = rng.below(data.len().max(1));
                if let Some(b) = data.get_mut(at) {
                    *b = *rng.pick(INTERESTING_BYTES);
                }
            }
            4..=5 => {
                let at = rng.below(data.len() + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
                data.splice(at..at, bytes);
            }
            6..=9 => delete_range(rng, data),
            10..=11 => copy_range(rng, data),
            12..=17 if !self.dictionary.is_empty() => {
                let at = self.boundary(rng, data);
                let token = *rng.pick(self.dictionary);
                data.splice(at..at, token.iter().copied());
            }
            18..=19 if !self.dictionary.is_empty() => {
                let token = *rng.pick(self.dictionary);
                replace_range(rng, data, token);
            }
            20..=21 => splice(rng, data, donor),
            22..=23 => {
                if !donor.is_empty() {
                    let (a, b) = range(rng, donor.len(), 64);
                    let at = self.boundary(rng, data);
                    data.splice(at..at, donor[a..b].iter().copied());
                }
            }
            24..=25 => replace_number(rng, data),
            26 => {
                let at = rng.below(data.len() + 1);
                data.splice(at..at, rng.pick(INTERESTING_VARINTS).iter().copied());
            }
            // Blow-ups are rarer than the rest: their inputs are the slowest to run.
            27 if rng.one_in(4) => self.repeat(rng, data),
            28 if !self.nesting.is_empty() && rng.one_in(4) => self.nest(rng, data),
            29 => {
                let keep = rng.below(data.len() + 1);
                data.truncate(keep);
            }
            30 => swap_ranges(rng, data),
            _ => {
                // A byte from the input itself, elsewhere: cheap structure-preserving noise.
                if !data.is_empty() {
                    let b = data[rng.below(data.len())];
                    let at = rng.below(data.len() + 1);
                    data.insert(at, b);
                }
            }
        }
    }

    /// An insert position: anywhere, or just before a byte that ends a token (space, punctuation), where a
    /// grammar token is most likely to fit.
    fn boundary(&self, rng: &mut Rng, data: &[u8]) -> usize {
        let at = rng.below(data.len() + 1);
        if rng.one_in(2) {
            return at;
        }
        data[at..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'_')
            .map_or(data.len(), |p| at + p)
    }

    /// A chunk of the input repeated: long label lists, long strings, many lines, huge numbers.
    fn repeat(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        if data.is_empty() {
            return;
        }
        let (a, b) = range(rng, data.len(), 32);
        let chunk = data[a..b].to_vec();
        let room = self.max_len.saturating_sub(data.len()) / chunk.len().max(1);
        let times = blow_up_count(rng).min(room);
        let mut grown = Vec::with_capacity(data.len() + chunk.len() * times);
        grown.extend_from_slice(&data[..b]);
        for _ in 0..times {
            grown.extend_from_slice(&chunk);
        }
        grown.extend_from_slice(&data[b..]);
        *data = grown;
    }

    /// A range wrapped in many levels of one bracket pair: deep nesting for recursive parsers.
    fn nest(&self, rng: &mut Rng, data: &mut Vec<u8>) {
        let (open, close) = *rng.pick(self.nesting);
        let (a, b) = range(rng, data.len(), 64);
        let per_level = open.len() + close.len();
        let room = self.max_len.saturating_sub(data.len()) / per_level.max(1);
        let depth = blow_up_count(rng).min(room);
        let mut grown = Vec::with_capacity(data.len() + per_level * depth);
        grown.extend_from_slice(&data[..a]);
        for _ in 0..depth {
            grown.extend_from_slice(open);
        }
        grown.extend_from_slice(&data[a..b]);
        for _ in 0..depth {
            grown.extend_from_slice(close);
        }
        grown.extend_from_slice(&data[b..]);
        *data = grown;
    }
}

/// How many times a blow-up repeats: mostly a few, sometimes thousands (bounded by `max_len` by the caller).
fn blow_up_count(rng: &mut Rng) -> usize {
    match rng.below(8) {
        0..=3 => 2 + rng.below(14),
        4..=5 => 16 + rng.below(240),
        6 => 256 + rng.below(4096),
        _ => 4096 + rng.below(100_000),
    }
}

/// A non-empty range `a..b` of at most `max` bytes inside `0..len` (or `0..0` when `len` is 0).
fn range(rng: &mut Rng, len: usize, max: usize) -> (usize, usize) {
    if len == 0 {
        return (0, 0);
    }
    let a = rng.below(len);
    let n = 1 + rng.below(max.min(len - a));
    (a, a + n)
}

fn flip_bit(rng: &mut Rng, data: &mut [u8]) {
    if data.is_empty() {
        return;
    }
    let at = rng.below(data.len());
    data[at] ^= 1 << rng.below(8);
}

fn delete_range(rng: &mut Rng, data: &mut Vec<u8>) {
    let (a, b) = range(rng, data.len(), 32);
    data.drain(a..b);
}

fn copy_range(rng: &mut Rng, data: &mut Vec<u8>) {
    let (a, b) = range(rng, data.len(), 64);
    let chunk = data[a..b].to_vec();
    let at = rng.below(data.len() + 1);
    data.splice(at..at, chunk);
}

fn replace_range(rng: &mut Rng, data: &mut Vec<u8>, with: &[u8]) {
    let (a, b) = range(rng, data.len(), with.len().max(1));
    data.splice(a..b, with.iter().copied());
}

/// The input's head followed by the donor's tail, each cut at a random point.
fn splice(rng: &mut Rng, data: &mut Vec<u8>, donor: &[u8]) {
    if donor.is_empty() {
        return;
    }
    let cut = rng.below(data.len() + 1);
    let from = rng.below(donor.len());
    data.truncate(cut);
    data.extend_from_slice(&donor[from..]);
}

/// Replaces a run of digits (or inserts at a random place when there is none) with an edge-case number.
fn replace_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let number = *rng.pick(INTERESTING_NUMBERS);
    let start = rng.below(data.len() + 1);
    match data[start..].iter().position(u8::is_ascii_digit) {
        Some(p) => {
            let a = start + p;
            let n = data[a..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || *b == b'.' || *b == b'e'))
                .unwrap_or(data.len() - a);
            data.splice(a..a + n, number.iter().copied());
        }
        None => {
            data.splice(start..start, number.iter().copied());
        }
    }
}

fn swap_ranges(rng: &mut Rng, data: &mut Vec<u8>) {
    if data.len() < 2 {
        return;
    }
    let mid = 1 + rng.below(data.len() - 1);
    let (head, tail) = data.split_at(mid);
    let (a1, b1) = range(rng, head.len(), 32);
    let (a2, b2) = range(rng, tail.len(), 32);
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&head[..a1]);
    out.extend_from_slice(&tail[a2..b2]);
    out.extend_from_slice(&head[b1..]);
    out.extend_from_slice(&tail[..a2]);
    out.extend_from_slice(&head[a1..b1]);
    out.extend_from_slice(&tail[b2..]);
    *data = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: Grammar = Grammar {
        dictionary: &[b"sum", b"by", b"(", b")"],
        nesting: &[(b"(", b")")],
        max_len: 4096,
    };

    #[test]
    fn mutations_stay_within_max_len_and_are_deterministic() {
        let seed = b"sum by (job) (rate(x[5m]))".to_vec();
        let run = |s| {
            let mut rng = Rng::new(s);
            (0..2000)
                .map(|_| {
                    let mut d = seed.clone();
                    G.mutate(&mut rng, &mut d, b"up{job=\"a\"}");
                    assert!(d.len() <= G.max_len);
                    d
                })
                .collect::<Vec<_>>()
        };
        let a = run(3);
        assert_eq!(a, run(3));
        let changed = a.iter().filter(|d| **d != seed).count();
        assert!(changed > 1800, "most mutations change the input: {changed}");
        let long = a.iter().filter(|d| d.len() > 1000).count();
        assert!(long > 0, "blow-ups produce long inputs");
        let deep = a.iter().filter(|d| d.starts_with(b"((((")).count()
            + a.iter()
                .filter(|d| d.windows(8).any(|w| w == b"(((((((("))
                .count();
        assert!(deep > 0, "nesting blow-ups happen");
    }

    #[test]
    fn empty_inputs_and_donors_are_fine() {
        let mut rng = Rng::new(9);
        for _ in 0..2000 {
            let mut d = Vec::new();
            G.mutate(&mut rng, &mut d, b"");
            assert!(d.len() <= G.max_len);
        }
    }
}
