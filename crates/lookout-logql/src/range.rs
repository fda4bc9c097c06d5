//! Range aggregations over log ranges: one scan of the selection, the pipeline per line, samples per output
//! series, then a window `(t − range − offset, t − offset]` per step.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use lookout_model::{Labels, MatchOp};
use lookout_storage::logs::{LogQuery, LogSource, QueryDirection};

use crate::ast::{Conversion, Grouping, LogRange, RangeOp};

/// What one output series holds while the scan runs: every sample, or per-step accumulators (see `folded.rs`).
enum Held {
    Samples(Vec<(i64, f64)>),
    Folded(FoldedSeries),
}

/// Output series, keyed by a hash of the labels.
type SeriesSamples = HashMap<u64, (Labels, Held)>;
use crate::filters::label_filter_passes;
use crate::folded::{FoldedSeries, folds};
use crate::labels::{ERROR, ERROR_DETAILS, LabelSet};
use crate::lexer::{parse_bytes, parse_duration};
use crate::limits::{Guard, LogqlError};
use crate::pipeline::{Pipeline, push_down};

/// Evaluation times, ns: `start, start + step, …, ≤ end`.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    /// First step.
    pub start: i64,
    /// Last step (inclusive).
    pub end: i64,
    /// Step width (> 0).
    pub step: i64,
}

impl Steps {
    /// Every step time.
    pub fn times(&self) -> impl Iterator<Item = i64> + '_ {
        let n = (self.end - self.start) / self.step;
        (0..=n).map(move |k| self.start + k * self.step)
    }
}

/// One output series: labels and one value per step where it has one.
#[derive(Debug, Clone)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: Labels,
    /// (step time ns, value).
    pub points: Vec<(i64, f64)>,
}

/// A range aggregation to evaluate.
pub struct RangeAgg<'a> {
    /// The operation.
    pub op: RangeOp,
    /// `quantile_over_time`'s φ.
    pub param: Option<f64>,
    /// The log range.
    pub range: &'a LogRange,
    /// Grouping of the samples before aggregating (written, or pushed down from a `sum by`).
    pub grouping: Option<&'a Grouping>,
}

impl<'a> RangeAgg<'a> {
    /// The aggregation a `MetricExpr::Range` spells.
    pub fn new(
        op: &RangeOp,
        param: &Option<f64>,
        range: &'a LogRange,
        grouping: &'a Option<Grouping>,
    ) -> RangeAgg<'a> {
        RangeAgg {
            op: *op,
            param: *param,
            range,
            grouping: grouping.as_ref(),
        }
    }
}

fn key_of(pairs: &mut Vec<(&str, &str)>) -> u64 {
    pairs.sort_unstable();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    pairs.hash(&mut h);
    h.finish()
}

fn convert(v: &str, c: Conversion) -> Option<f64> {
    match c {
        Conversion::Float => v.trim().parse().ok(),
        Conversion::Bytes => parse_bytes(v),
        Conversion::Duration => parse_duration(v.trim()).map(|ns| ns as f64 / 1e9),
    }
}

fn pipeline_error(labels: &LabelSet) -> LogqlError {
    let err = labels.get(ERROR).unwrap_or_default();
    let details = labels.get(ERROR_DETAILS).unwrap_or_default();
    LogqlError::BadRequest(format!(
        "pipeline error: '{err}' for series: '{}'{}. Use a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\"). To skip all potential errors you can match empty errors.(e.g __error__=\"\") The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )",
        labels.to_labels(),
        if details.is_empty() {
            String::new()
        } else {
            format!(" ({details})")
        }
    ))
}

/// Evaluates a range aggregation at every step.
pub fn evaluate(
    src: &dyn LogSource,
    agg: &RangeAgg<'_>,
    steps: Steps,
    guard: &mut Guard,
) -> Result<Vec<RangeSeries>, LogqlError> {
    let r = agg.range;
    let (filters, rest) = push_down(&r.log.pipeline);
    let pipeline = Pipeline::new(rest).map_err(LogqlError::BadRequest)?;
    let q = LogQuery {
        matchers: r.log.matchers.clone(),
        filters,
        start: steps.start - r.offset_ns - r.range_ns + 1,
        end: steps.end - r.offset_ns + 1,
        limit: usize::MAX,
        direction: QueryDirection::Forward,
    };
    let mut series: SeriesSamples = HashMap::new();
    let mut failure: Option<LogqlError> = None;
    let bytes_op = matches!(agg.op, RangeOp::BytesOverTime | RangeOp::BytesRate);
    let folding = folds(agg, steps);
    src.scan(&q, &mut |stream, e| {
        if let Err(err) = guard.line(e.line.len()) {
            failure = Some(err);
            return false;
        }
        let mut labels = LabelSet::new(stream, &e.metadata);
        let Some(line) = pipeline.process(e.ts, &e.line, &mut labels) else {
            return true;
        };
        let value = match &r.unwrap {
            None if bytes_op => line.len() as f64,
            None => 1.0,
            Some(u) => {
                let v = labels.get(&u.label).and_then(|v| convert(v, u.conversion));
                if v.is_none() && !labels.has_error() {
                    let raw = labels.get(&u.label).unwrap_or("").to_string();
                    labels.set_error(
                        "SampleExtractionErr",
                        &format!("cannot convert {:?} of label {}", raw, u.label),
                    );
                }
                for f in &u.post_filters {
                    if !label_filter_passes(f, &mut labels) {
                        return true;
                    }
                }
                labels.remove(&u.label);
                v.unwrap_or(f64::NAN)
            }
        };
        if labels.has_error() {
            failure = Some(pipeline_error(&labels));
            return false;
        }
        let mut pairs: Vec<(&str, &str)> = labels
            .iter()
            .filter(|(n, v)| !v.is_empty() && *n != ERROR && *n != ERROR_DETAILS)
            .filter(|(n, _)| match agg.grouping {
                None => true,
                Some(g) if g.without => !g.labels.iter().any(|l| l == n),
                Some(g) => g.labels.iter().any(|l| l == n),
            })
            .collect();
        let key = key_of(&mut pairs);
        let before = series.len();
        let entry = series.entry(key).or_insert_with(|| {
            let held = if folding {
                Held::Folded(FoldedSeries::default())
            } else {
                Held::Samples(Vec::new())
            };
            (Labels::from_pairs_unchecked(&pairs), held)
        });
        let held = match &mut entry.1 {
            Held::Samples(s) => {
                s.push((e.ts, value));
                1
            }
            Held::Folded(f) => f.add(agg, steps, e.ts, value),
        };
        for _ in 0..held {
            if let Err(err) = guard.sample() {
                failure = Some(err);
                return false;
            }
        }
        if series.len() > before {
            // A new series holds its labels until the end: charged like samples (see `Guard::held_bytes`).
            let label_bytes = pairs.iter().map(|(n, v)| n.len() + v.len()).sum::<usize>();
            if let Err(err) = guard
                .series(series.len())
                .and_then(|()| guard.held_bytes(label_bytes))
            {
                failure = Some(err);
                return false;
            }
        }
        true
    })
    .map_err(LogqlError::from)?;
    if let Some(f) = failure {
        return Err(f);
    }
    if agg.op == RangeOp::AbsentOverTime {
        return Ok(absent(agg, steps, &series));
    }
    let mut out: Vec<RangeSeries> = series
        .into_values()
        .filter_map(|(labels, held)| {
            let points = match held {
                Held::Samples(samples) => windows(agg, steps, &samples),
                Held::Folded(f) => f.points(agg, steps),
            };
            (!points.is_empty()).then_some(RangeSeries { labels, points })
        })
        .collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    Ok(out)
}

/// The aggregate of each step's window.
pub(crate) fn windows(agg: &RangeAgg<'_>, steps: Steps, samples: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let range = agg.range.range_ns;
    let secs = range as f64 / 1e9;
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0usize, 0usize);
    for t in steps.times() {
        let end = t - agg.range.offset_ns;
        let begin = end - range;
        while hi < samples.len() && samples[hi].0 <= end {
            hi += 1;
        }
        while lo < hi && samples[lo].0 <= begin {
            lo += 1;
        }
        let w = &samples[lo.min(hi)..hi];
        if w.is_empty() {
            continue;
        }
        let values = || w.iter().map(|s| s.1);
        let sum = || values().sum::<f64>();
        let n = w.len() as f64;
        let v = match agg.op {
            RangeOp::CountOverTime => n,
            RangeOp::Rate if agg.range.unwrap.is_none() => n / secs,
            RangeOp::Rate | RangeOp::BytesRate => sum() / secs,
            RangeOp::BytesOverTime | RangeOp::SumOverTime => sum(),
            RangeOp::AvgOverTime => sum() / n,
            RangeOp::MinOverTime => values().fold(f64::INFINITY, f64::min),
            RangeOp::MaxOverTime => values().fold(f64::NEG_INFINITY, f64::max),
            RangeOp::StdvarOverTime | RangeOp::StddevOverTime => {
                let mean = sum() / n;
                let var = values().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
                if agg.op == RangeOp::StddevOverTime {
                    var.sqrt()
                } else {
                    var
                }
            }
            RangeOp::QuantileOverTime => quantile(agg.param.unwrap_or(0.5), values().collect()),
            RangeOp::FirstOverTime => w[0].1,
            RangeOp::LastOverTime => w[w.len() - 1].1,
            RangeOp::RateCounter => match counter_rate(w, begin, end) {
                Some(v) => v,
                None => continue,
            },
            RangeOp::AbsentOverTime => continue,
        };
        out.push((t, v));
    }
    out
}

/// Prometheus's φ-quantile (linear interpolation between closest ranks).
fn quantile(q: f64, mut v: Vec<f64>) -> f64 {
    if v.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = q * (v.len() - 1) as f64;
    let lo = rank.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    let w = rank - lo as f64;
    v[lo] * (1.0 - w) + v[hi] * w
}

/// Prometheus's extrapolated per-second rate of a counter over the window `(begin, end]`.
fn counter_rate(w: &[(i64, f64)], begin: i64, end: i64) -> Option<f64> {
    if w.len() < 2 {
        return None;
    }
    let mut delta = w[w.len() - 1].1 - w[0].1;
    for p in w.windows(2) {
        if p[1].1 < p[0].1 {
            delta += p[0].1;
        }
    }
    let first_t = w[0].0 as f64 / 1e9;
    let last_t = w[w.len() - 1].0 as f64 / 1e9;
    let range_start = begin as f64 / 1e9;
    let range_end = end as f64 / 1e9;
    let sampled = last_t - first_t;
    if sampled <= 0.0 {
        return None;
    }
    let avg_interval = sampled / (w.len() - 1) as f64;
    let mut to_start = first_t - range_start;
    let to_end = range_end - last_t;
    if delta > 0.0 && w[0].1 >= 0.0 {
        let to_zero = sampled * (w[0].1 / delta);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    let threshold = avg_interval * 1.1;
    let mut extrapolate = sampled;
    extrapolate += if to_start < threshold {
        to_start
    } else {
        avg_interval / 2.0
    };
    extrapolate += if to_end < threshold {
        to_end
    } else {
        avg_interval / 2.0
    };
    Some(delta * (extrapolate / sampled) / (range_end - range_start))
}

/// `absent_over_time`: 1 at the steps whose window holds no entry, labelled by the selector's equality matchers.
fn absent(agg: &RangeAgg<'_>, steps: Steps, series: &SeriesSamples) -> Vec<RangeSeries> {
    let counting = RangeAgg {
        op: RangeOp::CountOverTime,
        param: None,
        range: agg.range,
        grouping: None,
    };
    let mut present: std::collections::HashSet<i64> = std::collections::HashSet::new();
    let mut all: Vec<(i64, f64)> = Vec::new();
    for (_, held) in series.values() {
        match held {
            Held::Samples(s) => all.extend(s.iter().copied()),
            Held::Folded(f) => present.extend(f.present(steps)),
        }
    }
    all.sort_by_key(|s| s.0);
    present.extend(windows(&counting, steps, &all).into_iter().map(|p| p.0));
    let points: Vec<(i64, f64)> = steps
        .times()
        .filter(|t| !present.contains(t))
        .map(|t| (t, 1.0))
        .collect();
    if points.is_empty() {
        return Vec::new();
    }
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for m in &agg.range.log.matchers {
        if m.op == MatchOp::Equal && !pairs.iter().any(|(n, _)| *n == m.name) {
            pairs.push((&m.name, &m.value));
        }
    }
    vec![RangeSeries {
        labels: Labels::from_pairs_unchecked(&pairs),
        points,
    }]
}
