//! One partition's tantivy index of lines, in **block documents**: one document holds up to a block's worth of one
//! stream's entries in time order (see [`BlockShape`]). The block's distinct tokens ([`crate::tokens`]) are one
//! indexed, unstored text field (basic postings, no positions or norms), so a token repeated across the block's
//! lines costs one posting; the entries themselves are one stored bytes field ([`crate::codec`]) compressed on its
//! own with zstd ([`crate::zblock`]; tantivy's doc store keeps it as is), so reading a candidate block decompresses
//! that block only; stream id, first and last timestamp, entry count and line bytes are fast fields. Line filters
//! become token queries ([`crate::filter_query`]) that select blocks; every line read is still checked exactly, so
//! the index only narrows.
//!
//! Partitions written by earlier versions (field `block`, compressed by tantivy's doc store in 128 KiB blocks,
//! tokens from tantivy's analyzer, no long-run marker) are read and written in their own format.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashSet;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermSetQuery};
use tantivy::store::Compressor;
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher,
    TantivyDocument, Term,
};

use crate::block_view::BlockView;
use crate::buffer::StreamBuf;
use crate::codec::put_block;
use crate::collect::{BlockHit, Blocks, Volume};
use crate::dicts::PartDicts;
use crate::entry::LineFilter;
use crate::filter_query::{literal_queries, regex_query};
use crate::schema::{Fields, TOKENIZER, analyzer, fields, schema};
use crate::stored::StoredBlocks;
use crate::tokens::BlockTokens;
use crate::zblock::{BlockCompressor, decompress};

/// Clauses selecting blocks of some streams, or the streams the collector keeps (see `PartSearcher::selection`).
type Selection = (Vec<(Occur, Box<dyn Query>)>, Option<Arc<FxHashSet<u64>>>);

/// Above this many selected streams, blocks are selected by the collector, not by stream postings.
const MAX_STREAM_TERMS: usize = 32;
/// tantivy refuses a writer thread with less (`MEMORY_BUDGET_NUM_BYTES_MIN`).
pub const MIN_WRITER_HEAP: usize = 15_000_000;
/// How many entries a block document holds at most: a block closes at `max_lines` entries or once its lines reach
/// `max_bytes`. Larger blocks mean fewer postings and fast-field rows per line (disk, indexing CPU); smaller ones
/// mean fewer lines decoded per candidate block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockShape {
    /// Entries per block at most (≥ 1).
    pub max_lines: usize,
    /// Line bytes after which a block closes.
    pub max_bytes: usize,
}

impl Default for BlockShape {
    /// 512 entries or 32 KiB of lines: a needle's candidate block decompresses in tens of microseconds, and zstd
    /// still sees enough of one stream's lines to compress them about as well as the whole text.
    fn default() -> Self {
        BlockShape {
            max_lines: 512,
            max_bytes: 32 * 1024,
        }
    }
}

/// What building block documents reuses from one block to the next (owned by the commit thread).
pub struct BlockBuilder {
    zstd: BlockCompressor,
    tokens: BlockTokens,
    payload: Vec<u8>,
}

impl BlockBuilder {
    /// A builder with a fresh zstd context.
    pub fn new() -> std::io::Result<Self> {
        Ok(BlockBuilder {
            zstd: BlockCompressor::new(),
            tokens: BlockTokens::default(),
            payload: Vec::new(),
        })
    }
}

/// One partition's index and its reader (reloaded only by the commit thread, after a commit or a merge).
pub struct PartIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
    /// The partition's zstd dictionaries (the current format only).
    dicts: Option<Arc<PartDicts>>,
}

impl PartIndex {
    /// Opens the index in `dir`, creating it in the current format when there is none.
    pub fn open(dir: &Path) -> tantivy::Result<PartIndex> {
        std::fs::create_dir_all(dir)?;
        let index = if dir.join("meta.json").exists() {
            Index::open(MmapDirectory::open(dir)?)?
        } else {
            // Blocks arrive compressed: the doc store keeps them as they are, in small store blocks so reading one
            // document copies little more than it.
            let settings = IndexSettings {
                docstore_compression: Compressor::None,
                docstore_blocksize: 1024,
                ..IndexSettings::default()
            };
            Index::builder()
                .schema(schema())
                .settings(settings)
                .create_in_dir(dir)?
        };
        let f = fields(&index.schema())?;
        if f.own_compression {
            // The text is the block's distinct tokens, space-separated ([`BlockTokens::take`]).
            index.tokenizers().register(
                TOKENIZER,
                TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
            );
        } else {
            index.tokenizers().register(TOKENIZER, analyzer());
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            // Scans read each segment's blocks in time order: a few store blocks per segment serve them (an earlier
            // format's 128 KiB zstd blocks included); tantivy's default of 100 would hold ~13 MB per segment.
            .doc_store_cache_num_blocks(4)
            .try_into()?;
        let dicts = if f.own_compression {
            Some(Arc::new(PartDicts::open(dir)?))
        } else {
            None
        };
        Ok(PartIndex {
            index,
            reader,
            f,
            dicts,
        })
    }

    /// The WAL sequence number the last commit recorded (0 for a new index).
    pub fn committed_seq(&self) -> u64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// A writer with one indexing thread (the budget is split per thread and each needs ≥ 15 MB, style.md §5).
    pub fn writer(&self, heap_bytes: usize) -> tantivy::Result<IndexWriter> {
        let writer = self
            .index
            .writer_with_num_threads(1, heap_bytes.max(MIN_WRITER_HEAP))?;
        // tantivy counts layers from 10,000 documents: below that every segment is one layer, so each merge of
        // small segments is merged again with the next ones. A block document holds up to 512 entries, so layers
        // start at 100 blocks and merges stay logarithmic.
        let mut policy = LogMergePolicy::default();
        policy.set_min_layer_size(100);
        writer.set_merge_policy(Box::new(policy));
        Ok(writer)
    }

    /// Adds entries `idx` (in time order) of one stream's buffer `src` through `writer` as block documents shaped
    /// by `shape` (visible after their commit and a reload). Returns the blocks added.
    pub fn add_stream(
        &self,
        writer: &IndexWriter,
        builder: &mut BlockBuilder,
        stream: u64,
        src: &StreamBuf,
        idx: &[u32],
        shape: BlockShape,
    ) -> tantivy::Result<usize> {
        let mut blocks = 0;
        let mut rest = idx;
        while !rest.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rest.len()
                && n < shape.max_lines.max(1)
                && (n == 0 || bytes < shape.max_bytes)
            {
                bytes += src.line(rest[n] as usize).len();
                n += 1;
            }
            let (block, tail) = rest.split_at(n);
            rest = tail;
            self.add_block(writer, builder, stream, src, block, bytes)?;
            blocks += 1;
        }
        Ok(blocks)
    }

    fn add_block(
        &self,
        writer: &IndexWriter,
        builder: &mut BlockBuilder,
        stream: u64,
        src: &StreamBuf,
        block: &[u32],
        bytes: usize,
    ) -> tantivy::Result<()> {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for &i in block {
            builder.tokens.add_line(src.line(i as usize));
            let ts = src.ts(i as usize);
            lo = lo.min(ts);
            hi = hi.max(ts);
        }
        builder.payload.clear();
        let text_at = put_block(&mut builder.payload, src, block, self.f.layout());
        let stored = match &self.dicts {
            Some(dicts) => {
                let encoder = dicts.encoder();
                // The compressed part of the payload (lines and metadata): a dictionary trained on it compressed
                // loggen blocks smaller than one trained on the lines alone (0.183 against 0.193 of raw).
                dicts.sample(&builder.payload[text_at..]);
                builder.zstd.compress(
                    &builder.payload,
                    text_at,
                    encoder.as_ref().map(|e| &e.cdict),
                )?
            }
            None => builder.payload.clone(),
        };
        let mut doc = TantivyDocument::new();
        doc.add_u64(self.f.stream, stream);
        doc.add_i64(self.f.ts_min, lo);
        doc.add_i64(self.f.ts_max, hi);
        doc.add_u64(self.f.lines, block.len() as u64);
        doc.add_u64(self.f.bytes, bytes as u64);
        doc.add_text(self.f.text, builder.tokens.take(self.f.own_compression));
        doc.add_bytes(self.f.block, &stored);
        writer.add_document(doc)?;
        Ok(())
    }

    /// Trains the partition's dictionary when enough samples were kept (after a commit: the blocks compressed next
    /// use it). A failure only leaves blocks compressed without one.
    pub fn train_dictionary(&self) {
        if let Some(d) = &self.dicts
            && let Err(e) = d.train_when_due()
        {
            tracing::warn!(error = %e, "log partition dictionary not written; blocks stay compressed without one");
        }
    }

    /// Picks up the last commit or merge, returning a searcher over it.
    pub fn reload(&self) -> tantivy::Result<PartSearcher> {
        self.reader.reload()?;
        Ok(self.searcher())
    }

    /// A searcher over what the reader last loaded.
    pub fn searcher(&self) -> PartSearcher {
        PartSearcher {
            searcher: self.reader.searcher(),
            f: self.f,
            dicts: self.dicts.clone(),
            entries: Arc::new(OnceLock::new()),
            stored: Arc::new(StoredBlocks::default()),
        }
    }

    /// Whether the committed segments differ from those the reader last loaded (a merge finished since).
    pub fn segments_changed(&self) -> bool {
        let Ok(mut committed) = self.index.searchable_segment_ids() else {
            return false;
        };
        let mut loaded: Vec<_> = self
            .reader
            .searcher()
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        committed.sort();
        loaded.sort();
        committed != loaded
    }

    /// Committed segments (for merging).
    pub fn segment_ids(&self) -> tantivy::Result<Vec<tantivy::index::SegmentId>> {
        self.index.searchable_segment_ids()
    }
}

/// Commits everything added through `writer`, recording `seq` as the payload.
pub fn commit(writer: &mut IndexWriter, seq: u64) -> tantivy::Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&seq.to_string());
    prepared.commit()?;
    Ok(())
}

/// A point-in-time view of one partition (a tantivy searcher): searches and reads run on it while pushes and
/// commits go on.
#[derive(Clone)]
pub struct PartSearcher {
    searcher: Searcher,
    f: Fields,
    dicts: Option<Arc<PartDicts>>,
    /// Entries in the searcher's blocks, summed on first use.
    entries: Arc<OnceLock<u64>>,
    /// The segments' store readers.
    stored: Arc<StoredBlocks>,
}

impl PartSearcher {
    /// Committed blocks of `streams` overlapping `[start, end)` that may hold lines passing `filters` (a superset:
    /// check each line).
    pub fn search(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        filters: &[LineFilter],
    ) -> tantivy::Result<Vec<BlockHit>> {
        if streams.is_empty() || start >= end || self.searcher.num_docs() == 0 {
            return Ok(Vec::new());
        }
        let (mut must, only) = self.selection(streams);
        for f in filters {
            match f {
                LineFilter::Contains(lit) => {
                    for q in literal_queries(self.f.text, self.f.own_compression, lit)? {
                        must.push((Occur::Must, q));
                    }
                }
                LineFilter::Matches(re) => {
                    if let Some(q) = regex_query(self.f.text, self.f.own_compression, re.as_str())?
                    {
                        must.push((Occur::Must, q));
                    }
                }
                _ => {}
            }
        }
        self.searcher.search(
            &Self::all_of(must),
            &Blocks {
                start,
                end,
                streams: only,
            },
        )
    }

    /// The conjunction of `must` (every block when empty).
    fn all_of(must: Vec<(Occur, Box<dyn Query>)>) -> Box<dyn Query> {
        if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        }
    }

    /// Reads a block's entries (in time order) in place.
    pub fn read(&self, addr: DocAddress) -> tantivy::Result<BlockView> {
        let damaged = |e: &dyn std::fmt::Display| damaged_block(addr, e);
        let payload = self
            .stored
            .with_bytes(&self.searcher, addr, self.f.block, |stored| {
                match &self.dicts {
                    Some(d) => decompress(stored, &|id| d.decoder(id)).map_err(|e| damaged(&e)),
                    None => Ok(stored.to_vec()),
                }
            })??;
        BlockView::parse(payload, self.f.layout()).map_err(|e| damaged(&e))
    }

    /// Entries and line bytes of `streams` in `[start, end)` per (stream, bucket of `step` ns from `start`): from
    /// fast fields for a block inside the range and one bucket, by reading the block's timestamps otherwise.
    pub fn volume(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        step: i64,
    ) -> tantivy::Result<Volume> {
        let mut out = Volume::new();
        if streams.is_empty() || start >= end || self.searcher.num_docs() == 0 {
            return Ok(out);
        }
        let (must, only) = self.selection(streams);
        let q = Self::all_of(must);
        let step = step.max(1);
        let bucket = |ts| lookout_storage::logs::volume_bucket(start, step, ts);
        let blocks = Blocks {
            start,
            end,
            streams: only,
        };
        for hit in self.searcher.search(&q, &blocks)? {
            if hit.ts_min >= start && hit.ts_max < end && bucket(hit.ts_min) == bucket(hit.ts_max) {
                let e = out.entry((hit.stream, bucket(hit.ts_min))).or_default();
                e.0 += hit.lines;
                e.1 += hit.bytes;
                continue;
            }
            let block = self.read(hit.addr)?;
            for i in 0..block.len() {
                let ts = block.ts(i);
                if ts >= start && ts < end {
                    let e = out.entry((hit.stream, bucket(ts))).or_default();
                    e.0 += 1;
                    e.1 += block.line_len(i) as u64;
                }
            }
        }
        Ok(out)
    }

    /// Committed block documents.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Entries in the committed blocks (the sum of their `lines` fast field, once per searcher).
    pub fn num_entries(&self) -> u64 {
        *self.entries.get_or_init(|| {
            self.searcher
                .segment_readers()
                .iter()
                .map(|r| {
                    let Ok(col) = r.fast_fields().u64("lines") else {
                        return 0;
                    };
                    let col = col.first_or_default_col(0);
                    r.doc_ids_alive().map(|d| col.get_val(d)).sum::<u64>()
                })
                .sum()
        })
    }

    /// Segments.
    pub fn segments(&self) -> usize {
        self.searcher.segment_readers().len()
    }

    /// How blocks of `streams` are selected: a few streams through the index (their postings), many by the
    /// collector checking each candidate's stream (a term set of hundreds of ids costs more to build and walk than
    /// the check, and `{app=~".+"}` selects every stream).
    fn selection(&self, streams: &[u64]) -> Selection {
        if streams.len() <= MAX_STREAM_TERMS {
            let terms = streams
                .iter()
                .map(|s| Term::from_field_u64(self.f.stream, *s));
            (
                vec![(Occur::Must, Box::new(TermSetQuery::new(terms)))],
                None,
            )
        } else {
            (
                Vec::new(),
                Some(Arc::new(streams.iter().copied().collect())),
            )
        }
    }
}

/// The error for a block whose stored bytes do not decode.
pub(crate) fn damaged_block(addr: DocAddress, e: &dyn std::fmt::Display) -> tantivy::TantivyError {
    tantivy::TantivyError::InternalError(format!("log block {addr:?}: {e}"))
}
