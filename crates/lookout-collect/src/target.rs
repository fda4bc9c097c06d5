//! From discovered target groups to scrape targets, as Prometheus's `scrape/target.go` does it.
//!
//! Discovered labels = the target's labels, then the group's, then `job`, `__address__`, `__scheme__`,
//! `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__` and `__param_<name>` when absent. Then
//! `relabel_configs`; a dropped target is kept with its discovered labels for `/api/v1/targets`. Then `__meta_*`
//! labels go, `instance` defaults to `__address__`, and the URL is built from the `__`-labels; the series labels
//! are the rest without `__`-prefixed names.

use std::collections::HashSet;
use std::fmt;

use lookout_model::relabel::relabel_builder;
use lookout_model::{Labels, LabelsBuilder, TargetGroup};

use crate::config::{PromDuration, ScrapeConfig};

/// Label holding `host:port`.
pub const ADDRESS_LABEL: &str = "__address__";
/// Label holding the URL scheme.
pub const SCHEME_LABEL: &str = "__scheme__";
/// Label holding the HTTP path.
pub const METRICS_PATH_LABEL: &str = "__metrics_path__";
/// Label holding the target's scrape interval.
pub const SCRAPE_INTERVAL_LABEL: &str = "__scrape_interval__";
/// Label holding the target's scrape timeout.
pub const SCRAPE_TIMEOUT_LABEL: &str = "__scrape_timeout__";
/// Prefix of labels that set URL query parameters.
pub const PARAM_LABEL_PREFIX: &str = "__param_";
/// Prefix of discovery metadata labels, removed after relabeling.
pub const META_LABEL_PREFIX: &str = "__meta_";
/// The instance label.
pub const INSTANCE_LABEL: &str = "instance";
/// The job label.
pub const JOB_LABEL: &str = "job";

/// A target to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The job it belongs to.
    pub job: String,
    /// Labels before relabeling (shown by the targets API).
    pub discovered_labels: Labels,
    /// Labels attached to every scraped series: the relabeled set without `__`-prefixed names.
    pub labels: Labels,
    /// The URL scraped.
    pub url: String,
    /// Time between scrapes (from `__scrape_interval__`).
    pub interval: PromDuration,
    /// Scrape timeout (from `__scrape_timeout__`).
    pub timeout: PromDuration,
}

impl Target {
    /// A stable identity of the target within its job: its labels and URL.
    pub fn key(&self) -> u64 {
        let mut h = self.labels.hash64();
        for b in self.url.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    }
}

/// A discovered target that will not be scraped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedTarget {
    /// Labels before relabeling.
    pub discovered_labels: Labels,
    /// Why it is not scraped.
    pub reason: DropReason,
}

/// Why a discovered target is not scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// A relabel rule dropped it.
    Relabeling,
    /// Its labels after relabeling do not make a valid target.
    Invalid(String),
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::Relabeling => f.write_str("dropped by relabeling"),
            DropReason::Invalid(why) => f.write_str(why),
        }
    }
}

/// The outcome of building one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetBuild {
    /// To be scraped.
    Active(Target),
    /// Not to be scraped.
    Dropped(DroppedTarget),
}

/// Builds one target from its own labels and its group's labels.
pub fn build_target(
    config: &ScrapeConfig,
    target_labels: &Labels,
    group_labels: &Labels,
) -> TargetBuild {
    let discovered = discovered_labels(config, target_labels, group_labels);
    let mut b = discovered.to_builder();
    if !relabel_builder(&mut b, &config.relabel_configs) {
        return TargetBuild::Dropped(DroppedTarget {
            discovered_labels: discovered,
            reason: DropReason::Relabeling,
        });
    }
    match finish_target(config, b) {
        Ok(mut target) => {
            target.discovered_labels = discovered;
            TargetBuild::Active(target)
        }
        Err(why) => TargetBuild::Dropped(DroppedTarget {
            discovered_labels: discovered,
            reason: DropReason::Invalid(why),
        }),
    }
}

fn discovered_labels(
    config: &ScrapeConfig,
    target_labels: &Labels,
    group_labels: &Labels,
) -> Labels {
    let mut b = target_labels.to_builder();
    for l in group_labels {
        if target_labels.get(&l.name).is_none() {
            b.set(&l.name, &l.value);
        }
    }
    let defaults = [
        (JOB_LABEL, config.job_name.clone()),
        (SCRAPE_INTERVAL_LABEL, config.interval().to_string()),
        (SCRAPE_TIMEOUT_LABEL, config.timeout().to_string()),
        (METRICS_PATH_LABEL, config.metrics_path.clone()),
        (SCHEME_LABEL, config.scheme.clone()),
    ];
    for (name, default) in defaults {
        if value(&b, name).is_empty() {
            b.set(name, &default);
        }
    }
    for (name, values) in &config.params {
        let label = format!("{PARAM_LABEL_PREFIX}{name}");
        if let Some(first) = values.first()
            && value(&b, &label).is_empty()
        {
            b.set(&label, first);
        }
    }
    b.build_unchecked()
}

/// The value of `name`, `""` when absent.
fn value<'a>(b: &'a LabelsBuilder, name: &str) -> &'a str {
    b.get(name).unwrap_or("")
}

fn parse_duration_label(b: &LabelsBuilder, name: &str) -> Result<PromDuration, String> {
    let text = value(b, name);
    let d: PromDuration = text
        .parse()
        .map_err(|e| format!("error parsing {name}: {e}"))?;
    if d.is_zero() {
        return Err(format!("{name} cannot be 0"));
    }
    Ok(d)
}

fn finish_target(config: &ScrapeConfig, mut b: LabelsBuilder) -> Result<Target, String> {
    let address = value(&b, ADDRESS_LABEL).to_string();
    if address.is_empty() {
        return Err("no address".to_string());
    }
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname"));
    }
    let interval = parse_duration_label(&b, SCRAPE_INTERVAL_LABEL)?;
    let timeout = parse_duration_label(&b, SCRAPE_TIMEOUT_LABEL)?;
    if timeout > interval {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})"
        ));
    }
    b.retain(|l| !l.name.starts_with(META_LABEL_PREFIX));
    if value(&b, INSTANCE_LABEL).is_empty() {
        b.set(INSTANCE_LABEL, &address);
    }
    let url = build_url(config, &b, &address)?;
    let mut public = b.clone();
    public.retain(|l| !l.name.starts_with("__"));
    Ok(Target {
        job: config.job_name.clone(),
        discovered_labels: Labels::empty(),
        labels: public.build_unchecked(),
        url,
        interval,
        timeout,
    })
}

fn build_url(config: &ScrapeConfig, b: &LabelsBuilder, address: &str) -> Result<String, String> {
    let scheme = value(b, SCHEME_LABEL);
    if scheme != "http" && scheme != "https" {
        return Err(format!("unsupported scheme {scheme:?}"));
    }
    let mut url = url::Url::parse(&format!("{scheme}://{address}"))
        .map_err(|e| format!("{address:?} is not a valid address: {e}"))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{address:?} is not a valid address"));
    }
    url.set_path(value(b, METRICS_PATH_LABEL));
    let mut params = config.params.clone();
    for l in b.labels().iter().filter(|l| !l.value.is_empty()) {
        if let Some(key) = l.name.strip_prefix(PARAM_LABEL_PREFIX) {
            match params.get_mut(key).and_then(|v| v.first_mut()) {
                Some(first) => *first = l.value.to_string(),
                None => {
                    params.insert(key.to_string(), vec![l.value.to_string()]);
                }
            }
        }
    }
    if !params.is_empty() {
        let mut q = url.query_pairs_mut();
        for (k, vs) in &params {
            for v in vs {
                q.append_pair(k, v);
            }
        }
    }
    Ok(url.to_string())
}

/// Builds the targets of all groups of a job; duplicates (same labels and URL) are scraped once.
pub fn targets_from_groups<'a>(
    config: &ScrapeConfig,
    groups: impl IntoIterator<Item = &'a TargetGroup>,
) -> (Vec<Target>, Vec<DroppedTarget>) {
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let mut seen = HashSet::new();
    for group in groups {
        for t in &group.targets {
            match build_target(config, t, &group.labels) {
                TargetBuild::Active(target) => {
                    if seen.insert(target.key()) {
                        active.push(target);
                    }
                }
                TargetBuild::Dropped(d) => dropped.push(d),
            }
        }
    }
    (active, dropped)
}

/// The target groups of a job's `static_configs`, with sources `static/<index>`.
pub fn static_groups(config: &ScrapeConfig) -> Vec<TargetGroup> {
    lookout_model::target_group::static_groups(&config.static_configs)
}

#[cfg(test)]
#[path = "target_tests.rs"]
mod tests;
