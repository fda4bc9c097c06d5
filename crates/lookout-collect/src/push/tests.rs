//! The remote_write ingest path: the cache's fast path stores exactly what the full decoder's path stores, refuses
//! what it refuses, and never trusts a cached entry whose labels differ from the request's.

use super::*;
use lookout_model::{MatchOp, Matcher, Sample, TimeRange};
use lookout_storage::mem::MemStorage;
use lookout_wire::remote_write::{WriteSeries, encode_write_request};

fn series(name: &str, instance: &str, samples: &[(i64, f64)]) -> WriteSeries {
    WriteSeries {
        labels: Labels::from_pairs(&[("__name__", name), ("instance", instance), ("job", "node")])
            .unwrap(),
        samples: samples.iter().map(|&(t, v)| Sample::new(t, v)).collect(),
        exemplars: 0,
        histograms: 0,
    }
}

fn push(
    storage: &MemStorage,
    cache: &PushSeriesCache,
    series: &[WriteSeries],
) -> Result<usize, PushError> {
    ingest_remote_write(
        storage,
        cache,
        &encode_write_request(series, &[]),
        RemoteWriteVersion::V1,
        &WireLimits::default(),
    )
}

/// Every stored series with its samples, in label order.
fn dump(storage: &MemStorage) -> Vec<(String, Vec<(i64, u64)>)> {
    let range = TimeRange::new(i64::MIN / 2, i64::MAX / 2);
    let q = storage.querier(range).unwrap();
    let all = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    let mut out: Vec<_> = q
        .select(&[all], lookout_storage::SelectHints::samples(range))
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            let mut it = s.samples;
            let mut v = Vec::new();
            while let Some(x) = it.next() {
                v.push((x.t, x.v.to_bits()));
            }
            (s.labels.to_string(), v)
        })
        .collect();
    out.sort();
    out
}

fn scrape(step: i64, hosts: usize) -> Vec<WriteSeries> {
    (0..hosts)
        .flat_map(|h| {
            let inst = format!("h{h}:9100");
            vec![
                series("up", &inst, &[(step * 15_000, 1.0)]),
                series(
                    "load1",
                    &inst,
                    &[(step * 15_000, step as f64 * 0.5 + h as f64)],
                ),
            ]
        })
        .collect()
}

#[test]
fn known_series_take_the_cache_and_store_the_same_as_the_full_decoder() {
    let (fast, plain) = (MemStorage::new(), MemStorage::new());
    let cache = PushSeriesCache::new(1 << 20);
    for step in 0..4 {
        let req = scrape(step, 10);
        assert_eq!(push(&fast, &cache, &req).unwrap(), 20);
        let batch = lookout_wire::remote_write::decode_write_request(
            &encode_write_request(&req, &[]),
            RemoteWriteVersion::V1,
            &WireLimits::default(),
            InvalidSeriesPolicy::Reject,
        )
        .unwrap();
        commit_all(
            &plain,
            batch
                .series
                .iter()
                .map(|s| (&s.labels, s.samples.as_slice())),
        )
        .unwrap();
    }
    assert_eq!(dump(&fast), dump(&plain));
    // Step 0 creates the series (misses), step 1 learns their references (misses), steps 2 and 3 hit.
    assert_eq!(cache.lookups(), (40, 40));
    assert_eq!(cache.len(), 20);
}

#[test]
fn a_refused_sample_or_invalid_series_stores_nothing_of_the_request() {
    let storage = MemStorage::new();
    let cache = PushSeriesCache::new(1 << 20);
    for step in 0..3 {
        push(&storage, &cache, &scrape(step, 3)).unwrap();
    }
    let before = dump(&storage);
    // Cached series first, then one out of order.
    let mut req = scrape(3, 3);
    req.push(series("up", "h0:9100", &[(0, 1.0)]));
    match push(&storage, &cache, &req) {
        Err(PushError::Append(Refusal {
            labels,
            t: 0,
            source: AppendError::OutOfOrder { .. },
        })) => {
            assert_eq!(labels.get("instance"), Some("h0:9100"))
        }
        other => panic!("{other:?}"),
    }
    // Cached series first, then invalid labels (a sender bypassing validation): the label name.
    let mut req = lookout_wire::remote_write::proto::WriteRequest::default();
    for s in scrape(3, 3) {
        req.timeseries.push(to_proto(&s));
    }
    let mut bad = to_proto(&series("up", "x", &[(45_000, 1.0)]));
    bad.labels[1].name = bytes::Bytes::from_static(b"bad-name");
    req.timeseries.push(bad);
    let body = lookout_wire::remote_write::snappy_compress(&prost::Message::encode_to_vec(&req));
    let e = ingest_remote_write(
        &storage,
        &cache,
        &body,
        RemoteWriteVersion::V1,
        &WireLimits::default(),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            PushError::Wire(WireError::InvalidSeries { series: 6, .. })
        ),
        "{e:?}"
    );
    assert_eq!(dump(&storage), before);
}

fn to_proto(s: &WriteSeries) -> lookout_wire::remote_write::proto::TimeSeries {
    use lookout_wire::remote_write::proto;
    proto::TimeSeries {
        labels: s
            .labels
            .iter()
            .map(|l| proto::Label {
                name: bytes::Bytes::copy_from_slice(l.name.as_bytes()),
                value: bytes::Bytes::copy_from_slice(l.value.as_bytes()),
            })
            .collect(),
        samples: s
            .samples
            .iter()
            .map(|x| proto::Sample {
                value: Some(x.v),
                timestamp: x.t,
            })
            .collect(),
        exemplars: vec![],
        histograms: vec![],
    }
}

#[test]
fn a_cached_entry_whose_labels_differ_is_not_trusted() {
    let storage = MemStorage::new();
    let cache = PushSeriesCache::new(1 << 20);
    for step in 0..2 {
        push(&storage, &cache, &scrape(step, 2)).unwrap();
    }
    // Poison every key a request of h0's `up` could use with h1's `load1` (a hash collision, in effect).
    let req = scrape(2, 1);
    let wrong = cache
        .get(PushSeriesCache::key(&label_bytes(&req[1])))
        .expect("h0 load1 is cached");
    cache.insert(PushSeriesCache::key(&label_bytes(&req[0])), wrong);
    push(&storage, &cache, &req).unwrap();
    let stored = dump(&storage);
    let up_h0 = stored
        .iter()
        .find(|(l, _)| l.starts_with("up{") && l.contains("h0:9100"))
        .unwrap();
    assert_eq!(up_h0.1.len(), 3, "h0's up got its own sample: {stored:?}");
    let load_h0 = stored
        .iter()
        .find(|(l, _)| l.starts_with("load1{") && l.contains("h0:9100"))
        .unwrap();
    assert_eq!(load_h0.1.len(), 3, "and load1 only its own: {stored:?}");
}

/// The label bytes of a series as the encoder writes them.
fn label_bytes(s: &WriteSeries) -> Vec<u8> {
    let body = lookout_wire::remote_write::decompress(
        &encode_write_request(std::slice::from_ref(s), &[]),
        &WireLimits::default(),
    )
    .unwrap();
    let mut reader = RawReader::new(&body);
    reader.next_series().unwrap().unwrap().label_bytes.to_vec()
}

#[test]
fn requests_the_reader_does_not_handle_take_the_full_decoder() {
    let storage = MemStorage::new();
    let cache = PushSeriesCache::new(1 << 20);
    let mut req = scrape(0, 2);
    req[0].exemplars = 1;
    assert_eq!(push(&storage, &cache, &req).unwrap(), 4);
    assert_eq!(
        cache.lookups(),
        (0, 0),
        "the fast path gave up before any lookup"
    );
    assert_eq!(dump(&storage).len(), 4);
    let limits = WireLimits {
        max_series_per_request: 3,
        ..WireLimits::default()
    };
    let e = ingest_remote_write(
        &storage,
        &cache,
        &encode_write_request(&scrape(1, 2), &[]),
        RemoteWriteVersion::V1,
        &limits,
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            PushError::Wire(WireError::TooManySeries { limit: 3, count: 4 })
        ),
        "{e:?}"
    );
}

#[test]
fn an_import_stores_every_line_and_refuses_the_whole_body_on_one_bad_line() {
    let storage = MemStorage::new();
    // Time-major and series-major lines mixed, one line without a timestamp, one series spelled two ways.
    let body = b"up{job=\"a\",instance=\"x\"} 1 1000\n\
                 up{instance=\"x\",job=\"a\"} 0 2000\n\
                 load1{job=\"a\"} 0.5 1000\n\
                 up{job=\"a\",instance=\"x\"} 1 3000\n\
                 load1{job=\"a\"} 0.7 2000\n\
                 load1{job=\"a\"} 0.9\n";
    assert_eq!(ingest_import(&storage, body, None, 9_000).unwrap(), 6);
    let stored = dump(&storage);
    let values = |name: &str| {
        stored
            .iter()
            .find(|(l, _)| l.starts_with(name))
            .map(|(_, v)| {
                v.iter()
                    .map(|&(t, b)| (t, f64::from_bits(b)))
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };
    assert_eq!(values("up{"), vec![(1000, 1.0), (2000, 0.0), (3000, 1.0)]);
    assert_eq!(
        values("load1{"),
        vec![(1000, 0.5), (2000, 0.7), (9000, 0.9)]
    );
    let before = dump(&storage);
    let bad_labels = b"up{job=\"a\",instance=\"x\"} 1 4000\nup{job=\"a\",job=\"b\"} 1 4000\n";
    assert!(matches!(
        ingest_import(&storage, bad_labels, None, 9_000),
        Err(ImportError::Labels(_))
    ));
    let out_of_order = b"load1{job=\"a\"} 1 9500\nup{job=\"a\",instance=\"x\"} 1 2500\n";
    match ingest_import(&storage, out_of_order, None, 9_000) {
        Err(ImportError::Append(Refusal {
            labels, t: 2500, ..
        })) => assert_eq!(labels.get("job"), Some("a")),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        ingest_import(&storage, b"up{job=\"a\" 1 6000\n", None, 9_000),
        Err(ImportError::Parse(_))
    ));
    assert_eq!(
        dump(&storage),
        before,
        "nothing of a refused body is stored"
    );
}

/// Pushes `req` through the fast path into `fast` and through the full decoder into `plain`.
fn push_both(fast: &MemStorage, plain: &MemStorage, cache: &PushSeriesCache, req: &[WriteSeries]) {
    push(fast, cache, req).unwrap();
    let batch = lookout_wire::remote_write::decode_write_request(
        &encode_write_request(req, &[]),
        RemoteWriteVersion::V1,
        &WireLimits::default(),
        InvalidSeriesPolicy::Reject,
    )
    .unwrap();
    commit_all(
        plain,
        batch
            .series
            .iter()
            .map(|s| (&s.labels, s.samples.as_slice())),
    )
    .unwrap();
}

#[test]
fn runs_of_known_series_keep_request_order_and_forgotten_references_are_decoded_again() {
    let (fast, plain) = (MemStorage::new(), MemStorage::new());
    let cache = PushSeriesCache::new(1 << 20);
    for step in 0..2 {
        push_both(&fast, &plain, &cache, &scrape(step, 3));
    }
    // Known series around new ones, and one known series twice: its second sample must follow its first.
    let mut req = scrape(2, 3);
    req.insert(1, series("fresh", "h0:9100", &[(30_000, 7.0)]));
    req.insert(4, series("fresh", "h1:9100", &[(30_000, 8.0)]));
    req.push(series("up", "h0:9100", &[(30_001, 0.0)]));
    let (hits, _) = cache.lookups();
    push_both(&fast, &plain, &cache, &req);
    assert_eq!(
        cache.lookups().0 - hits,
        7,
        "the six known series and the repeat hit"
    );
    assert_eq!(dump(&fast), dump(&plain));
    // A storage that never saw the cached references: each is refused as unknown and decoded by labels.
    let (fresh_fast, fresh_plain) = (MemStorage::new(), MemStorage::new());
    push_both(&fresh_fast, &fresh_plain, &cache, &scrape(3, 3));
    assert_eq!(dump(&fresh_fast), dump(&fresh_plain));
    assert_eq!(dump(&fresh_fast).len(), 6);
}
