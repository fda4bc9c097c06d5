//! Ignored tests that print timing and memory figures for larger inputs:
//! `cargo test -p lookout-promql --lib figures -- --ignored --nocapture`.

use super::*;

/// Measures an instant `sum(rate(x[5m]))` over 100,000 series (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn large_sum_rate_figures() {
    let s = counter_store(100_000, 21);
    let started = Instant::now();
    let out = instant(&s, "sum(rate(req_total[5m]))", 300_000).unwrap();
    let took = started.elapsed();
    println!(
        "sum(rate(req_total[5m])) over 100000 series: {took:?}, samples loaded {}, peak held {}",
        out.stats.samples_loaded, out.stats.peak_samples
    );
    assert_eq!(vector(&out.value).len(), 1);
    // One series' window per query thread at a time.
    let threads = crate::query_threads().map_or(1, |p| p.current_num_threads()) as u64;
    assert!(out.stats.peak_samples <= 21 * threads + 1);
}

/// Measures range queries over 1,000 series x 1,000 steps (run with `--ignored --nocapture`).
#[test]
#[ignore]
fn large_range_query_figures() {
    let s = counter_store(1000, 1100);
    let e = Engine::default();
    for q in [
        "sum(rate(req_total[5m]))",
        "req_total / on(i) req_total",
        "req_total and req_total",
        "req_total * 2",
        "max by (i) (req_total)",
    ] {
        let started = Instant::now();
        let out = e
            .range_query(
                &s,
                q,
                600_000,
                600_000 + 999 * 15_000,
                15_000,
                &QueryContext::default(),
            )
            .unwrap();
        println!(
            "{q}: {:?}, peak held {}",
            started.elapsed(),
            out.stats.peak_samples
        );
    }
}

/// A dashboard-shaped range query, `sum by (instance) (rate(...[5m]))` over 20 instances x 20 series,
/// 2 h at 15 s (run with `--ignored --nocapture`): folded versus materialised.
#[test]
#[ignore]
fn dashboard_query_figures() {
    let s = MemStorage::new();
    let mut a = s.appender();
    for inst in 0..20 {
        for cpu in 0..20 {
            let l = Labels::from_pairs(&[
                ("__name__", "cpu_seconds_total"),
                ("instance", &format!("host{inst}")),
                ("cpu", &cpu.to_string()),
            ])
            .unwrap();
            for k in 0..481i64 {
                a.append(&l, k * 15_000, (k * (cpu + 1)) as f64).unwrap();
            }
        }
    }
    a.commit().unwrap();
    let e = Engine::default();
    for q in [
        "sum by (instance) (rate(cpu_seconds_total[5m]))",
        "sum by (instance) (rate(cpu_seconds_total[5m]) * 1)",
    ] {
        let started = Instant::now();
        let out = e
            .range_query(&s, q, 300_000, 7_200_000, 15_000, &QueryContext::default())
            .unwrap();
        println!(
            "{q}: {:?}, peak held {}",
            started.elapsed(),
            out.stats.peak_samples
        );
    }
}
