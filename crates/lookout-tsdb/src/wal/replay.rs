//! Replay: reads the recovered segments in order, hands each record to the head, and decides what to do with damage
//! (cut a torn tail, refuse mid-log corruption, or cut it when repair is on).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use lookout_storage::StorageError;

use super::record::{RecordDecoder, WalRecord};
use super::segment::{
    SEGMENT_HEADER, SegmentEnd, SegmentInfo, cut_segment, read_segment, remove_segment,
    segment_path, sync_dir,
};
use super::writer::Shared;

/// Appended to every corruption error so an operator knows the way out and its price.
pub const REPAIR_HINT: &str = "start with --wal-repair (storage.wal.repair: true) to cut the log at this point and lose what follows";

/// What replay read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayStats {
    /// Segments read.
    pub segments: usize,
    /// Records handed to the visitor.
    pub records: u64,
    /// Series entries in those records.
    pub series: u64,
    /// Samples in those records.
    pub samples: u64,
    /// Bytes of good records and headers read.
    pub bytes: u64,
    /// Where the log was cut, if it was.
    pub cut: Option<WalCut>,
    /// Wall time spent, in seconds.
    pub seconds: f64,
}

/// A point where replay cut the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalCut {
    /// The segment that was cut (for a missing segment, the path it should have had).
    pub path: PathBuf,
    /// Byte offset of the first record lost.
    pub offset: u64,
    /// Why.
    pub reason: CutReason,
    /// What was found there.
    pub detail: String,
    /// Later segments deleted along with it.
    pub segments_deleted: usize,
}

/// Why the log was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutReason {
    /// The last segment ended in a partial or damaged record: the write of an unacknowledged batch (or, after a
    /// power loss, an unsynced one) was interrupted. Expected after a crash.
    TornTail,
    /// Damage before the end of the log, cut because repair was requested; records after it are lost.
    Repaired,
}

pub(crate) fn replay(
    shared: &Shared,
    visit: &mut dyn FnMut(WalRecord),
) -> Result<ReplayStats, StorageError> {
    let started = Instant::now();
    let segments: Vec<SegmentInfo> = {
        let mut st = shared.state.lock();
        st.check_replay_allowed()?;
        // This replay looks at the last recovered segment itself; the writer need not.
        st.pending_tail_check = false;
        st.sealed
            .iter()
            .filter(|s| s.number < st.recovered_end)
            .cloned()
            .collect()
    };
    let mut stats = ReplayStats::default();
    let mut decoder = RecordDecoder::default();
    let mut payload = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 && seg.number != segments[i - 1].number + 1 {
            let number = segments[i - 1].number + 1;
            let missing = segment_path(&shared.dir, number);
            let detail = format!("segment {number} is missing between its neighbours");
            let cut = Cut {
                number,
                path: missing,
                offset: 0,
                detail,
                first_lost: i,
            };
            stats.cut = Some(handle_corruption(shared, &segments, cut)?);
            break;
        }
        let is_last = i + 1 == segments.len();
        let end = read_segment(&seg.path, is_last, &mut payload, &mut |type_byte, bytes| {
            let record = decoder
                .decode(type_byte, bytes)
                .map_err(|e| e.to_string())?;
            stats.records += 1;
            stats.bytes += (bytes.len() + super::segment::FRAME_HEADER_LEN) as u64;
            match &record {
                WalRecord::Series(s) => stats.series += s.len() as u64,
                WalRecord::Samples(s) => stats.samples += s.len() as u64,
            }
            visit(record);
            Ok(())
        })?;
        stats.segments += 1;
        stats.bytes += SEGMENT_HEADER.len() as u64;
        match end {
            SegmentEnd::Clean => {}
            SegmentEnd::TornTail { offset, detail } => {
                tracing::warn!(
                    file = %seg.path.display(), offset,
                    "wal ends in a torn record (a write interrupted by a crash), cutting it: {detail}"
                );
                cut_segment(&seg.path, offset)?;
                shared
                    .counters
                    .tail_truncations
                    .fetch_add(1, Ordering::Relaxed);
                shared.state.lock().after_cut(seg.number, offset, &[]);
                let path = seg.path.clone();
                stats.cut = Some(WalCut {
                    path,
                    offset,
                    reason: CutReason::TornTail,
                    detail,
                    segments_deleted: 0,
                });
            }
            SegmentEnd::Corrupt { offset, detail } => {
                let cut = Cut {
                    number: seg.number,
                    path: seg.path.clone(),
                    offset,
                    detail,
                    first_lost: i + 1,
                };
                stats.cut = Some(handle_corruption(shared, &segments, cut)?);
                break;
            }
        }
    }
    stats.seconds = started.elapsed().as_secs_f64();
    Ok(stats)
}

struct Cut {
    number: u64,
    path: PathBuf,
    offset: u64,
    detail: String,
    /// Index of the first segment lost entirely.
    first_lost: usize,
}

/// Refuses with [`StorageError::Corruption`], or with repair on cuts the log there and deletes what follows.
fn handle_corruption(
    shared: &Shared,
    segments: &[SegmentInfo],
    cut: Cut,
) -> Result<WalCut, StorageError> {
    if !shared.opts.repair {
        return Err(StorageError::Corruption {
            path: cut.path.display().to_string(),
            offset: cut.offset,
            detail: format!("{}; {REPAIR_HINT}", cut.detail),
        });
    }
    let lost = &segments[cut.first_lost..];
    tracing::warn!(
        file = %cut.path.display(), offset = cut.offset, later_segments_deleted = lost.len(),
        "wal repair: cutting the log at damaged data and losing what follows: {}", cut.detail
    );
    if cut.path.exists() {
        cut_segment(&cut.path, cut.offset)?;
    }
    for seg in lost {
        remove_segment(&seg.path)?;
    }
    sync_dir(&shared.dir)?;
    shared.counters.repairs.fetch_add(1, Ordering::Relaxed);
    let lost_numbers: Vec<u64> = lost.iter().map(|s| s.number).collect();
    shared
        .state
        .lock()
        .after_cut(cut.number, cut.offset, &lost_numbers);
    Ok(WalCut {
        path: cut.path,
        offset: cut.offset,
        reason: CutReason::Repaired,
        detail: cut.detail,
        segments_deleted: lost.len(),
    })
}
