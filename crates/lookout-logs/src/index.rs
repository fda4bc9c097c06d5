//! One partition's tantivy index of lines: one document per entry, the line tokenised (alphanumeric runs,
//! lower-cased) and stored, stream id, timestamp and line length as fast fields. Line filters become token queries
//! so `|= "text"` reads only lines holding its tokens; every candidate is still checked exactly, so the index only
//! narrows.

use std::ops::Bound;
use std::path::Path;

use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher,
    TantivyDocument, Term, doc,
};

use crate::collect::{Hit, Hits, Volume, Volumes};
use crate::entry::{Entry, LineFilter};

/// Longest token indexed; a literal's longer tokens do not narrow.
const MAX_TOKEN: usize = 256;
const TOKENIZER: &str = "lookout_logs";
/// tantivy refuses a writer thread with less (`MEMORY_BUDGET_NUM_BYTES_MIN`).
pub const MIN_WRITER_HEAP: usize = 15_000_000;

#[derive(Clone, Copy)]
struct Fields {
    stream: Field,
    ts: Field,
    len: Field,
    line: Field,
    meta: Field,
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
    let ts = b.add_i64_field("ts", INDEXED | FAST);
    let len = b.add_u64_field("len", FAST);
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::Basic),
        )
        .set_stored();
    let line = b.add_text_field("line", text);
    let meta = b.add_text_field("meta", STORED);
    (
        b.build(),
        Fields {
            stream,
            ts,
            len,
            line,
            meta,
        },
    )
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
        // Lines are stored zstd-compressed in 128 KiB blocks: near `zstd -3` of the raw text, while a needle's
        // few hits each decompress one block.
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
        self.index
            .writer_with_num_threads(1, heap_bytes.max(MIN_WRITER_HEAP))
    }

    /// Adds one entry through `writer` (visible after its commit and a reload).
    pub fn add(&self, writer: &IndexWriter, stream: u64, e: &Entry) -> tantivy::Result<()> {
        let meta = if e.metadata.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&e.metadata).unwrap_or_default()
        };
        writer.add_document(doc!(
            self.f.stream => stream,
            self.f.ts => e.ts,
            self.f.len => e.line.len() as u64,
            self.f.line => e.line.as_str(),
            self.f.meta => meta,
        ))?;
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
}

impl PartSearcher {
    /// Committed entries of `streams` in `[start, end)` that may pass `filters` (a superset: check each line).
    pub fn search(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        filters: &[LineFilter],
    ) -> tantivy::Result<Vec<Hit>> {
        if streams.is_empty() || start >= end || self.searcher.num_docs() == 0 {
            return Ok(Vec::new());
        }
        let mut must = self.selection(streams, start, end);
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
        self.searcher.search(&BooleanQuery::new(must), &Hits)
    }

    /// Reads a hit's line and structured metadata.
    pub fn read(&self, addr: DocAddress) -> tantivy::Result<(String, Vec<(String, String)>)> {
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let line = doc
            .get_first(self.f.line)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let meta = doc
            .get_first(self.f.meta)
            .and_then(|v| v.as_str())
            .filter(|m| !m.is_empty())
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or_default();
        Ok((line, meta))
    }

    /// Entries and line bytes of `streams` in `[start, end)` per (stream, bucket of `step` ns from `start`), from
    /// fast fields only.
    pub fn volume(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        step: i64,
    ) -> tantivy::Result<Volume> {
        if streams.is_empty() || start >= end || self.searcher.num_docs() == 0 {
            return Ok(Volume::new());
        }
        let q = BooleanQuery::new(self.selection(streams, start, end));
        self.searcher.search(&q, &Volumes { start, step })
    }

    /// Committed documents.
    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }

    /// Segments.
    pub fn segments(&self) -> usize {
        self.searcher.segment_readers().len()
    }

    fn selection(&self, streams: &[u64], start: i64, end: i64) -> Vec<(Occur, Box<dyn Query>)> {
        let terms = streams
            .iter()
            .map(|s| Term::from_field_u64(self.f.stream, *s));
        vec![
            (Occur::Must, Box::new(TermSetQuery::new(terms))),
            (
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(self.f.ts, start)),
                    Bound::Excluded(Term::from_field_i64(self.f.ts, end)),
                )),
            ),
        ]
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
                        Term::from_field_text(self.f.line, &text),
                        IndexRecordOption::Basic,
                    );
                    out.push((format!("={text}"), Box::new(q)));
                    continue;
                }
                (false, true) => format!(".*{text}"),
                (true, false) => format!("{text}.*"),
                (false, false) => format!(".*{text}.*"),
            };
            let q = RegexQuery::from_pattern(&pattern, self.f.line)?;
            out.push((pattern, Box::new(q)));
        }
        Ok(out)
    }
}
