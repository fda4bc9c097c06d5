//! Lookout's log store: streams (label sets, as in Loki) of entries (nanosecond timestamp, line, structured
//! metadata), a WAL that makes an acknowledged push survive `kill -9`, and a tantivy index of the lines, partitioned
//! by time, holding their tokens so line filters narrow through the index before any line is read.
//!
//! Synchronous, no HTTP, no dependency on the metrics TSDB.
//!
//! # On disk (under the data directory)
//! - `wal-<first seq>.log`: the WAL, length-prefixed CRC-checked records, one per acknowledged push, each with an
//!   increasing sequence number. A new file starts at each commit; older files are deleted once every partition
//!   holds their records.
//! - `streams.jsonl`: each stream's labels and time range, one JSON line per change; rewritten atomically (temporary
//!   file, fsync, rename) to compact it or to forget streams whose data retention deleted.
//! - `index/<start>_<end>/` (UTC, e.g. `20261205T000000Z_20261206T000000Z`): one tantivy index per time partition
//!   (a UTC day by default, [`LogStoreOptions::partition_period`]). An entry goes to the partition holding its
//!   timestamp; a query searches only the partitions overlapping its range. Each commit records the WAL sequence
//!   it holds in tantivy's commit payload. Retention deletes whole partition directories, by age
//!   ([`LogStoreOptions::retention_period`]) and by the total size of the directory
//!   ([`LogStoreOptions::retention_size`]).
//!
//! # Acknowledgement and crashes
//! [`LogStore::push`] validates the whole push, then checks the ingestion rate limits and the backlog of entries
//! awaiting a commit ([`LogStoreOptions::max_uncommitted_bytes`]; both refusals mean "retry later", 429 at the HTTP
//! layer); a refused push stores nothing. An accepted push returns after its record is written to the WAL (the OS
//! page cache at least) and its entries are in the in-memory buffer, which serves them to queries until the commit
//! thread (every second) commits them to their partitions and publishes fresh searchers. The commit holds no lock
//! pushes take: it takes the buffer and rotates the WAL under the lock, commits outside it, then publishes the
//! searchers and drops the taken entries in one step, so a read sees each entry exactly once. Partitions commit one
//! after the other; after a crash (even between two partition commits) replay re-adds each WAL entry whose
//! partition recorded an older sequence than the entry's record, which is exactly what that partition lacks. A power
//! cut can lose the last second (the WAL is not fsynced; the commits are).

mod block_view;
mod buffer;
mod codec;
mod collect;
mod commit;
mod dicts;
mod entry;
mod filter_query;
mod index;
mod layout;
mod limits;
mod lines;
mod options;
mod partitions;
mod prefilter;
mod rate;
mod rice;
mod schema;
mod source;
mod store;
mod stored;
mod streams;
mod tokens;
mod wal;
mod zblock;

pub use entry::{Entry, LineFilter, LogQuery, PushStream, QueryDirection, StreamEntries};
pub use index::{BlockShape, MIN_WRITER_HEAP};
pub use limits::{LogLimits, PushError};
pub use options::{LogCounters, LogStats, LogStoreOptions, StoreError};
pub use store::LogStore;

#[cfg(test)]
mod tests;
