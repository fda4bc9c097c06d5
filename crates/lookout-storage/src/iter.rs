//! Sample iterators and the merge of two sorted streams.

use lookout_model::Sample;

/// A stream of samples in strictly increasing time order.
pub trait SampleIter: Send {
    /// The next sample, or `None` at the end.
    fn next(&mut self) -> Option<Sample>;

    /// Advances to the first sample with timestamp ≥ `t` and returns it.
    fn seek(&mut self, t: i64) -> Option<Sample> {
        loop {
            let s = self.next()?;
            if s.t >= t {
                return Some(s);
            }
        }
    }

    /// Appends all remaining samples to `out`.
    fn collect_into(&mut self, out: &mut Vec<Sample>) {
        while let Some(s) = self.next() {
            out.push(s);
        }
    }
}

/// Iterates over an owned vector of samples.
#[derive(Debug, Clone, Default)]
pub struct VecSampleIter {
    samples: Vec<Sample>,
    pos: usize,
}

impl VecSampleIter {
    /// Wraps samples already in time order.
    pub fn new(samples: Vec<Sample>) -> Self {
        VecSampleIter { samples, pos: 0 }
    }
}

impl SampleIter for VecSampleIter {
    fn next(&mut self) -> Option<Sample> {
        let s = self.samples.get(self.pos).copied();
        self.pos += 1;
        s
    }

    fn seek(&mut self, t: i64) -> Option<Sample> {
        let rest = &self.samples[self.pos.min(self.samples.len())..];
        self.pos += rest.partition_point(|s| s.t < t);
        self.next()
    }

    fn collect_into(&mut self, out: &mut Vec<Sample>) {
        if self.pos < self.samples.len() {
            out.extend_from_slice(&self.samples[self.pos..]);
        }
        self.pos = self.samples.len();
    }
}

/// Merges two time-ordered streams; on equal timestamps the first stream's sample wins.
pub struct MergeSampleIter<'a> {
    a: Box<dyn SampleIter + 'a>,
    b: Box<dyn SampleIter + 'a>,
    next_a: Option<Sample>,
    next_b: Option<Sample>,
}

impl<'a> MergeSampleIter<'a> {
    /// Merges `a` (preferred) with `b`.
    pub fn new(mut a: Box<dyn SampleIter + 'a>, mut b: Box<dyn SampleIter + 'a>) -> Self {
        let next_a = a.next();
        let next_b = b.next();
        MergeSampleIter {
            a,
            b,
            next_a,
            next_b,
        }
    }
}

impl SampleIter for MergeSampleIter<'_> {
    fn next(&mut self) -> Option<Sample> {
        match (self.next_a, self.next_b) {
            (None, None) => None,
            (Some(x), None) => {
                self.next_a = self.a.next();
                Some(x)
            }
            (None, Some(y)) => {
                self.next_b = self.b.next();
                Some(y)
            }
            (Some(x), Some(y)) => {
                if x.t < y.t {
                    self.next_a = self.a.next();
                    Some(x)
                } else if y.t < x.t {
                    self.next_b = self.b.next();
                    Some(y)
                } else {
                    self.next_a = self.a.next();
                    self.next_b = self.b.next();
                    Some(x)
                }
            }
        }
    }

    /// Drains each stream whole (one call into each instead of two per sample) straight into `out`; the usual case,
    /// persisted samples all before the head's, needs nothing more, and overlapping runs are merged afterwards.
    fn collect_into(&mut self, out: &mut Vec<Sample>) {
        let start = out.len();
        if let Some(x) = self.next_a.take() {
            out.push(x);
            self.a.collect_into(out);
        }
        let mid = out.len();
        if let Some(y) = self.next_b.take() {
            out.push(y);
            self.b.collect_into(out);
        }
        if start < mid && mid < out.len() && out[mid - 1].t >= out[mid].t {
            let runs = out.split_off(start);
            let (a, b) = runs.split_at(mid - start);
            merge_sorted(a, b, out);
        }
    }
}

/// Appends the merge of two time-ordered runs to `out`; on equal timestamps `a`'s sample wins.
fn merge_sorted(a: &[Sample], b: &[Sample], out: &mut Vec<Sample>) {
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x.t <= y.t {
            out.push(x);
            i += 1;
            j += usize::from(x.t == y.t);
        } else {
            out.push(y);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn it(ts: &[i64]) -> Box<dyn SampleIter> {
        Box::new(VecSampleIter::new(
            ts.iter().map(|&t| Sample::new(t, t as f64)).collect(),
        ))
    }

    #[test]
    fn merge_interleaves_and_prefers_first_on_ties() {
        let a: Box<dyn SampleIter> = Box::new(VecSampleIter::new(vec![
            Sample::new(2, 20.0),
            Sample::new(5, 5.0),
        ]));
        let mut m = MergeSampleIter::new(a, it(&[1, 2, 3]));
        let mut out = Vec::new();
        m.collect_into(&mut out);
        let got: Vec<_> = out.iter().map(|s| (s.t, s.v)).collect();
        assert_eq!(got, vec![(1, 1.0), (2, 20.0), (3, 3.0), (5, 5.0)]);
    }

    #[test]
    fn collecting_a_merge_equals_its_samples_one_by_one() {
        let cases: [(&[i64], &[i64]); 7] = [
            (&[1, 2, 3], &[4, 5]),
            (&[4, 5], &[1, 2, 3]),
            (&[1, 3, 5, 7], &[2, 3, 4, 8, 9]),
            (&[], &[1, 2]),
            (&[1, 2], &[]),
            (&[], &[]),
            (&[5], &[5]),
        ];
        for (a, b) in cases {
            // `a`'s samples carry a value unlike `b`'s, so a tie shows which one won.
            let a_iter = || -> Box<dyn SampleIter> {
                Box::new(VecSampleIter::new(
                    a.iter().map(|&t| Sample::new(t, -(t as f64))).collect(),
                ))
            };
            let mut one_by_one = Vec::new();
            let mut m = MergeSampleIter::new(a_iter(), it(b));
            while let Some(s) = m.next() {
                one_by_one.push((s.t, s.v));
            }
            let mut collected = vec![Sample::new(-1, 0.0)];
            MergeSampleIter::new(a_iter(), it(b)).collect_into(&mut collected);
            let collected: Vec<_> = collected[1..].iter().map(|s| (s.t, s.v)).collect();
            assert_eq!(collected, one_by_one, "a = {a:?}, b = {b:?}");
        }
        // After a few samples taken one by one, collecting takes the rest.
        let mut m = MergeSampleIter::new(it(&[1, 3, 5]), it(&[2, 4]));
        assert_eq!(m.next().map(|s| s.t), Some(1));
        let mut rest = Vec::new();
        m.collect_into(&mut rest);
        assert_eq!(rest.iter().map(|s| s.t).collect::<Vec<_>>(), [2, 3, 4, 5]);
    }

    #[test]
    fn vec_seek_skips_to_first_not_before() {
        let mut v = VecSampleIter::new((0..10).map(|t| Sample::new(t * 10, 0.0)).collect());
        assert_eq!(v.seek(35).map(|s| s.t), Some(40));
        assert_eq!(v.next().map(|s| s.t), Some(50));
        assert_eq!(v.seek(1000), None);
    }
}
