//! Lookout's log store: streams (label sets, as in Loki) of entries (nanosecond timestamp, line, structured
//! metadata), a WAL that makes an acknowledged push survive `kill -9`, and a tantivy index holding the lines and
//! their tokens so line filters narrow through the index before any line is read.
//!
//! Synchronous, no HTTP, no dependency on the metrics TSDB. Acknowledgement: [`LogStore::push`] returns after the
//! entries are written to the WAL file (the OS page cache at least) and are visible to queries (served from an
//! in-memory buffer until the next tantivy commit, which runs on the store's own thread every second).

mod entry;
mod index;
mod limits;
pub mod logql;
mod source;
mod store;
mod streams;
mod wal;

pub use entry::{Entry, LineFilter, LogQuery, PushStream, QueryDirection, StreamEntries};
pub use limits::{LogLimits, PushError};
pub use store::{LogStore, LogStoreOptions, StoreError};

#[cfg(test)]
mod tests;
