//! The log's writer: a thread that takes the records the head leaves in a bounded pending list (the head leaves
//! them under its shard lock, so it never waits and never wakes the thread: a full list drops the record and
//! counts it), writes them every [`PERIOD`], starts a new file past [`FILE_BYTES`](super::FILE_BYTES) and deletes
//! files once persistence has passed everything in them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use super::load::LogFile;
use super::{ChunkRecord, FILE_BYTES, MAGIC, file_path, list_files};

/// Records pending for the writer before new ones are dropped (about 1 MiB).
const PENDING: usize = 16_384;
/// The writer is woken each time this many records are pending: every series of a scrape seals at the same
/// step, so seals come in bursts of the target's size. (A wake-up per record would cost the appending thread a
/// futex call each.)
const WAKE_EVERY: usize = 256;
/// Otherwise the writer takes the pending records and flushes this often.
const PERIOD: Duration = Duration::from_millis(100);

enum Msg {
    /// Records are pending.
    Wake,
    /// Delete files holding nothing at or after this time.
    Truncate(i64),
    /// Write what is pending and flush, then answer.
    #[cfg(test)]
    Sync(SyncSender<()>),
}

/// Counters of the log.
#[derive(Debug, Default)]
pub(crate) struct LogStats {
    pub(crate) written: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) size_bytes: AtomicU64,
}

/// Handle of the running log.
pub(crate) struct ChunkLog {
    pending: Arc<Mutex<Vec<ChunkRecord>>>,
    tx: Mutex<Option<SyncSender<Msg>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
    pub(crate) stats: Arc<LogStats>,
}

impl ChunkLog {
    /// Starts the writer in `dir` (created if missing); `files` are the log files already there.
    pub(crate) fn start(dir: &Path, files: Vec<LogFile>) -> std::io::Result<ChunkLog> {
        std::fs::create_dir_all(dir)?;
        let stats = Arc::new(LogStats::default());
        stats
            .size_bytes
            .store(files.iter().map(|f| f.bytes).sum(), Ordering::Relaxed);
        let (tx, rx) = mpsc::sync_channel(16);
        let pending = Arc::new(Mutex::new(Vec::new()));
        let mut writer = Writer {
            pending: pending.clone(),
            taken: Vec::new(),
            dir: dir.to_path_buf(),
            // Numbers continue after every file present, tracked or not, so none is overwritten.
            next_number: list_files(dir)?
                .iter()
                .map(|(n, _)| n + 1)
                .chain(files.iter().map(|f| f.number + 1))
                .max()
                .unwrap_or(1),
            files,
            current: None,
            stats: stats.clone(),
            buf: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("tsdb-chunk-log".into())
            .spawn(move || writer.run(rx))?;
        Ok(ChunkLog {
            pending,
            tx: Mutex::new(Some(tx)),
            handle: Mutex::new(Some(handle)),
            stats,
        })
    }

    /// Leaves a record for the writer without waiting; a full pending list drops it (the WAL still holds its
    /// samples).
    pub(crate) fn send(&self, rec: ChunkRecord) {
        let mut pending = self.pending.lock();
        if pending.len() >= PENDING {
            drop(pending);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        pending.push(rec);
        let wake = pending.len().is_multiple_of(WAKE_EVERY);
        drop(pending);
        if wake && let Some(tx) = self.tx.lock().as_ref() {
            // A full channel means a wake-up is already on its way.
            let _ = tx.try_send(Msg::Wake);
        }
    }

    /// Asks the writer to delete files whose chunks all end before `boundary`.
    pub(crate) fn truncate_before(&self, boundary: i64) {
        let tx = self.tx.lock().clone();
        if let Some(tx) = tx {
            let _ = tx.send(Msg::Truncate(boundary));
        }
    }

    /// Waits until everything handed over so far is written to the files (not fsynced).
    #[cfg(test)]
    pub(crate) fn sync(&self) {
        let tx = self.tx.lock().clone();
        if let Some(tx) = tx {
            let (ack_tx, ack_rx) = mpsc::sync_channel(1);
            if tx.send(Msg::Sync(ack_tx)).is_ok() {
                let _ = ack_rx.recv();
            }
        }
    }

    /// Writes what is queued and stops the writer.
    pub(crate) fn close(&self) {
        drop(self.tx.lock().take());
        if let Some(handle) = self.handle.lock().take() {
            let _ = handle.join();
        }
    }
}

impl Drop for ChunkLog {
    fn drop(&mut self) {
        self.close();
    }
}

struct OpenFile {
    /// Its number, newest chunk time and size so far.
    file: LogFile,
    out: BufWriter<File>,
}

struct Writer {
    pending: Arc<Mutex<Vec<ChunkRecord>>>,
    /// The records taken from `pending`, being written (the two lists swap; this one is shrunk after a burst).
    taken: Vec<ChunkRecord>,
    dir: PathBuf,
    next_number: u64,
    /// Closed files, oldest first.
    files: Vec<LogFile>,
    current: Option<OpenFile>,
    stats: Arc<LogStats>,
    buf: Vec<u8>,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Msg>) {
        loop {
            let msg = rx.recv_timeout(PERIOD);
            self.write_pending();
            match msg {
                Ok(Msg::Wake) => {}
                Ok(Msg::Truncate(boundary)) => self.truncate_before(boundary),
                #[cfg(test)]
                Ok(Msg::Sync(ack)) => {
                    self.flush();
                    let _ = ack.send(());
                }
                Err(RecvTimeoutError::Timeout) => self.flush(),
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
        }
    }

    fn write_pending(&mut self) {
        std::mem::swap(&mut *self.pending.lock(), &mut self.taken);
        let mut taken = std::mem::take(&mut self.taken);
        for rec in taken.drain(..) {
            self.write(&rec);
        }
        // A burst grew the list; what stays allocated between bursts counts against the head's memory.
        taken.shrink_to(WAKE_EVERY);
        self.taken = taken;
    }

    fn write(&mut self, rec: &ChunkRecord) {
        if self.current.is_none() && !self.open_next() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let cur = self.current.as_mut().expect("opened above");
        self.buf.clear();
        rec.encode(&mut self.buf);
        if let Err(e) = cur.out.write_all(&self.buf) {
            self.failed("write", &e);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        cur.file.max_t = cur.file.max_t.max(rec.max_t);
        cur.file.bytes += self.buf.len() as u64;
        self.stats
            .size_bytes
            .fetch_add(self.buf.len() as u64, Ordering::Relaxed);
        self.stats.written.fetch_add(1, Ordering::Relaxed);
        if cur.file.bytes >= FILE_BYTES {
            self.close_current();
        }
    }

    fn open_next(&mut self) -> bool {
        let number = self.next_number;
        self.next_number += 1;
        let path = file_path(&self.dir, number);
        let opened = File::create(&path).and_then(|f| {
            let mut out = BufWriter::with_capacity(64 << 10, f);
            out.write_all(MAGIC)?;
            Ok(out)
        });
        match opened {
            Ok(out) => {
                self.stats
                    .size_bytes
                    .fetch_add(MAGIC.len() as u64, Ordering::Relaxed);
                self.current = Some(OpenFile {
                    file: LogFile {
                        number,
                        max_t: i64::MIN,
                        bytes: MAGIC.len() as u64,
                    },
                    out,
                });
                true
            }
            Err(e) => {
                self.failed("create", &e);
                false
            }
        }
    }

    fn flush(&mut self) {
        if let Some(cur) = self.current.as_mut()
            && let Err(e) = cur.out.flush()
        {
            self.failed("flush", &e);
        }
    }

    /// Counts and reports an I/O failure, and closes the current file: its tail may be torn, which readers
    /// detect; the next record starts a new file.
    fn failed(&mut self, what: &str, e: &std::io::Error) {
        if self
            .stats
            .write_errors
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(1000)
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "head chunk log {what} failed (start-up replays more of the WAL)");
        }
        if let Some(cur) = self.current.take() {
            // Dropped without the flush a `BufWriter` tries on drop: the file just failed.
            let _ = cur.out.into_parts();
            self.files.push(cur.file);
        }
    }

    fn close_current(&mut self) {
        if let Some(mut cur) = self.current.take() {
            if let Err(e) = cur.out.flush() {
                self.current = Some(cur);
                self.failed("flush", &e);
                return;
            }
            self.files.push(cur.file);
        }
    }

    fn truncate_before(&mut self, boundary: i64) {
        self.close_current();
        let mut kept = Vec::with_capacity(self.files.len());
        for f in std::mem::take(&mut self.files) {
            if f.max_t >= boundary {
                kept.push(f);
                continue;
            }
            let path = file_path(&self.dir, f.number);
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    self.stats.size_bytes.fetch_sub(f.bytes, Ordering::Relaxed);
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    self.stats.size_bytes.fetch_sub(f.bytes, Ordering::Relaxed);
                }
                Err(e) => {
                    self.failed("delete", &e);
                    kept.push(f);
                }
            }
        }
        self.files = kept;
    }
}
