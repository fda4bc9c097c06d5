//! Target groups: what service discovery hands to the scraper.

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
