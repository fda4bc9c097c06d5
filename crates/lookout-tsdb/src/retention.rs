//! Retention: whole persisted parts are deleted when older than the retention time, then oldest first while the
//! data exceeds the byte limit.

use lookout_storage::StorageError;

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
            // Size counts our compressed data plus the WAL on disk; sled's own overhead is reported separately.
            let wal = self.wal.metrics().size_on_disk_bytes;
            let mut total: u64 =
                view.data_bytes() + wal - doomed.iter().map(|p| p.bytes).sum::<u64>();
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
            self.store.delete_part(p.key)?;
            let c = &self.counters;
            Counters::add(&c.retention_deleted_parts, 1);
            Counters::add(&c.retention_deleted_samples, p.samples);
            Counters::add(&c.retention_deleted_bytes, p.bytes);
        }
        if !doomed.is_empty() {
            tracing::info!(
                parts = doomed.len(),
                cutoff,
                "retention deleted persisted parts"
            );
        }
        Ok(doomed.len())
    }
}
