//! One partition's tantivy index of lines, in **block documents**: one document holds up to a block's worth of one
//! stream's entries in time order (see [`BlockShape`]). The block's lines are tokenised together into one indexed,
//! unstored text field (alphanumeric runs, lower-cased; basic postings, no positions or norms), so a token repeated
//! across the block's lines costs one posting; the entries themselves are one stored bytes field ([`crate::codec`])
//! that tantivy's doc store compresses with zstd; stream id, first and last timestamp, entry count and line bytes are
//! fast fields. Line filters become token queries that select blocks, so `|= "text"` decodes only blocks holding its
//! tokens; every decoded line is still checked exactly, so the index only narrows.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use tantivy::directory::MmapDirectory;
use tantivy::indexer::LogMergePolicy;
use tantivy::query::{BooleanQuery, Occur, Query, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher,
    TantivyDocument, Term,
};

use crate::codec::{Reader, put_block};
use crate::collect::{BlockHit, Blocks, Volume};
use crate::entry::{Entry, LineFilter};

/// Longest token indexed; a literal's longer tokens do not narrow.
const MAX_TOKEN: usize = 256;
const TOKENIZER: &str = "lookout_logs";
/// tantivy refuses a writer thread with less (`MEMORY_BUDGET_NUM_BYTES_MIN`).
pub const MIN_WRITER_HEAP: usize = 15_000_000;
/// The stored field a partition of the block format has (one of the per-line format has `line`).
const BLOCK_FIELD: &str = "block";

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
    /// 512 entries or 64 KiB of lines: two blocks per 128 KiB doc-store block.
    fn default() -> Self {
        BlockShape {
            max_lines: 512,
            max_bytes: 64 * 1024,
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    stream: Field,
    ts_min: Field,
    ts_max: Field,
    lines: Field,
    bytes: Field,
    text: Field,
    block: Field,
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN + 1))
        .filter(LowerCaser)
        .build()
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let stream = b.add_u64_field("stream", INDEXED | FAST);
    let ts_min = b.add_i64_field("ts_min", FAST);
    let ts_max = b.add_i64_field("ts_max", FAST);
    let lines = b.add_u64_field("lines", FAST);
    let bytes = b.add_u64_field("bytes", FAST);
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let text = b.add_text_field("text", text);
    let block = b.add_bytes_field(BLOCK_FIELD, STORED);
    (
        b.build(),
        Fields {
            stream,
            ts_min,
            ts_max,
            lines,
            bytes,
            text,
            block,
        },
    )
}

/// Whether `dir` holds an index of the per-line format of earlier versions (not readable as blocks).
pub fn is_per_line_format(dir: &Path) -> bool {
    if !dir.join("meta.json").exists() {
        return false;
    }
    match MmapDirectory::open(dir).map(Index::open) {
        Ok(Ok(index)) => index.schema().get_field(BLOCK_FIELD).is_err(),
        _ => false,
    }
}

/// One partition's index and its reader (reloaded only by the commit thread, after a commit or a merge).
pub struct PartIndex {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

impl PartIndex {
    /// Opens (creating) the index in `dir`.
    pub fn open(dir: &Path) -> tantivy::Result<PartIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, f) = schema();
        // Blocks are stored zstd-compressed in 128 KiB doc-store blocks (about eight block documents each): near
        // `zstd -3` of the raw text, while a needle's few candidate blocks each decompress one.
        let settings = IndexSettings {
            docstore_compression: Compressor::Zstd(ZstdCompressor {
                compression_level: Some(3),
            }),
            docstore_blocksize: 128 * 1024,
            ..IndexSettings::default()
        };
        let index = Index::builder()
            .schema(schema)
            .settings(settings)
            .open_or_create(MmapDirectory::open(dir)?)?;
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            // Scans read each segment's blocks in time order: a few decompressed 128 KiB blocks per segment serve
            // them; tantivy's default of 100 would hold ~13 MB per segment per searcher.
            .doc_store_cache_num_blocks(4)
            .try_into()?;
        Ok(PartIndex { index, reader, f })
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

    /// Adds one stream's `entries` (in time order) through `writer` as block documents shaped by `shape` (visible
    /// after their commit and a reload). Returns the blocks added.
    pub fn add_stream(
        &self,
        writer: &IndexWriter,
        stream: u64,
        entries: &[&Entry],
        shape: BlockShape,
    ) -> tantivy::Result<usize> {
        let mut blocks = 0;
        let mut rest = entries;
        while !rest.is_empty() {
            let mut n = 0;
            let mut bytes = 0;
            while n < rest.len()
                && n < shape.max_lines.max(1)
                && (n == 0 || bytes < shape.max_bytes)
            {
                bytes += rest[n].line.len();
                n += 1;
            }
            let (block, tail) = rest.split_at(n);
            rest = tail;
            self.add_block(writer, stream, block, bytes)?;
            blocks += 1;
        }
        Ok(blocks)
    }

    fn add_block(
        &self,
        writer: &IndexWriter,
        stream: u64,
        block: &[&Entry],
        bytes: usize,
    ) -> tantivy::Result<()> {
        let mut text = String::with_capacity(bytes + block.len());
        let mut payload = Vec::with_capacity(bytes + 32 * block.len() + 16);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for e in block {
            // Lines are joined by a separator no token spans, so each token is one line's.
            text.push_str(&e.line);
            text.push('\n');
            lo = lo.min(e.ts);
            hi = hi.max(e.ts);
        }
        put_block(&mut payload, block);
        let mut doc = TantivyDocument::new();
        doc.add_u64(self.f.stream, stream);
        doc.add_i64(self.f.ts_min, lo);
        doc.add_i64(self.f.ts_max, hi);
        doc.add_u64(self.f.lines, block.len() as u64);
        doc.add_u64(self.f.bytes, bytes as u64);
        doc.add_text(self.f.text, text);
        doc.add_bytes(self.f.block, &payload);
        writer.add_document(doc)?;
        Ok(())
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
            entries: Arc::new(OnceLock::new()),
        }
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
    /// Entries in the searcher's blocks, summed on first use.
    entries: Arc<OnceLock<u64>>,
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
        let mut must = self.selection(streams);
        for f in filters {
            match f {
                LineFilter::Contains(lit) => {
                    for q in self.literal_queries(lit)? {
                        must.push((Occur::Must, q));
                    }
                }
                LineFilter::Matches(re) => {
                    if let Some(q) = self.regex_query(re.as_str())? {
                        must.push((Occur::Must, q));
                    }
                }
                _ => {}
            }
        }
        self.searcher
            .search(&BooleanQuery::new(must), &Blocks { start, end })
    }

    /// Reads a block's entries (in time order).
    pub fn read(&self, addr: DocAddress) -> tantivy::Result<Vec<Entry>> {
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let bytes = doc
            .get_first(self.f.block)
            .and_then(|v| v.as_bytes())
            .unwrap_or_default();
        Reader::new(bytes)
            .block()
            .map_err(|e| tantivy::TantivyError::InternalError(format!("log block {addr:?}: {e}")))
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
        let q = BooleanQuery::new(self.selection(streams));
        let step = step.max(1);
        let bucket = |ts| lookout_storage::logs::volume_bucket(start, step, ts);
        for hit in self.searcher.search(&q, &Blocks { start, end })? {
            if hit.ts_min >= start && hit.ts_max < end && bucket(hit.ts_min) == bucket(hit.ts_max) {
                let e = out.entry((hit.stream, bucket(hit.ts_min))).or_default();
                e.0 += hit.lines;
                e.1 += hit.bytes;
                continue;
            }
            for entry in self.read(hit.addr)? {
                if entry.ts >= start && entry.ts < end {
                    let e = out.entry((hit.stream, bucket(entry.ts))).or_default();
                    e.0 += 1;
                    e.1 += entry.line.len() as u64;
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

    fn selection(&self, streams: &[u64]) -> Vec<(Occur, Box<dyn Query>)> {
        let terms = streams
            .iter()
            .map(|s| Term::from_field_u64(self.f.stream, *s));
        vec![(Occur::Must, Box::new(TermSetQuery::new(terms)))]
    }

    /// The token queries a substring literal implies. A token inside the literal is a whole token of the line;
    /// the first may be the end of a longer token and the last the start of one, so those match by suffix and
    /// prefix over the term dictionary.
    /// The token query a regex implies: every match starts with one of a finite set of literal prefixes (from
    /// `regex-syntax`'s extractor), so a line must hold the tokens of one of them. `None` when the prefixes are
    /// unknown, empty or too many to narrow by (`.*`, a leading class of unbounded repetition, …).
    fn regex_query(&self, pattern: &str) -> tantivy::Result<Option<Box<dyn Query>>> {
        use regex_syntax::hir::literal::{ExtractKind, Extractor};
        let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
            return Ok(None);
        };
        let mut extractor = Extractor::new();
        extractor.kind(ExtractKind::Prefix).limit_total(64);
        let seq = extractor.extract(&hir);
        let Some(literals) = seq.literals() else {
            return Ok(None);
        };
        if literals.is_empty() {
            return Ok(None);
        }
        // Tokens are lower-cased: `(?i)` case variants collapse into one alternative.
        let mut texts = std::collections::BTreeSet::new();
        for lit in literals {
            let Ok(text) = std::str::from_utf8(lit.as_bytes()) else {
                return Ok(None);
            };
            texts.insert(text.to_lowercase());
        }
        // Alternatives share most tokens (`u49[0-9]` → `u490`…`u499` all hold `user`): a token every alternative
        // needs is queried once (a suffix or infix token scans the term dictionary), the rest per alternative.
        let mut per_alt: Vec<Vec<(String, Box<dyn Query>)>> = Vec::with_capacity(texts.len());
        for text in &texts {
            let all = self.keyed_literal_queries(text)?;
            if all.is_empty() {
                // One alternative without a usable token: every line may match.
                return Ok(None);
            }
            per_alt.push(all);
        }
        let shared: std::collections::BTreeSet<String> = per_alt[0]
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| per_alt.iter().all(|alt| alt.iter().any(|(x, _)| x == k)))
            .collect();
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, alt) in per_alt.into_iter().enumerate() {
            let mut own: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (k, q) in alt {
                if !shared.contains(&k) {
                    own.push((Occur::Must, q));
                } else if i == 0 {
                    must.push((Occur::Must, q));
                }
            }
            if own.is_empty() {
                // This alternative needs only the shared tokens: the others cannot narrow further.
                any.clear();
                break;
            }
            any.push((Occur::Should, Box::new(BooleanQuery::new(own))));
        }
        if !any.is_empty() {
            must.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        Ok(Some(Box::new(BooleanQuery::new(must))))
    }

    fn literal_queries(&self, lit: &str) -> tantivy::Result<Vec<Box<dyn Query>>> {
        Ok(self
            .keyed_literal_queries(lit)?
            .into_iter()
            .map(|(_, q)| q)
            .collect())
    }

    /// The token queries a substring literal implies, each with a key naming it (equal keys, equal queries).
    fn keyed_literal_queries(&self, lit: &str) -> tantivy::Result<Vec<(String, Box<dyn Query>)>> {
        let mut a = analyzer();
        let mut stream = a.token_stream(lit);
        let mut tokens = Vec::new();
        while stream.advance() {
            let t = stream.token();
            tokens.push((t.offset_from, t.offset_to, t.text.clone()));
        }
        let mut out: Vec<(String, Box<dyn Query>)> = Vec::new();
        for (from, to, text) in tokens {
            if text.len() > MAX_TOKEN {
                continue;
            }
            let whole_start = from > 0;
            let whole_end = to < lit.len();
            let pattern = match (whole_start, whole_end) {
                (true, true) => {
                    let q = TermQuery::new(
                        Term::from_field_text(self.f.text, &text),
                        IndexRecordOption::Basic,
                    );
                    out.push((format!("={text}"), Box::new(q)));
                    continue;
                }
                (false, true) => format!(".*{text}"),
                (true, false) => format!("{text}.*"),
                (false, false) => format!(".*{text}.*"),
            };
            let q = RegexQuery::from_pattern(&pattern, self.f.text)?;
            out.push((pattern, Box::new(q)));
        }
        Ok(out)
    }
}
