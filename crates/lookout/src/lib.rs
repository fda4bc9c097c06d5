//! The Lookout appliance as a library: the CLI, configuration loading, the memory budget split and the wiring of
//! storage, scraping, PromQL and the HTTP API. `main.rs` only calls [`cli::main`]; tests drive [`serve::Server`].
//!
//! Architecture invariant: this crate holds no domain logic. It reads the cgroup limit, hands every component its
//! share, connects the implementations (TSDB) to the consumers (scraper, API) through the storage traits, and
//! handles signals and reloads. It is the only crate that uses `anyhow` and `clap`.

pub mod budget;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod forward;
pub mod kubernetes;
pub mod logs;
pub mod notify;
pub mod rules;
pub mod serve;
mod services;
pub mod web;
