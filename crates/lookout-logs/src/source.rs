//! The store as the storage contract sees it: [`LogSource`] (ordered scans on a snapshot, volume from fast fields)
//! and [`LogSink`] (pushes, with refusals mapped to the contract's errors).

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use lookout_model::{Labels, Matcher};
use lookout_storage::logs::{
    ColumnPush, Entry, LogPushError, LogQuery, LogSink, LogSource, LogSourceError, PushStream,
    QueryDirection, ScanStats, StreamVolume, volume_bucket,
};

use crate::collect::{Volume, merge_volume};
use crate::lines::BlockLines;
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
        let view = self.read_view(&q.matchers, q.start, q.end, &|line| {
            q.filters.iter().all(|f| f.keeps(line))
        });
        let ids: Vec<u64> = view.streams.keys().copied().collect();
        let backward = q.direction == QueryDirection::Backward;
        // Partitions are disjoint in time: read them one at a time in the scan's direction, the next only when the
        // previous one's lines are used up, so a limit met early leaves older (or newer) partitions unsearched.
        let mut parts = view.parts;
        if backward {
            parts.reverse();
        }
        let mut parts = parts.into_iter();
        let mut current: Option<BlockLines> = None;
        let mut pending = view.pending;
        // Time order, then stream id, so equal timestamps come out the same way every time.
        if backward {
            pending.sort_by_key(|p| std::cmp::Reverse((p.1.ts, p.0)));
        } else {
            pending.sort_by_key(|p| (p.1.ts, p.0));
        }
        let before = |a: i64, b: i64| if backward { a >= b } else { a <= b };
        let searched = &self.counters().partitions_searched;
        let blocks_read = &self.counters().blocks_read;
        let mut j = 0usize;
        while (stats.entries as usize) < q.limit {
            let next_committed = loop {
                if let Some(lines) = current.as_mut()
                    && let Some(ts) = lines.peek_ts().map_err(read_error)?
                {
                    break Some(ts);
                }
                if let Some(done) = current.take() {
                    stats.candidates += done.candidates;
                    blocks_read.fetch_add(done.blocks_read, Ordering::Relaxed);
                }
                let Some((_, part)) = parts.next() else {
                    break None;
                };
                searched.fetch_add(1, Ordering::Relaxed);
                let blocks = part
                    .search(&ids, q.start, q.end, &q.filters)
                    .map_err(read_error)?;
                current = Some(BlockLines::new(
                    part, blocks, q.start, q.end, backward, &q.filters,
                ));
            };
            let take_committed = match (next_committed, pending.get(j)) {
                (Some(ts), Some(p)) => before(ts, p.1.ts),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (stream, entry) = if take_committed {
                current
                    .as_mut()
                    .and_then(|c| c.pop().transpose())
                    .expect("a line was peeked")
                    .map_err(read_error)?
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
        if let Some(done) = current {
            stats.candidates += done.candidates;
            blocks_read.fetch_add(done.blocks_read, Ordering::Relaxed);
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
    fn refuses_now(&self) -> Option<LogPushError> {
        self.backlog_refusal().map(push_error)
    }

    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        LogStore::push(self, push).map_err(push_error)
    }

    fn push_columns(&self, push: ColumnPush) -> Result<usize, LogPushError> {
        LogStore::push_columns(self, push).map_err(push_error)
    }
}

fn push_error(e: StoreError) -> LogPushError {
    match e {
        StoreError::Push(p) if p.is_rate_limit() => LogPushError::RateLimited {
            reason: p.reason(),
            message: p.to_string(),
        },
        StoreError::Push(p) => LogPushError::Invalid {
            reason: p.reason(),
            message: p.to_string(),
        },
        other => LogPushError::Store(other.to_string()),
    }
}
