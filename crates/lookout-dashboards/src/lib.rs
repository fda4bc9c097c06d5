//! Lookout's shipped Grafana dashboards.
//!
//! The JSON files of the repository's `dashboards/` folder are embedded at compile time (`build.rs` lists the
//! folder, so a new file needs no code change) and served by the API as `GET api/lookout/v1/dashboards` (the list)
//! and `GET api/lookout/v1/dashboards/<uid>` (one dashboard's JSON, importable into Grafana unchanged). The same
//! files are what `deploy/grafana/` provisions and what the Helm chart ships as ConfigMaps.
//!
//! [`check`] holds the rules every shipped file must pass (structure, panel and variable types, data source
//! references, units, and every query parsed by Lookout's own PromQL and LogQL parsers); the crate's tests run it
//! over every file.

use std::sync::OnceLock;

use serde::Serialize;

pub mod check;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/dashboards.rs"));
}

/// One shipped dashboard: its identity, parsed from its JSON, and the JSON itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dashboard {
    /// Grafana's `uid` (the dashboard's address: `/d/<uid>`).
    pub uid: String,
    /// The dashboard's `title`.
    pub title: String,
    /// The dashboard's `tags` (every shipped dashboard carries `lookout`).
    pub tags: Vec<String>,
    /// The file name under `dashboards/`, e.g. `host.json`.
    pub file: &'static str,
    /// The file's contents: Grafana dashboard JSON, served as it is.
    #[serde(skip)]
    pub json: &'static str,
}

/// `(file name, contents)` of every embedded file, sorted by file name, including any that would not parse.
pub fn files() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

/// Every shipped dashboard, sorted by title (then file name).
///
/// A file whose JSON lacks a string `uid` or `title` (the tests make sure none does) is listed under its file
/// stem, so it can still be found and fixed.
pub fn all() -> Vec<Dashboard> {
    static PARSED: OnceLock<Vec<Dashboard>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let mut list: Vec<Dashboard> = files()
                .iter()
                .map(|(file, json)| identify(file, json))
                .collect();
            list.sort_by(|a, b| a.title.cmp(&b.title).then(a.file.cmp(b.file)));
            list
        })
        .clone()
}

/// The dashboard with this `uid`.
pub fn get(uid: &str) -> Option<Dashboard> {
    all().into_iter().find(|d| d.uid == uid)
}

/// Reads uid, title and tags out of one file.
fn identify(file: &'static str, json: &'static str) -> Dashboard {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let stem = file.strip_suffix(".json").unwrap_or(file);
    let text = |key: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(stem)
            .to_string()
    };
    let tags = value
        .get("tags")
        .and_then(|t| t.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Dashboard {
        uid: text("uid"),
        title: text("title"),
        tags,
        file,
        json,
    }
}

#[cfg(test)]
mod tests;
