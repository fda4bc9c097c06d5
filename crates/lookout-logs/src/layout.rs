//! Where an entry's partition is: partitions are disjoint half-open time ranges `[start, end)` in whole UTC
//! seconds, named `<start>_<end>` (`20261205T000000Z_20261206T000000Z`) under `index/`. A new partition is aligned
//! to the period (UTC days by default) and clipped to its neighbours, so a changed period never makes two
//! partitions overlap; an entry goes to the partition holding its timestamp, the same one at commit and at replay.

use std::collections::BTreeMap;

const NS: i128 = 1_000_000_000;

/// A partition's bounds in Unix seconds, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounds {
    /// Inclusive start (s).
    pub start: i64,
    /// Exclusive end (s).
    pub end: i64,
}

impl Bounds {
    /// Whether `ts` (ns) falls inside.
    pub fn holds(&self, ts: i64) -> bool {
        let ts = ts as i128;
        self.start as i128 * NS <= ts && ts < self.end as i128 * NS
    }

    /// Whether the partition may hold entries of `[start, end)` (ns).
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        (self.start as i128 * NS) < end as i128 && (start as i128) < self.end as i128 * NS
    }

    /// The start in ns (saturating).
    pub fn start_ns(&self) -> i64 {
        clamp_ns(self.start as i128 * NS)
    }

    /// The end in ns (saturating).
    pub fn end_ns(&self) -> i64 {
        clamp_ns(self.end as i128 * NS)
    }

    /// The directory name.
    pub fn name(&self) -> String {
        format!("{}_{}", format_utc(self.start), format_utc(self.end))
    }

    /// Parses a directory name written by [`Bounds::name`].
    pub fn parse(name: &str) -> Option<Bounds> {
        let (a, b) = name.split_once('_')?;
        let b = Bounds {
            start: parse_utc(a)?,
            end: parse_utc(b)?,
        };
        (b.start < b.end).then_some(b)
    }
}

fn clamp_ns(v: i128) -> i64 {
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// The set of partitions, by start.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    by_start: BTreeMap<i64, Bounds>,
}

impl Layout {
    /// Adds a partition (the caller keeps them disjoint).
    pub fn insert(&mut self, b: Bounds) {
        self.by_start.insert(b.start, b);
    }

    /// Removes a partition.
    pub fn remove(&mut self, b: &Bounds) {
        self.by_start.remove(&b.start);
    }

    /// The existing partition holding `ts` (ns).
    pub fn find(&self, ts: i64) -> Option<Bounds> {
        let secs = ts.div_euclid(NS as i64);
        self.by_start
            .range(..=secs)
            .next_back()
            .map(|(_, b)| *b)
            .filter(|b| b.holds(ts))
    }

    /// The partition `ts` (ns) belongs in: the existing one holding it, else a new one aligned to `period_secs`
    /// and clipped to its neighbours (not inserted).
    pub fn locate(&self, ts: i64, period_secs: i64) -> (Bounds, bool) {
        if let Some(b) = self.find(ts) {
            return (b, true);
        }
        let secs = ts.div_euclid(NS as i64);
        let period = period_secs.max(1);
        let mut start = secs.div_euclid(period).saturating_mul(period);
        let mut end = start.saturating_add(period);
        if let Some((_, prev)) = self.by_start.range(..=secs).next_back() {
            start = start.max(prev.end);
        }
        if let Some((_, next)) = self.by_start.range(secs + 1..).next() {
            end = end.min(next.start);
        }
        (Bounds { start, end }, false)
    }
}

/// `YYYYMMDDTHHMMSSZ` of Unix seconds.
pub fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_days_align() {
        let day = 86_400;
        let b = Bounds {
            start: 20_792 * day,
            end: 20_793 * day,
        };
        assert_eq!(b.name(), "20261205T000000Z_20261206T000000Z");
        assert_eq!(Bounds::parse(&b.name()), Some(b));
        for secs in [
            -86_401,
            -1,
            0,
            59,
            951_782_400,
            4_107_542_399,
            9_223_372_036,
        ] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs), "{secs}");
        }
        assert_eq!(Bounds::parse("index"), None);
        assert_eq!(Bounds::parse("20261205T000000Z_20261205T000000Z"), None);
    }

    #[test]
    fn new_partitions_are_aligned_then_clipped_to_their_neighbours() {
        let ns = 1_000_000_000i64;
        let mut l = Layout::default();
        let (b, exists) = l.locate(90_000 * ns + 5, 86_400);
        assert!(!exists);
        assert_eq!((b.start, b.end), (86_400, 172_800));
        l.insert(b);
        assert_eq!(l.locate(172_799 * ns, 86_400), (b, true));
        // A longer period later: the new partition stops where the old one starts.
        let (c, _) = l.locate(3_600 * ns, 7 * 86_400);
        assert_eq!((c.start, c.end), (0, 86_400));
        let (d, _) = l.locate(200_000 * ns, 7 * 86_400);
        assert_eq!((d.start, d.end), (172_800, 604_800));
        assert!(b.holds(86_400 * ns) && !b.holds(172_800 * ns));
        assert!(b.overlaps(0, 86_400 * ns + 1) && !b.overlaps(0, 86_400 * ns));
        assert!(b.overlaps(172_800 * ns - 1, i64::MAX) && !b.overlaps(172_800 * ns, i64::MAX));
        // Extremes do not overflow.
        let (e, _) = l.locate(i64::MAX, 86_400);
        assert!(e.holds(i64::MAX));
        let (f, _) = l.locate(i64::MIN, 86_400);
        assert!(f.holds(i64::MIN));
    }
}
