//! Data pulled and pushed into Lookout: scrape configuration, target building, file-based discovery and the scrape loop.
//!
//! - [`config`]: `global` and `scrape_configs` with Prometheus's field names, defaults and validation.
//! - [`target`]: discovered target groups → scrape targets (relabeling, `instance`, URL), dropped targets kept.
//! - [`file_sd`]: `file_sd_configs` polling.
//! - [`push`]: remote_write requests decoded and appended, known series by reference ([`push::PushSeriesCache`]).
//! - [`scrape`]: one task per target, the per-scrape storage work, and [`scrape::ScrapeManager`] tying it together.
//!
//! Wiring, as the binary does it (inside a tokio runtime):
//!
//! ```text
//! let configs = config::parse_scrape_configs(yaml, &global)?;          // or resolve_all() on parsed structs
//! let manager = scrape::ScrapeManager::new(storage, ScrapeOptions::default());
//! manager.apply_config(configs)?;                                       // static and file SD start here
//! manager.update_target_groups("job", "kubernetes", groups);            // from other discovery providers
//! manager.targets();  manager.write_metrics(&mut text);                 // for /api/v1/targets and /metrics
//! manager.shutdown(grace).await;
//! ```
//!
//! Architecture invariant: samples reach storage only through [`lookout_storage::Appender`]; the storage's
//! synchronous append and commit run on the blocking pool behind a semaphore, never on the runtime's threads.
//! Exposition parsing and body decompression come from `lookout-wire`; relabeling from `lookout-model`.

pub mod config;
pub mod file_sd;
pub mod push;
pub mod scrape;
pub mod target;
