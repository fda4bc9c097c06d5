//! Functions over a range vector (`rate(x[5m])`, `max_over_time(q[1h:1m])`), evaluated one series at a time
//! so raw samples of only one series are held at once.

use lookout_model::{Labels, Sample};
use promql_parser::parser::{Call, Expr};

use super::selector::modifier_of;
use super::{Evaluator, Matrix, Series, dur_ms, offset_ms};
use crate::QueryError;
use crate::annotations::{PendingNotes, invalid_quantile, possible_non_counter};
use crate::functions::range::counter::extrapolated_rate_with_resets;
use crate::functions::range::{
    RangeFn, RangeModifier, check_range_fn_args, eval_extended_range_fn, eval_range_fn,
    predict_linear_at,
};

/// Where the windows come from and how they are placed.
struct WindowSpec {
    at: Option<i64>,
    offset: i64,
    range: i64,
    /// The `anchored`/`smoothed` modifier, which widens the window by `extra_before`/`extra_after`.
    modifier: Option<RangeModifier>,
    extra_before: i64,
    extra_after: i64,
}

impl Evaluator<'_> {
    /// Evaluates `name(args)` where `args[matrix_idx]` is a matrix selector or subquery.
    pub(crate) fn eval_range_call(
        &self,
        name: &str,
        call: &Call,
        matrix_idx: usize,
    ) -> Result<Matrix, QueryError> {
        let mut out: Matrix = Vec::new();
        let budget = &self.env.budget;
        self.range_call_into(name, call, matrix_idx, &mut |s| {
            budget.acquire(s.points.len())?;
            out.push(s);
            Ok(())
        })?;
        if name == "absent_over_time" {
            return Ok(self.absent_over_time(out, call));
        }
        Ok(out)
    }

    /// Like [`Self::eval_range_call`], handing each output series to `sink` as soon as it is computed
    /// (for aggregations that fold series without holding them). `absent_over_time` yields the
    /// per-series presence here; [`Self::eval_range_call`] turns it into absence.
    pub(crate) fn range_call_into(
        &self,
        name: &str,
        call: &Call,
        matrix_idx: usize,
        sink: &mut dyn FnMut(Series) -> Result<(), QueryError>,
    ) -> Result<(), QueryError> {
        let kernel = if name == "absent_over_time" {
            None
        } else {
            Some(RangeFn::from_name(name).ok_or_else(|| {
                QueryError::Execution(format!(
                    "function {name:?} over a range vector is not supported"
                ))
            })?)
        };
        // Scalar parameters, one value per step.
        let mut params: Vec<Vec<f64>> = Vec::new();
        for (i, a) in call.args.args.iter().enumerate() {
            if i == matrix_idx {
                continue;
            }
            params.push(self.scalar_per_step(a)?);
        }

        // last/first_over_time act like an offset and keep the name; everything else drops it.
        let drop_name = !matches!(name, "last_over_time" | "first_over_time");
        let is_rate = matches!(name, "rate" | "increase");
        let budget = &self.env.budget;

        // One series' points, and the annotations it raised. Runs on the query threads, so it neither adds
        // annotations nor calls the sink itself.
        let per_series = |labels: Labels,
                          samples: &[Sample],
                          input_drop: bool,
                          spec: &WindowSpec|
         -> Result<(Option<Series>, PendingNotes), QueryError> {
            budget.check("expression evaluation")?;
            let mut notes = PendingNotes::default();
            let mut args_buf: Vec<f64> = Vec::with_capacity(params.len());
            // The last out-of-range quantile warned about, so a constant φ is not re-formatted per step.
            let mut warned_quantile: Option<u64> = None;
            let mut points = Vec::with_capacity(self.points_capacity(
                samples.len(),
                spec.range + spec.extra_before + spec.extra_after,
            ));
            // rate/increase: the series' counter resets (index of the sample after each drop), found once.
            let counter_fast = spec.modifier.is_none()
                && matches!(kernel, Some(RangeFn::Rate | RangeFn::Increase));
            let resets: Vec<usize> = if counter_fast {
                (1..samples.len())
                    .filter(|&i| samples[i].v < samples[i - 1].v)
                    .collect()
            } else {
                Vec::new()
            };
            let mut first_reset = 0usize;
            let (mut lo, mut hi) = (0usize, 0usize);
            for (step, ts) in self.steps().enumerate() {
                let r = spec.at.unwrap_or(ts) - spec.offset;
                let from = r - spec.range;
                while hi < samples.len() && samples[hi].t <= r + spec.extra_after {
                    hi += 1;
                }
                while lo < hi && samples[lo].t <= from - spec.extra_before {
                    lo += 1;
                }
                let window = &samples[lo..hi.max(lo)];
                if window.is_empty() {
                    continue;
                }
                args_buf.clear();
                args_buf.extend(
                    params
                        .iter()
                        .map(|p| p.get(step).copied().unwrap_or(f64::NAN)),
                );
                if name == "quantile_over_time" {
                    let q = args_buf[0];
                    if (q.is_nan() || !(0.0..=1.0).contains(&q))
                        && warned_quantile != Some(q.to_bits())
                    {
                        notes.warn(invalid_quantile(q));
                        warned_quantile = Some(q.to_bits());
                    }
                }
                let v = match kernel {
                    None => Some(1.0),
                    Some(k) => {
                        if let Err(e) = check_range_fn_args(k, &args_buf) {
                            return Err(QueryError::Execution(e.to_string()));
                        }
                        if let Some(m) = spec.modifier {
                            eval_extended_range_fn(k, window, from, r, m)
                        } else if counter_fast {
                            // Resets inside the window: pairs (i - 1, i) with lo < i < hi.
                            while first_reset < resets.len() && resets[first_reset] <= lo {
                                first_reset += 1;
                            }
                            let inside = resets[first_reset..]
                                .iter()
                                .take_while(|&&i| i < hi)
                                .map(|&i| samples[i - 1].v);
                            extrapolated_rate_with_resets(
                                window,
                                from,
                                r,
                                true,
                                k == RangeFn::Rate,
                                inside,
                            )
                        } else if k == RangeFn::PredictLinear {
                            // The line is anchored at the evaluation time, not at the offset window end.
                            predict_linear_at(window, ts, args_buf[0])
                        } else {
                            eval_range_fn(k, window, from, r, &args_buf)
                        }
                    }
                };
                if let Some(v) = v {
                    points.push(Sample::new(ts, v));
                }
            }
            let metric = labels
                .metric_name()
                .filter(|_| is_rate && !points.is_empty());
            if let Some(metric) = metric
                && !["_total", "_sum", "_count", "_bucket"]
                    .iter()
                    .any(|s| metric.ends_with(s))
            {
                notes.info(possible_non_counter(metric));
            }
            let series = (!points.is_empty()).then_some(Series {
                labels,
                points,
                drop_name: drop_name || input_drop,
            });
            Ok((series, notes))
        };
        // Hands a series' result to the sink on this thread, its annotations first.
        let mut emit = |(series, notes): (Option<Series>, PendingNotes)| {
            self.env.annos.add_pending(notes);
            match series {
                Some(s) => sink(s),
                None => Ok(()),
            }
        };

        match crate::functions::unwrap_parens(&call.args.args[matrix_idx]) {
            Expr::MatrixSelector(ms) => {
                let modifier = modifier_of(&ms.vs);
                let lookback = self.env.opts.lookback_delta_ms;
                let (extra_before, extra_after) = match modifier {
                    None => (0, 0),
                    Some(RangeModifier::Anchored) => (lookback, 0),
                    Some(RangeModifier::Smoothed) => (lookback, lookback),
                };
                if let Some(m) = modifier
                    && !m.allowed_functions().contains(&name)
                {
                    return Err(QueryError::Execution(format!(
                        "{} modifier can only be used with: {} - not with {name}",
                        m.keyword(),
                        m.allowed_functions().join(", ")
                    )));
                }
                let spec = WindowSpec {
                    at: self.at_ms(&ms.vs.at),
                    offset: offset_ms(&ms.vs.offset),
                    range: dur_ms(&ms.range),
                    modifier,
                    extra_before,
                    extra_after,
                };
                let (lo, hi) = self.ref_bounds(spec.at, spec.offset);
                let (mint, maxt) = (lo - spec.range - extra_before + 1, hi + extra_after);
                self.map_selected(
                    &super::matcher_sets(&ms.vs)?,
                    mint,
                    maxt,
                    |loaded| {
                        let n = loaded.samples.len();
                        budget.acquire(n)?;
                        let samples: Vec<Sample> = loaded
                            .samples
                            .into_iter()
                            .filter(|s| !s.is_stale())
                            .collect();
                        let r = per_series(loaded.labels, &samples, false, &spec);
                        budget.release(n);
                        r
                    },
                    &mut emit,
                )?;
            }
            Expr::Subquery(sq) => {
                let spec = WindowSpec {
                    at: self.at_ms(&sq.at),
                    offset: offset_ms(&sq.offset),
                    range: dur_ms(&sq.range),
                    modifier: None,
                    extra_before: 0,
                    extra_after: 0,
                };
                let inner = self.eval_subquery_inner(sq)?;
                let held = super::points(&inner);
                let mut inner = inner.into_iter();
                loop {
                    let batch: Vec<Series> = inner.by_ref().take(crate::par::BATCH).collect();
                    if batch.is_empty() {
                        break;
                    }
                    let results = crate::par::map_ordered(batch, |s| {
                        per_series(s.labels, &s.points, s.drop_name, &spec)
                    });
                    for r in results {
                        emit(r?)?;
                    }
                }
                budget.release(held);
            }
            other => {
                return Err(QueryError::Execution(format!(
                    "expected a range vector argument to {name}, got {}",
                    other.value_type()
                )));
            }
        }

        Ok(())
    }

    /// Turns the per-series presence of `absent_over_time` into one series that is 1 where no series had data.
    fn absent_over_time(&self, present: Matrix, call: &Call) -> Matrix {
        let steps = self.num_steps();
        let mut found = std::collections::HashSet::new();
        for s in &present {
            for p in &s.points {
                found.insert(p.t);
            }
        }
        if found.len() == steps {
            return Vec::new();
        }
        let points: Vec<Sample> = self
            .steps()
            .filter(|t| !found.contains(t))
            .map(|t| Sample::new(t, 1.0))
            .collect();
        let labels = crate::functions::absent_labels(&call.args.args[0]);
        vec![Series {
            labels,
            points,
            drop_name: true,
        }]
    }
}
