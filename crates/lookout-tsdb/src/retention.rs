//! Retention: whole persisted parts are deleted when older than the retention time, then oldest first while the
//! data exceeds the byte limit.

use lookout_storage::StorageError;
use roaring::RoaringBitmap;

use crate::db::Inner;
use crate::metrics::Counters;

impl Inner {
    /// Deletes parts past the time or size limit; returns how many.
    pub(crate) fn apply_retention(&self) -> Result<usize, StorageError> {
        let _persist = self.persist.lock();
        let view = self.store.view();
        let newest = view
            .parts
            .iter()
            .map(|p| p.maxt)
            .max()
            .unwrap_or(i64::MIN)
            .max(self.head.max_t());
        if view.parts.is_empty() {
            return Ok(0);
        }
        let cutoff = newest.saturating_sub(self.opts.retention_ms());
        let mut doomed: Vec<_> = view
            .parts
            .iter()
            .filter(|p| p.maxt < cutoff)
            .copied()
            .collect();
        if let Some(limit) = self.opts.retention_bytes {
            // Size counts everything on disk: the part files, the WAL (with the head chunk log) and sled's files
            // (series table, postings, headers, its own overhead). While parts an earlier version kept inside
            // sled remain, sled's size is left out: it reclaims a deleted part's space lazily, so counting it
            // would make this loop delete more than needed; their own bytes are counted.
            let wal = self.wal.metrics().size_on_disk_bytes + self.chunk_log_bytes();
            let sled = if view.parts.iter().all(|p| p.in_file) {
                self.store.size_on_disk()
            } else {
                0
            };
            let mut total: u64 =
                view.data_bytes() + wal + sled - doomed.iter().map(|p| p.bytes).sum::<u64>();
            let mut oldest_first: Vec<_> = view
                .parts
                .iter()
                .filter(|p| p.maxt >= cutoff)
                .copied()
                .collect();
            oldest_first.sort_by_key(|p| (p.maxt, p.key));
            for p in oldest_first {
                if total <= limit {
                    break;
                }
                total -= p.bytes;
                doomed.push(p);
            }
        }
        for p in &doomed {
            self.store.delete_part(*p)?;
            let c = &self.counters;
            Counters::add(&c.retention_deleted_parts, 1);
            Counters::add(&c.retention_deleted_samples, p.samples);
            Counters::add(&c.retention_deleted_bytes, p.bytes);
        }
        if !doomed.is_empty() {
            let series = self.forget_dead_series()?;
            tracing::info!(
                parts = doomed.len(),
                series,
                cutoff,
                "retention deleted persisted parts"
            );
        }
        Ok(doomed.len())
    }

    /// Removes series left without data (not in the head, in no remaining part) from sled's series table and
    /// postings and from the labels index; returns how many. Runs under the persistence lock.
    fn forget_dead_series(&self) -> Result<usize, StorageError> {
        let view = self.store.view();
        let mut alive = self.head.postings.read().all_ids();
        for p in &view.parts {
            let dir = self.store.dir(p)?;
            alive |= RoaringBitmap::from_sorted_iter(dir.iter().map(|e| e.id)).unwrap_or_default();
        }
        let dead = self.store.all_series_ids()? - alive;
        if dead.is_empty() {
            return Ok(0);
        }
        let mut entries = Vec::with_capacity(dead.len() as usize);
        for id in &dead {
            if let Some(labels) = self.store.labels(id)? {
                entries.push((id, labels));
            }
        }
        self.store.remove_series(&entries, self.opts.zstd_level)?;
        // Under the commit lock no batch is creating series: a series brought back into the head meanwhile (it
        // was found in sled just before the removal) must have its labels written to sled again.
        let _commit = self.commit_lock.lock();
        for (id, labels) in &entries {
            if self.head.forget_known(labels, *id)
                && let Some(s) = self.head.shard(*id).series.get_mut(id)
            {
                s.in_sled = false;
            }
        }
        Counters::add(
            &self.counters.retention_deleted_series,
            entries.len() as u64,
        );
        Ok(entries.len())
    }
}
