//! A partition's tantivy schema: the fields of the current block format and of the earlier ones, and the
//! tokenizer the text field names.

use std::path::Path;

use tantivy::Index;
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

use crate::codec::BlockFormat;
use crate::tokens::MAX_TOKEN;

/// The name the text field gives its tokenizer.
pub const TOKENIZER: &str = "lookout_logs";

/// The stored field of the earlier block format (tantivy compresses the doc store).
const BLOCK_FIELD: &str = "block";
/// The stored field of the current format (each block compressed on its own).
const ZBLOCK_FIELD: &str = "zblock";

/// A partition's fields.
#[derive(Clone, Copy)]
pub struct Fields {
    pub stream: Field,
    pub ts_min: Field,
    pub ts_max: Field,
    pub lines: Field,
    pub bytes: Field,
    pub text: Field,
    pub block: Field,
    /// The current format: blocks compressed on their own, tokens with the long-run marker.
    pub own_compression: bool,
}

impl Fields {
    /// How the format's blocks hold metadata.
    pub fn layout(&self) -> BlockFormat {
        if self.own_compression {
            BlockFormat::Current
        } else {
            BlockFormat::Earlier
        }
    }
}

/// The tokenizer of the earlier format's `text` field (the lines themselves; here the distinct tokens, which it
/// leaves as they are apart from the long-run marker, left out for that format).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN + 1))
        .filter(LowerCaser)
        .build()
}

/// The schema of a new partition.
pub fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_u64_field("stream", INDEXED | FAST);
    b.add_i64_field("ts_min", FAST);
    b.add_i64_field("ts_max", FAST);
    b.add_u64_field("lines", FAST);
    b.add_u64_field("bytes", FAST);
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    b.add_text_field("text", text);
    b.add_bytes_field(ZBLOCK_FIELD, STORED);
    b.build()
}

/// The fields of an index's schema, current or earlier block format.
pub fn fields(schema: &Schema) -> tantivy::Result<Fields> {
    let get = |name: &str| schema.get_field(name);
    let (block, own_compression) = match get(ZBLOCK_FIELD) {
        Ok(f) => (f, true),
        Err(_) => (get(BLOCK_FIELD)?, false),
    };
    Ok(Fields {
        stream: get("stream")?,
        ts_min: get("ts_min")?,
        ts_max: get("ts_max")?,
        lines: get("lines")?,
        bytes: get("bytes")?,
        text: get("text")?,
        block,
        own_compression,
    })
}

/// Whether `dir` holds an index of the per-line format of earlier versions (not readable as blocks).
pub fn is_per_line_format(dir: &Path) -> bool {
    if !dir.join("meta.json").exists() {
        return false;
    }
    match MmapDirectory::open(dir).map(Index::open) {
        Ok(Ok(index)) => fields(&index.schema()).is_err(),
        _ => false,
    }
}
