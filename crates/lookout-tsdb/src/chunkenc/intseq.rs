//! A codec for sequences of integers (timestamps, or values scaled to integers) that picks, per chunk, the
//! differencing order and the bit code that make the residuals smallest.
//!
//! The first element is known to the decoder (it sits in the chunk header). Then, byte-aligned:
//! - a mode byte: bits 0–1 differencing order `o` (1–3, or 0 for "distance from a line"), bits 2–3 the residual
//!   code (0 all zero, 1 exponential-Golomb, 2 zero runs, 3 fixed width), bit 4 an offset `D` follows, bit 5 a common factor `g`
//!   follows;
//! - varints: the `o − 1` warm-up differences (Δʲx at index j for j = 1..o) or, for order 0, the slope `S`;
//!   `D`; `g`; one byte per code parameter (`k`; `k_run` and `k_value`; the width);
//! - the bits of the residuals, zig-zagged, padded to a byte: `(Δᵒxᵢ − D) / g` for i = o..n, or for order 0
//!   `(xᵢ − x₀ − i·S − D) / g` for i = 1..n.
//!
//! Order 1 with `D` = the median step turns a counter with a steady rate into mostly zeros; order 2 (delta of
//! delta) suits smooth gauges; order 3 smoother curves still; order 0 suits noise around a trend, such as
//! scrape timestamps that jitter around a fixed interval (differencing would double the noise). "Zero runs" codes the distance to each non-zero
//! residual and its value, which wins when values change only now and then. All arithmetic wraps, so every `i64`
//! sequence round-trips.

use super::bits::BitPacker;
use super::golomb_sizes::GolombSizes;
pub(crate) use super::intseq_decode::decode_ints;
use super::varint::{put_ivarint, put_uvarint, uvarint_len, zigzag};

pub(super) const CODE_ZERO: u8 = 0;
pub(super) const CODE_GOLOMB: u8 = 1;
pub(super) const CODE_RUNS: u8 = 2;
pub(super) const CODE_PACKED: u8 = 3;
pub(super) const HAS_OFFSET: u8 = 1 << 4;
pub(super) const HAS_FACTOR: u8 = 1 << 5;
const MAX_ORDER: usize = 3;

/// How the residuals are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Zero,
    Golomb { k: u32 },
    Runs { k_run: u32, k_value: u32 },
    Packed { width: u32 },
}

/// One way to encode a sequence, with its estimated size.
#[derive(Debug)]
struct Plan {
    /// The way: its differencing order (0 for a line) goes in the mode byte; a head series keeps it as a hint.
    way: Way,
    /// Order ≥ 2: Δʲx at index j for j = 1..order; order 0: the slope.
    warmups: Vec<i64>,
    offset: i64,
    factor: u64,
    /// Zig-zagged residuals divided by `factor`.
    residuals: Vec<u64>,
    code: Code,
    bits: u64,
}

/// Which of the codec's ways an encoding took. A head series keeps it as a hint for its next chunk, which is
/// usually alike: sizing one way instead of searching them all was most of sealing's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Way {
    /// Differences of order 1 (less their median).
    Diff1,
    /// Differences of order 2.
    Diff2,
    /// Differences of order 3.
    Diff3,
    /// Distances from the line through the end points.
    LineThroughEnds,
    /// Distances from the line at the median step.
    LineMedianStep,
}

impl Way {
    /// A code in 1..=7 (0 is left for "none").
    pub(crate) fn code(self) -> u8 {
        self as u8 + 1
    }

    /// The way a [`Way::code`] names; `None` for 0 or an unknown code.
    pub(crate) fn from_code(code: u8) -> Option<Way> {
        Some(match code {
            1 => Way::Diff1,
            2 => Way::Diff2,
            3 => Way::Diff3,
            4 => Way::LineThroughEnds,
            5 => Way::LineMedianStep,
            _ => return None,
        })
    }

    /// The differencing order written in the mode byte: 1–3, or 0 for distances from a line.
    fn order(self) -> usize {
        match self {
            Way::Diff1 => 1,
            Way::Diff2 => 2,
            Way::Diff3 => 3,
            Way::LineThroughEnds | Way::LineMedianStep => 0,
        }
    }

    fn diff(order: usize) -> Way {
        match order {
            1 => Way::Diff1,
            2 => Way::Diff2,
            _ => Way::Diff3,
        }
    }
}

/// Appends the encoding of `xs[1..]` (the decoder is given `xs[0]`); writes nothing when `xs.len() ≤ 1`.
#[cfg(test)]
pub(crate) fn encode_ints(xs: &[i64], out: &mut Vec<u8>) {
    encode_ints_as(xs, None, out);
}

/// [`encode_ints`], sizing only the way `hint` names when it is given (and applies to `xs`) instead of searching
/// for the smallest; answers the way taken (`None` when nothing was written). Every way decodes the same, so a
/// stale hint costs bytes, never correctness.
pub(crate) fn encode_ints_as(xs: &[i64], hint: Option<Way>, out: &mut Vec<u8>) -> Option<Way> {
    if xs.len() <= 1 {
        return None;
    }
    let plan = hint
        .and_then(|way| plan_way(xs, way))
        .unwrap_or_else(|| search(xs));
    write_plan(&plan, out);
    Some(plan.way)
}

/// `xs` and its differences up to order `upto`: `levels[o][i - o]` = Δᵒx at index i.
fn differences(xs: &[i64], upto: usize) -> Vec<Vec<i64>> {
    let mut levels: Vec<Vec<i64>> = Vec::with_capacity(upto + 1);
    levels.push(xs.to_vec());
    for o in 1..=upto {
        let prev = &levels[o - 1];
        let next: Vec<i64> = (1..prev.len())
            .map(|i| prev[i].wrapping_sub(prev[i - 1]))
            .collect();
        levels.push(next);
    }
    levels
}

/// The plan of differencing order `o` over `levels` (as [`differences`] made them); `offset` is the median step
/// for order 1, else 0.
fn diff_plan(levels: &[Vec<i64>], o: usize, offset: i64) -> Plan {
    let warmups: Vec<i64> = levels[1..o].iter().map(|l| l[0]).collect();
    plan(Way::diff(o), warmups, offset, &levels[o])
}

/// The slope of the line through the end points, rounded to the nearest integer.
fn slope_through_ends(xs: &[i64]) -> i64 {
    let n = xs.len() as i128;
    let span = xs[xs.len() - 1] as i128 - xs[0] as i128;
    ((2 * span + (n - 1)).div_euclid(2 * (n - 1))) as i64
}

/// The plan coding distances from the line `xs[0] + i·slope`.
fn line_plan(xs: &[i64], slope: i64, way: Way) -> Plan {
    let deviations: Vec<i64> = (1..xs.len())
        .map(|i| {
            xs[i]
                .wrapping_sub(xs[0])
                .wrapping_sub((i as i64).wrapping_mul(slope))
        })
        .collect();
    plan(way, vec![slope], median(&deviations), &deviations)
}

/// The plan of one way, without a search; `None` when `xs` is too short for it.
fn plan_way(xs: &[i64], way: Way) -> Option<Plan> {
    Some(match way {
        Way::Diff1 | Way::Diff2 | Way::Diff3 => {
            let o = way.order();
            if o > xs.len() - 1 {
                return None;
            }
            let levels = differences(xs, o);
            let offset = if o == 1 { median(&levels[1]) } else { 0 };
            diff_plan(&levels, o, offset)
        }
        Way::LineThroughEnds => line_plan(xs, slope_through_ends(xs), way),
        Way::LineMedianStep => {
            let steps: Vec<i64> = xs.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
            line_plan(xs, median(&steps), way)
        }
    })
}

/// The smallest of the ways (`xs.len()` ≥ 2).
fn search(xs: &[i64]) -> Plan {
    let levels = differences(xs, MAX_ORDER.min(xs.len() - 1));
    let median_step = median(&levels[1]);
    let mut best: Option<Plan> = None;
    for o in 1..levels.len() {
        let plan = diff_plan(&levels, o, if o == 1 { median_step } else { 0 });
        if best.as_ref().is_some_and(|b| plan.bits >= b.bits) {
            // Differencing made it worse: differencing more will not help.
            break;
        }
        let all_zero = plan.code == Code::Zero;
        best = Some(plan);
        if all_zero {
            // A higher order would only add warm-up values.
            break;
        }
    }
    // Noise around a trend is where order 1 beats order 2; only then is a line worth trying.
    if best
        .as_ref()
        .is_some_and(|b| b.way == Way::Diff1 && b.code != Code::Zero)
    {
        // The line through the end points, and the median step: the first is exact for jitter around a grid
        // (whose median step can be off by one), the second for noisy but steady counters.
        let through_ends = slope_through_ends(xs);
        let mut lines = vec![(through_ends, Way::LineThroughEnds)];
        if median_step != through_ends {
            lines.push((median_step, Way::LineMedianStep));
        }
        for (slope, way) in lines {
            let plan = line_plan(xs, slope, way);
            if best.as_ref().is_none_or(|b| plan.bits < b.bits) {
                best = Some(plan);
            }
        }
    }
    best.expect("at least order 1 is sized")
}

fn median(v: &[i64]) -> i64 {
    let mut s = v.to_vec();
    let mid = s.len() / 2;
    *s.select_nth_unstable(mid).1
}

/// Greatest common divisor (binary method: shifts instead of divisions).
fn gcd(a: u64, b: u64) -> u64 {
    if a == 0 || b == 0 {
        return a | b;
    }
    let shift = (a | b).trailing_zeros();
    let (mut a, mut b) = (a >> a.trailing_zeros(), b >> b.trailing_zeros());
    while a != b {
        if a > b {
            (a, b) = (b, a);
        }
        b -= a;
        b >>= b.trailing_zeros();
    }
    a << shift
}

/// The greatest common divisor of `values` (0 when all are 0), stopping early once it is 1 (the usual case).
///
/// Kept as its power of two (the fewest trailing zeros) and the divisor of the odd parts, because the usual
/// factor other than 1 is a power of two (4 KiB pages): the odd parts then reach 1 after a few values, and the
/// rest cost one trailing-zero count each instead of a binary GCD's loop.
fn common_factor(values: impl Iterator<Item = u64>) -> u64 {
    let mut odd = 0u64;
    let mut shift = u32::MAX;
    for v in values {
        if v == 0 {
            continue;
        }
        let tz = v.trailing_zeros();
        shift = shift.min(tz);
        if odd != 1 {
            odd = gcd(odd, v >> tz);
        } else if shift == 0 {
            break;
        }
    }
    if odd == 0 { 0 } else { odd << shift }
}

/// Sizes one way to encode: `base` are Δᵒx (or the distances from the line), `offset` is subtracted from each.
fn plan(way: Way, warmups: Vec<i64>, offset: i64, base: &[i64]) -> Plan {
    let g = common_factor(base.iter().map(|d| d.wrapping_sub(offset).unsigned_abs()));
    let factor = if g > i64::MAX as u64 || g <= 1 { 1 } else { g };
    let residuals: Vec<u64> = if factor == 1 {
        base.iter()
            .map(|&d| zigzag(d.wrapping_sub(offset)))
            .collect()
    } else {
        let f = factor as i64;
        base.iter()
            .map(|&d| zigzag(d.wrapping_sub(offset) / f))
            .collect()
    };
    let mut header_bits = 8u64;
    for &w in &warmups {
        header_bits += 8 * uvarint_len(zigzag(w)) as u64;
    }
    if offset != 0 {
        header_bits += 8 * uvarint_len(zigzag(offset)) as u64;
    }
    if factor > 1 {
        header_bits += 8 * uvarint_len(factor) as u64;
    }
    let (code, code_bits) = choose_code(&residuals);
    Plan {
        way,
        warmups,
        offset,
        factor,
        residuals,
        code,
        bits: header_bits + code_bits,
    }
}

/// The cheapest residual code and its size in bits, parameter bytes included. Every candidate's exact size is read
/// from histograms: one pass over the residuals, and a second for the zero-run code only when enough are zero.
fn choose_code(z: &[u64]) -> (Code, u64) {
    let mut all = GolombSizes::default();
    for &v in z {
        all.add(v);
    }
    if all.zeros() == z.len() as u64 {
        return (Code::Zero, 0);
    }
    // Fixed-width packing: best for noise spread evenly over a range.
    let width = all.max_bit_len();
    let packed = (Code::Packed { width }, 8 + z.len() as u64 * width as u64);
    // The estimates pick the orders; exact sizes (the estimate is off for small values) settle the choice.
    let k = all.estimated_best_k();
    let (k, golomb_bits) = refine(k, |k| all.exact(k));
    let mut best = (Code::Golomb { k }, 8 + golomb_bits);
    // Only when clearly smaller: on nodegen, zstd over chunk groups finds more in Golomb streams than in packed
    // ones, so a near tie goes to Golomb (measured: 0.0913 against 0.0982 bytes per sample after zstd).
    if packed.1 * 10 < best.1 * 9 {
        best = packed;
    }
    if all.zeros() * 4 < z.len() as u64 {
        // Few zeros: zero runs cannot win.
        return best;
    }
    // The zero runs and the non-zero values the run code would write.
    let mut runs = GolombSizes::default();
    let mut values = GolombSizes::default();
    let mut last = 0usize;
    for (i, &v) in z.iter().enumerate() {
        if v != 0 {
            runs.add((i - last) as u64);
            values.add(v - 1);
            last = i + 1;
        }
    }
    if last < z.len() {
        runs.add((z.len() - last) as u64);
    }
    let k_run = runs.estimated_best_k();
    let k_value = values.estimated_best_k();
    let (k_run, _) = refine(k_run, |k_run| runs.exact(k_run) + values.exact(k_value));
    let (k_value, runs_bits) = refine(k_value, |k_value| runs.exact(k_run) + values.exact(k_value));
    if 16 + runs_bits < best.1 {
        best = (Code::Runs { k_run, k_value }, 16 + runs_bits);
    }
    best
}

/// The best of the orders next to `k` by their exact size.
fn refine(k: u32, size: impl Fn(u32) -> u64) -> (u32, u64) {
    (k.saturating_sub(1)..=(k + 1).min(63))
        .map(|k| (k, size(k)))
        .min_by_key(|&(k, bits)| (bits, k))
        .unwrap_or((k, u64::MAX))
}

fn write_plan(plan: &Plan, out: &mut Vec<u8>) {
    let code = match plan.code {
        Code::Zero => CODE_ZERO,
        Code::Golomb { .. } => CODE_GOLOMB,
        Code::Runs { .. } => CODE_RUNS,
        Code::Packed { .. } => CODE_PACKED,
    };
    let mut mode = plan.way.order() as u8 | (code << 2);
    if plan.offset != 0 {
        mode |= HAS_OFFSET;
    }
    if plan.factor > 1 {
        mode |= HAS_FACTOR;
    }
    out.push(mode);
    for &w in &plan.warmups {
        put_ivarint(out, w);
    }
    if plan.offset != 0 {
        put_ivarint(out, plan.offset);
    }
    if plan.factor > 1 {
        put_uvarint(out, plan.factor);
    }
    match plan.code {
        Code::Zero => {}
        Code::Golomb { k } => {
            out.push(k as u8);
            let mut w = BitPacker::new(out);
            for &z in &plan.residuals {
                w.write_exp_golomb(z, k);
            }
            w.finish();
        }
        Code::Packed { width } => {
            out.push(width as u8);
            let mut w = BitPacker::new(out);
            for &z in &plan.residuals {
                w.write(z, width);
            }
            w.finish();
        }
        Code::Runs { k_run, k_value } => {
            out.push(k_run as u8);
            out.push(k_value as u8);
            let mut w = BitPacker::new(out);
            let mut last = 0usize;
            for (i, &z) in plan.residuals.iter().enumerate() {
                if z != 0 {
                    w.write_exp_golomb((i - last) as u64, k_run);
                    w.write_exp_golomb(z - 1, k_value);
                    last = i + 1;
                }
            }
            if last < plan.residuals.len() {
                w.write_exp_golomb((plan.residuals.len() - last) as u64, k_run);
            }
            w.finish();
        }
    }
}

#[cfg(test)]
#[path = "intseq_tests.rs"]
mod tests;
