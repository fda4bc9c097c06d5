//! Prometheus Operator `PrometheusRule` objects, watched when their CRD exists and turned into rule-file text named
//! as the Operator names the files it generates. An absent CRD or forbidden RBAC is a logged condition and a status
//! value, checked again every five minutes: never a crash. The rule text is not parsed here; the caller feeds it to
//! the rule parser like any rule file.

mod spec;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::client::Connection;
use crate::monitors::{MonitorAvailability, check_available, operator_kind};
use crate::sd::KubernetesDiscovery;
use crate::settings::KubernetesSettings;
use crate::watch::Watched;

pub use spec::{rule_file_name, rule_file_yaml};

/// How often an absent CRD or forbidden PrometheusRules are checked again.
const RECHECK: Duration = Duration::from_secs(300);
/// How often the watches are checked for changes.
const POLL: Duration = Duration::from_secs(1);
/// How long the first publication waits for every watch's first list, so rules do not arrive in pieces.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);

operator_kind!(PrometheusRule, "PrometheusRule", "prometheusrules");

/// One generated rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleObjectFile {
    /// `<namespace>-<name>-<uid>.yaml`, as the Operator names it.
    pub name: String,
    /// The rule file: `groups:` from the object's spec.
    pub yaml: String,
}

/// What the PrometheusRule watcher publishes: the rule files and its condition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleObjects {
    /// Whether PrometheusRules are watched.
    pub availability: MonitorAvailability,
    /// One file per honoured object, sorted by name.
    pub files: Vec<RuleObjectFile>,
    /// Objects currently honoured.
    pub objects: usize,
    /// Objects skipped because their spec cannot be read (named in the log).
    pub invalid: usize,
}

/// Watches the PrometheusRules `settings.rules` selects until the sender's receivers are gone, publishing the rule
/// files whenever the selected set changes.
pub async fn run_rules(
    discovery: KubernetesDiscovery,
    settings: KubernetesSettings,
    tx: watch::Sender<RuleObjects>,
) {
    let hub = discovery
        .hub_retrying(&Connection::of_settings(&settings))
        .await;
    let r = &settings.rules;
    let mut names = r.namespaces.clone();
    // A namespace named twice must not be watched (and its rules loaded) twice.
    names.sort();
    names.dedup();
    let scopes: Vec<Option<&str>> = if names.is_empty() {
        vec![None]
    } else {
        names.iter().map(|n| Some(n.as_str())).collect()
    };
    let selector = Some(r.selector.as_str()).filter(|s| !s.is_empty());
    loop {
        let availability = check_available::<PrometheusRule>(
            hub.client(),
            scopes[0],
            "PrometheusRule",
            "PrometheusRules",
        )
        .await;
        if availability == MonitorAvailability::Watching {
            let watches: Vec<Arc<Watched<PrometheusRule>>> = scopes
                .iter()
                .map(|ns| hub.watch_namespaced(*ns, selector, None))
                .collect();
            follow(&watches, &tx).await;
            return;
        }
        tx.send_if_modified(|s| {
            let changed = s.availability != availability;
            s.availability = availability;
            changed
        });
        tokio::select! {
            () = tokio::time::sleep(RECHECK) => {}
            () = tx.closed() => return,
        }
    }
}

async fn follow(watches: &[Arc<Watched<PrometheusRule>>], tx: &watch::Sender<RuleObjects>) {
    let started = tokio::time::Instant::now();
    let mut seen: Option<Vec<u64>> = None;
    let mut logged: HashSet<(String, String)> = HashSet::new();
    loop {
        let ready = watches.iter().all(|w| w.is_ready()) || started.elapsed() > SYNC_TIMEOUT;
        let generations: Vec<u64> = watches.iter().map(|w| *w.changes().borrow()).collect();
        if ready && seen.as_ref() != Some(&generations) {
            seen = Some(generations);
            let objects: Vec<Arc<PrometheusRule>> =
                watches.iter().flat_map(|w| w.objects()).collect();
            let (out, errors) = rule_objects(&objects);
            // Each broken object version is logged once, not on every change elsewhere.
            let mut now_logged = HashSet::new();
            for e in errors {
                let key = (e.file.clone(), e.resource_version.clone());
                if !logged.contains(&key) {
                    tracing::warn!(file = %e.file, error = %e.reason, "PrometheusRule skipped");
                }
                now_logged.insert(key);
            }
            logged = now_logged;
            tx.send_if_modified(|current| {
                let changed = *current != out;
                *current = out;
                changed
            });
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = tx.closed() => return,
        }
    }
}

/// An object whose spec could not be turned into a rule file.
struct SpecError {
    file: String,
    resource_version: String,
    reason: String,
}

/// The rule files of the watched objects, sorted by file name (one per name, though the UID makes them unique).
fn rule_objects(objects: &[Arc<PrometheusRule>]) -> (RuleObjects, Vec<SpecError>) {
    let mut files = BTreeMap::new();
    let mut errors = Vec::new();
    for o in objects {
        let m = &o.metadata;
        let name = rule_file_name(
            m.namespace.as_deref().unwrap_or_default(),
            m.name.as_deref().unwrap_or_default(),
            m.uid.as_deref().unwrap_or_default(),
        );
        match rule_file_yaml(&o.spec) {
            Ok(yaml) => {
                files.insert(name, yaml);
            }
            Err(reason) => errors.push(SpecError {
                file: name,
                resource_version: m.resource_version.clone().unwrap_or_default(),
                reason,
            }),
        }
    }
    let out = RuleObjects {
        availability: MonitorAvailability::Watching,
        objects: files.len(),
        invalid: errors.len(),
        files: files
            .into_iter()
            .map(|(name, yaml)| RuleObjectFile { name, yaml })
            .collect(),
    };
    (out, errors)
}
