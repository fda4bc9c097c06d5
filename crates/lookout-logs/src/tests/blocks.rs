//! Block documents: a needle decodes only the blocks holding its tokens; scans hand out lines in exact time order
//! (then stream, then push order) across overlapping blocks of many streams, both directions, with limits; volume
//! counts each entry in its own bucket even when a block spans several.

use lookout_model::Matcher;
use lookout_storage::logs::{LogSource, QueryDirection};

use super::{opts, query, stream};
use crate::*;

/// Pushes `lines` to stream `{app="web"}` at timestamps 1, 2, … and commits them.
fn push_web(store: &LogStore, lines: &[String]) {
    let entries: Vec<(i64, &str)> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i as i64 + 1, l.as_str()))
        .collect();
    store
        .push(vec![stream(&[("app", "web")], &entries)])
        .unwrap();
    store.flush().unwrap();
}

/// The timestamps of `{app="web"}`'s lines holding `needle`, and the lines decoded to find them.
fn scan_web(store: &LogStore, needle: &str) -> (Vec<i64>, u64) {
    let q = query(
        vec![Matcher::equal("app", "web")],
        vec![LineFilter::Contains(needle.into())],
    );
    let mut got = Vec::new();
    let stats = store
        .scan(&q, &mut |_, e| {
            got.push(e.ts);
            true
        })
        .unwrap();
    (got, stats.candidates)
}

#[test]
fn a_needle_decodes_only_the_blocks_holding_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            if i == 700 {
                "GET /needle-42 200".to_string()
            } else {
                format!("GET /page/{i} 200")
            }
        })
        .collect();
    push_web(&store, &lines);
    let s = store.stats();
    assert_eq!((s.documents, s.entries), (2, 1000), "512 entries per block");
    // A whole token and a prefix; then an infix alone (the term dictionary walk is worth it when nothing cheaper
    // narrows).
    let read = || {
        store
            .counters()
            .blocks_read
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    for needle in ["/needle-4", "eedl"] {
        let before = read();
        let (got, candidates) = scan_web(&store, needle);
        assert_eq!(got, [701], "{needle}: GET /needle-42 200");
        assert_eq!(
            candidates, 488,
            "{needle}: one block decoded (entries 513–1000)"
        );
        assert_eq!(read() - before, 1, "{needle}: counted as read");
    }
}

/// Pushes `streams` streams whose entries interleave in time (with equal timestamps across and within streams) in
/// several commits, so blocks of different streams and commits overlap. Returns every (ts, stream label, line).
fn interleaved(
    store: &LogStore,
    streams: usize,
    per_commit: i64,
    commits: i64,
) -> Vec<(i64, String, String)> {
    let mut all = Vec::new();
    for c in 0..commits {
        let mut push = Vec::new();
        for s in 0..streams {
            let name = format!("s{s}");
            let lines: Vec<(i64, String)> = (0..per_commit)
                .map(|i| {
                    // Every third entry repeats its predecessor's timestamp; streams are offset by one ns.
                    let t = c * per_commit * 10 + (i - i % 3 / 2) * 10 + s as i64 % 3;
                    (t, format!("{name} c{c} i{i}"))
                })
                .collect();
            for (t, l) in &lines {
                all.push((*t, name.clone(), l.clone()));
            }
            let entries: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
            push.push(stream(&[("s", &name)], &entries));
        }
        store.push(push).unwrap();
        store.flush().unwrap();
    }
    all
}

#[test]
fn scans_hand_out_lines_in_exact_order_across_overlapping_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.block.max_lines = 7;
    let store = LogStore::open(o).unwrap();
    let all = interleaved(&store, 5, 40, 3);
    assert!(store.stats().documents > 50, "many small blocks");
    let stream_id = |name: &str| {
        lookout_model::Labels::from_pairs(&[("s", name)])
            .unwrap()
            .hash64()
    };
    for backward in [false, true] {
        for limit in [1, 13, 100, usize::MAX] {
            let mut q = query(vec![], vec![]);
            q.limit = limit;
            q.start = 25;
            q.end = 1000;
            q.direction = if backward {
                QueryDirection::Backward
            } else {
                QueryDirection::Forward
            };
            let mut got = Vec::new();
            store
                .scan(&q, &mut |l, e| {
                    got.push((e.ts, l.get("s").unwrap().to_string(), e.line.clone()));
                    true
                })
                .unwrap();
            // Expected: time, then stream id, then push order (reversed as a whole when backward).
            let mut want: Vec<(usize, &(i64, String, String))> = all
                .iter()
                .enumerate()
                .filter(|(_, (t, _, _))| *t >= 25 && *t < 1000)
                .collect();
            want.sort_by_key(|(i, (t, s, _))| (*t, stream_id(s), *i));
            if backward {
                want.reverse();
            }
            let want: Vec<(i64, String, String)> = want
                .into_iter()
                .take(limit)
                .map(|(_, e)| e.clone())
                .collect();
            assert_eq!(got, want, "backward {backward} limit {limit}");
        }
    }
}

#[test]
fn volume_counts_each_entry_in_its_bucket_when_a_block_spans_several() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    let all = interleaved(&store, 3, 100, 2);
    for (start, end, step) in [
        (0, 5000, 1000),
        (15, 1990, 7),
        (0, i64::MAX / 2, i64::MAX / 4),
    ] {
        let got = store.volume(&[], start, end, step).unwrap();
        let mut want: std::collections::BTreeMap<(String, i64), (u64, u64)> = Default::default();
        for (t, s, l) in &all {
            if *t >= start && *t < end {
                let b = lookout_storage::logs::volume_bucket(start, step, *t);
                let e = want.entry((s.clone(), b)).or_default();
                e.0 += 1;
                e.1 += l.len() as u64;
            }
        }
        let mut have: std::collections::BTreeMap<(String, i64), (u64, u64)> = Default::default();
        for v in got {
            for (b, n, bytes) in v.buckets {
                have.insert((v.labels.get("s").unwrap().to_string(), b), (n, bytes));
            }
        }
        assert_eq!(have, want, "start {start} end {end} step {step}");
    }
}

#[test]
fn a_literal_inside_a_run_too_long_to_index_is_still_found() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    let blob = format!("{}PodName", "a".repeat(300));
    let lines = [format!("payload={blob} done"), "other line".to_string()];
    push_web(&store, &lines);
    // An infix, a suffix and a prefix of the 307-character run (not a token: longer than any indexed).
    for needle in ["aPodNam", "aaPodName done", "payload=aaa"] {
        let (got, _) = scan_web(&store, needle);
        assert_eq!(got, [1], "{needle}");
    }
}

#[test]
fn a_partition_trains_a_dictionary_from_its_first_blocks_and_reads_every_block_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(dir.path());
    let store = LogStore::open(o.clone()).unwrap();
    let line = |i: usize| {
        format!(
            r#"{{"level":"{}","msg":"request handled","route":"/api/v{}","dur_ms":{},"user":"u{}"}}"#,
            ["info", "warn", "error"][i % 3],
            i % 7,
            i * 37 % 900,
            i * 13 % 5000
        )
    };
    // Seven commits of 4,000 lines (~400 KB each): the dictionary is trained after the third.
    let mut all_lines = Vec::new();
    for c in 0..7 {
        let lines: Vec<(i64, String)> = (0..4000)
            .map(|i| {
                let n = c * 4000 + i;
                (n as i64 * 1_000_000 + 1, line(n))
            })
            .collect();
        let entries: Vec<(i64, &str)> = lines.iter().map(|(t, l)| (*t, l.as_str())).collect();
        let mut push = stream(&[("app", "api")], &entries);
        for e in push.entries.iter_mut().step_by(5) {
            e.metadata = vec![("detected_level".into(), "info".into())];
        }
        store.push(vec![push]).unwrap();
        store.flush().unwrap();
        all_lines.extend(lines);
    }
    let part = dir
        .path()
        .join("index")
        .join(super::partition_dirs(dir.path())[0].clone());
    let dicts: Vec<_> = std::fs::read_dir(&part)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().to_string();
            n.starts_with("zdict-").then_some(n)
        })
        .collect();
    assert_eq!(dicts.len(), 1, "{dicts:?}");
    store.close().unwrap();
    drop(store);
    let store = LogStore::open(o).unwrap();
    let got = super::all(&store, 0, i64::MAX);
    assert_eq!(got.len(), all_lines.len());
    for ((_, ts, l), (want_ts, want)) in got.iter().zip(&all_lines) {
        assert_eq!((ts, l), (want_ts, want));
    }
    // Every block was read from the store reader's bytes, none through tantivy's document deserialisation.
    assert_eq!(
        crate::stored::FALLBACKS.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    // Metadata survives both the dictionary and the table layout.
    let mut q = query(vec![], vec![]);
    q.limit = usize::MAX;
    let with_meta = store
        .query(&q)
        .unwrap()
        .into_iter()
        .flat_map(|s| s.entries)
        .filter(|e| e.metadata == [("detected_level".to_string(), "info".to_string())])
        .count();
    assert_eq!(with_meta, 28_000 / 5);
}

#[test]
fn many_selected_streams_are_told_apart_by_the_collector() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    let names: Vec<String> = (0..50).map(|i| format!("s{i:02}")).collect();
    let lines: Vec<String> = names
        .iter()
        .map(|n| format!("line of {n} with token"))
        .collect();
    let push: Vec<_> = names
        .iter()
        .zip(&lines)
        .enumerate()
        .map(|(i, (n, l))| stream(&[("s", n)], &[(i as i64 + 1, l.as_str())]))
        .collect();
    store.push(push).unwrap();
    store.flush().unwrap();
    // 40 of 50 streams (above the postings threshold), with and without a line filter.
    let wanted = Matcher::new(lookout_model::MatchOp::Regex, "s", "s[0-3][0-9]").unwrap();
    for filters in [vec![], vec![LineFilter::Contains("token".into())]] {
        let mut q = query(vec![wanted.clone()], filters);
        q.limit = usize::MAX;
        let mut got = Vec::new();
        store
            .scan(&q, &mut |l, _| {
                got.push(l.get("s").unwrap().to_string());
                true
            })
            .unwrap();
        assert_eq!(got, names[..40]);
    }
}

#[test]
fn prefix_tokens_select_through_a_term_range_including_non_ascii_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = LogStore::open(opts(dir.path())).unwrap();
    // Two blocks: the second alone holds the tokens the literals' prefixes need.
    let mut lines: Vec<String> = (0..512).map(|i| format!("plain line {i}")).collect();
    lines.extend((0..512).map(|i| {
        if i == 300 {
            "Grüße aus Köln, code zz9x".to_string()
        } else {
            format!("other line {i}")
        }
    }));
    push_web(&store, &lines);
    for needle in [" grü", " zz9", " köl", "aus Kö"] {
        let (got, candidates) = scan_web(&store, needle);
        let want: Vec<i64> = if needle == " grü" || needle == " köl" {
            vec![] // case-sensitive line check: the line has "Grü" and "Köl"
        } else {
            vec![813]
        };
        assert_eq!(got, want, "{needle}");
        assert_eq!(candidates, 512, "{needle}: only the second block decoded");
    }
}

/// Scans whose filters imply a prefilter (a needle, a regex's literal prefixes) keep exactly the lines a line-by-line
/// check keeps: occurrences straddling two lines, several per line, lines holding newlines (the block then stores
/// lengths, lines back to back), empty lines and a time range cutting blocks.
#[test]
fn prefiltered_scans_keep_exactly_what_a_line_by_line_check_keeps() {
    let mut seed = 0x2545_f491_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = ["a", "b", "x", "é", " ", "A", "B"];
    let filters = [
        LineFilter::Contains("ab".into()),
        LineFilter::Contains("é a".into()),
        LineFilter::Contains("b\nab".into()),
        LineFilter::Matches(regex::Regex::new("a[bx]+é").unwrap()),
        LineFilter::Matches(regex::Regex::new("(?i)AB|xx").unwrap()),
        LineFilter::Matches(regex::Regex::new("^b|a$").unwrap()),
    ];
    for with_newlines in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(opts(dir.path())).unwrap();
        let lines: Vec<String> = (0..1500)
            .map(|_| {
                let len = next() % 9;
                let mut l: String = (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect();
                if with_newlines && next() % 50 == 0 {
                    l.push_str("\nab");
                }
                l
            })
            .collect();
        push_web(&store, &lines);
        for filter in &filters {
            for (start, end) in [(0, i64::MAX), (37, 1203)] {
                let mut q = query(vec![Matcher::equal("app", "web")], vec![filter.clone()]);
                (q.start, q.end, q.limit) = (start, end, usize::MAX);
                let mut got = Vec::new();
                store
                    .scan(&q, &mut |_, e| {
                        got.push(e.ts);
                        true
                    })
                    .unwrap();
                let want: Vec<i64> = (1..=lines.len() as i64)
                    .filter(|ts| (start..end).contains(ts))
                    .filter(|&ts| filter.keeps(&lines[ts as usize - 1]))
                    .collect();
                let newline_needle = matches!(filter, LineFilter::Contains(n) if n.contains('\n'));
                if with_newlines || !newline_needle {
                    assert!(!want.is_empty(), "{filter:?}: the data holds matches");
                }
                assert_eq!(
                    got, want,
                    "{filter:?} {start}..{end} newlines {with_newlines}"
                );
            }
        }
    }
}
