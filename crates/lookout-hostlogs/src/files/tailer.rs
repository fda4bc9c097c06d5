//! The set of tailed files and one polling step over them (run on a blocking thread).
//!
//! Files are tracked by device and inode. A file whose path no longer leads to it (renamed by rotation, or
//! deleted) is read to its end through its open handle, then closed; a new file at that path is read only after
//! the old one is done, so the stream's entries stay in order. A file that shrinks below the read position
//! (copytruncate, truncation) is read again from 0. A file matched by several targets is tailed once, by the
//! first. Lines above `max_line_size` are dropped (Promtail's default) or truncated with
//! `max_line_size_truncate`, and counted; a joined multi-line block is held to the same limit.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_model::Labels;
use lookout_storage::logs::Entry;

use super::multiline::{Block, Multiline};
use super::positions::PositionEntry;
use super::reader::{Line, LineReader};
use crate::labels::StaticLabels;
use crate::metrics::{DropReason, SourceMetrics, add, inc};
use crate::shipper::{Item, now_ns};

/// One configured target, compiled.
pub(crate) struct Target {
    pub include: Vec<String>,
    pub exclude: Vec<glob::Pattern>,
    pub labels: StaticLabels,
    pub multiline: Option<(regex::Regex, usize, Duration)>,
    pub max_line: usize,
    pub truncate: bool,
    pub tail_from_end: bool,
}

struct Tracked {
    dev: u64,
    ino: u64,
    path: PathBuf,
    target: usize,
    labels: Labels,
    reader: LineReader,
    multiline: Option<Multiline>,
    /// The path no longer leads here: read to the end, then close.
    draining: bool,
}

/// Most bytes read from one file per poll, so one busy file cannot starve the others or the batch.
const READ_BUDGET: usize = 1 << 20;

/// Every tailed file.
pub(crate) struct FilesState {
    targets: Vec<Target>,
    tracked: Vec<Tracked>,
    saved: Vec<PositionEntry>,
    scanned_once: bool,
    last_scan: Option<Instant>,
    rescan_soon: bool,
    sync_period: Duration,
    metrics: Arc<SourceMetrics>,
}

impl FilesState {
    /// The state before the first scan, with the positions saved by the previous run.
    pub fn new(
        targets: Vec<Target>,
        saved: Vec<PositionEntry>,
        sync_period: Duration,
        metrics: Arc<SourceMetrics>,
    ) -> Self {
        FilesState {
            targets,
            tracked: Vec::new(),
            saved,
            scanned_once: false,
            last_scan: None,
            rescan_soon: false,
            sync_period,
            metrics,
        }
    }

    /// The positions to save once every entry returned so far is stored.
    pub fn positions(&self) -> Vec<PositionEntry> {
        self.tracked
            .iter()
            .map(|t| PositionEntry {
                path: t.path.to_string_lossy().into_owned(),
                dev: t.dev,
                ino: t.ino,
                pos: t
                    .multiline
                    .as_ref()
                    .and_then(Multiline::pending_start)
                    .unwrap_or_else(|| t.reader.safe_pos()),
            })
            .collect()
    }

    /// One step: expand the globs when due, read new lines of every file, handle rotation and truncation.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Item>) {
        let scan_due = self
            .last_scan
            .is_none_or(|t| now.duration_since(t) >= self.sync_period);
        if scan_due || self.rescan_soon {
            self.scan(now);
        }
        let mut i = 0;
        while i < self.tracked.len() {
            let waiting = !self.tracked[i].draining
                && self.tracked[..i]
                    .iter()
                    .any(|o| o.draining && o.path == self.tracked[i].path);
            let done = if waiting {
                false
            } else {
                self.read_one(i, now, out)
            };
            if done {
                self.tracked.remove(i);
            } else {
                i += 1;
            }
        }
        self.metrics.active.store(
            self.tracked.len() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn scan(&mut self, now: Instant) {
        self.last_scan = Some(now);
        self.rescan_soon = false;
        let mut found: Vec<(PathBuf, usize, u64, u64)> = Vec::new();
        for (ti, t) in self.targets.iter().enumerate() {
            for pattern in &t.include {
                let Ok(paths) = glob::glob(pattern) else {
                    continue;
                };
                for p in paths.flatten() {
                    if t.exclude.iter().any(|x| x.matches_path(&p)) {
                        continue;
                    }
                    let Ok(md) = std::fs::metadata(&p) else {
                        continue;
                    };
                    if !md.is_file() || found.iter().any(|f| f.2 == md.dev() && f.3 == md.ino()) {
                        continue;
                    }
                    found.push((p, ti, md.dev(), md.ino()));
                }
            }
        }
        for t in &mut self.tracked {
            if !found.iter().any(|f| f.2 == t.dev && f.3 == t.ino) && !t.draining {
                t.draining = true;
                inc(&self.metrics.rotations);
            }
        }
        let first = !self.scanned_once;
        self.scanned_once = true;
        let saved = if first {
            std::mem::take(&mut self.saved)
        } else {
            Vec::new()
        };
        for (path, ti, dev, ino) in found {
            if self.tracked.iter().any(|t| t.dev == dev && t.ino == ino) {
                continue;
            }
            let target = &self.targets[ti];
            let (mut reader, (dev, ino, len)) = match LineReader::open(&path, 0, target.max_line) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot open log file");
                    inc(&self.metrics.source_errors);
                    continue;
                }
            };
            let start = match saved.iter().find(|s| s.dev == dev && s.ino == ino) {
                Some(s) if s.pos <= len => s.pos,
                Some(_) => {
                    inc(&self.metrics.truncations);
                    0
                }
                None if first && target.tail_from_end => len,
                None => 0,
            };
            if start > 0 {
                match LineReader::open(&path, start, target.max_line) {
                    Ok((r, _)) => reader = r,
                    Err(_) => continue,
                }
            }
            let mut labels = target.labels.builder();
            labels.set("filename", &path.to_string_lossy());
            inc(&self.metrics.starts);
            self.tracked.push(Tracked {
                dev,
                ino,
                path,
                target: ti,
                labels: labels.build_unchecked(),
                reader,
                multiline: target
                    .multiline
                    .as_ref()
                    .map(|(re, lines, wait)| Multiline::new(re.clone(), *lines, *wait)),
                draining: false,
            });
        }
    }

    /// Reads file `i`; true when it is done (drained after rotation or deletion).
    fn read_one(&mut self, i: usize, now: Instant, out: &mut Vec<Item>) -> bool {
        let m = self.metrics.clone();
        let t = &mut self.tracked[i];
        let target = &self.targets[t.target];
        if !t.draining {
            let same =
                std::fs::metadata(&t.path).is_ok_and(|md| md.dev() == t.dev && md.ino() == t.ino);
            if !same {
                t.draining = true;
                self.rescan_soon = true;
                inc(&m.rotations);
            }
        }
        let mut lines = Vec::new();
        let mut blocks = Vec::new();
        match t.reader.file_len() {
            Ok(len) if len < t.reader.pos() => {
                // Truncated in place: what is pending was complete lines of the old content.
                inc(&m.truncations);
                blocks.extend(t.multiline.as_mut().and_then(Multiline::flush));
                t.reader.reset();
            }
            _ => {}
        }
        let read = match t.reader.read(READ_BUDGET, &mut lines) {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(path = %t.path.display(), error = %e, "log file read failed");
                inc(&m.source_errors);
                0
            }
        };
        let finished = t.draining && read == 0;
        if finished {
            lines.extend(t.reader.take_partial());
        }
        let ts = now_ns();
        let emit = |text: String, out: &mut Vec<Item>| {
            if let Some(text) = limit(text, target.max_line, target.truncate, &m) {
                out.push((
                    t.labels.clone(),
                    Entry {
                        ts,
                        line: text,
                        metadata: Vec::new(),
                    },
                ));
            }
        };
        for b in blocks.drain(..) {
            emit(b.text, out);
        }
        for line in lines {
            let Some(text) = line_text(line.clone(), target, &m) else {
                continue;
            };
            match &mut t.multiline {
                Some(ml) => {
                    let mut done: Vec<Block> = Vec::new();
                    ml.push(text, line.start, now, &mut done);
                    for b in done {
                        emit(b.text, out);
                    }
                }
                None => emit(text, out),
            }
        }
        if let Some(ml) = &mut t.multiline {
            let b = if finished {
                ml.flush()
            } else {
                ml.flush_if_due(now)
            };
            if let Some(b) = b {
                emit(b.text, out);
            }
        }
        finished
    }
}

/// A read line as text, counted; `None` when it is dropped for its size.
fn line_text(line: Line, target: &Target, m: &SourceMetrics) -> Option<String> {
    inc(&m.read);
    add(&m.read_bytes, line.len);
    if target.max_line > 0 && line.len > target.max_line as u64 && !target.truncate {
        m.dropped(DropReason::TooLarge, 1);
        return None;
    }
    Some(String::from_utf8_lossy(&line.text).into_owned())
}

/// Holds `text` to the size limit: truncated (at a character boundary) or dropped, and counted.
fn limit(mut text: String, max: usize, truncate: bool, m: &SourceMetrics) -> Option<String> {
    if max == 0 || text.len() <= max {
        return Some(text);
    }
    if !truncate {
        m.dropped(DropReason::TooLarge, 1);
        return None;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    inc(&m.truncated);
    Some(text)
}
