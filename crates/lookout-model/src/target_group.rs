//! Target groups: what service discovery hands to the scraper.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::labels::Labels;

/// A set of targets from one discovery source, sharing common labels; Prometheus's `targetgroup.Group`.
///
/// A provider sends a group again whenever it changes; a group with no targets clears its `source`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TargetGroup {
    /// Identifies the group within its provider (e.g. `pod/ns/name`, `file.yml:0`); a newer group with the same
    /// source replaces the older one.
    pub source: String,
    /// One label set per target, each with at least `__address__`.
    pub targets: Vec<Labels>,
    /// Labels shared by all targets; a target's own label of the same name wins.
    pub labels: Labels,
}

impl TargetGroup {
    /// A group of bare addresses with common labels.
    pub fn from_addresses(
        source: impl Into<String>,
        addresses: &[impl AsRef<str>],
        labels: Labels,
    ) -> Self {
        let targets = addresses
            .iter()
            .map(|a| Labels::from_pairs_unchecked(&[("__address__", a.as_ref())]))
            .collect();
        TargetGroup {
            source: source.into(),
            targets,
            labels,
        }
    }
}

/// A `static_configs` entry (scrape jobs and Alertmanagers alike): fixed addresses with common labels.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Labels given to every target of the entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// The target groups of `static_configs`, with sources `static/<index>`.
pub fn static_groups(configs: &[StaticConfig]) -> Vec<TargetGroup> {
    configs
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let pairs: Vec<(&str, &str)> = sc
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            TargetGroup::from_addresses(
                format!("static/{i}"),
                &sc.targets,
                Labels::from_pairs_unchecked(&pairs),
            )
        })
        .collect()
}
