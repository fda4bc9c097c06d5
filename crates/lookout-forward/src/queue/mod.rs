//! A per-endpoint disk queue: its own small WAL of segment files, a persisted read position, and a size bound.
//!
//! - **Acknowledged means on disk.** [`DiskQueue::append`] writes the whole record with one `write()` before it
//!   returns, so the record is in the OS page cache and survives `kill -9`. [`DiskQueue::sync`] (called on an
//!   interval by the forwarder) fsyncs for power cuts.
//! - **The read position only moves forward over delivered data.** The sender calls [`DiskQueue::ack`] with the
//!   end of a record once the receiver took (or definitively refused) it and everything before it. The position is
//!   rewritten in place (one `pwrite` of 20 bytes) at each ack, so a restart replays at most the records that were
//!   in flight. Fully acknowledged segments are deleted.
//! - **Bounded.** When the queue's files exceed `max_size`, the oldest segments are deleted, even unread ones, and
//!   their unread items counted in [`QueueStats::dropped_items`]. The writer never blocks on the reader. The
//!   directory stays below `max_size` plus one segment (plus one record larger than a segment, if any).
//! - **Torn tails** (a crash during a write) are cut at the last good record when the queue opens, with a warning.
//! - **Lazy reading**: [`QueueReader`] reads records from the files on demand; only the segment list is in memory.
//!
//! One reader per queue. The reader and `ack` do file I/O: async callers run them in `spawn_blocking`.

mod segment;

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use segment::{encode_record, read_record, scan, segment_id, segment_path};

/// File holding the read position.
const POSITION_FILE: &str = "position";

/// Sizes of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Bound of the queue's files in bytes; the oldest segments are dropped beyond it.
    pub max_size: u64,
    /// A segment is closed and a new one started once it reaches this size.
    pub segment_size: u64,
}

impl QueueOptions {
    /// Options for a bound, with segments of `max_size / 16` clamped to 64 KiB ..= 8 MiB, so the bound is
    /// precise (the overshoot is at most one segment).
    pub fn for_max_size(max_size: u64) -> Self {
        QueueOptions {
            max_size,
            segment_size: (max_size / 16).clamp(64 << 10, 8 << 20),
        }
    }
}

/// A place in the queue: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Segment id.
    pub segment: u64,
    /// Byte offset.
    pub offset: u64,
}

/// A queue operation failed.
#[derive(Debug, thiserror::Error)]
#[error("disk queue i/o error on {path}: {source}")]
pub struct QueueError {
    /// The file or directory.
    pub path: String,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> QueueError + '_ {
    move |source| QueueError {
        path: path.display().to_string(),
        source,
    }
}

/// A record as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRecord {
    /// The position just after the record: what to [`DiskQueue::ack`] once it is delivered.
    pub end: Position,
    /// Items (samples or entries) it holds.
    pub items: u32,
    /// The bytes given to [`DiskQueue::append`].
    pub payload: Vec<u8>,
}

/// Counters and gauges of a queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Bytes of segment files.
    pub bytes: u64,
    /// Segment files.
    pub segments: usize,
    /// Items appended and not yet read by the reader.
    pub unread_items: u64,
    /// Items appended since open.
    pub appended_items: u64,
    /// Items dropped unread by the size bound since open.
    pub dropped_items: u64,
    /// Damaged records skipped by the reader since open.
    pub corrupt_records: u64,
}

#[derive(Debug)]
struct SegmentInfo {
    id: u64,
    len: u64,
    items: u64,
    items_read: u64,
}

#[derive(Debug)]
struct State {
    segments: VecDeque<SegmentInfo>,
    head: File,
    total_bytes: u64,
    ack: Position,
    position_file: File,
    unsynced: Vec<u64>,
}

/// A disk queue; see the module docs.
#[derive(Debug)]
pub struct DiskQueue {
    dir: PathBuf,
    opts: QueueOptions,
    state: Mutex<State>,
    notify: tokio::sync::Notify,
    appended_items: AtomicU64,
    dropped_items: AtomicU64,
    corrupt_records: AtomicU64,
}

fn encode_position(p: Position) -> [u8; 20] {
    let mut b = [0u8; 20];
    b[..8].copy_from_slice(&p.segment.to_le_bytes());
    b[8..16].copy_from_slice(&p.offset.to_le_bytes());
    let crc = crc32fast::hash(&b[..16]);
    b[16..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn decode_position(b: &[u8]) -> Option<Position> {
    if b.len() != 20 || crc32fast::hash(&b[..16]).to_le_bytes() != b[16..20] {
        return None;
    }
    Some(Position {
        segment: u64::from_le_bytes(b[..8].try_into().ok()?),
        offset: u64::from_le_bytes(b[8..16].try_into().ok()?),
    })
}

impl DiskQueue {
    /// Opens (or creates) the queue in `dir`: cuts torn tails, drops fully acknowledged segments, starts a new
    /// segment for appends, and applies the size bound.
    pub fn open(dir: &Path, opts: QueueOptions) -> Result<DiskQueue, QueueError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let pos_path = dir.join(POSITION_FILE);
        let saved = match fs::read(&pos_path) {
            Ok(b) => {
                let p = decode_position(&b);
                if p.is_none() {
                    tracing::warn!(path = %pos_path.display(), "damaged queue position; replaying from the oldest segment");
                }
                p
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&pos_path)(e)),
        };
        let mut ids: Vec<u64> = fs::read_dir(dir)
            .map_err(io_err(dir))?
            .filter_map(|e| e.ok())
            .filter_map(|e| segment_id(e.file_name().to_str()?))
            .collect();
        ids.sort_unstable();
        let ack = saved.unwrap_or(Position {
            segment: ids.first().copied().unwrap_or(1),
            offset: 0,
        });
        let mut segments = VecDeque::new();
        let last = ids.last().copied();
        for id in ids {
            let path = segment_path(dir, id);
            if id < ack.segment {
                fs::remove_file(&path).map_err(io_err(&path))?;
                continue;
            }
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let from = if id == ack.segment { ack.offset } else { 0 };
            let res = scan(&mut file, Some(id) == last, from).map_err(io_err(&path))?;
            if res.torn {
                tracing::warn!(path = %path.display(), good_len = res.good_len, "queue segment has a torn or damaged tail; cut at the last good record");
                file.set_len(res.good_len).map_err(io_err(&path))?;
            }
            segments.push_back(SegmentInfo {
                id,
                len: res.good_len,
                items: res.items,
                items_read: res.items_before,
            });
        }
        let head_id = last.map_or(ack.segment, |l| l + 1).max(ack.segment + 1);
        let head_path = segment_path(dir, head_id);
        let head = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&head_path)
            .map_err(io_err(&head_path))?;
        segments.push_back(SegmentInfo {
            id: head_id,
            len: 0,
            items: 0,
            items_read: 0,
        });
        let position_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&pos_path)
            .map_err(io_err(&pos_path))?;
        let total_bytes = segments.iter().map(|s| s.len).sum();
        let q = DiskQueue {
            dir: dir.to_path_buf(),
            opts,
            state: Mutex::new(State {
                segments,
                head,
                total_bytes,
                ack,
                position_file,
                unsynced: Vec::new(),
            }),
            notify: tokio::sync::Notify::new(),
            appended_items: AtomicU64::new(0),
            dropped_items: AtomicU64::new(0),
            corrupt_records: AtomicU64::new(0),
        };
        {
            let mut st = q.state.lock();
            q.write_position(&mut st)?;
            q.enforce_bound(&mut st)?;
        }
        Ok(q)
    }

    /// The queue's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record holding `items` items; when it returns `Ok` the record is in the page cache.
    pub fn append(&self, items: u32, payload: &[u8]) -> Result<(), QueueError> {
        let buf = encode_record(items, payload);
        let mut st = self.state.lock();
        let head_id = st.segments.back().expect("a head segment").id;
        if let Err(e) = st.head.write_all(&buf) {
            // Cut a partial write so later records stay readable.
            let len = st.segments.back().expect("a head segment").len;
            let _ = st.head.set_len(len);
            return Err(io_err(&segment_path(&self.dir, head_id))(e));
        }
        let head = st.segments.back_mut().expect("a head segment");
        head.len += buf.len() as u64;
        head.items += u64::from(items);
        let head_len = head.len;
        st.total_bytes += buf.len() as u64;
        self.appended_items
            .fetch_add(u64::from(items), Ordering::Relaxed);
        if head_len >= self.opts.segment_size {
            let id = head_id + 1;
            let path = segment_path(&self.dir, id);
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            st.head = file;
            st.unsynced.push(head_id);
            st.segments.push_back(SegmentInfo {
                id,
                len: 0,
                items: 0,
                items_read: 0,
            });
        }
        self.enforce_bound(&mut st)?;
        drop(st);
        self.notify.notify_one();
        Ok(())
    }

    /// Drops the oldest segments while the files exceed the bound, counting their unread items.
    fn enforce_bound(&self, st: &mut State) -> Result<(), QueueError> {
        while st.total_bytes > self.opts.max_size && st.segments.len() > 1 {
            let old = st.segments.pop_front().expect("more than one segment");
            let path = segment_path(&self.dir, old.id);
            fs::remove_file(&path).map_err(io_err(&path))?;
            st.total_bytes -= old.len;
            let lost = old.items.saturating_sub(old.items_read);
            self.dropped_items.fetch_add(lost, Ordering::Relaxed);
            if lost > 0 {
                tracing::warn!(queue = %self.dir.display(), items = lost, "disk queue full: dropped its oldest segment");
            }
            let next = st.segments.front().expect("a head segment").id;
            if st.ack.segment <= old.id {
                st.ack = Position {
                    segment: next,
                    offset: 0,
                };
                self.write_position(st)?;
            }
        }
        Ok(())
    }

    fn write_position(&self, st: &mut State) -> Result<(), QueueError> {
        st.position_file
            .write_all_at(&encode_position(st.ack), 0)
            .map_err(io_err(&self.dir.join(POSITION_FILE)))
    }

    /// Records that everything before `end` was delivered; deletes segments that are wholly before it.
    /// Positions behind the current one are ignored.
    pub fn ack(&self, end: Position) -> Result<(), QueueError> {
        let mut st = self.state.lock();
        if end <= st.ack {
            return Ok(());
        }
        st.ack = end;
        self.write_position(&mut st)?;
        while st.segments.len() > 1 {
            let front = st.segments.front().expect("segments");
            let done =
                front.id < end.segment || (front.id == end.segment && end.offset >= front.len);
            if !done {
                break;
            }
            let old = st.segments.pop_front().expect("segments");
            st.total_bytes -= old.len;
            let path = segment_path(&self.dir, old.id);
            if let Err(e) = fs::remove_file(&path)
                && e.kind() != io::ErrorKind::NotFound
            {
                return Err(io_err(&path)(e));
            }
        }
        Ok(())
    }

    /// The acknowledged position.
    pub fn acked(&self) -> Position {
        self.state.lock().ack
    }

    /// Fsyncs segments written since the last call, and the position.
    pub fn sync(&self) -> Result<(), QueueError> {
        let (ids, head, pos) = {
            let mut st = self.state.lock();
            let ids = std::mem::take(&mut st.unsynced);
            let head = st.head.try_clone();
            let pos = st.position_file.try_clone();
            (ids, head, pos)
        };
        for id in ids {
            let path = segment_path(&self.dir, id);
            match File::open(&path) {
                Ok(f) => f.sync_data().map_err(io_err(&path))?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        head.and_then(|f| f.sync_data())
            .map_err(io_err(&self.dir))?;
        pos.and_then(|f| f.sync_data())
            .map_err(io_err(&self.dir.join(POSITION_FILE)))?;
        Ok(())
    }

    /// Current statistics.
    pub fn stats(&self) -> QueueStats {
        let st = self.state.lock();
        QueueStats {
            bytes: st.total_bytes,
            segments: st.segments.len(),
            unread_items: st
                .segments
                .iter()
                .map(|s| s.items.saturating_sub(s.items_read))
                .sum(),
            appended_items: self.appended_items.load(Ordering::Relaxed),
            dropped_items: self.dropped_items.load(Ordering::Relaxed),
            corrupt_records: self.corrupt_records.load(Ordering::Relaxed),
        }
    }

    /// Waits until a record is appended (or returns at once if one was appended since the last wait).
    pub async fn appended(&self) {
        self.notify.notified().await;
    }

    /// A reader starting at the acknowledged position (one reader per queue).
    pub fn reader(&self) -> QueueReader {
        let ack = self.acked();
        QueueReader {
            segment: ack.segment,
            offset: ack.offset,
            file: None,
        }
    }
}

/// Reads records in order from a [`DiskQueue`]; see the module docs.
#[derive(Debug)]
pub struct QueueReader {
    segment: u64,
    offset: u64,
    file: Option<File>,
}

impl QueueReader {
    /// Reads records until `max_items` items were read or the queue's end is reached (possibly none).
    pub fn read(
        &mut self,
        queue: &DiskQueue,
        max_items: usize,
    ) -> Result<Vec<QueueRecord>, QueueError> {
        let mut out = Vec::new();
        let mut items = 0usize;
        while items < max_items.max(1) {
            let (limit, is_head) = {
                let st = queue.state.lock();
                match st.segments.iter().position(|s| s.id >= self.segment) {
                    Some(i) => {
                        let s = &st.segments[i];
                        if s.id != self.segment {
                            // Our segment was dropped by the bound or acknowledged away: go on from the next one.
                            self.segment = s.id;
                            self.offset = 0;
                            self.file = None;
                        }
                        (s.len, i + 1 == st.segments.len())
                    }
                    None => return Ok(out),
                }
            };
            let path = segment_path(&queue.dir, self.segment);
            if self.file.is_none() {
                match File::open(&path) {
                    Ok(f) => self.file = Some(f),
                    // Deleted between the lookup and the open: look again.
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_err(&path)(e)),
                }
            }
            let file = self.file.as_mut().expect("opened above");
            match read_record(file, self.offset, limit) {
                Ok(Some((h, payload))) => {
                    self.offset += segment::HEADER_LEN + u64::from(h.len);
                    items += h.items as usize;
                    let mut st = queue.state.lock();
                    if let Some(s) = st.segments.iter_mut().find(|s| s.id == self.segment) {
                        s.items_read += u64::from(h.items);
                    }
                    out.push(QueueRecord {
                        end: Position {
                            segment: self.segment,
                            offset: self.offset,
                        },
                        items: h.items,
                        payload,
                    });
                }
                Ok(None) if is_head => return Ok(out),
                Ok(None) => {
                    self.segment += 1;
                    self.offset = 0;
                    self.file = None;
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    tracing::warn!(path = %path.display(), offset = self.offset, error = %e, "damaged queue record: skipping the rest of the segment");
                    queue.corrupt_records.fetch_add(1, Ordering::Relaxed);
                    if is_head {
                        self.offset = limit;
                        return Ok(out);
                    }
                    self.segment += 1;
                    self.offset = 0;
                    self.file = None;
                }
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
