//! Step-wise evaluation split into contiguous ranges of steps run on the query threads: the steps of a binary
//! operator are independent, so each range builds its own output, and the ranges are joined in step order. The
//! answer is the one [`Evaluator::range_eval`] gives: series appear in first-seen order, and the first error
//! in step order is the one returned.

use rustc_hash::FxHashMap as HashMap;

use lookout_model::Labels;

use super::{Evaluator, Matrix, OutputBuilder, Series, Vector, gather, points};
use crate::QueryError;
use crate::par;

/// Below this many input points a query is evaluated on one thread (splitting costs more than it saves).
const MIN_POINTS: usize = 20_000;

/// Below this many steps per range a split is not worth it.
const MIN_STEPS_PER_RANGE: usize = 16;

impl Evaluator<'_> {
    /// Like [`Self::range_eval`], with the step function made per range of steps by `make` (its per-step
    /// state, such as matching caches, stays within one range).
    pub(crate) fn range_eval_split<F>(
        &self,
        inputs: &[Matrix],
        make: impl Fn() -> F + Sync,
    ) -> Result<Matrix, QueryError>
    where
        F: FnMut(i64, &mut [Vector]) -> Result<Vector, QueryError>,
    {
        let threads = par::query_threads().map_or(1, |p| p.current_num_threads());
        let input_points: usize = inputs.iter().map(points).sum();
        let ranges = (threads * 2).min(self.num_steps() / MIN_STEPS_PER_RANGE);
        if self.is_instant() || threads < 2 || ranges < 2 || input_points < MIN_POINTS {
            return self.range_eval(inputs, make());
        }
        let steps: Vec<i64> = self.steps().collect();
        let per_range = steps.len().div_ceil(ranges);
        let parts = par::map_ordered(steps.chunks(per_range).collect(), |range: &[i64]| {
            self.eval_step_range(inputs, range, make())
        });
        let mut out: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::default();
        for part in parts {
            for s in part? {
                match index.get(&s.labels) {
                    Some(&i) => out[i].points.extend(s.points),
                    None => {
                        index.insert(s.labels.clone(), out.len());
                        out.push(s);
                    }
                }
            }
        }
        // The inputs are consumed; the output is what stays in memory.
        self.env.budget.release(input_points);
        self.env.budget.acquire(points(&out))?;
        Ok(out)
    }

    /// The output series of `f` over the steps `range` (ascending).
    fn eval_step_range(
        &self,
        inputs: &[Matrix],
        range: &[i64],
        mut f: impl FnMut(i64, &mut [Vector]) -> Result<Vector, QueryError>,
    ) -> Result<Matrix, QueryError> {
        let first = range.first().copied().unwrap_or(i64::MAX);
        let mut cursors: Vec<Vec<usize>> = inputs
            .iter()
            .map(|m| {
                m.iter()
                    .map(|s| s.points.partition_point(|p| p.t < first))
                    .collect()
            })
            .collect();
        let mut vectors: Vec<Vector> = inputs.iter().map(|_| Vec::new()).collect();
        let mut out = OutputBuilder::new(false);
        for &ts in range {
            self.env.budget.check("expression evaluation")?;
            for (i, m) in inputs.iter().enumerate() {
                gather(ts, m, &mut cursors[i], &mut vectors[i]);
            }
            let result = f(ts, &mut vectors)?;
            out.add_step(ts, result)?;
        }
        Ok(out.finish())
    }
}
