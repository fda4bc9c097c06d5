//! Binary operators over enough points to be split into ranges of steps on the query threads give, at every
//! step, what an instant query at that step gives.

use super::*;

/// 120 instances with a gauge each (some missing for a while, so series come and go) and one info-like series
/// per instance for `group_left`.
fn store_for_split() -> MemStorage {
    let s = MemStorage::new();
    let mut a = s.appender();
    for i in 0..120 {
        let inst = format!("host{i:03}");
        let avail =
            Labels::from_pairs(&[("__name__", "avail"), ("instance", &inst), ("mount", "/")])
                .unwrap();
        let total = Labels::from_pairs(&[("__name__", "total"), ("instance", &inst)]).unwrap();
        let boot = Labels::from_pairs(&[
            ("__name__", "boot"),
            ("instance", &inst),
            ("kernel", if i % 2 == 0 { "6.1" } else { "6.6" }),
        ])
        .unwrap();
        for k in 0..420i64 {
            let t = k * 15_000;
            // A third of the instances stop reporting `avail` for 100 steps (lookback ends the series).
            if !(i % 3 == 0 && (150..250).contains(&k)) {
                a.append(&avail, t, ((k * 7 + i) % 97) as f64 + 0.5)
                    .unwrap();
            }
            a.append(&total, t, 100.0 + i as f64).unwrap();
            a.append(&boot, t, 1_700_000_000.0 + (i * 10) as f64)
                .unwrap();
        }
    }
    a.commit().unwrap();
    s
}

#[test]
fn split_binary_operators_agree_with_instant_queries_at_every_step() {
    let s = store_for_split();
    let e = Engine::default();
    let ctx = QueryContext::default();
    let (start, end, step) = (300_000, 6_000_000, 15_000);
    for q in [
        "avail / on (instance) group_left (kernel) boot",
        "1 - avail / on (instance) group_left total",
        "avail > 50",
        "avail * 2",
        "avail or total",
    ] {
        let range = e.range_query(&s, q, start, end, step, &ctx).unwrap();
        let mut by_step = points_by_step(q, &range.value);
        let mut t = start;
        while t <= end {
            let out = instant(&s, q, t).unwrap();
            let mut want: Vec<(String, u64)> = vector(&out.value)
                .into_iter()
                .map(|(l, v)| (l, v.to_bits()))
                .collect();
            want.sort();
            let mut got = by_step.remove(&t).unwrap_or_default();
            got.sort();
            assert_eq!(got, want, "{q} at {t}");
            t += step;
        }
        assert!(by_step.is_empty(), "{q}: points off the step grid");
    }
}
