//! Exact sizes of a set of integers in exponential-Golomb code, for every order, from one pass over them: the
//! integer-sequence encoder weighs several orders for several candidate streams per chunk, and summing each value's
//! code length per order was most of the cost of sealing a chunk.
//!
//! At order k, a value v with p = v >> k costs k + 1 bits when p = 0; with p of bit length m ≥ 1 it costs
//! k + 2m − 1 bits, or k + 2m + 1 when p is all ones (p + 1 then needs one bit more). So the size at k is
//! Σ_b h[b]·(k + 1 + 2·max(b − k, 0)) over the bit-length histogram h, less 2 for every value with p ≠ 0 whose p
//! is not all ones. Whether p is all ones depends on k only through an interval: for a value of bit length b whose
//! top t bits are ones, p is all ones exactly for k in [b − t, b − 1], which a difference array counts.

/// The bit-length histogram of the values added, and per order how many have `v >> k` all ones.
#[derive(Debug, Clone)]
pub(crate) struct GolombSizes {
    hist: [u64; 65],
    /// Difference array over k: the running sum at k counts the values whose `v >> k` is all ones and non-zero.
    all_ones: [i64; 66],
}

impl Default for GolombSizes {
    fn default() -> Self {
        GolombSizes {
            hist: [0; 65],
            all_ones: [0; 66],
        }
    }
}

#[inline]
fn bit_len(v: u64) -> usize {
    (64 - v.leading_zeros()) as usize
}

impl GolombSizes {
    /// Counts `v`.
    #[inline]
    pub(crate) fn add(&mut self, v: u64) {
        let b = bit_len(v);
        self.hist[b] += 1;
        if b > 0 {
            let t = (v << (64 - b)).leading_ones() as usize;
            self.all_ones[b - t] += 1;
            self.all_ones[b] -= 1;
        }
    }

    /// Values that are zero.
    pub(crate) fn zeros(&self) -> u64 {
        self.hist[0]
    }

    /// The largest bit length among the values.
    pub(crate) fn max_bit_len(&self) -> u32 {
        self.hist.iter().rposition(|&c| c > 0).unwrap_or(0) as u32
    }

    /// The exact size in bits of every value coded at order `k` (≤ 63).
    pub(crate) fn exact(&self, k: u32) -> u64 {
        let k = k as usize;
        let mut bits = 0u64;
        let mut above = 0u64;
        for (b, &h) in self.hist.iter().enumerate() {
            if h == 0 {
                continue;
            }
            bits += h * (k as u64 + 1 + 2 * b.saturating_sub(k) as u64);
            if b > k {
                above += h;
            }
        }
        let all_ones: i64 = self.all_ones[..=k].iter().sum();
        bits - 2 * (above - all_ones as u64)
    }

    /// The order that the estimate k + 1 + 2·max(b − k, 0) per value (off by 2 for most values with `v >> k` ≠ 0)
    /// finds cheapest; the caller settles the neighbours by [`GolombSizes::exact`].
    pub(crate) fn estimated_best_k(&self) -> u32 {
        let hist = &self.hist;
        // cost(k) = count·(k + 1) + 2·Σ_{b>k} h[b]·(b − k), updated in O(1) per k from running sums.
        let count: u64 = hist.iter().sum();
        let max_len = self.max_bit_len();
        let (mut above_count, mut above_bits) = (
            count - hist[0],
            (1..=64).map(|b| hist[b] * b as u64).sum::<u64>(),
        );
        let mut best = (0u32, u64::MAX);
        for k in 0..=max_len.min(63) {
            // Invariant: above_* cover the bit lengths b > k.
            if k > 0 {
                above_count -= hist[k as usize];
                above_bits -= hist[k as usize] * k as u64;
            }
            let est = count * (k as u64 + 1) + 2 * (above_bits - above_count * k as u64);
            if est < best.1 {
                best = (k, est);
            }
        }
        best.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunkenc::bits::exp_golomb_len;
    use proptest::prelude::*;

    fn check(values: &[u64]) {
        let mut s = GolombSizes::default();
        for &v in values {
            s.add(v);
        }
        for k in 0..64u32 {
            let want: u64 = values.iter().map(|&v| exp_golomb_len(v, k)).sum();
            assert_eq!(s.exact(k), want, "k {k}, values {values:?}");
        }
    }

    #[test]
    fn exact_sizes_at_the_edges() {
        check(&[]);
        check(&[0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256]);
        check(&[
            u64::MAX,
            u64::MAX - 1,
            1 << 63,
            (1 << 63) - 1,
            u64::MAX >> 1,
        ]);
    }

    proptest! {
        #[test]
        fn exact_sizes_equal_the_sum_of_code_lengths(
            values in proptest::collection::vec(prop_oneof![0u64..64, 0u64..1 << 20, any::<u64>()], 0..200)
        ) {
            check(&values);
        }
    }
}
