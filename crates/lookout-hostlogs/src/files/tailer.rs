//! The set of tailed files and one polling step over them (run on a blocking thread).
//!
//! Which files exist comes from a [`Discovery`] (globs for the files source, the pod log tree for the pods
//! source). Files are tracked by device and inode. A file whose path no longer leads to it (renamed by rotation,
//! or deleted) is read to its end through its open handle, then closed and forgotten; a new file at that path is
//! read only after the old one is done, so the stream's entries stay in order. A file that shrinks below the read
//! position (copytruncate, truncation) is read again from 0. Lines above `max_line_size` are dropped (Promtail's
//! default) or truncated with `max_line_size_truncate`, and counted; a joined multi-line block or partial line is
//! held to the same limit.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lookout_model::Labels;
use lookout_storage::logs::Entry;

use super::decoder::{Assembler, Decoder};
use super::multiline::Multiline;
use super::positions::PositionEntry;
use super::reader::{Line, LineReader};
use crate::metrics::{DropReason, SourceMetrics, add, inc};
use crate::pods::ContainerLines;
use crate::shipper::{Item, now_ns};

/// How a target's lines become entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// A line (or multi-line block) is an entry stamped with the read time.
    Plain,
    /// Kubernetes container logs: CRI or docker JSON, detected per line (see [`crate::pods`]).
    Container,
}

/// How one kind of file is read.
pub(crate) struct Target {
    pub format: Format,
    pub multiline: Option<(regex::Regex, usize, Duration)>,
    pub max_line: usize,
    pub truncate: bool,
    pub tail_from_end: bool,
}

impl Target {
    /// Most bytes of a raw line kept by the reader: the entry limit, or room for the CRI prefix and JSON
    /// escaping (at most 6 bytes per content byte) when lines are decoded first.
    fn raw_limit(&self) -> usize {
        match (self.format, self.max_line) {
            (_, 0) | (Format::Plain, _) => self.max_line,
            (Format::Container, m) => m.saturating_mul(6).saturating_add(1024),
        }
    }
}

/// A file to tail, as a discovery found it.
pub(crate) struct Found {
    pub path: PathBuf,
    /// Index of its [`Target`].
    pub target: usize,
    pub dev: u64,
    pub ino: u64,
    /// Its stream's labels.
    pub labels: Labels,
    /// It was there when the source started (`tail_from_end` applies).
    pub at_startup: bool,
}

/// Lists the files to tail.
pub(crate) trait Discovery: Send {
    /// Every file to tail now (a tracked file missing here is read to its end, then closed).
    fn discover(&mut self) -> Vec<Found>;
    /// Whether `discover` must run again at the next poll rather than after `sync_period`.
    fn again_soon(&self) -> bool {
        false
    }
    /// Whether a file not listed yet will be listed later (its saved position must be kept meanwhile).
    fn holds(&self, _path: &Path) -> bool {
        false
    }
}

struct Tracked {
    dev: u64,
    ino: u64,
    path: PathBuf,
    target: usize,
    labels: Labels,
    /// Container logs: the labels with `stream="stdout"` and `stream="stderr"`.
    stream_labels: Option<[Labels; 2]>,
    reader: LineReader,
    decoder: Decoder,
    /// The path no longer leads here: read to the end, then close.
    draining: bool,
}

/// Most bytes read from one file per poll, so one busy file cannot starve the others or the batch.
const READ_BUDGET: usize = 1 << 20;

/// Every tailed file.
pub(crate) struct FilesState {
    targets: Vec<Target>,
    discovery: Box<dyn Discovery>,
    tracked: Vec<Tracked>,
    /// Saved positions of files not tracked yet.
    saved: Vec<PositionEntry>,
    last_scan: Option<Instant>,
    rescan_soon: bool,
    sync_period: Duration,
    metrics: Arc<SourceMetrics>,
}

impl FilesState {
    /// The state before the first scan, with the positions saved by the previous run.
    pub fn new(
        targets: Vec<Target>,
        discovery: Box<dyn Discovery>,
        saved: Vec<PositionEntry>,
        sync_period: Duration,
        metrics: Arc<SourceMetrics>,
    ) -> Self {
        FilesState {
            targets,
            discovery,
            tracked: Vec::new(),
            saved,
            last_scan: None,
            rescan_soon: false,
            sync_period,
            metrics,
        }
    }

    /// The positions to save once every entry returned so far is stored (and those of files held back).
    pub fn positions(&self) -> Vec<PositionEntry> {
        let mut out: Vec<PositionEntry> = self
            .tracked
            .iter()
            .map(|t| {
                let safe = t.reader.safe_pos();
                let pending = t.decoder.pending_start().filter(|&p| p < safe);
                PositionEntry {
                    path: t.path.to_string_lossy().into_owned(),
                    dev: t.dev,
                    ino: t.ino,
                    pos: pending.unwrap_or(safe),
                    stored: pending.map(|_| safe),
                }
            })
            .collect();
        out.extend(self.saved.iter().cloned());
        out
    }

    /// One step: discover files when due, read new lines of every file, handle rotation and truncation.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Item>) {
        let scan_due = self
            .last_scan
            .is_none_or(|t| now.duration_since(t) >= self.sync_period);
        if scan_due || self.rescan_soon || self.discovery.again_soon() {
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
        let found = self.discovery.discover();
        for t in &mut self.tracked {
            if !found.iter().any(|f| f.dev == t.dev && f.ino == t.ino) && !t.draining {
                t.draining = true;
                inc(&self.metrics.rotations);
            }
        }
        for f in found {
            if self
                .tracked
                .iter()
                .any(|t| t.dev == f.dev && t.ino == f.ino)
            {
                continue;
            }
            self.open(f);
        }
        let discovery = &self.discovery;
        self.saved.retain(|s| discovery.holds(Path::new(&s.path)));
    }

    fn open(&mut self, f: Found) {
        let target = &self.targets[f.target];
        let (mut reader, (dev, ino, len)) = match LineReader::open(&f.path, 0, target.raw_limit()) {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(path = %f.path.display(), error = %e, "cannot open log file");
                inc(&self.metrics.source_errors);
                return;
            }
        };
        let saved = self
            .saved
            .iter()
            .position(|s| s.dev == dev && s.ino == ino)
            .map(|i| self.saved.remove(i));
        let (start, replay_until) = match saved {
            Some(s) if s.pos <= len => (s.pos, s.stored.filter(|&x| x <= len).unwrap_or(0)),
            Some(_) => {
                inc(&self.metrics.truncations);
                (0, 0)
            }
            None if f.at_startup && target.tail_from_end => (len, 0),
            None => (0, 0),
        };
        if start > 0 {
            match LineReader::open(&f.path, start, target.raw_limit()) {
                Ok((r, _)) => reader = r,
                Err(_) => return,
            }
        }
        let stream_labels = (target.format == Format::Container).then(|| {
            ["stdout", "stderr"].map(|s| {
                let mut b = f.labels.to_builder();
                b.set("stream", s);
                b.build_unchecked()
            })
        });
        let assembler = match target.format {
            Format::Plain => Assembler::Plain(
                target
                    .multiline
                    .as_ref()
                    .map(|(re, lines, wait)| Multiline::new(re.clone(), *lines, *wait)),
            ),
            Format::Container => Assembler::Container(ContainerLines::new(target.max_line)),
        };
        let decoder = Decoder::new(assembler, replay_until);
        inc(&self.metrics.starts);
        self.tracked.push(Tracked {
            dev,
            ino,
            path: f.path,
            target: f.target,
            labels: f.labels,
            stream_labels,
            reader,
            decoder,
            draining: false,
        });
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
        let mut decoded = Vec::new();
        match t.reader.file_len() {
            Ok(len) if len < t.reader.pos() => {
                // Truncated in place: what is pending was complete lines of the old content.
                inc(&m.truncations);
                t.decoder.flush(&mut decoded);
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
        for line in lines {
            let start = line.start;
            if let Some(text) = line_text(line, target.raw_limit(), target.truncate, &m) {
                t.decoder.push(text, start, now, &m, &mut decoded);
            }
        }
        if finished {
            t.decoder.flush(&mut decoded);
        } else {
            t.decoder.flush_if_due(now, &mut decoded);
        }
        let read_ts = now_ns();
        for d in decoded {
            let Some(line) = limit(d.text, d.full_len, target.max_line, target.truncate, &m) else {
                continue;
            };
            let labels = match (&t.stream_labels, d.stream) {
                (Some(s), Some(i)) => s[i as usize].clone(),
                _ => t.labels.clone(),
            };
            out.push((
                labels,
                Entry {
                    ts: d.ts.unwrap_or(read_ts),
                    line,
                    metadata: Vec::new(),
                },
            ));
        }
        finished
    }
}

/// A read line as text, counted; `None` when it is dropped for its size (`max` raw bytes; 0: no limit).
fn line_text(line: Line, max: usize, truncate: bool, m: &SourceMetrics) -> Option<String> {
    inc(&m.read);
    add(&m.read_bytes, line.len);
    if max > 0 && line.len > max as u64 && !truncate {
        m.dropped(DropReason::TooLarge, 1);
        return None;
    }
    Some(String::from_utf8_lossy(&line.text).into_owned())
}

/// Holds an entry of `full_len` bytes (of which `text` may hold only the start) to the size limit: truncated
/// (at a character boundary) or dropped, and counted.
fn limit(
    mut text: String,
    full_len: usize,
    max: usize,
    truncate: bool,
    m: &SourceMetrics,
) -> Option<String> {
    if max == 0 || (text.len() <= max && full_len <= max) {
        return Some(text);
    }
    if !truncate {
        m.dropped(DropReason::TooLarge, 1);
        return None;
    }
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    inc(&m.truncated);
    Some(text)
}
