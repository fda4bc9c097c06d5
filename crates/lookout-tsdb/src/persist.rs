//! Moving head data to disk: WAL rotation at the boundary, series table and postings in sled, one part file per
//! block window (series in label order, zstd per group of chunks), the atomic commit in sled, head and WAL
//! truncation, maintenance rounds.

use std::sync::atomic::Ordering;

use lookout_model::{Labels, Sample};
use lookout_storage::StorageError;

use crate::chunkenc::encode_sealed;
use crate::db::Inner;
use crate::head::SHARDS;
use crate::metrics::Counters;
use crate::store::PendingPart;
use crate::store::codec::{self, DirEntry, Group, PartDir, PartKey};
use crate::store::part_file::PartFileWriter;
use crate::store::stamps::{self, StampTableBuilder};

/// Series per chunk group: zstd sees this many similar series at once; a lone-series read decompresses them all.
pub(crate) const GROUP_SERIES: usize = 256;
/// Raw bytes after which a group is closed early.
const GROUP_RAW_BYTES: usize = 1 << 20;

/// What one persistence run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PersistStats {
    pub(crate) series: usize,
    pub(crate) samples: u64,
    pub(crate) bytes: u64,
}

/// Builds the part of one block window.
struct PartBuilder {
    key: PartKey,
    file: PartFileWriter,
    level: i32,
    lens: Vec<usize>,
    body: Vec<u8>,
    groups: u32,
    dir: Vec<DirEntry>,
    /// The timestamp sequences the part's series share (`store/stamps.rs`).
    stamps: StampTableBuilder,
    scratch: Vec<Sample>,
    mint: i64,
    maxt: i64,
    samples: u64,
}

impl PartBuilder {
    fn new(inner: &Inner, key: PartKey, level: i32) -> Result<Self, StorageError> {
        Ok(PartBuilder {
            key,
            file: inner.store.create_part_file(key)?,
            level,
            lens: Vec::new(),
            body: Vec::new(),
            groups: 0,
            dir: Vec::new(),
            stamps: StampTableBuilder::default(),
            scratch: Vec::new(),
            mint: i64::MAX,
            maxt: i64::MIN,
            samples: 0,
        })
    }

    fn add(&mut self, id: u32, samples: &[Sample]) -> Result<(), StorageError> {
        let (first, last) = (samples[0].t, samples[samples.len() - 1].t);
        let before = self.body.len();
        match self.stamps.refer(samples) {
            Some(at) => stamps::encode_ref(samples, at, &mut self.scratch, &mut self.body),
            None => {
                encode_sealed(samples, &mut self.body);
            }
        }
        self.dir.push(DirEntry {
            id,
            group: self.groups,
            index: self.lens.len() as u32,
            count: samples.len() as u32,
            mint: first,
            maxt: last,
        });
        self.lens.push(self.body.len() - before);
        self.mint = self.mint.min(first);
        self.maxt = self.maxt.max(last);
        self.samples += samples.len() as u64;
        if self.lens.len() >= GROUP_SERIES || self.body.len() >= GROUP_RAW_BYTES {
            self.flush_group()?;
        }
        Ok(())
    }

    fn flush_group(&mut self) -> Result<(), StorageError> {
        if self.lens.is_empty() {
            return Ok(());
        }
        let mut raw = Vec::with_capacity(self.body.len() + self.lens.len() * 3 + 4);
        Group::encode(&self.lens, &self.body, &mut raw);
        let z = codec::compress(&raw, self.level)?;
        self.file
            .append_group(&z)
            .map_err(|source| StorageError::Io {
                path: format!("part file of {:?}", self.key),
                source,
            })?;
        self.groups += 1;
        self.lens.clear();
        self.body.clear();
        Ok(())
    }

    fn finish(mut self, inner: &Inner) -> Result<PendingPart, StorageError> {
        self.flush_group()?;
        self.dir.sort_by_key(|e| e.id);
        let mut raw = Vec::new();
        PartDir::encode(&self.dir, self.mint, &self.stamps, &mut raw);
        let dir_z = codec::compress(&raw, self.level)?;
        let bytes = inner.store.finish_part_file(self.file, &dir_z)?;
        let info = crate::store::PartInfo {
            key: self.key,
            mint: self.mint,
            maxt: self.maxt,
            series: self.dir.len() as u32,
            samples: self.samples,
            groups: self.groups,
            bytes,
            in_file: true,
        };
        Ok(PendingPart { info })
    }
}

impl Inner {
    /// Persists every head sample before `boundary`; a no-op when that is already done.
    pub(crate) fn persist_until(&self, boundary: i64) -> Result<PersistStats, StorageError> {
        let mut state = self.persist.lock();
        let view = self.store.view();
        if boundary <= view.boundary {
            return Ok(PersistStats::default());
        }
        // From here on no sample before `boundary` enters the head or the WAL segments after the rotation.
        {
            let _commit = self.commit_lock.lock();
            let segment = self.wal.rotate()?;
            state.rotations.push((segment, self.head.max_t()));
            self.head.set_min_valid_t(boundary);
        }
        let mut with_data: Vec<(Labels, u32)> = Vec::new();
        let mut not_in_sled: Vec<(u32, Labels)> = Vec::new();
        for i in 0..SHARDS {
            let shard = self.head.shard_at(i);
            for (&id, s) in shard.series.iter() {
                if !s.in_sled {
                    not_in_sled.push((id, s.labels.clone()));
                }
                let has_old = s.min_t().is_some_and(|t| t < boundary)
                    || s.ooo.first().is_some_and(|o| o.t < boundary);
                if has_old {
                    with_data.push((s.labels.clone(), id));
                }
            }
        }
        self.store
            .put_series(not_in_sled.clone(), self.opts.zstd_level)?;
        with_data.sort();
        let seq = self.store.next_seq()?;
        let block_ms = self.opts.block_ms();
        let mut builders: Vec<PartBuilder> = Vec::new();
        let mut buf = Vec::new();
        let mut stats = PersistStats {
            series: with_data.len(),
            ..PersistStats::default()
        };
        for (_, id) in &with_data {
            buf.clear();
            if let Some(s) = self.head.shard(*id).series.get(id) {
                s.samples_before(boundary, &mut buf);
            }
            // Split at aligned block starts: one part per block window.
            let mut rest = &buf[..];
            while let Some(first) = rest.first() {
                let block_start = first.t.div_euclid(block_ms) * block_ms;
                let n = rest.partition_point(|s| s.t < block_start + block_ms);
                let b = match builders
                    .iter_mut()
                    .position(|b| b.key.block_start == block_start)
                {
                    Some(i) => &mut builders[i],
                    None => {
                        builders.push(PartBuilder::new(
                            self,
                            PartKey { block_start, seq },
                            self.opts.zstd_level,
                        )?);
                        builders.last_mut().expect("just pushed")
                    }
                };
                b.add(*id, &rest[..n])?;
                rest = &rest[n..];
            }
        }
        let mut parts = Vec::with_capacity(builders.len());
        for b in builders {
            let p = b.finish(self)?;
            stats.samples += p.info.samples;
            stats.bytes += p.info.bytes;
            parts.push(p);
        }
        self.store.commit_persist(parts, boundary, seq + 1)?;
        crate::db::write_boundary_marker(&self.dir, boundary)?;
        for (id, _) in &not_in_sled {
            if let Some(s) = self.head.shard(*id).series.get_mut(id) {
                s.in_sled = true;
            }
        }
        self.head.truncate_before(boundary);
        if let Some(log) = self.head.chunk_log.get() {
            log.truncate_before(boundary);
        }
        // WAL segments older than a rotation whose head max is below the boundary hold nothing the head needs.
        if let Some(pos) = state
            .rotations
            .iter()
            .rposition(|&(_, max_t)| max_t < boundary)
        {
            let (segment, _) = state.rotations[pos];
            self.wal.truncate_before(segment)?;
            state.rotations.drain(..=pos);
            Counters::add(&self.counters.wal_truncations, 1);
        }
        let c = &self.counters;
        Counters::add(&c.persist_runs, 1);
        Counters::add(&c.persisted_samples, stats.samples);
        Counters::add(&c.persisted_bytes, stats.bytes);
        tracing::info!(
            boundary,
            series = stats.series,
            samples = stats.samples,
            bytes = stats.bytes,
            "persisted head data"
        );
        Ok(stats)
    }

    /// One maintenance round: persist complete blocks (half a block after they end), retention, gauges.
    pub(crate) fn maintain(&self) -> Result<(), StorageError> {
        let max = self.head.max_t();
        if max != i64::MIN {
            let block = self.opts.block_ms();
            let boundary = (max - block / 2).div_euclid(block) * block;
            if boundary > self.store.view().boundary {
                self.persist_until(boundary)?;
            }
        }
        self.apply_retention()?;
        self.refresh_gauges();
        Ok(())
    }

    /// Estimated heap bytes of the head including its index and symbol table (walks both: for the gauges and
    /// diagnostics; the append path uses the last walk's figure, [`crate::head::Head::index_bytes`]).
    pub(crate) fn head_bytes(&self) -> usize {
        self.head.bytes() + self.head.measure_index_bytes()
    }

    /// Bytes on disk of the head chunk log.
    pub(crate) fn chunk_log_bytes(&self) -> u64 {
        self.head
            .chunk_log
            .get()
            .map_or(0, |log| log.stats.size_bytes.load(Ordering::Relaxed))
    }

    /// Recomputes the gauges.
    pub(crate) fn refresh_gauges(&self) {
        let c = &self.counters;
        let view = self.store.view();
        Counters::set(&c.head_series, self.head.series_count() as u64);
        Counters::set(&c.head_chunks, self.head.chunk_count() as u64);
        Counters::set(&c.head_bytes, self.head_bytes() as u64);
        Counters::set(&c.head_max_time_ms, self.head.max_t().max(0) as u64);
        Counters::set(&c.persisted_boundary_ms, view.boundary.max(0) as u64);
        Counters::set(&c.persisted_parts, view.parts.len() as u64);
        Counters::set(&c.persisted_data_bytes, view.data_bytes());
        Counters::set(&c.sled_size_bytes, self.store.size_on_disk());
        if let Some(log) = self.head.chunk_log.get() {
            let st = &log.stats;
            Counters::set(
                &c.chunk_log_records_written,
                st.written.load(Ordering::Relaxed),
            );
            Counters::set(
                &c.chunk_log_records_dropped,
                st.dropped.load(Ordering::Relaxed),
            );
            Counters::set(
                &c.chunk_log_write_errors,
                st.write_errors.load(Ordering::Relaxed),
            );
            Counters::set(&c.chunk_log_size_bytes, self.chunk_log_bytes());
        }
    }
}
