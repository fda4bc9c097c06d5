//! Time ranges in milliseconds, and the proleptic Gregorian calendar arithmetic every RFC 3339 reader and writer
//! needs (Howard Hinnant's day-count algorithms).

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

/// The (year, month 1–12, day 1–31) of a day count relative to 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The day count relative to 1970-01-01 of a (year, month 1–12, day) date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod calendar_tests {
    use super::*;

    #[test]
    fn day_counts_and_dates_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, day) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, day), d);
        }
    }
}
