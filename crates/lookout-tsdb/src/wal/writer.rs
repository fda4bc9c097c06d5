//! The write side: the active segment, batch appends, rotation, fsync bookkeeping and the background fsync thread.
//!
//! Locking: one mutex guards the active segment and the encode buffer. Appends encode and `pwrite` under it (so
//! batches land in order, each with one syscall); fsyncs run outside it on a shared file handle, so a slow disk
//! does not stall appenders. Rotation fsyncs the old segment under the mutex, which keeps every non-last segment
//! complete on disk: only the last segment can ever have a torn tail.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lookout_storage::StorageError;
use parking_lot::{Condvar, Mutex};

use super::WalOptions;
use super::record::WalRecord;
use super::segment::{
    SEGMENT_HEADER, SegmentEnd, SegmentInfo, cut_segment, encode_frame, io_err, read_segment,
    segment_path, sync_dir,
};

/// Above this the encode buffer is released after a batch, so one huge batch does not pin memory forever.
const KEEP_BUFFER_BYTES: usize = 4 << 20;

/// State shared by the handle and the fsync thread.
pub(crate) struct Shared {
    pub(crate) dir: PathBuf,
    pub(crate) opts: WalOptions,
    pub(crate) state: Mutex<WriterState>,
    pub(crate) counters: Counters,
    /// Highest batch sequence number known to be on stable storage.
    synced_seq: AtomicU64,
    /// Set once an fsync or a write failed in a way that may have lost acknowledged data; refuses further writes.
    failure: Mutex<Option<String>>,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// Everything the append mutex guards.
pub(crate) struct WriterState {
    /// Segments on disk that are no longer written to, by number.
    pub(crate) sealed: Vec<SegmentInfo>,
    active: Option<ActiveSegment>,
    next_segment: u64,
    /// Segments numbered below this were on disk at open; replay reads only those.
    pub(crate) recovered_end: u64,
    /// The last recovered segment may still end in a torn record: check it before a newer segment follows it.
    pub(crate) pending_tail_check: bool,
    buf: Vec<u8>,
    /// Sequence number of the last batch written.
    written_seq: u64,
}

impl WriterState {
    /// Replay may only cut the log before this process wrote to it: a recovered segment deleted under a live
    /// writer would leave a gap in the numbering.
    pub(crate) fn check_replay_allowed(&self) -> Result<(), StorageError> {
        if let Some(active) = &self.active {
            return Err(StorageError::Other(format!(
                "wal replay must run before the first append or rotate (segment {} is already being written)",
                active.number
            )));
        }
        Ok(())
    }

    /// Brings the segment list in line with a cut made by replay: the cut segment's new size, later segments
    /// deleted, and new segments numbered right after the cut so the numbering has no gap.
    pub(crate) fn after_cut(&mut self, cut_number: u64, offset: u64, deleted: &[u64]) {
        let header_len = SEGMENT_HEADER.len() as u64;
        self.sealed.retain_mut(|s| {
            if s.number == cut_number {
                s.bytes = offset.max(header_len);
            }
            !deleted.contains(&s.number)
        });
        if !deleted.is_empty() {
            self.next_segment = self.sealed.last().map_or(cut_number, |s| s.number + 1);
            self.recovered_end = self.next_segment;
        }
    }
}

struct ActiveSegment {
    number: u64,
    path: PathBuf,
    file: Arc<File>,
    bytes: u64,
}

/// Monotonic counters behind [`super::WalMetrics`].
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) bytes_written: AtomicU64,
    pub(crate) records_written: AtomicU64,
    pub(crate) batches_written: AtomicU64,
    pub(crate) fsyncs: AtomicU64,
    pub(crate) fsync_nanos_sum: AtomicU64,
    pub(crate) fsync_nanos_max: AtomicU64,
    pub(crate) fsync_errors: AtomicU64,
    pub(crate) tail_truncations: AtomicU64,
    pub(crate) repairs: AtomicU64,
}

impl Shared {
    pub(crate) fn new(dir: PathBuf, opts: WalOptions, sealed: Vec<SegmentInfo>) -> Shared {
        let next_segment = sealed.last().map_or(0, |s| s.number + 1);
        let state = WriterState {
            pending_tail_check: !sealed.is_empty(),
            sealed,
            active: None,
            next_segment,
            recovered_end: next_segment,
            buf: Vec::new(),
            written_seq: 0,
        };
        Shared {
            dir,
            opts,
            state: Mutex::new(state),
            counters: Counters::default(),
            synced_seq: AtomicU64::new(0),
            failure: Mutex::new(None),
            stop: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    fn check_failure(&self) -> Result<(), StorageError> {
        match &*self.failure.lock() {
            None => Ok(()),
            Some(why) => Err(StorageError::Io {
                path: self.dir.display().to_string(),
                source: std::io::Error::other(format!(
                    "the wal refuses writes after an earlier failure ({why}); acknowledged data may be lost, restart \
                     to recover from what is on disk"
                )),
            }),
        }
    }

    fn fail(&self, why: String) {
        tracing::error!(dir = %self.dir.display(), "wal write path failed, refusing further writes: {why}");
        self.failure.lock().get_or_insert(why);
    }

    pub(crate) fn append(&self, records: &[WalRecord]) -> Result<(), StorageError> {
        if records.is_empty() {
            return Ok(());
        }
        self.check_failure()?;
        let mut guard = self.state.lock();
        let st = &mut *guard;
        let mut buf = std::mem::take(&mut st.buf);
        buf.clear();
        let encoded = records.iter().try_for_each(|r| encode_frame(r, &mut buf));
        let written = encoded.and_then(|()| self.write_batch(st, &buf));
        if buf.capacity() <= KEEP_BUFFER_BYTES {
            st.buf = buf;
        }
        written?;
        self.counters
            .records_written
            .fetch_add(records.len() as u64, Ordering::Relaxed);
        if self.opts.fsync_interval.is_none() {
            let target = st.written_seq;
            let file = st.active.as_ref().map(|a| (a.file.clone(), a.path.clone()));
            drop(guard);
            if let Some((file, path)) = file {
                self.fsync(&file, &path, target)?;
            }
        }
        Ok(())
    }

    /// Writes one encoded batch to the active segment, rotating first when it would overflow.
    fn write_batch(&self, st: &mut WriterState, batch: &[u8]) -> Result<(), StorageError> {
        let header = SEGMENT_HEADER.len() as u64;
        let overflow = st.active.as_ref().is_some_and(|a| {
            a.bytes > header && a.bytes + batch.len() as u64 > self.opts.segment_bytes
        });
        if st.active.is_none() || overflow {
            self.rotate_locked(st)?;
        }
        let active = st
            .active
            .as_mut()
            .expect("rotate_locked leaves an active segment");
        if let Err(e) = active.file.write_all_at(batch, active.bytes) {
            // Cut a partial write back off so the next batch does not follow garbage; if even that fails, the
            // segment has a hole mid-file, and writing on would turn it into corruption.
            if let Err(cut) = active.file.set_len(active.bytes) {
                self.fail(format!(
                    "write to {} failed ({e}) and cutting it back failed ({cut})",
                    active.path.display()
                ));
            }
            return Err(io_err(&active.path, e));
        }
        active.bytes += batch.len() as u64;
        st.written_seq += 1;
        self.counters
            .bytes_written
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        self.counters
            .batches_written
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Seals the active segment (fsynced) and starts the next one; returns its number.
    pub(crate) fn rotate_locked(&self, st: &mut WriterState) -> Result<u64, StorageError> {
        if st.pending_tail_check {
            self.cut_torn_tail_before_writing(st)?;
            st.pending_tail_check = false;
        }
        if let Some(old) = st.active.take() {
            let target = st.written_seq;
            if let Err(e) = self.fsync(&old.file, &old.path, target) {
                st.active = Some(old);
                return Err(e);
            }
            st.sealed.push(SegmentInfo {
                number: old.number,
                path: old.path,
                bytes: old.bytes,
            });
        }
        let number = st.next_segment;
        let path = segment_path(&self.dir, number);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io_err(&path, e))?;
        if let Err(e) = file.write_all_at(&SEGMENT_HEADER, 0) {
            // Leave no headerless file behind, so the next attempt can reuse the number (no gap).
            let _ = std::fs::remove_file(&path);
            return Err(io_err(&path, e));
        }
        st.next_segment += 1;
        let bytes = SEGMENT_HEADER.len() as u64;
        let dir_synced = sync_dir(&self.dir);
        st.active = Some(ActiveSegment {
            number,
            path,
            file: Arc::new(file),
            bytes,
        });
        if let Err(e) = dir_synced {
            // The segment may vanish on power loss along with everything fsynced into it.
            self.fail(format!("fsync of the wal directory failed: {e}"));
            return Err(e);
        }
        Ok(number)
    }

    /// Runs once before the first segment of this process is created, when replay did not already look at the
    /// last recovered segment: a torn tail left there would turn into mid-log corruption once a newer segment
    /// follows it. Real corruption is left for replay to report.
    fn cut_torn_tail_before_writing(&self, st: &mut WriterState) -> Result<(), StorageError> {
        let Some(last) = st.sealed.last_mut() else {
            return Ok(());
        };
        let end = read_segment(&last.path, true, &mut Vec::new(), &mut |_, _| Ok(()))?;
        if let SegmentEnd::TornTail { offset, detail } = end {
            tracing::warn!(file = %last.path.display(), offset, "wal ends in a torn record, cutting it: {detail}");
            cut_segment(&last.path, offset)?;
            self.counters
                .tail_truncations
                .fetch_add(1, Ordering::Relaxed);
            last.bytes = offset.max(SEGMENT_HEADER.len() as u64);
        }
        Ok(())
    }

    /// Fsyncs the active segment if batches were written since the last completed fsync.
    pub(crate) fn sync(&self) -> Result<(), StorageError> {
        self.check_failure()?;
        let (target, file) = {
            let st = self.state.lock();
            (
                st.written_seq,
                st.active.as_ref().map(|a| (a.file.clone(), a.path.clone())),
            )
        };
        match file {
            Some((file, path)) if self.synced_seq.load(Ordering::Acquire) < target => {
                self.fsync(&file, &path, target)
            }
            _ => Ok(()),
        }
    }

    /// fdatasync with latency accounting; marks batches up to `target` durable. A failure is sticky: after a failed
    /// fsync the kernel may have dropped dirty pages, so nothing written since the last good fsync can be trusted.
    fn fsync(&self, file: &File, path: &Path, target: u64) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = file.sync_data();
        let nanos = started.elapsed().as_nanos().min(u128::from(u64::MAX)) as u64;
        let c = &self.counters;
        c.fsyncs.fetch_add(1, Ordering::Relaxed);
        c.fsync_nanos_sum.fetch_add(nanos, Ordering::Relaxed);
        c.fsync_nanos_max.fetch_max(nanos, Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.synced_seq.fetch_max(target, Ordering::AcqRel);
                Ok(())
            }
            Err(e) => {
                c.fsync_errors.fetch_add(1, Ordering::Relaxed);
                self.fail(format!("fsync of {} failed: {e}", path.display()));
                Err(io_err(path, e))
            }
        }
    }

    /// The segments on disk, the active one last.
    pub(crate) fn segments(&self) -> Vec<SegmentInfo> {
        let st = self.state.lock();
        let mut out = st.sealed.clone();
        if let Some(a) = &st.active {
            out.push(SegmentInfo {
                number: a.number,
                path: a.path.clone(),
                bytes: a.bytes,
            });
        }
        out
    }

    pub(crate) fn truncate_before(&self, segment: u64) -> Result<(), StorageError> {
        let mut st = self.state.lock();
        if let Some(active) = &st.active
            && segment > active.number
        {
            return Err(StorageError::Other(format!(
                "cannot truncate the wal before segment {segment}: segment {} is still being written; rotate first",
                active.number
            )));
        }
        let keep_from = st.sealed.partition_point(|s| s.number < segment);
        let doomed: Vec<SegmentInfo> = st.sealed.drain(..keep_from).collect();
        if doomed.is_empty() {
            return Ok(());
        }
        for (i, seg) in doomed.iter().enumerate() {
            if let Err(e) = std::fs::remove_file(&seg.path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                // Keep the list truthful: what was not deleted is still there.
                let rest = doomed[i..].iter().cloned();
                st.sealed.splice(0..0, rest);
                return Err(io_err(&seg.path, e));
            }
        }
        drop(st);
        sync_dir(&self.dir)
    }

    /// Bytes of all segments on disk.
    pub(crate) fn size_on_disk(&self) -> (usize, u64) {
        let st = self.state.lock();
        let sealed: u64 = st.sealed.iter().map(|s| s.bytes).sum();
        let active = st.active.as_ref().map_or(0, |a| a.bytes);
        (
            st.sealed.len() + usize::from(st.active.is_some()),
            sealed + active,
        )
    }

    /// Wakes and ends the fsync thread.
    pub(crate) fn request_stop(&self) {
        *self.stop.lock() = true;
        self.wake.notify_all();
    }
}

/// Starts the one background thread that fsyncs every `interval` until [`Shared::request_stop`].
pub(crate) fn spawn_syncer(
    shared: Arc<Shared>,
    interval: Duration,
) -> Result<std::thread::JoinHandle<()>, StorageError> {
    let dir = shared.dir.clone();
    std::thread::Builder::new()
        .name("wal-fsync".into())
        .spawn(move || {
            loop {
                {
                    let mut stop = shared.stop.lock();
                    if !*stop {
                        shared.wake.wait_for(&mut stop, interval);
                    }
                    if *stop {
                        return;
                    }
                }
                if let Err(e) = shared.sync() {
                    // Already counted and made sticky; appends now report it to the caller.
                    tracing::debug!("background wal fsync: {e}");
                }
            }
        })
        .map_err(|e| io_err(&dir, e))
}
