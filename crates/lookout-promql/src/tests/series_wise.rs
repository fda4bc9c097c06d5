//! Binary operators of range queries, worked series by series where the matrices allow it, give at every step
//! what an instant query at that step gives (instant queries always work step by step), errors included.

use super::*;

/// A small deterministic generator, so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Gauges `a` and `b` over `hosts` hosts and two devices, `boot` and `info` per host (its `owner` label changes once for
/// some hosts, so the "one" side of a `group_left` can hold two series of one signature), and series that come
/// and go. Values repeat often, so comparisons both keep and drop points.
fn random_store(seed: u64, hosts: usize) -> MemStorage {
    let mut rng = Rng(seed | 1);
    let s = MemStorage::new();
    let mut a = s.appender();
    for h in 0..hosts {
        let host = format!("h{h}");
        for dev in ["d0", "d1"] {
            for name in ["a", "b"] {
                let l = Labels::from_pairs(&[("__name__", name), ("host", &host), ("dev", dev)])
                    .unwrap();
                let (from, to) = (rng.below(40) as i64, 40 + rng.below(41) as i64);
                for k in from..to {
                    if rng.below(10) == 0 {
                        continue; // a missed scrape: lookback covers it
                    }
                    let v = match rng.below(20) {
                        0 => f64::NAN,
                        1 => stale_nan(),
                        _ => rng.below(8) as f64,
                    };
                    a.append(&l, k * 15_000, v).unwrap();
                }
            }
        }
        // `boot`: one series per host, so `group_left`/`group_right` on it can go series by series.
        let l = Labels::from_pairs(&[("__name__", "boot"), ("host", &host), ("kernel", "6.1")])
            .unwrap();
        for k in 0..rng.below(80) as i64 {
            a.append(&l, k * 15_000, 2.0 + h as f64).unwrap();
        }
        let owners: &[&str] = if h % 4 == 0 { &["x", "y"] } else { &["x"] };
        for (i, owner) in owners.iter().enumerate() {
            let l = Labels::from_pairs(&[("__name__", "info"), ("host", &host), ("owner", owner)])
                .unwrap();
            let (from, to) = if owners.len() == 2 {
                if i == 0 { (0, 30) } else { (50, 80) }
            } else {
                (0, 80)
            };
            for k in from..to {
                a.append(&l, k * 15_000, 1.0).unwrap();
            }
        }
    }
    a.commit().unwrap();
    s
}

/// The range answer as, per step, label string → value bits; or the error text.
fn range_by_step(
    s: &MemStorage,
    q: &str,
    (start, end, step): (i64, i64, i64),
) -> Result<PointsByStep, String> {
    let out = Engine::default()
        .range_query(s, q, start, end, step, &QueryContext::default())
        .map_err(|e| e.to_string())?;
    Ok(points_by_step(q, &out.value))
}

#[test]
fn series_wise_binary_operators_agree_with_instant_queries() {
    let queries = [
        "a + b",
        "a / b",
        "a > b",
        "a == bool b",
        "a - on (host) b",
        "a * ignoring (dev) b",
        "a - on (host, dev) b",
        "a * on (host) group_left (owner) info",
        "info + on (host) group_right b",
        "info - on (host) group_right b",
        "(info * 3) / on (host) group_right (owner) a",
        "a / on (host) group_left (kernel) boot",
        "boot - on (host) group_right (kernel) b",
        "boot > on (host) group_right a",
        "a - on (host) group_left boot",
        "a / on (host) group_left info",
        "a < on (host) group_left info",
        "a + on (host) group_left a",
        "1 - a / b",
        "a > 3",
        "3 > a",
        "3 < bool a",
        "a * 2 + b",
        "scalar(info) * a",
        "a + time()",
        "-a ^ 2",
        "(a + b) / (b - a)",
    ];
    let steps = (150_000, 1_200_000, 15_000);
    for seed in 1..=6u64 {
        let s = random_store(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), 6);
        for q in queries {
            let range = range_by_step(&s, q, steps);
            // Every step as an instant query: the first error in step order, or the points.
            let mut want = std::collections::BTreeMap::new();
            let mut want_err = None;
            let mut t = steps.0;
            while t <= steps.1 {
                match instant(&s, q, t) {
                    Ok(out) => {
                        let mut v: Vec<(String, u64)> = vector(&out.value)
                            .into_iter()
                            .map(|(l, v)| (l, v.to_bits()))
                            .collect();
                        if !v.is_empty() {
                            v.sort();
                            want.insert(t, v);
                        }
                    }
                    Err(e) => {
                        want_err = Some(e.to_string());
                        break;
                    }
                }
                t += steps.2;
            }
            match (range, want_err) {
                (Err(got), Some(want)) => assert_eq!(got, want, "seed {seed}: {q}"),
                (Ok(mut got), None) => {
                    for v in got.values_mut() {
                        v.sort();
                    }
                    assert_eq!(got, want, "seed {seed}: {q}");
                }
                (got, want) => panic!("seed {seed}: {q}: range {got:?}, instant error {want:?}"),
            }
        }
    }
}
