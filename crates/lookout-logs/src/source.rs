//! The store as the storage contract sees it: [`LogSource`] (ordered scans on a snapshot, volume from fast fields)
//! and [`LogSink`] (pushes, with refusals mapped to the contract's errors).

use std::collections::BTreeMap;

use lookout_model::{Labels, Matcher};
use lookout_storage::logs::{
    Entry, LogPushError, LogQuery, LogSink, LogSource, LogSourceError, PushStream, QueryDirection,
    ScanStats, StreamVolume,
};

use crate::store::{LogStore, StoreError};

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
        let mut hits = view
            .index
            .search(&ids, q.start, q.end, &q.filters)
            .map_err(read_error)?;
        stats.candidates = hits.len() as u64;
        let mut pending = view.pending;
        let backward = q.direction == QueryDirection::Backward;
        // Time order, then stream id, so equal timestamps come out the same way every time.
        if backward {
            hits.sort_unstable_by_key(|h| std::cmp::Reverse((h.0, h.1)));
            pending.sort_by_key(|p| std::cmp::Reverse((p.1.ts, p.0)));
        } else {
            hits.sort_unstable_by_key(|h| (h.0, h.1));
            pending.sort_by_key(|p| (p.1.ts, p.0));
        }
        let before = |a: i64, b: i64| if backward { a >= b } else { a <= b };
        let (mut i, mut j) = (0usize, 0usize);
        while (stats.entries as usize) < q.limit && (i < hits.len() || j < pending.len()) {
            let take_hit = match (hits.get(i), pending.get(j)) {
                (Some(h), Some(p)) => before(h.0, p.1.ts),
                (Some(_), None) => true,
                _ => false,
            };
            let (stream, entry) = if take_hit {
                let (ts, stream, addr) = hits[i];
                i += 1;
                let (line, metadata) = view.index.read(addr).map_err(read_error)?;
                if !q.filters.iter().all(|f| f.keeps(&line)) {
                    continue;
                }
                (stream, Entry { ts, line, metadata })
            } else {
                j += 1;
                std::mem::replace(
                    &mut pending[j - 1],
                    (
                        0,
                        Entry {
                            ts: 0,
                            line: String::new(),
                            metadata: Vec::new(),
                        },
                    ),
                )
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
        let bucket = |ts: i64| start + (ts - start) / step * step;
        let mut acc: BTreeMap<u64, BTreeMap<i64, (u64, u64)>> = BTreeMap::new();
        let mut add = |ts: i64, stream: u64, len: u64| {
            let b = acc
                .entry(stream)
                .or_default()
                .entry(bucket(ts))
                .or_default();
            b.0 += 1;
            b.1 += len;
        };
        let ids: Vec<u64> = view.streams.keys().copied().collect();
        view.index
            .volume(&ids, start, end, &mut add)
            .map_err(read_error)?;
        for (id, e) in &view.pending {
            add(e.ts, *id, e.line.len() as u64);
        }
        let mut out: Vec<StreamVolume> = acc
            .into_iter()
            .filter_map(|(id, buckets)| {
                Some(StreamVolume {
                    labels: view.streams.get(&id)?.clone(),
                    buckets: buckets.into_iter().map(|(b, (n, by))| (b, n, by)).collect(),
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
            StoreError::Push(p) => LogPushError::Invalid {
                reason: p.reason(),
                message: p.to_string(),
            },
            other => LogPushError::Store(other.to_string()),
        })
    }
}
