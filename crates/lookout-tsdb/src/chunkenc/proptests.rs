//! Property tests: both encodings round-trip arbitrary samples bit for bit, and garbage never panics.

use lookout_model::{STALE_NAN_BITS, Sample};
use lookout_storage::SampleIter;
use proptest::prelude::*;

use super::{
    HeadChunk, HeadChunkIter, SealHint, decode_sealed, decode_sealed_parts, encode_sealed,
    encode_sealed_hinted, sealed_info,
};

/// Gaps between timestamps: regular scrapes, jitter, big jumps (beyond 2^32 ms) and the extremes.
fn gap() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(15_000i64),
        2 => 14_990i64..15_010,
        2 => 1i64..100,
        1 => (1i64 << 32)..(1i64 << 40),
        1 => 1i64..i64::MAX / 4096,
    ]
}

/// One value of any of the kinds the store sees.
fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
        3 => ((-10_000_000i64..10_000_000), 1u32..=6).prop_map(|(m, k)| m as f64 / 10f64.powi(k as i32)),
        2 => any::<f64>(),
        1 => any::<u64>().prop_map(f64::from_bits),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(f64::from_bits(STALE_NAN_BITS)),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(0.0),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
        ],
        1 => (0u64..1 << 40).prop_map(|i| (i * 4096) as f64),
    ]
}

/// The values that need bit-exact care.
fn special() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::from_bits(STALE_NAN_BITS)),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        (0x7ff0_0000_0000_0001u64..0x7fff_ffff_ffff_ffff).prop_map(f64::from_bits),
        any::<f64>(),
    ]
}

/// Values a chunk holds: all of one kind (as real series are), or anything mixed.
fn values(len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        // Decimals with a few specials (stale markers, NaN payloads, ±Inf, −0.0, stray floats) sprinkled in.
        (
            (-1_000_000i64..1_000_000),
            0u32..=6,
            proptest::collection::vec(-50i64..50, len),
            proptest::collection::vec((any::<prop::sample::Index>(), special()), 0..4),
        )
            .prop_map(move |(start, k, steps, specials)| {
                let scale = 10f64.powi(k as i32);
                let mut m = start;
                let mut v: Vec<f64> = steps
                    .iter()
                    .map(|s| {
                        m += s;
                        m as f64 / scale
                    })
                    .collect();
                if !v.is_empty() {
                    for (at, x) in specials {
                        let i = at.index(v.len());
                        v[i] = x;
                    }
                }
                v
            }),
        proptest::collection::vec(value(), len),
        (value(), proptest::collection::vec(-3i64..4, len)).prop_map(|(start, steps)| steps
            .iter()
            .scan(start, |v, &s| {
                *v += s as f64 * 0.01;
                Some(*v)
            })
            .collect()),
        (
            0i64..1 << 50,
            0i64..100_000,
            proptest::collection::vec(0i64..3, len)
        )
            .prop_map(|(start, rate, jit)| {
                jit.iter()
                    .enumerate()
                    .map(|(i, &j)| (start + rate * i as i64 + j) as f64)
                    .collect()
            }),
    ]
}

fn samples() -> impl Strategy<Value = Vec<Sample>> {
    (0usize..300, -(1i64 << 50)..(1i64 << 50)).prop_flat_map(|(len, start)| {
        (proptest::collection::vec(gap(), len), values(len)).prop_map(move |(gaps, vals)| {
            let mut t = start;
            gaps.iter()
                .zip(vals)
                .map(|(&g, v)| {
                    t = t.wrapping_add(g);
                    Sample::new(t, v)
                })
                .collect()
        })
    })
}

fn assert_bits_eq(got: &[Sample], want: &[Sample]) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        prop_assert!(
            g.bits_eq(w),
            "sample {}: {:?} ({:#x}) != {:?} ({:#x})",
            i,
            g,
            g.v.to_bits(),
            w,
            w.v.to_bits()
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn head_chunk_round_trips(s in samples()) {
        let mut c = HeadChunk::new();
        for x in &s {
            c.append(x.t, x.v);
        }
        let mut got = Vec::new();
        c.iter().collect_into(&mut got);
        assert_bits_eq(&got, &s)?;
        let mut owned = Vec::new();
        let copy: Vec<u8> = c.bytes().to_vec();
        HeadChunkIter::new(copy, c.len() as u16).collect_into(&mut owned);
        assert_bits_eq(&owned, &s)?;
        prop_assert!(c.heap_bytes() >= c.bytes().len());
    }

    #[test]
    fn sealed_round_trips_under_any_hint(s in samples(), hint in any::<u8>()) {
        let mut buf = Vec::new();
        encode_sealed_hinted(&s, SealHint::from_byte(hint), &mut buf);
        let mut got = Vec::new();
        decode_sealed(&buf, &mut got).unwrap();
        assert_bits_eq(&got, &s)?;
    }

    #[test]
    fn sealed_round_trips(s in samples()) {
        let mut buf = vec![0xee];
        encode_sealed(&s, &mut buf);
        let mut got = vec![Sample::new(0, 0.0)];
        decode_sealed(&buf[1..], &mut got).unwrap();
        assert_bits_eq(&got[1..], &s)?;
        let info = sealed_info(&buf[1..]).unwrap();
        prop_assert_eq!(info.samples, s.len());
        if let (Some(f), Some(l)) = (s.first(), s.last()) {
            prop_assert_eq!((info.min_t, info.max_t), (f.t, l.t));
        }
    }

    #[test]
    fn sealed_parts_round_trip_and_truncation_inside_a_part_errors(
        s in samples(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(s.len() + 1)).collect();
        at.extend([0, s.len()]);
        at.sort_unstable();
        at.dedup();
        let mut buf = Vec::new();
        let mut ends = vec![0];
        for w in at.windows(2) {
            encode_sealed(&s[w[0]..w[1]], &mut buf);
            ends.push(buf.len());
        }
        let mut got = vec![Sample::new(0, 0.0)];
        decode_sealed_parts(&buf, &mut got).unwrap();
        assert_bits_eq(&got[1..], &s)?;
        let cut = cut.index(buf.len() + 1);
        let mut out = vec![Sample::new(0, 0.0)];
        let result = decode_sealed_parts(&buf[..cut], &mut out);
        if ends.contains(&cut) {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(result.is_err());
            prop_assert_eq!(out.len(), 1, "a failed decode leaves the output as it was");
        }
    }

    #[test]
    fn sealed_parts_out_of_time_order_are_refused(s in samples()) {
        prop_assume!(s.len() >= 2);
        let mid = s.len() / 2;
        let mut buf = Vec::new();
        encode_sealed(&s[mid..], &mut buf);
        encode_sealed(&s[..mid], &mut buf);
        let mut out = Vec::new();
        let result = decode_sealed_parts(&buf, &mut out);
        prop_assert!(result.is_err());
        prop_assert!(out.is_empty());
    }

    #[test]
    fn sealed_truncation_errors(s in samples(), cut in any::<prop::sample::Index>()) {
        let mut buf = Vec::new();
        encode_sealed(&s, &mut buf);
        let cut = cut.index(buf.len());
        let mut out = Vec::new();
        prop_assert!(decode_sealed(&buf[..cut], &mut out).is_err());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400), len in any::<u16>()) {
        let mut out = Vec::new();
        let _ = decode_sealed(&bytes, &mut out);
        prop_assert!(out.len() <= super::MAX_SEALED_SAMPLES);
        let _ = decode_sealed_parts(&bytes, &mut out);
        let _ = sealed_info(&bytes);
        let mut it = HeadChunkIter::new(&bytes[..], len);
        let mut n = 0usize;
        while it.next().is_some() {
            n += 1;
        }
        prop_assert!(n <= len as usize);
    }

    #[test]
    fn corrupted_chunks_never_panic(s in samples(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut buf = Vec::new();
        encode_sealed(&s, &mut buf);
        if !buf.is_empty() {
            for (at, x) in flips {
                let i = at.index(buf.len());
                buf[i] ^= x | 1;
            }
        }
        let mut out = Vec::new();
        let _ = decode_sealed(&buf, &mut out);
        let _ = decode_sealed_parts(&buf, &mut out);
    }
}
