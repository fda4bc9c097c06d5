//! Reading a block document's stored bytes without deserialising the document: tantivy's `Searcher::doc` copies a
//! bytes value one byte at a time into a new document (a fifth of a needle query's time), so the document's bytes
//! are taken from the segment's store reader and the one stored field is found in them. The layout is tantivy's
//! stored-document format: a VInt count, then per value the field (u32, little-endian), a type code and, for bytes,
//! a VInt length and the bytes. Anything else there (a format this code does not know) falls back to `doc`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tantivy::schema::{Field, Value};
use tantivy::store::StoreReader;
use tantivy::{DocAddress, Searcher, TantivyDocument};

/// tantivy's type code of a bytes value (`schema::document::type_codes::BYTES_CODE`).
const BYTES_CODE: u8 = 4;

/// Reads fell back to `Searcher::doc` (tests check the fast path is the one taken).
pub static FALLBACKS: AtomicUsize = AtomicUsize::new(0);

/// A searcher's store readers, one per segment, opened on first use.
#[derive(Default)]
pub struct StoredBlocks {
    readers: OnceLock<Vec<Option<StoreReader>>>,
}

/// tantivy's VInt: 7 bits per byte, the last byte marked by its high bit.
fn vint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 != 0 {
            return Some(v);
        }
    }
    None
}

/// The bytes value of `field` in a stored document's bytes.
fn find_bytes(doc: &[u8], field: Field) -> Option<&[u8]> {
    let mut at = 0;
    let n = vint(doc, &mut at)?;
    for _ in 0..n {
        let f = u32::from_le_bytes(doc.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if *doc.get(at)? != BYTES_CODE {
            return None;
        }
        at += 1;
        let len = usize::try_from(vint(doc, &mut at)?).ok()?;
        let value = doc.get(at..at.checked_add(len)?)?;
        at += len;
        if f == field.field_id() {
            return Some(value);
        }
    }
    None
}

impl StoredBlocks {
    /// Calls `f` with the stored bytes of `field` in document `addr`.
    pub fn with_bytes<T>(
        &self,
        searcher: &Searcher,
        addr: DocAddress,
        field: Field,
        f: impl FnOnce(&[u8]) -> T,
    ) -> tantivy::Result<T> {
        let readers = self.readers.get_or_init(|| {
            searcher
                .segment_readers()
                .iter()
                // A few store blocks each: a scan reads each segment's blocks roughly in order.
                .map(|r| r.get_store_reader(4).ok())
                .collect()
        });
        if let Some(Some(reader)) = readers.get(addr.segment_ord as usize) {
            let doc = reader.get_document_bytes(addr.doc_id)?;
            if let Some(bytes) = find_bytes(doc.as_slice(), field) {
                return Ok(f(bytes));
            }
        }
        FALLBACKS.fetch_add(1, Ordering::Relaxed);
        let doc: TantivyDocument = searcher.doc(addr)?;
        Ok(f(doc
            .get_first(field)
            .and_then(|v| v.as_bytes())
            .unwrap_or_default()))
    }
}
