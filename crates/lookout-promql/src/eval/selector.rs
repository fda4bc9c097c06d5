//! Instant and range vector selectors: what storage is asked for, lookback, staleness, `offset` and `@`.

use std::collections::BTreeMap;

use lookout_model::{Labels, MatchOp, Matcher, Sample, TimeRange};
use lookout_storage::SelectHints;
use promql_parser::label::{MatchOp as PMatchOp, Matcher as PMatcher};
use promql_parser::parser::{MatrixSelector, VectorSelector};

use super::extended::{extend_floats, smoothed_value};
use super::{Evaluator, Matrix, Series, dur_ms, offset_ms};
use crate::QueryError;
use crate::extended_syntax::Modifier;
use crate::par;

/// What an instant selection reports per point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PointValue {
    /// The sample value.
    Value,
    /// The sample's timestamp in seconds (`timestamp()`).
    TimestampSeconds,
    /// The sample's timestamp in milliseconds (info series: newest one wins).
    TimestampMs,
}

/// One selected series with its samples in the requested range.
pub(crate) struct Loaded {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

fn convert(m: &PMatcher) -> Result<Matcher, QueryError> {
    let op = match m.op {
        PMatchOp::Equal => MatchOp::Equal,
        PMatchOp::NotEqual => MatchOp::NotEqual,
        PMatchOp::Re(_) => MatchOp::Regex,
        PMatchOp::NotRe(_) => MatchOp::NotRegex,
    };
    Matcher::new(op, m.name.clone(), m.value.clone())
        .map_err(|e| QueryError::BadData(e.to_string()))
}

/// The matcher sets of a selector (more than one for `{a="x" or b="y"}`), the metric name included.
pub(crate) fn matcher_sets(vs: &VectorSelector) -> Result<Vec<Vec<Matcher>>, QueryError> {
    let mut sets = Vec::new();
    let mut base: Vec<&PMatcher> = vs.matchers.matchers.iter().collect();
    let name_matcher;
    if let Some(name) = &vs.name
        && !base.iter().any(|m| {
            m.name == lookout_model::METRIC_NAME && m.op == PMatchOp::Equal && m.value == *name
        })
    {
        name_matcher = PMatcher::new(PMatchOp::Equal, lookout_model::METRIC_NAME, name);
        base.push(&name_matcher);
    }
    if vs.matchers.or_matchers.is_empty() {
        sets.push(
            base.iter()
                .map(|m| convert(m))
                .collect::<Result<Vec<_>, _>>()?,
        );
    } else {
        for alt in &vs.matchers.or_matchers {
            let mut set: Vec<Matcher> =
                base.iter().map(|m| convert(m)).collect::<Result<_, _>>()?;
            for m in alt {
                set.push(convert(m)?);
            }
            sets.push(set);
        }
    }
    for set in &mut sets {
        set.retain(|m| !crate::extended_syntax::is_marker(m));
    }
    Ok(sets)
}

/// The `anchored`/`smoothed` modifier of a selector.
pub(crate) fn modifier_of(vs: &VectorSelector) -> Option<Modifier> {
    crate::extended_syntax::selector_modifier(&vs.matchers.matchers)
}

impl Evaluator<'_> {
    /// Selects the series of `vs` with samples in `[mint, maxt]`, calling `f` once per series in label order.
    pub(crate) fn for_each_series(
        &self,
        vs: &VectorSelector,
        mint: i64,
        maxt: i64,
        f: impl FnMut(Loaded) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let sets = matcher_sets(vs)?;
        self.for_each_selected(&sets, mint, maxt, f)
    }

    /// Like [`Self::for_each_series`] for explicit matcher sets (their union).
    pub(crate) fn for_each_selected(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        mut f: impl FnMut(Loaded) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let hints = SelectHints::samples(TimeRange::new(mint, maxt));
        let budget = &self.env.budget;
        if sets.len() == 1 {
            let set = self.env.querier.select(&sets[0], hints)?;
            for series in set {
                f(self.load(series?)?)?;
            }
            return Ok(());
        }
        // Alternatives may select the same series; union them by labels.
        let mut all: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        for m in sets {
            for series in self.env.querier.select(m, hints)? {
                let mut series = series?;
                if all.contains_key(&series.labels) {
                    continue;
                }
                let mut samples = Vec::new();
                series.samples.collect_into(&mut samples);
                budget.loaded(samples.len());
                all.insert(series.labels, samples);
            }
        }
        for (labels, samples) in all {
            f(Loaded { labels, samples })?;
        }
        Ok(())
    }

    /// Like [`Self::for_each_selected`], but each series is loaded (its samples decoded) and turned into a result
    /// by `map` on the query threads, [`par::BATCH`] series at a time; `sink` receives the results on this thread
    /// in label order, folding one batch while the threads work on the next.
    pub(crate) fn map_selected<T: Send>(
        &self,
        sets: &[Vec<Matcher>],
        mint: i64,
        maxt: i64,
        map: impl Fn(Loaded) -> Result<T, QueryError> + Sync + Send,
        mut sink: impl FnMut(T) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        if sets.len() != 1 {
            // Alternatives are united by labels first (their samples decoded here), then mapped in batches.
            let mut all = Vec::new();
            self.for_each_selected(sets, mint, maxt, |loaded| {
                all.push(loaded);
                Ok(())
            })?;
            let mut all = all.into_iter();
            return par::pipeline(
                || Ok(all.by_ref().take(par::BATCH).collect()),
                &map,
                |r| sink(r?),
            );
        }
        let load = |series: lookout_storage::Series<'_>| map(self.load(series)?);
        let hints = SelectHints::samples(TimeRange::new(mint, maxt));
        let mut set = self.env.querier.select(&sets[0], hints)?;
        par::pipeline(
            || {
                set.by_ref()
                    .take(par::BATCH)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(QueryError::from)
            },
            load,
            |r| sink(r?),
        )
    }

    /// Decodes a selected series' samples, counting them as loaded.
    fn load(&self, mut series: lookout_storage::Series<'_>) -> Result<Loaded, QueryError> {
        let budget = &self.env.budget;
        budget.check("series selection")?;
        let mut samples = Vec::with_capacity(series.estimated_samples.min(1 << 16));
        series.samples.collect_into(&mut samples);
        budget.loaded(samples.len());
        Ok(Loaded {
            labels: series.labels,
            samples,
        })
    }

    /// The reference times (evaluation time adjusted by `@` and `offset`) of the first and last step.
    pub(crate) fn ref_bounds(&self, at: Option<i64>, offset: i64) -> (i64, i64) {
        match at {
            Some(a) => (a - offset, a - offset),
            None => (self.start - offset, self.end - offset),
        }
    }

    /// An instant vector selector: per step, the newest sample within the lookback window unless stale.
    pub(crate) fn eval_vector_selector(&self, vs: &VectorSelector) -> Result<Matrix, QueryError> {
        self.vector_selector_points(vs, false)
    }

    /// Like [`Self::eval_vector_selector`]; with `sample_times` each point's value is its sample's timestamp
    /// in seconds (for `timestamp()`).
    pub(crate) fn vector_selector_points(
        &self,
        vs: &VectorSelector,
        sample_times: bool,
    ) -> Result<Matrix, QueryError> {
        if modifier_of(vs) == Some(Modifier::Smoothed) && !sample_times {
            return self.smoothed_selector(vs);
        }
        let mode = if sample_times {
            PointValue::TimestampSeconds
        } else {
            PointValue::Value
        };
        self.instant_points(
            &matcher_sets(vs)?,
            self.at_ms(&vs.at),
            offset_ms(&vs.offset),
            mode,
        )
    }

    /// Instant-vector points of the series the matcher sets select, per step the newest sample in the
    /// lookback window before `at` (or the step) minus `offset`.
    pub(crate) fn instant_points(
        &self,
        sets: &[Vec<Matcher>],
        at: Option<i64>,
        offset: i64,
        mode: PointValue,
    ) -> Result<Matrix, QueryError> {
        let mut out = Vec::new();
        let budget = &self.env.budget;
        self.instant_points_into(sets, at, offset, mode, &mut |s| {
            budget.acquire(s.points.len())?;
            out.push(s);
            Ok(())
        })?;
        Ok(out)
    }

    /// Like [`Self::instant_points`], handing each series to `sink` as soon as it is computed.
    pub(crate) fn instant_points_into(
        &self,
        sets: &[Vec<Matcher>],
        at: Option<i64>,
        offset: i64,
        mode: PointValue,
        sink: &mut dyn FnMut(Series) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let lookback = self.env.opts.lookback_delta_ms;
        let (lo, hi) = self.ref_bounds(at, offset);
        let budget = &self.env.budget;
        self.map_selected(
            sets,
            lo - lookback + 1,
            hi,
            |loaded| {
                budget.acquire(loaded.samples.len())?;
                let samples = &loaded.samples;
                let mut points = Vec::with_capacity(self.points_capacity(samples.len(), lookback));
                let mut idx = 0usize; // first sample after the current reference time
                for (k, ts) in self.steps().enumerate() {
                    // A subquery's grid can have billions of steps: the query's time limit must stop it. Every
                    // 1,024th step is often enough, and spares the shared check counter a write per point.
                    if k % 1024 == 0 {
                        budget.check("selector")?;
                    }
                    let r = at.unwrap_or(ts) - offset;
                    while idx < samples.len() && samples[idx].t <= r {
                        idx += 1;
                    }
                    if idx == 0 {
                        continue;
                    }
                    let s = samples[idx - 1];
                    if s.t <= r - lookback || s.is_stale() {
                        continue;
                    }
                    let v = match mode {
                        PointValue::Value => s.v,
                        PointValue::TimestampSeconds => s.t as f64 / 1000.0,
                        PointValue::TimestampMs => s.t as f64,
                    };
                    points.push(Sample::new(ts, v));
                }
                budget.release(loaded.samples.len());
                Ok((!points.is_empty()).then_some(Series {
                    labels: loaded.labels,
                    points,
                    drop_name: false,
                }))
            },
            |series| match series {
                Some(s) => sink(s),
                None => Ok(()),
            },
        )
    }

    /// A `smoothed` instant selector: per step the value interpolated at the reference time from the
    /// samples within one lookback on either side.
    fn smoothed_selector(&self, vs: &VectorSelector) -> Result<Matrix, QueryError> {
        let at = self.at_ms(&vs.at);
        let offset = offset_ms(&vs.offset);
        let lookback = self.env.opts.lookback_delta_ms;
        let (lo, hi) = self.ref_bounds(at, offset);
        let budget = &self.env.budget;
        let mut out = Vec::new();
        self.for_each_series(vs, lo - lookback + 1, hi + lookback, |loaded| {
            budget.acquire(loaded.samples.len())?;
            let samples: Vec<Sample> = loaded
                .samples
                .iter()
                .copied()
                .filter(|s| !s.is_stale())
                .collect();
            let mut points = Vec::new();
            for ts in self.steps() {
                let r = at.unwrap_or(ts) - offset;
                let from = samples.partition_point(|s| s.t <= r - lookback);
                let to = samples.partition_point(|s| s.t <= r + lookback);
                if let Some(v) = smoothed_value(&samples[from..to], r) {
                    points.push(Sample::new(ts, v));
                }
            }
            budget.release(loaded.samples.len());
            if !points.is_empty() {
                budget.acquire(points.len())?;
                out.push(Series {
                    labels: loaded.labels,
                    points,
                    drop_name: false,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// A range vector selector evaluated once (instant query): raw samples in `(ref - range, ref]`.
    pub(crate) fn eval_matrix_selector(&self, ms: &MatrixSelector) -> Result<Matrix, QueryError> {
        if !self.is_instant() {
            return Err(QueryError::Execution(
                "cannot do range evaluation of matrix selector".into(),
            ));
        }
        let at = self.at_ms(&ms.vs.at);
        let offset = offset_ms(&ms.vs.offset);
        let range = dur_ms(&ms.range);
        let r = at.unwrap_or(self.start) - offset;
        let budget = &self.env.budget;
        let modifier = modifier_of(&ms.vs);
        let lookback = self.env.opts.lookback_delta_ms;
        let (lo, hi) = match modifier {
            None => (r - range, r),
            Some(Modifier::Anchored) => (r - range - lookback, r),
            Some(Modifier::Smoothed) => (r - range - lookback, r + lookback),
        };
        let mut out = Vec::new();
        self.for_each_series(&ms.vs, lo + 1, hi, |loaded| {
            let window: Vec<Sample> = loaded
                .samples
                .into_iter()
                .filter(|s| s.t > lo && s.t <= hi && !s.is_stale())
                .collect();
            let points = match modifier {
                None => window,
                Some(m) => extend_floats(&window, r - range, r, m == Modifier::Smoothed),
            };
            if !points.is_empty() {
                budget.acquire(points.len())?;
                out.push(Series {
                    labels: loaded.labels,
                    points,
                    drop_name: false,
                });
            }
            Ok(())
        })?;
        Ok(out)
    }
}
