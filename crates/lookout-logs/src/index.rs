//! The tantivy index of lines: one document per entry, the line tokenised (alphanumeric runs, lower-cased) and
//! stored, stream id and timestamp as fast fields. Line filters become token queries so `|= "text"` reads only
//! lines holding its tokens; every candidate is still checked exactly, so the index only narrows.

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;

use tantivy::collector::DocSetCollector;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term, doc,
};

use crate::entry::{Entry, LineFilter};

/// Longest token indexed; a literal's longer tokens do not narrow.
const MAX_TOKEN: usize = 256;
const TOKENIZER: &str = "lookout_logs";

#[derive(Clone, Copy)]
struct Fields {
    stream: Field,
    ts: Field,
    len: Field,
    line: Field,
    meta: Field,
}

/// One tantivy index with its long-lived writer and reader.
pub struct LineIndex {
    index: Index,
    writer: IndexWriter,
    reader: IndexReader,
    f: Fields,
}

/// A matching document: time, stream and where to read it.
pub type Hit = (i64, u64, DocAddress);

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN + 1))
        .filter(LowerCaser)
        .build()
}

impl LineIndex {
    /// Opens (creating) the index in `dir` with a writer of `heap_bytes` on one thread.
    pub fn open(dir: &Path, heap_bytes: usize) -> tantivy::Result<LineIndex> {
        std::fs::create_dir_all(dir)?;
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
        let index = Index::open_or_create(MmapDirectory::open(dir)?, b.build())?;
        index.tokenizers().register(TOKENIZER, analyzer());
        // One thread: the budget is split per thread and each needs ≥ 15 MB (style.md §5).
        let writer = index.writer_with_num_threads(1, heap_bytes.max(15_000_000))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(LineIndex {
            index,
            writer,
            reader,
            f: Fields {
                stream,
                ts,
                len,
                line,
                meta,
            },
        })
    }

    /// The WAL sequence number of the last commit (0 for a new index).
    pub fn committed_seq(&self) -> u64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Adds one entry (visible after the next commit).
    pub fn add(&self, stream: u64, e: &Entry) -> tantivy::Result<()> {
        let meta = if e.metadata.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&e.metadata).unwrap_or_default()
        };
        self.writer.add_document(doc!(
            self.f.stream => stream,
            self.f.ts => e.ts,
            self.f.len => e.line.len() as u64,
            self.f.line => e.line.as_str(),
            self.f.meta => meta,
        ))?;
        Ok(())
    }

    /// Commits everything added, recording `seq`, and makes it searchable.
    pub fn commit(&mut self, seq: u64) -> tantivy::Result<()> {
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&seq.to_string());
        prepared.commit()?;
        self.reader.reload()
    }

    /// A consistent view of the committed index, usable without the store's lock.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            searcher: self.reader.searcher(),
            f: self.f,
        }
    }

    /// Documents in the index (committed).
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Segments of the committed index.
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }
}

/// A point-in-time view of the committed index (a tantivy searcher): searches and reads run on it while pushes and
/// commits go on.
pub struct Snapshot {
    searcher: Searcher,
    f: Fields,
}

impl Snapshot {
    /// Committed entries of `streams` in `[start, end)` that may pass `filters` (a superset: check each line).
    pub fn search(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        filters: &[LineFilter],
    ) -> tantivy::Result<Vec<Hit>> {
        if streams.is_empty() || start >= end {
            return Ok(Vec::new());
        }
        let mut must = self.selection_clauses(streams, start, end);
        for f in filters {
            if let LineFilter::Contains(lit) = f {
                for q in self.literal_queries(lit)? {
                    must.push((Occur::Must, q));
                }
            }
        }
        let searcher = &self.searcher;
        let docs: HashSet<DocAddress> =
            searcher.search(&BooleanQuery::new(must), &DocSetCollector)?;
        let mut out = Vec::with_capacity(docs.len());
        for addr in docs {
            let seg = searcher.segment_reader(addr.segment_ord);
            let ff = seg.fast_fields();
            let ts = ff.i64("ts")?.first(addr.doc_id).unwrap_or(0);
            let stream = ff.u64("stream")?.first(addr.doc_id).unwrap_or(0);
            out.push((ts, stream, addr));
        }
        Ok(out)
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

    /// (ts, stream, line bytes) of every committed entry of `streams` in `[start, end)`, from fast fields only.
    pub fn volume(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
        visit: &mut dyn FnMut(i64, u64, u64),
    ) -> tantivy::Result<()> {
        if streams.is_empty() || start >= end {
            return Ok(());
        }
        let docs: HashSet<DocAddress> = self
            .searcher
            .search(&self.selection(streams, start, end), &DocSetCollector)?;
        for addr in docs {
            let ff = self.searcher.segment_reader(addr.segment_ord).fast_fields();
            let ts = ff.i64("ts")?.first(addr.doc_id).unwrap_or(0);
            let stream = ff.u64("stream")?.first(addr.doc_id).unwrap_or(0);
            let len = ff.u64("len")?.first(addr.doc_id).unwrap_or(0);
            visit(ts, stream, len);
        }
        Ok(())
    }

    fn selection(&self, streams: &[u64], start: i64, end: i64) -> BooleanQuery {
        BooleanQuery::new(self.selection_clauses(streams, start, end))
    }

    fn selection_clauses(
        &self,
        streams: &[u64],
        start: i64,
        end: i64,
    ) -> Vec<(Occur, Box<dyn Query>)> {
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
    fn literal_queries(&self, lit: &str) -> tantivy::Result<Vec<Box<dyn Query>>> {
        let mut a = analyzer();
        let mut stream = a.token_stream(lit);
        let mut tokens = Vec::new();
        while stream.advance() {
            let t = stream.token();
            tokens.push((t.offset_from, t.offset_to, t.text.clone()));
        }
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        for (from, to, text) in tokens {
            if text.len() > MAX_TOKEN {
                continue;
            }
            let whole_start = from > 0;
            let whole_end = to < lit.len();
            let q: Box<dyn Query> = match (whole_start, whole_end) {
                (true, true) => Box::new(TermQuery::new(
                    Term::from_field_text(self.f.line, &text),
                    IndexRecordOption::Basic,
                )),
                (false, true) => {
                    Box::new(RegexQuery::from_pattern(&format!(".*{text}"), self.f.line)?)
                }
                (true, false) => {
                    Box::new(RegexQuery::from_pattern(&format!("{text}.*"), self.f.line)?)
                }
                (false, false) => Box::new(RegexQuery::from_pattern(
                    &format!(".*{text}.*"),
                    self.f.line,
                )?),
            };
            out.push(q);
        }
        Ok(out)
    }
}
