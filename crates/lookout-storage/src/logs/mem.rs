//! An in-memory log store for tests of the LogQL engine and the Loki API: every entry in a vector, scans by
//! sorting; no limits.

use std::collections::{BTreeMap, BTreeSet};

use lookout_model::{Labels, Matcher};
use parking_lot::RwLock;

use super::{
    Entry, LogPushError, LogQuery, LogSink, LogSource, LogSourceError, PushStream, QueryDirection,
    ScanStats, StreamVolume,
};

/// Entries by stream in plain vectors behind one lock.
#[derive(Default)]
pub struct MemLogs {
    streams: RwLock<BTreeMap<Labels, Vec<Entry>>>,
}

impl MemLogs {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn selected<'a>(
    all: &'a BTreeMap<Labels, Vec<Entry>>,
    matchers: &'a [Matcher],
    start: i64,
    end: i64,
) -> impl Iterator<Item = (&'a Labels, &'a Vec<Entry>)> + 'a {
    all.iter().filter(move |(l, es)| {
        matchers
            .iter()
            .all(|m| m.matches(l.get(&m.name).unwrap_or("")))
            && es.iter().any(|e| e.ts >= start && e.ts < end)
    })
}

impl LogSource for MemLogs {
    fn scan(
        &self,
        q: &LogQuery,
        visit: &mut dyn FnMut(&Labels, &Entry) -> bool,
    ) -> Result<ScanStats, LogSourceError> {
        let all = self.streams.read();
        let mut hits: Vec<(&Labels, &Entry)> = selected(&all, &q.matchers, q.start, q.end)
            .flat_map(|(l, es)| es.iter().map(move |e| (l, e)))
            .filter(|(_, e)| e.ts >= q.start && e.ts < q.end)
            .filter(|(_, e)| q.filters.iter().all(|f| f.keeps(&e.line)))
            .collect();
        hits.sort_by(|a, b| (a.1.ts, a.0).cmp(&(b.1.ts, b.0)));
        if q.direction == QueryDirection::Backward {
            hits.reverse();
        }
        let mut stats = ScanStats {
            candidates: hits.len() as u64,
            ..ScanStats::default()
        };
        for (l, e) in hits.into_iter().take(q.limit) {
            stats.entries += 1;
            stats.bytes += e.line.len() as u64;
            if !visit(l, e) {
                break;
            }
        }
        Ok(stats)
    }

    fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let all = self.streams.read();
        let names: BTreeSet<String> = selected(&all, matchers, start, end)
            .flat_map(|(l, _)| l.iter().map(|x| x.name.to_string()).collect::<Vec<_>>())
            .collect();
        names.into_iter().collect()
    }

    fn label_values(&self, name: &str, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let all = self.streams.read();
        let values: BTreeSet<String> = selected(&all, matchers, start, end)
            .filter_map(|(l, _)| l.get(name).map(str::to_string))
            .collect();
        values.into_iter().collect()
    }

    fn series(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<Labels> {
        let all = self.streams.read();
        selected(&all, matchers, start, end)
            .map(|(l, _)| l.clone())
            .collect()
    }

    fn volume(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<StreamVolume>, LogSourceError> {
        let all = self.streams.read();
        let step = step.max(1);
        Ok(selected(&all, matchers, start, end)
            .map(|(l, es)| {
                let mut b: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
                for e in es.iter().filter(|e| e.ts >= start && e.ts < end) {
                    let k = super::volume_bucket(start, step, e.ts);
                    let x = b.entry(k).or_default();
                    x.0 += 1;
                    x.1 += e.line.len() as u64;
                }
                StreamVolume {
                    labels: l.clone(),
                    buckets: b.into_iter().map(|(k, (n, by))| (k, n, by)).collect(),
                }
            })
            .collect())
    }
}

impl LogSink for MemLogs {
    fn push(&self, push: Vec<PushStream>) -> Result<usize, LogPushError> {
        let mut all = self.streams.write();
        let mut n = 0;
        for p in push {
            n += p.entries.len();
            all.entry(p.labels).or_default().extend(p.entries);
        }
        Ok(n)
    }
}
