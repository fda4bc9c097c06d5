//! The stream index: every stream's labels by id, persisted as an append-only file of JSON lines so labels,
//! label values and series are answered without reading lines.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use lookout_model::{Labels, Matcher};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct StreamLine {
    id: u64,
    labels: BTreeMap<String, String>,
    first: i64,
    last: i64,
}

/// A known stream.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Labels.
    pub labels: Labels,
    /// Oldest entry time seen (ns).
    pub first: i64,
    /// Newest entry time seen (ns).
    pub last: i64,
}

/// Streams by id.
pub struct Streams {
    by_id: HashMap<u64, StreamInfo>,
    file: File,
}

fn to_line(id: u64, s: &StreamInfo) -> StreamLine {
    StreamLine {
        id,
        labels: s
            .labels
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect(),
        first: s.first,
        last: s.last,
    }
}

impl Streams {
    /// Loads (creating) the stream file; later lines for an id replace earlier ones.
    pub fn open(path: &Path) -> io::Result<Streams> {
        let mut by_id = HashMap::new();
        if path.exists() {
            for line in BufReader::new(File::open(path)?).lines() {
                let line = line?;
                // A torn last line from a crash is skipped; the WAL replay re-adds its stream.
                let Ok(s) = serde_json::from_str::<StreamLine>(&line) else {
                    continue;
                };
                let labels =
                    Labels::from_pairs_unchecked(&s.labels.into_iter().collect::<Vec<_>>());
                by_id.insert(
                    s.id,
                    StreamInfo {
                        labels,
                        first: s.first,
                        last: s.last,
                    },
                );
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Streams { by_id, file })
    }

    /// The stream with `id`.
    pub fn get(&self, id: u64) -> Option<&StreamInfo> {
        self.by_id.get(&id)
    }

    /// Number of streams.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Records a stream (new, or with a wider time range) and appends it to the file.
    pub fn touch(&mut self, id: u64, labels: &Labels, first: i64, last: i64) -> io::Result<()> {
        let changed = match self.by_id.get_mut(&id) {
            Some(s) if s.first <= first && s.last >= last => false,
            Some(s) => {
                s.first = s.first.min(first);
                s.last = s.last.max(last);
                true
            }
            None => {
                self.by_id.insert(
                    id,
                    StreamInfo {
                        labels: labels.clone(),
                        first,
                        last,
                    },
                );
                true
            }
        };
        if changed {
            let mut line =
                serde_json::to_vec(&to_line(id, &self.by_id[&id])).map_err(io::Error::other)?;
            line.push(b'\n');
            self.file.write_all(&line)?;
        }
        Ok(())
    }

    /// Ids and labels of the streams matching every matcher with entries overlapping `[start, end)`.
    pub fn select(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<(u64, Labels)> {
        let mut out: Vec<(u64, Labels)> = self
            .by_id
            .iter()
            .filter(|(_, s)| s.first < end && s.last >= start)
            .filter(|(_, s)| {
                matchers
                    .iter()
                    .all(|m| m.matches(s.labels.get(&m.name).unwrap_or("")))
            })
            .map(|(id, s)| (*id, s.labels.clone()))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Label names of the selected streams.
    pub fn label_names(&self, matchers: &[Matcher], start: i64, end: i64) -> Vec<String> {
        let mut names = BTreeSet::new();
        for (_, l) in self.select(matchers, start, end) {
            names.extend(l.iter().map(|l| l.name.to_string()));
        }
        names.into_iter().collect()
    }

    /// Values of `name` among the selected streams.
    pub fn label_values(
        &self,
        name: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<String> {
        let mut values = BTreeSet::new();
        for (_, l) in self.select(matchers, start, end) {
            if let Some(v) = l.get(name) {
                values.insert(v.to_string());
            }
        }
        values.into_iter().collect()
    }
}
