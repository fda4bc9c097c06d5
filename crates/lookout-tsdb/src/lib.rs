//! Lookout's time-series database. Implements [`lookout_storage::Storage`].
//!
//! Architecture invariant: a synchronous library with its own bounded background threads; knows nothing about
//! HTTP, PromQL or tokio. It is the only crate that names `sled`.
//!
//! Layout: the head holds recent samples in Gorilla chunks behind 64 shard locks with an in-memory
//! roaring-bitmap index; every commit is first written to the [`wal`]; a maintenance thread moves complete blocks
//! into sled (zstd groups of sealed chunks, a series table and postings), truncates the WAL and applies retention.
//! The design and its trade-offs are in `docs/design.md`.

mod appender;
mod chunk_log;
pub mod chunkenc;
mod db;
mod head;
mod metrics;
mod options;
mod persist;
mod prefetch;
mod query;
mod replay;
mod retention;
mod store;
mod symbols;
pub mod wal;

pub use appender::TsdbAppender;
pub use db::{Tsdb, TsdbStats, dir_size};
pub use metrics::TsdbMetrics;
pub use options::TsdbOptions;
pub use store::SledUsage;
