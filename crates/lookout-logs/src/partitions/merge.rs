//! Closing writers and merging partitions on background threads: a closed partition is *busy* until its thread
//! finishes, then its reader is reloaded (the segments changed) and the new searcher published.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use super::{Parts, Slot};
use crate::index::{MIN_WRITER_HEAP, PartSearcher};
use crate::layout::Bounds;

/// A background close (and merge) holding a partition's writer lock.
pub(super) struct Job {
    pub(super) done: Arc<AtomicBool>,
    pub(super) thread: JoinHandle<()>,
    pub(super) merging: bool,
}

impl Parts {
    /// Hands a writer to a thread that merges the partition's segments into one (when `merge`) and waits for
    /// tantivy's merges; the partition is busy until it is done.
    pub(super) fn close_in_background(&mut self, slot: Slot, merge: bool) {
        let Some(part) = self.parts.get_mut(&slot.start) else {
            return;
        };
        let ids = if merge {
            part.index.segment_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let merging = ids.len() > 1;
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let dir = part.dir.clone();
        let mut writer = slot.writer;
        let spawned = std::thread::Builder::new()
            .name("log-merge".into())
            .spawn(move || {
                if merging {
                    let started = Instant::now();
                    match writer.merge(&ids).wait() {
                        Ok(_) => tracing::debug!(dir = %dir.display(), segments = ids.len(), ms = started.elapsed().as_millis() as u64, "log partition merged"),
                        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "log partition merge failed; retried later"),
                    }
                }
                if let Err(e) = writer.wait_merging_threads() {
                    tracing::warn!(dir = %dir.display(), error = %e, "log partition writer closed with an error");
                }
                flag.store(true, Ordering::Release);
            });
        match spawned {
            Ok(thread) => {
                part.job = Some(Job {
                    done,
                    thread,
                    merging,
                })
            }
            Err(e) => tracing::warn!(error = %e, "log-merge thread not started; writer dropped"),
        }
    }

    /// Closes writers idle for `writer_idle` (merging partitions a newer one follows) and returns fresh
    /// searchers of the partitions whose background close finished (their segments changed).
    pub fn close_idle(&mut self, now: Instant) -> Vec<(Bounds, PartSearcher)> {
        let newest = self.parts.keys().next_back().copied();
        let mut i = 0;
        while i < self.slots.len() {
            let s = &self.slots[i];
            if !s.dirty && now.saturating_duration_since(s.last_write) >= self.writer_idle {
                let s = self.slots.remove(i);
                let merge = Some(s.start) != newest;
                self.close_in_background(s, merge);
            } else {
                i += 1;
            }
        }
        self.reap()
    }

    /// Joins the finished background closes and reloads their partitions (the segments changed), and retries
    /// failed reloads; returns the fresh searchers to publish. Safe at any time on the commit thread: no commit is
    /// pending publication outside a commit cycle.
    pub(super) fn reap(&mut self) -> Vec<(Bounds, PartSearcher)> {
        let mut fresh = Vec::new();
        let writing: HashSet<i64> = self.slots.iter().map(|s| s.start).collect();
        for part in self.parts.values_mut() {
            let finished = part
                .job
                .as_ref()
                .is_some_and(|j| j.done.load(Ordering::Acquire));
            if finished {
                let job = part.job.take().expect("checked");
                let _ = job.thread.join();
            }
            // tantivy merges the segments of a partition being written on its own threads: its reader picks the
            // merged segments up here, not only at the next commit (fewer segments, faster reads).
            let merged = writing.contains(&part.bounds.start) && part.index.segments_changed();
            if finished || part.stale || merged {
                match part.index.reload() {
                    Ok(s) => {
                        part.stale = false;
                        fresh.push((part.bounds, s));
                    }
                    Err(e) => {
                        part.stale = true;
                        tracing::warn!(error = %e, "log partition reload failed; retried");
                    }
                }
            }
        }
        fresh
    }

    /// Starts merging one partition without a writer, older than the newest, left with several segments (after a
    /// crash, or late entries), unless a merge is already running.
    pub fn merge_one(&mut self) {
        if self
            .parts
            .values()
            .any(|p| p.job.as_ref().is_some_and(|j| j.merging))
        {
            return;
        }
        let newest = self.parts.keys().next_back().copied();
        let with_slot: HashSet<i64> = self.slots.iter().map(|s| s.start).collect();
        let candidate = self.parts.values().find(|p| {
            Some(p.bounds.start) != newest
                && p.job.is_none()
                && !with_slot.contains(&p.bounds.start)
                && p.index.searcher().segments() > 1
        });
        let Some(p) = candidate else { return };
        let start = p.bounds.start;
        match p.index.writer(MIN_WRITER_HEAP) {
            Ok(writer) => self.close_in_background(
                Slot {
                    start,
                    writer,
                    last_write: Instant::now(),
                    dirty: false,
                },
                true,
            ),
            Err(e) => tracing::warn!(error = %e, "log partition merge not started"),
        }
    }
}
