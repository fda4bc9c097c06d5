//! Data pulled into Lookout: scrape configuration, target building, file-based discovery and the scrape loop.
//!
//! Architecture invariant: samples reach storage only through [`lookout_storage::Appender`]; the storage's
//! synchronous append and commit run on a bounded blocking pool, never on the async runtime's threads.

pub mod config;
pub mod file_sd;
pub mod scrape;
pub mod target;
