//! tantivy collectors that read the fast fields of each hit as it is found: (time, stream, address) for scans and
//! per-(stream, bucket) counts for volume, with no set of every hit in between.

use std::collections::HashMap;
use std::sync::Arc;

use lookout_storage::logs::volume_bucket as bucket;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::ColumnValues;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// A matching document: time, stream and where to read it.
pub type Hit = (i64, u64, DocAddress);

/// Entries and line bytes per (stream, bucket start).
pub type Volume = HashMap<(u64, i64), (u64, u64)>;

type Col<T> = Arc<dyn ColumnValues<T>>;

fn columns(reader: &SegmentReader) -> tantivy::Result<(Col<i64>, Col<u64>)> {
    let ff = reader.fast_fields();
    Ok((
        ff.i64("ts")?.first_or_default_col(0),
        ff.u64("stream")?.first_or_default_col(0),
    ))
}

/// Collects every hit with its time and stream.
pub struct Hits;

/// [`Hits`] for one segment.
pub struct SegmentHits {
    ord: SegmentOrdinal,
    ts: Arc<dyn ColumnValues<i64>>,
    stream: Arc<dyn ColumnValues<u64>>,
    out: Vec<Hit>,
}

impl Collector for Hits {
    type Fruit = Vec<Hit>;
    type Child = SegmentHits;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentHits> {
        let (ts, stream) = columns(reader)?;
        Ok(SegmentHits {
            ord,
            ts,
            stream,
            out: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Hit>>) -> tantivy::Result<Vec<Hit>> {
        let mut all = Vec::with_capacity(fruits.iter().map(Vec::len).sum());
        for f in fruits {
            all.extend(f);
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentHits {
    type Fruit = Vec<Hit>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.out.push((
            self.ts.get_val(doc),
            self.stream.get_val(doc),
            DocAddress::new(self.ord, doc),
        ));
    }

    fn harvest(self) -> Vec<Hit> {
        self.out
    }
}

/// Counts entries and line bytes per stream and bucket of `step` ns from `start`.
pub struct Volumes {
    /// First bucket's start.
    pub start: i64,
    /// Bucket width (≥ 1).
    pub step: i64,
}

/// [`Volumes`] for one segment.
pub struct SegmentVolumes {
    start: i64,
    step: i64,
    ts: Arc<dyn ColumnValues<i64>>,
    stream: Arc<dyn ColumnValues<u64>>,
    len: Arc<dyn ColumnValues<u64>>,
    out: Volume,
}

impl Collector for Volumes {
    type Fruit = Volume;
    type Child = SegmentVolumes;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentVolumes> {
        let (ts, stream) = columns(reader)?;
        Ok(SegmentVolumes {
            start: self.start,
            step: self.step.max(1),
            ts,
            stream,
            len: reader.fast_fields().u64("len")?.first_or_default_col(0),
            out: Volume::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Volume>) -> tantivy::Result<Volume> {
        let mut all = Volume::new();
        for f in fruits {
            merge_volume(&mut all, f);
        }
        Ok(all)
    }
}

/// Adds `from` into `into`.
pub fn merge_volume(into: &mut Volume, from: Volume) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (k, (n, b)) in from {
        let e = into.entry(k).or_default();
        e.0 += n;
        e.1 += b;
    }
}

impl SegmentCollector for SegmentVolumes {
    type Fruit = Volume;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let ts = self.ts.get_val(doc);
        let bucket = bucket(self.start, self.step, ts);
        let e = self
            .out
            .entry((self.stream.get_val(doc), bucket))
            .or_default();
        e.0 += 1;
        e.1 += self.len.get_val(doc);
    }

    fn harvest(self) -> Volume {
        self.out
    }
}
