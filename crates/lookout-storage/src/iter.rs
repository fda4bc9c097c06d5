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
    fn vec_seek_skips_to_first_not_before() {
        let mut v = VecSampleIter::new((0..10).map(|t| Sample::new(t * 10, 0.0)).collect());
        assert_eq!(v.seek(35).map(|s| s.t), Some(40));
        assert_eq!(v.next().map(|s| s.t), Some(50));
        assert_eq!(v.seek(1000), None);
    }
}
