//! The storage side of one scrape (parse, cache lookup, append, staleness, commit) for a node_exporter-like
//! exposition of 10,000 series, into the in-memory store: with a warm scrape cache (steady state) and a cold one.
//!
//! Run: `cargo bench -p lookout-collect --bench store_scrape -- --warm-up-time 1 --measurement-time 3`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_collect::scrape::{FetchedBody, LabelLimits, ScrapeCache, ScrapeContext, store_scrape};
use lookout_model::Labels;
use lookout_storage::mem::MemStorage;

/// 10,000 series shaped like node_exporter's: CPU modes, filesystems, network devices, with HELP/TYPE lines.
fn exposition(series: usize) -> String {
    let mut out = String::new();
    let families = [
        "node_cpu_seconds_total",
        "node_filesystem_avail_bytes",
        "node_network_receive_bytes_total",
    ];
    let per_family = series / families.len() + 1;
    let mut written = 0;
    for family in families {
        out.push_str(&format!(
            "# HELP {family} Generated.\n# TYPE {family} counter\n"
        ));
        for i in 0..per_family {
            if written == series {
                break;
            }
            out.push_str(&format!(
                "{family}{{device=\"dev{}\",mode=\"m{}\",instance_part=\"x{}\"}} {}.5\n",
                i % 97,
                i % 13,
                i,
                i * 7
            ));
            written += 1;
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let body = FetchedBody {
        body: exposition(10_000).into_bytes(),
        content_type: None,
    };
    let target = Labels::from_pairs(&[("job", "node"), ("instance", "host-1:9100")]).unwrap();
    let ctx = ScrapeContext::new(target, false, true, Vec::new(), 0, LabelLimits::default());
    let mut group = c.benchmark_group("store_scrape");
    group.throughput(Throughput::Elements(10_000));

    let storage = MemStorage::new();
    let mut cache = ScrapeCache::default();
    let mut t = 0i64;
    group.bench_function("10k_series_warm_cache", |b| {
        b.iter(|| {
            t += 15_000;
            let r = store_scrape(
                &storage,
                &ctx,
                &mut cache,
                Ok(body.clone()),
                t,
                Duration::ZERO,
            );
            assert_eq!(r.samples_appended, 10_000);
        })
    });

    group.bench_function("10k_series_cold_cache", |b| {
        b.iter(|| {
            let storage = MemStorage::new();
            let mut cache = ScrapeCache::default();
            let r = store_scrape(
                &storage,
                &ctx,
                &mut cache,
                Ok(body.clone()),
                1000,
                Duration::ZERO,
            );
            assert_eq!(r.series_added, 10_000);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
