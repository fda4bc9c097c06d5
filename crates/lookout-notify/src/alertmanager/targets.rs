//! Turning target groups into Alertmanager URLs: the `__scheme__`/`__alerts_path__` labels, target relabeling,
//! and the active and dropped lists, as Prometheus's `AlertmanagerFromGroup` does.

use lookout_model::relabel::relabel_builder;
use lookout_model::{Labels, TargetGroup};

use super::config::AlertmanagerConfig;

const ADDRESS_LABEL: &str = "__address__";
const SCHEME_LABEL: &str = "__scheme__";
const PATH_LABEL: &str = "__alerts_path__";

/// The outcome of resolving one `alertmanagers[]` entry's targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// Push URLs, deduplicated, in discovery order.
    pub active: Vec<String>,
    /// URLs (from the labels before relabeling) of targets that relabeling dropped.
    pub dropped: Vec<String>,
}

/// `path.Join("/", prefix, "/api/v2/alerts")`: slashes collapsed, `.` and `..` resolved, always absolute.
pub(crate) fn alerts_path(prefix: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in prefix.split('/').chain(["api", "v2", "alerts"]) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn url_of(labels: &Labels) -> String {
    format!(
        "{}://{}{}",
        labels.get(SCHEME_LABEL).unwrap_or(""),
        labels.get(ADDRESS_LABEL).unwrap_or(""),
        labels.get(PATH_LABEL).unwrap_or("")
    )
}

/// Resolves the targets of `groups` under `config`; a target whose relabeled address is not `host:port`-like is
/// skipped with a warning (Prometheus rejects the whole group; one bad target should not hide the others).
pub(crate) fn resolve(config: &AlertmanagerConfig, groups: &[TargetGroup]) -> Resolved {
    let path = alerts_path(&config.path_prefix);
    let mut out = Resolved::default();
    for group in groups {
        for target in &group.targets {
            let mut builder = target.to_builder();
            builder.set(SCHEME_LABEL, &config.scheme);
            builder.set(PATH_LABEL, &path);
            // Group labels fill in only what the target itself lacks (the two labels above count as lacking).
            for l in group.labels.iter() {
                if target.get(&l.name).is_none() {
                    builder.set(&l.name, &l.value);
                }
            }
            let before = builder.clone().build_unchecked();
            if !relabel_builder(&mut builder, &config.relabel_configs) {
                out.dropped.push(url_of(&before));
                continue;
            }
            let labels = builder.build_unchecked();
            let address = labels.get(ADDRESS_LABEL).unwrap_or("");
            if address.is_empty() || address.contains('/') {
                tracing::warn!(
                    address,
                    "skipping Alertmanager target with an invalid address"
                );
                continue;
            }
            let url = url_of(&labels);
            if !out.active.contains(&url) {
                out.active.push(url);
            }
        }
    }
    out
}

/// The target groups of the `static_configs` of one entry.
pub fn static_groups(config: &AlertmanagerConfig) -> Vec<TargetGroup> {
    lookout_model::target_group::static_groups(&config.static_configs)
}

#[cfg(test)]
mod tests {
    use lookout_model::relabel::RelabelConfig;

    use super::*;

    #[test]
    fn path_join_matches_go() {
        assert_eq!(alerts_path("/"), "/api/v2/alerts");
        assert_eq!(alerts_path(""), "/api/v2/alerts");
        assert_eq!(alerts_path("/am/"), "/am/api/v2/alerts");
        assert_eq!(alerts_path("am//x"), "/am/x/api/v2/alerts");
    }

    #[test]
    fn relabeling_rewrites_and_drops_targets() {
        let mut config = AlertmanagerConfig::default();
        config
            .static_configs
            .push(super::super::config::StaticConfig {
                targets: vec!["a:9093".into(), "b:9093".into(), "a:9093".into()],
                labels: Default::default(),
            });
        config.relabel_configs = serde_yaml_ng::from_str(
            "- {source_labels: [__address__], regex: 'b:.*', action: drop}\n\
             - {target_label: __scheme__, replacement: https}",
        )
        .unwrap();
        RelabelConfig::validate_all(&config.relabel_configs).unwrap();
        let r = resolve(&config, &static_groups(&config));
        assert_eq!(r.active, vec!["https://a:9093/api/v2/alerts"]);
        assert_eq!(r.dropped, vec!["http://b:9093/api/v2/alerts"]);
    }
}
