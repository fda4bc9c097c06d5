//! Shared helpers of Lookout's benchmarks: a simple reader for nodegen's OpenMetrics datasets.

use std::collections::HashMap;
use std::io::BufRead;

use lookout_model::Labels;

/// One series of a dataset with all its samples (ms timestamps).
#[derive(Debug, Clone)]
pub struct DatasetSeries {
    /// The label set, `__name__` included.
    pub labels: Labels,
    /// Samples in time order.
    pub samples: Vec<(i64, f64)>,
}

/// Parses `name{a="b",...} value timestamp_seconds` lines (nodegen's and noisygen's `dataset` output; seconds with
/// or without a millisecond fraction) until `# EOF`.
pub fn read_dataset(r: impl BufRead) -> std::io::Result<Vec<DatasetSeries>> {
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<DatasetSeries> = Vec::new();
    for line in r.lines() {
        let line = line?;
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let bad =
            || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad line: {line}"));
        let mut parts = line.rsplitn(3, ' ');
        let ts_ms = parts.next().and_then(seconds_to_ms).ok_or_else(bad)?;
        let v: f64 = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let key = parts.next().ok_or_else(bad)?;
        let i = match index.get(key) {
            Some(&i) => i,
            None => {
                let labels = parse_series(key).ok_or_else(bad)?;
                out.push(DatasetSeries {
                    labels,
                    samples: Vec::new(),
                });
                index.insert(key.to_string(), out.len() - 1);
                out.len() - 1
            }
        };
        out[i].samples.push((ts_ms, v));
    }
    Ok(out)
}

/// `1795600800` or `1795600800.123` as milliseconds (at most three decimals, as the generators write).
fn seconds_to_ms(s: &str) -> Option<i64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: i64 = format!("{frac:0<3}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(1000)?
        .checked_add(ms)
}

/// Parses `name{a="b",c="d"}` (values without commas or quotes, as nodegen writes them).
pub fn parse_series(key: &str) -> Option<Labels> {
    let (name, rest) = match key.split_once('{') {
        Some((n, r)) => (n, r.strip_suffix('}')?),
        None => (key, ""),
    };
    let mut pairs: Vec<(&str, &str)> = vec![("__name__", name)];
    for kv in rest.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=')?;
        pairs.push((k, v.trim_matches('"')));
    }
    Labels::from_pairs(&pairs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nodegen_lines() {
        let text = "a_total{job=\"node\",instance=\"h:9100\"} 1.5 100\na_total{job=\"node\",instance=\"h:9100\"} 2 115\nb 1e+21 100\n# EOF\n";
        let d = read_dataset(text.as_bytes()).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].labels.get("instance"), Some("h:9100"));
        assert_eq!(d[0].samples, vec![(100_000, 1.5), (115_000, 2.0)]);
        assert_eq!(d[1].samples, vec![(100_000, 1e21)]);
    }

    #[test]
    fn parses_millisecond_fractions() {
        let text = "a 1 100.5\na 2 115.004\na 3 130.123\n";
        let d = read_dataset(text.as_bytes()).unwrap();
        assert_eq!(
            d[0].samples,
            vec![(100_500, 1.0), (115_004, 2.0), (130_123, 3.0)]
        );
        assert!(read_dataset("a 1 100.1234\n".as_bytes()).is_err());
        assert!(read_dataset("a 1 100.x\n".as_bytes()).is_err());
    }
}
