//! Samples and the staleness marker.

/// The bit pattern Prometheus writes as a staleness marker: a signalling NaN distinct from the ordinary NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`.
#[inline]
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True when `v` is exactly the staleness marker (an ordinary NaN is not).
#[inline]
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample: a millisecond Unix timestamp and a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; may be NaN, ±Inf or the stale marker.
    pub v: f64,
}

impl Sample {
    /// Builds a sample.
    #[inline]
    pub fn new(t: i64, v: f64) -> Self {
        Sample { t, v }
    }

    /// True when the value is the staleness marker.
    #[inline]
    pub fn is_stale(&self) -> bool {
        is_stale_nan(self.v)
    }

    /// Bitwise equality (distinguishes NaN payloads and -0.0 from 0.0), as storage needs.
    #[inline]
    pub fn bits_eq(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: plain decimal, `NaN`, `+Inf`, `-Inf` (how
/// Loki prints values and PromQL's `count_values` labels them).
pub fn format_plain(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_not_plain_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(stale_nan().is_nan());
        assert!(!is_stale_nan(f64::NAN));
        assert!(Sample::new(1, stale_nan()).is_stale());
    }
}
