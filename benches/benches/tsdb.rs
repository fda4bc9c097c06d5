//! Criterion benches of the TSDB's batch append and select+decode paths on synthetic node-like series.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lookout_model::{Labels, MatchOp, Matcher, TimeRange};
use lookout_storage::{SelectHints, SeriesRef, Storage};
use lookout_tsdb::{Tsdb, TsdbOptions};

const SERIES: usize = 1_000;
const STEPS: i64 = 240;

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", format!("node_metric_{}", i % 50)),
        ("instance", format!("host{:04}:9100", i / 50)),
        ("job", "node".to_string()),
    ])
    .unwrap()
}

fn fill(db: &Tsdb, refs: &mut Vec<SeriesRef>, from: i64, steps: i64) {
    for k in from..from + steps {
        let mut a = db.appender();
        for i in 0..SERIES {
            let v = (k * (i as i64 % 7 + 1)) as f64 * 4096.0;
            if refs.len() <= i {
                refs.push(a.append(&labels(i), k * 15_000, v).unwrap());
            } else {
                a.append_ref(refs[i], k * 15_000, v).unwrap();
            }
        }
        a.commit().unwrap();
        if refs.len() == SERIES && k == from && from == 0 {
            refs.clear();
            let mut a = db.appender();
            for i in 0..SERIES {
                refs.push(a.append(&labels(i), 0, 0.0).unwrap());
            }
            a.rollback();
        }
    }
}

fn opts() -> TsdbOptions {
    TsdbOptions {
        maintenance_interval: None,
        ..TsdbOptions::default()
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tsdb");
    g.sample_size(10);
    g.throughput(Throughput::Elements(SERIES as u64 * STEPS as u64));
    g.bench_function("append_1k_series_x_240", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let db = Tsdb::open(dir.path(), opts()).unwrap();
            fill(&db, &mut Vec::new(), 0, STEPS);
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let db = Tsdb::open(dir.path(), opts()).unwrap();
    fill(&db, &mut Vec::new(), 0, STEPS);
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let select = |db: &Tsdb| {
        let q = db.querier(TimeRange::ALL).unwrap();
        let mut n = 0usize;
        for s in q
            .select(&all, SelectHints::samples(TimeRange::ALL))
            .unwrap()
        {
            let mut s = s.unwrap();
            while s.samples.next().is_some() {
                n += 1;
            }
        }
        assert_eq!(n, SERIES * STEPS as usize);
    };
    g.bench_function("select_head_1k_series_x_240", |b| b.iter(|| select(&db)));
    db.persist_now().unwrap();
    g.bench_function("select_persisted_1k_series_x_240", |b| {
        b.iter(|| select(&db))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
