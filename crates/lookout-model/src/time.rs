//! Time ranges in milliseconds.

/// An inclusive range of millisecond timestamps `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// First millisecond included.
    pub min: i64,
    /// Last millisecond included.
    pub max: i64,
}

impl TimeRange {
    /// The range covering all representable times.
    pub const ALL: TimeRange = TimeRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    /// Builds `[min, max]`.
    pub fn new(min: i64, max: i64) -> Self {
        TimeRange { min, max }
    }

    /// True when `t` lies inside the range.
    #[inline]
    pub fn contains(&self, t: i64) -> bool {
        t >= self.min && t <= self.max
    }

    /// True when the two inclusive ranges share at least one millisecond.
    #[inline]
    pub fn overlaps(&self, min: i64, max: i64) -> bool {
        min <= self.max && max >= self.min
    }

    /// True when the range holds no millisecond.
    pub fn is_empty(&self) -> bool {
        self.min > self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_inclusive() {
        let r = TimeRange::new(10, 20);
        assert!(r.overlaps(20, 30));
        assert!(r.overlaps(0, 10));
        assert!(!r.overlaps(21, 30));
        assert!(r.contains(10) && r.contains(20) && !r.contains(21));
        assert!(TimeRange::new(5, 4).is_empty());
    }
}
