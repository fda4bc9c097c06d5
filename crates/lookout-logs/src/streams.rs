//! The stream index: every stream's labels by id, persisted as an append-only file of JSON lines so labels,
//! label values and series are answered without reading lines. A line is appended whenever a stream's time range
//! widens, so the file is rewritten (atomically: a temporary file renamed over it) when it holds far more lines
//! than streams, and when retention drops streams whose entries are all gone.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

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
    /// The time range each stream has on disk: written padded by [`RANGE_SLACK_NS`], so a stream pushed to
    /// continuously is rewritten about once an hour, not once per push. A wider range on disk is harmless (a
    /// query may consider the stream and find nothing); a narrower one would hide entries after a restart.
    on_disk: HashMap<u64, (i64, i64)>,
    path: PathBuf,
    file: File,
    /// Lines in the file.
    lines: usize,
}

/// How far a stream's range on disk reaches beyond what it holds (1 h).
const RANGE_SLACK_NS: i64 = 3_600_000_000_000;

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
        let mut lines = 0;
        if path.exists() {
            for line in BufReader::new(File::open(path)?).lines() {
                let line = line?;
                lines += 1;
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
        Ok(Streams {
            on_disk: by_id
                .iter()
                .map(|(id, s)| (*id, (s.first, s.last)))
                .collect(),
            by_id,
            path: path.to_path_buf(),
            file,
            lines,
        })
    }

    /// Drops the streams whose newest entry is older than `horizon` (ns) and returns their ids; the file is
    /// rewritten when any was dropped or when it holds more than twice as many lines as streams (plus 1,000).
    pub fn retain_newer(&mut self, horizon: i64) -> io::Result<Vec<u64>> {
        let gone: Vec<u64> = self
            .by_id
            .iter()
            .filter(|(_, s)| s.last < horizon)
            .map(|(id, _)| *id)
            .collect();
        for id in &gone {
            self.by_id.remove(id);
            self.on_disk.remove(id);
        }
        if !gone.is_empty() || self.lines > 2 * self.by_id.len() + 1000 {
            self.rewrite()?;
        }
        Ok(gone)
    }

    /// Writes every stream once to a temporary file, syncs it and renames it over the file.
    fn rewrite(&mut self) -> io::Result<()> {
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut out = io::BufWriter::new(File::create(&tmp)?);
        for (id, s) in &self.by_id {
            serde_json::to_writer(&mut out, &to_line(*id, s)).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
        }
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir)?.sync_all()?;
        }
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.lines = self.by_id.len();
        self.on_disk = self
            .by_id
            .iter()
            .map(|(id, s)| (*id, (s.first, s.last)))
            .collect();
        Ok(())
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
        let covered = self
            .on_disk
            .get(&id)
            .is_some_and(|(f, l)| *f <= first && *l >= last);
        if changed && !covered {
            let mut padded = self.by_id[&id].clone();
            padded.first = padded.first.saturating_sub(RANGE_SLACK_NS);
            padded.last = padded.last.saturating_add(RANGE_SLACK_NS);
            let mut line = serde_json::to_vec(&to_line(id, &padded)).map_err(io::Error::other)?;
            line.push(b'\n');
            self.file.write_all(&line)?;
            self.lines += 1;
            self.on_disk.insert(id, (padded.first, padded.last));
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

#[cfg(test)]
mod range_tests {
    use super::*;

    #[test]
    fn a_stream_pushed_continuously_is_written_about_once_an_hour_and_reopens_covering_its_entries()
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("streams.jsonl");
        let labels = Labels::from_pairs_unchecked(&[("app", "x")]);
        let mut s = Streams::open(&path).unwrap();
        let sec = 1_000_000_000i64;
        for i in 0..3600 {
            s.touch(7, &labels, i * sec, i * sec).unwrap();
        }
        assert_eq!(s.lines, 1, "one line for an hour of pushes");
        s.touch(7, &labels, 2 * 3600 * sec, 2 * 3600 * sec).unwrap();
        assert_eq!(s.lines, 2);
        drop(s);
        let s = Streams::open(&path).unwrap();
        let info = s.get(7).unwrap();
        assert!(
            info.first <= 0 && info.last >= 2 * 3600 * sec,
            "the range on disk covers every entry"
        );
    }
}
