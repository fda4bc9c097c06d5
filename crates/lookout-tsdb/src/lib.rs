//! Lookout's time-series database. Implements [`lookout_storage::Storage`].
//!
//! Architecture invariant: a synchronous library with its own bounded background threads; knows nothing about
//! HTTP, PromQL or tokio. It is the only crate that names `sled`.

pub mod chunkenc;
