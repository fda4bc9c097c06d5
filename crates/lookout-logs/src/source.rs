//! The store as the storage contract sees it: [`LogSource`] (ordered scans on a snapshot, volume from fast fields)
//! and [`LogSink`] (pushes, with refusals mapped to the contract's errors).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use lookout_model::{Labels, Matcher};
use lookout_storage::logs::{
    Entry, LineFilter, LogPushError, LogQuery, LogSink, LogSource, LogSourceError, PushStream,
    QueryDirection, ScanStats, StreamVolume, volume_bucket,
};

use crate::collect::{Hit, Volume, merge_volume};
use crate::index::PartSearcher;
use crate::options::StoreError;
use crate::store::LogStore;

fn read_error(e: impl std::fmt::Display) -> LogSourceError {
    LogSourceError::Store(e.to_string())
}

impl LogSource for LogStore {
    fn scan(
        &self,
        q: &LogQuery,
        visit: &mut dyn FnMut(&Labels, &Entry) -> bool,
    ) -> Result<ScanStats, LogSourceError> {
        let mut stats = ScanStats::default();
        if q.limit == 0 || q.start >= q.end {
            return Ok(stats);
        }
        let view = self.read_view(&q.matchers, q.start, q.end, &|e| {
            q.filters.iter().all(|f| f.keeps(&e.line))
        });
        let ids: Vec<u64> = view.streams.keys().copied().collect();
        let backward = q.direction == QueryDirection::Backward;
        // Partitions are disjoint in time: search them one at a time in the scan's direction, the next only when
        // the previous one's hits are used up, so a limit met early leaves older (or newer) partitions unsearched.
        let mut parts = view.parts;
        if backward {
            parts.reverse();
        }
        // Filters the index narrows by make candidates sparse: search whole partitions then (each narrowing query
        // scans the term dictionary once per search); without them, start with one minute and adapt.
        let narrowing = q
            .filters
            .iter()
            .any(|f| matches!(f, LineFilter::Contains(_) | LineFilter::Matches(_)));
        let mut windows = Windows::new(parts, q.start, q.end, backward, narrowing);
        let mut current: Option<PartSearcher> = None;
        let mut hits: Vec<Hit> = Vec::new();
        let mut pending = view.pending;
        // Time order, then stream id, so equal timestamps come out the same way every time.
        if backward {
            pending.sort_by_key(|p| std::cmp::Reverse((p.1.ts, p.0)));
        } else {
            pending.sort_by_key(|p| (p.1.ts, p.0));
        }
        let before = |a: i64, b: i64| if backward { a >= b } else { a <= b };
        let searched = &self.counters().partitions_searched;
        let (mut i, mut j) = (0usize, 0usize);
        while (stats.entries as usize) < q.limit {
            if i == hits.len()
                && let Some((part, ws, we, first_of_part)) = windows.next()
            {
                if first_of_part {
                    searched.fetch_add(1, Ordering::Relaxed);
                }
                hits = part.search(&ids, ws, we, &q.filters).map_err(read_error)?;
                windows.observed(hits.len());
                if backward {
                    hits.sort_unstable_by_key(|h| std::cmp::Reverse((h.0, h.1)));
                } else {
                    hits.sort_unstable_by_key(|h| (h.0, h.1));
                }
                stats.candidates += hits.len() as u64;
                current = Some(part);
                i = 0;
                continue;
            }
            let take_hit = match (hits.get(i), pending.get(j)) {
                (Some(h), Some(p)) => before(h.0, p.1.ts),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (stream, entry) = if take_hit {
                let (ts, stream, addr) = hits[i];
                i += 1;
                let part = current
                    .as_ref()
                    .expect("hits come from the current partition");
                let (line, metadata) = part.read(addr).map_err(read_error)?;
                if !q.filters.iter().all(|f| f.keeps(&line)) {
                    continue;
                }
                (stream, Entry { ts, line, metadata })
            } else {
                j += 1;
                let (id, e) = &mut pending[j - 1];
                let blank = Entry {
                    ts: e.ts,
                    line: String::new(),
                    metadata: Vec::new(),
                };
                (*id, std::mem::replace(e, blank))
            };
            let Some(labels) = view.streams.get(&stream) else {
                continue;
            };
            stats.entries += 1;
            stats.bytes += entry.line.len() as u64;
            if !visit(labels, &entry) {
                break;
            }
        }
        Ok(stats)
    }

    fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        LogStore::label_names(self, matchers, start, end)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        LogStore::label_values(self, name, matchers, start, end)
    }

    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels> {
        LogStore::series(self, matchers, start, end)
    }

    fn volume(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<StreamVolume>, LogSourceError> {
        let view = self.read_view(matchers, start, end, &|_| true);
        let step = step.max(1);
        let ids: Vec<u64> = view.streams.keys().copied().collect();
        let mut acc = Volume::new();
        for (_, part) in &view.parts {
            self.counters()
                .partitions_searched
                .fetch_add(1, Ordering::Relaxed);
            merge_volume(
                &mut acc,
                part.volume(&ids, start, end, step).map_err(read_error)?,
            );
        }
        for (id, e) in &view.pending {
            let b = acc
                .entry((*id, volume_bucket(start, step, e.ts)))
                .or_default();
            b.0 += 1;
            b.1 += e.line.len() as u64;
        }
        let mut by_stream: BTreeMap<u64, Vec<(i64, u64, u64)>> = BTreeMap::new();
        for ((id, b), (n, bytes)) in acc {
            by_stream.entry(id).or_default().push((b, n, bytes));
        }
        let mut out: Vec<StreamVolume> = by_stream
            .into_iter()
            .filter_map(|(id, mut buckets)| {
                buckets.sort_unstable();
                Some(StreamVolume {
                    labels: view.streams.get(&id)?.clone(),
                    buckets,
                })
            })
            .collect();
        out.sort_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

impl LogSink for LogStore {
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        LogStore::push(self, push).map_err(|e| match e {
            StoreError::Push(p) if p.is_rate_limit() => LogPushError::RateLimited {
                reason: p.reason(),
                message: p.to_string(),
            },
            StoreError::Push(p) => LogPushError::Invalid {
                reason: p.reason(),
                message: p.to_string(),
            },
            other => LogPushError::Store(other.to_string()),
        })
    }
}

/// Time windows over the partitions in the scan's direction: a partition is searched a window at a time, so a scan
/// holds the candidates of one window (about [`WINDOW_TARGET_HITS`]), not of a whole day, and a limit met early
/// stops the search. The window widens while it finds few candidates and narrows when it finds many.
struct Windows {
    parts: std::vec::IntoIter<(crate::layout::Bounds, PartSearcher)>,
    current: Option<(PartSearcher, i64, i64)>,
    cursor: i64,
    width: i64,
    start: i64,
    end: i64,
    backward: bool,
}

/// Candidates a window aims at.
const WINDOW_TARGET_HITS: usize = 100_000;

impl Windows {
    fn new(
        parts: Vec<(crate::layout::Bounds, PartSearcher)>,
        start: i64,
        end: i64,
        backward: bool,
        whole: bool,
    ) -> Windows {
        Windows {
            parts: parts.into_iter(),
            current: None,
            cursor: 0,
            width: if whole { i64::MAX } else { 60_000_000_000 },
            start,
            end,
            backward,
        }
    }

    /// The next (partition, window start, window end, first window of this partition).
    fn next(&mut self) -> Option<(PartSearcher, i64, i64, bool)> {
        loop {
            if let Some((part, lo, hi)) = &self.current {
                let (lo, hi) = (*lo, *hi);
                let (ws, we) = if self.backward {
                    (self.cursor.saturating_sub(self.width).max(lo), self.cursor)
                } else {
                    (self.cursor, self.cursor.saturating_add(self.width).min(hi))
                };
                if ws < we {
                    let first = if self.backward { we == hi } else { ws == lo };
                    self.cursor = if self.backward { ws } else { we };
                    return Some((part.clone(), ws, we, first));
                }
                self.current = None;
            }
            let (bounds, part) = self.parts.next()?;
            let lo = bounds.start.saturating_mul(1_000_000_000).max(self.start);
            let hi = bounds.end.saturating_mul(1_000_000_000).min(self.end);
            if lo >= hi {
                continue;
            }
            self.cursor = if self.backward { hi } else { lo };
            self.current = Some((part, lo, hi));
        }
    }

    /// Adapts the width to the candidates the last window held.
    fn observed(&mut self, hits: usize) {
        if hits > 2 * WINDOW_TARGET_HITS {
            self.width = (self.width / 4).max(1_000_000);
        } else if hits < WINDOW_TARGET_HITS / 4 {
            self.width = self.width.saturating_mul(4);
        }
    }
}
