//! Range aggregations folded one sample at a time into per-step accumulators, so a count or a sum over a long range
//! holds one accumulator per series and step instead of every sample: `count_over_time`, `rate`, `bytes_*`,
//! `sum_over_time`, `avg_over_time`, `min_over_time`, `max_over_time`, `first_over_time`, `last_over_time` and
//! `absent_over_time`. Samples arrive in time order (the scan is forward), so each accumulator sees its window's
//! samples in the order the sample-holding path would, and the results are the same to the last bit.
//! `quantile_over_time`, `rate_counter`, `stddev_over_time`/`stdvar_over_time` keep every sample
//! (see `range.rs`), as does any aggregation whose range spans more than [`MAX_WINDOWS_PER_SAMPLE`] steps.

use crate::ast::RangeOp;
use crate::range::{RangeAgg, Steps};

/// Above this many windows per sample (range / step), folding costs more per sample than holding it.
pub const MAX_WINDOWS_PER_SAMPLE: i64 = 64;

/// Whether `agg` over `steps` is evaluated by folding.
pub fn folds(agg: &RangeAgg<'_>, steps: Steps) -> bool {
    let op_folds = !matches!(
        agg.op,
        RangeOp::QuantileOverTime
            | RangeOp::RateCounter
            | RangeOp::StddevOverTime
            | RangeOp::StdvarOverTime
    );
    op_folds && agg.range.range_ns / steps.step.max(1) < MAX_WINDOWS_PER_SAMPLE
}

/// One window's running aggregate.
#[derive(Debug, Clone, Copy)]
struct Acc {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    first: f64,
    last: f64,
}

impl Acc {
    fn new(v: f64) -> Acc {
        Acc {
            n: 1,
            sum: v,
            min: f64::INFINITY.min(v),
            max: f64::NEG_INFINITY.max(v),
            first: v,
            last: v,
        }
    }

    fn add(&mut self, v: f64) {
        self.n += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.last = v;
    }
}

/// `⌈a / b⌉` for `b > 0`.
fn ceil_div(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

/// One series' windows: (step index, accumulator), step indexes ascending.
#[derive(Debug, Default)]
pub struct FoldedSeries {
    accs: Vec<(u32, Acc)>,
}

impl FoldedSeries {
    /// Folds the sample `(ts, v)` into every window `(t − offset − range, t − offset]` holding it; returns the
    /// accumulators created (what the sample budget counts).
    pub fn add(&mut self, agg: &RangeAgg<'_>, steps: Steps, ts: i64, v: f64) -> usize {
        let step = steps.step.max(1) as i128;
        let last = ((steps.end - steps.start) as i128 / step).min(u32::MAX as i128);
        let at = ts as i128 + agg.range.offset_ns as i128 - steps.start as i128;
        let lo = ceil_div(at, step).max(0);
        let hi = (ceil_div(at + agg.range.range_ns as i128, step) - 1).min(last);
        if lo > hi {
            return 0;
        }
        let (lo, hi) = (lo as u32, hi as u32);
        let first = self.accs.partition_point(|(k, _)| *k < lo);
        let mut created = 0;
        for (i, k) in (first..).zip(lo..=hi) {
            match self.accs.get_mut(i) {
                Some((at, acc)) if *at == k => acc.add(v),
                _ => {
                    self.accs.insert(i, (k, Acc::new(v)));
                    created += 1;
                }
            }
        }
        created
    }

    /// The step times with at least one sample in their window.
    pub fn present(&self, steps: Steps) -> impl Iterator<Item = i64> + '_ {
        self.accs
            .iter()
            .map(move |(k, _)| steps.start + i64::from(*k) * steps.step)
    }

    /// The aggregate at each step whose window holds samples.
    pub fn points(&self, agg: &RangeAgg<'_>, steps: Steps) -> Vec<(i64, f64)> {
        let secs = agg.range.range_ns as f64 / 1e9;
        self.accs
            .iter()
            .filter_map(|(k, a)| {
                let n = a.n as f64;
                let v = match agg.op {
                    RangeOp::CountOverTime => n,
                    RangeOp::Rate if agg.range.unwrap.is_none() => n / secs,
                    RangeOp::Rate | RangeOp::BytesRate => a.sum / secs,
                    RangeOp::BytesOverTime | RangeOp::SumOverTime => a.sum,
                    RangeOp::AvgOverTime => a.sum / n,
                    RangeOp::MinOverTime => a.min,
                    RangeOp::MaxOverTime => a.max,
                    RangeOp::FirstOverTime => a.first,
                    RangeOp::LastOverTime => a.last,
                    RangeOp::AbsentOverTime
                    | RangeOp::QuantileOverTime
                    | RangeOp::RateCounter
                    | RangeOp::StddevOverTime
                    | RangeOp::StdvarOverTime => return None,
                };
                Some((steps.start + i64::from(*k) * steps.step, v))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{LogExpr, LogRange};
    use crate::range::windows;

    /// Folding gives bit-for-bit what holding every sample gives, for every folded operation, ranges shorter and
    /// longer than the step, offsets, and samples before, between and after the steps.
    #[test]
    fn folding_equals_holding_every_sample() {
        let ops = [
            RangeOp::CountOverTime,
            RangeOp::Rate,
            RangeOp::BytesRate,
            RangeOp::BytesOverTime,
            RangeOp::SumOverTime,
            RangeOp::AvgOverTime,
            RangeOp::MinOverTime,
            RangeOp::MaxOverTime,
            RangeOp::FirstOverTime,
            RangeOp::LastOverTime,
        ];
        // A deterministic irregular series: gaps, bursts and repeated timestamps.
        let mut samples = Vec::new();
        let mut t = -50_i64;
        for i in 0..400_i64 {
            t += (i * 7919) % 23;
            samples.push((t, ((i * 31) % 17) as f64 - 8.0 + 0.1 * i as f64));
        }
        for (range_ns, offset_ns, step) in [
            (10, 0, 10),
            (35, 0, 10),
            (5, 3, 10),
            (100, -7, 3),
            (1, 0, 1),
        ] {
            let range = LogRange {
                log: LogExpr {
                    matchers: vec![],
                    pipeline: vec![],
                },
                unwrap: None,
                range_ns,
                offset_ns,
            };
            let steps = Steps {
                start: 0,
                end: 3000,
                step,
            };
            for op in ops {
                let agg = RangeAgg {
                    op,
                    param: None,
                    range: &range,
                    grouping: None,
                };
                assert!(folds(&agg, steps));
                let mut f = FoldedSeries::default();
                for (ts, v) in &samples {
                    f.add(&agg, steps, *ts, *v);
                }
                let want = windows(&agg, steps, &samples);
                let got = f.points(&agg, steps);
                assert_eq!(
                    got.iter().map(|p| (p.0, p.1.to_bits())).collect::<Vec<_>>(),
                    want.iter()
                        .map(|p| (p.0, p.1.to_bits()))
                        .collect::<Vec<_>>(),
                    "{op:?} range {range_ns} offset {offset_ns} step {step}"
                );
            }
        }
    }
}
