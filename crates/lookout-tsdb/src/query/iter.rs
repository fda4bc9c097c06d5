//! Sample iterators: persisted pieces decoded group by group, head chunks decoded from copied bytes, both clipped
//! to the query range.

use std::collections::VecDeque;
use std::sync::Arc;

use lookout_model::{Sample, TimeRange};
use lookout_storage::SampleIter;

use crate::chunkenc::{HeadChunkIter, decode_sealed_parts};
use crate::head::SnapChunk;
use crate::store::Store;
use crate::store::codec::{PartDir, PartKey};
use crate::store::stamps;

/// One series' samples inside one persisted part.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    pub(crate) part: PartKey,
    /// The part's directory, for the timestamps its chunks may refer to.
    pub(crate) dir: Arc<PartDir>,
    pub(crate) group: u32,
    pub(crate) index: u32,
}

/// Decodes persisted pieces one at a time.
pub(crate) struct PersistedIter<'a> {
    store: &'a Store,
    pieces: VecDeque<Piece>,
    buf: Vec<Sample>,
    pos: usize,
    range: TimeRange,
}

impl<'a> PersistedIter<'a> {
    pub(crate) fn new(store: &'a Store, pieces: Vec<Piece>, range: TimeRange) -> Self {
        PersistedIter {
            store,
            pieces: pieces.into(),
            buf: Vec::new(),
            pos: 0,
            range,
        }
    }

    fn load_next(&mut self) -> bool {
        let Some(piece) = self.pieces.pop_front() else {
            return false;
        };
        self.buf.clear();
        self.pos = 0;
        let group = match self.store.group(piece.part, piece.group) {
            Ok(g) => g,
            Err(e) => {
                tracing::error!(error = %e, "persisted chunk unreadable; the series is cut short");
                self.pieces.clear();
                return false;
            }
        };
        let decoded = group
            .chunk(piece.index as usize)
            .ok_or_else(|| format!("the group has no chunk {}", piece.index))
            .and_then(|b| stamps::decode_chunk(b, &piece.dir.stamps, &mut self.buf));
        if let Err(why) = decoded {
            tracing::error!(part = ?piece.part, group = piece.group, index = piece.index, %why, "persisted chunk does not decode");
            self.pieces.clear();
            self.buf.clear();
            return false;
        }
        // Skip to the range start without yielding.
        self.pos = self.buf.partition_point(|s| s.t < self.range.min);
        true
    }
}

impl SampleIter for PersistedIter<'_> {
    fn next(&mut self) -> Option<Sample> {
        loop {
            if let Some(&s) = self.buf.get(self.pos) {
                if s.t > self.range.max {
                    self.pieces.clear();
                    self.buf.clear();
                    return None;
                }
                self.pos += 1;
                return Some(s);
            }
            if !self.load_next() {
                return None;
            }
        }
    }
}

/// Decodes head chunks copied out of their shard: sealed ones into a buffer, the open one bit by bit.
pub(crate) struct HeadIter {
    chunks: VecDeque<SnapChunk>,
    open: Option<HeadChunkIter<Vec<u8>>>,
    buf: Vec<Sample>,
    pos: usize,
    range: TimeRange,
}

impl HeadIter {
    pub(crate) fn new(chunks: Vec<SnapChunk>, range: TimeRange) -> Self {
        HeadIter {
            chunks: chunks.into(),
            open: None,
            buf: Vec::new(),
            pos: 0,
            range,
        }
    }

    fn end(&mut self) -> Option<Sample> {
        self.chunks.clear();
        self.open = None;
        self.buf.clear();
        None
    }
}

impl SampleIter for HeadIter {
    fn next(&mut self) -> Option<Sample> {
        loop {
            let next = if let Some(&s) = self.buf.get(self.pos) {
                self.pos += 1;
                Some(s)
            } else if let Some(it) = self.open.as_mut() {
                let s = it.next();
                if s.is_none() {
                    self.open = None;
                }
                s
            } else {
                None
            };
            match next {
                Some(s) if s.t < self.range.min => continue,
                Some(s) if s.t > self.range.max => return self.end(),
                Some(s) => return Some(s),
                None => {}
            }
            match self.chunks.pop_front()? {
                SnapChunk::Open(bytes, len) => {
                    self.buf.clear();
                    self.pos = 0;
                    self.open = Some(HeadChunkIter::new(bytes, len));
                }
                SnapChunk::Sealed(bytes) => {
                    self.buf.clear();
                    if let Err(e) = decode_sealed_parts(&bytes, &mut self.buf) {
                        tracing::error!(error = %e, "sealed head chunk does not decode; the series is cut short");
                        return self.end();
                    }
                    self.pos = self.buf.partition_point(|s| s.t < self.range.min);
                }
            }
        }
    }
}
