//! Request parameters: URL query and form body merged with Go's `FormValue` semantics, times, durations, `match[]`.

use lookout_model::Matcher;

use crate::error::ApiError;

/// Parameters from the body (first, they win) and the URL query.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Merges a form body and a URL query string; body values come first so they win on look-up.
    pub fn new(query: Option<&str>, body: Option<&[u8]>) -> Self {
        let mut pairs = Vec::new();
        if let Some(b) = body {
            pairs.extend(form_urlencoded::parse(b).into_owned());
        }
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Params { pairs }
    }

    /// The first value of `name`, if any and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated parameter such as `match[]`.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A required parameter.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name)
            .ok_or_else(|| ApiError::bad_data(format!("invalid parameter \"{name}\": missing")))
    }

    /// A time parameter (float seconds or RFC 3339) in ms, or `default` when absent.
    pub fn time_or(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None => Ok(default),
            Some(s) => parse_time(s)
                .map_err(|e| ApiError::bad_data(format!("invalid parameter \"{name}\": {e}"))),
        }
    }

    /// A duration parameter (float seconds or Prometheus duration) in ms, if present.
    pub fn duration(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                parse_duration(s)
                    .map_err(|e| ApiError::bad_data(format!("invalid parameter \"{name}\": {e}")))
            })
            .transpose()
    }

    /// A non-negative integer parameter, 0 when absent.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.get("limit") {
            None => Ok(0),
            Some(s) => s.parse::<usize>().map_err(|_| {
                ApiError::bad_data(format!(
                    "invalid parameter \"limit\": cannot parse {s:?} to a valid limit"
                ))
            }),
        }
    }
}

/// Smallest and largest times Prometheus accepts as "unbounded" in ms.
pub const MIN_TIME_MS: i64 = -9_223_372_036_854_775;
/// See [`MIN_TIME_MS`].
pub const MAX_TIME_MS: i64 = 9_223_372_036_854_775;

/// Parses float seconds (`1700000000.123`) or RFC 3339 into ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() {
            return Err(format!("cannot parse {s:?} to a valid timestamp"));
        }
        let ms = (f * 1000.0).round();
        // Out-of-range values clamp, as Prometheus does for its min/max time sentinels.
        return Ok(ms.clamp(MIN_TIME_MS as f64, MAX_TIME_MS as f64) as i64);
    }
    httpdate_rfc3339(s).ok_or_else(|| format!("cannot parse {s:?} to a valid timestamp"))
}

fn httpdate_rfc3339(s: &str) -> Option<i64> {
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut i = 19;
    let mut frac_ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        let padded = format!("{digits:0<3}");
        frac_ms = padded[..3].parse().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' => 0,
        sign @ (b'+' | b'-') => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 60 + om;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 86400 + h * 3600 + mi * 60 + se - offset_min * 60) * 1000) + frac_ms)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// Parses float seconds (`15`, `0.5`) or a Prometheus duration (`1h30m`, `500ms`) into ms.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(f) = s.parse::<f64>() {
        if !f.is_finite() || f * 1000.0 > i64::MAX as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok((f * 1000.0).round() as i64);
    }
    let d: lookout_model::PromDuration = s
        .parse()
        .map_err(|e| format!("cannot parse {s:?} to a valid duration: {e}"))?;
    i64::try_from(d.as_millis())
        .map_err(|_| format!("cannot parse {s:?} to a valid duration. It overflows int64"))
}

/// Parses one `match[]` selector into matchers; it must match at least one non-empty value.
pub fn parse_match(selector: &str) -> Result<Vec<Matcher>, ApiError> {
    let bad = |e: String| ApiError::bad_data(format!("invalid parameter \"match[]\": {e}"));
    let matchers =
        lookout_promql::parse_metric_selector(selector).map_err(|e| bad(e.to_string()))?;
    if matchers.iter().all(|m| m.matches_empty()) {
        return Err(bad(
            "match[] must contain at least one non-empty matcher".into()
        ));
    }
    Ok(matchers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_both_forms() {
        assert_eq!(parse_time("1700000000").unwrap(), 1_700_000_000_000);
        assert_eq!(parse_time("1700000000.123").unwrap(), 1_700_000_000_123);
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z").unwrap(),
            1435781451781
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51+02:00").unwrap(),
            1435781451000
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn durations_parse_in_both_forms() {
        assert_eq!(parse_duration("15").unwrap(), 15_000);
        assert_eq!(parse_duration("0.5").unwrap(), 500);
        assert_eq!(parse_duration("1h30m").unwrap(), 5_400_000);
        assert_eq!(parse_duration("500ms").unwrap(), 500);
        assert_eq!(parse_duration("1m30s").unwrap(), 90_000);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn body_wins_over_url_and_matches_parse() {
        let p = Params::new(Some("query=a&match[]=up"), Some(b"query=b&match[]=x"));
        assert_eq!(p.get("query"), Some("b"));
        assert_eq!(p.get_all("match[]"), vec!["x", "up"]);
        let m = parse_match(r#"up{job=~"n.*"}"#).unwrap();
        assert_eq!(m.len(), 2);
        assert!(parse_match(r#"{job=~".*"}"#).is_err());
        assert!(parse_match("sum(up)").is_err());
    }
}
