//! The compiled routing tree: inheritance of unset fields, Alertmanager's depth-first matching with `continue`,
//! group labels and the route key that prefixes group keys.

use std::collections::BTreeMap;
use std::time::Duration;

use lookout_model::labels::is_valid_label_name;
use lookout_model::{Labels, MatchOp, Matcher};

use super::config::{RouteConfig, WebhookNotifierConfig};
use super::matchers::{matchers_string, parse_matchers, sort_matchers};
use crate::config::{ConfigError, join};

/// Which labels form the group of an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupBy {
    /// `group_by: ['...']`: every label.
    All,
    /// The listed names (possibly none: one group for the route).
    Names(Vec<String>),
}

impl GroupBy {
    /// The group labels of an alert: its values of the grouping names (absent names are left out).
    pub fn select(&self, labels: &Labels) -> BTreeMap<String, String> {
        labels
            .iter()
            .filter(|l| match self {
                GroupBy::All => true,
                GroupBy::Names(names) => names.iter().any(|n| **n == *l.name),
            })
            .map(|l| (l.name.to_string(), l.value.to_string()))
            .collect()
    }
}

/// One route with every inherited field resolved.
#[derive(Debug, Clone)]
pub(crate) struct RouteNode {
    /// Index into the receivers list.
    pub receiver: usize,
    pub group_by: GroupBy,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    pub matchers: Vec<Matcher>,
    pub continue_matching: bool,
    pub children: Vec<usize>,
    /// Alertmanager's route key: the parent's key, `/`, and this route's matchers (`{}/{severity="critical"}`).
    pub key: String,
}

/// All routes; the root is node 0.
#[derive(Debug, Clone)]
pub(crate) struct RouteTree {
    pub nodes: Vec<RouteNode>,
}

/// What a child inherits from its parent.
#[derive(Clone)]
struct Inherited {
    receiver: Option<usize>,
    group_by: GroupBy,
    group_wait: Duration,
    group_interval: Duration,
    repeat_interval: Duration,
    key: Option<String>,
}

fn positive(value: Option<lookout_model::PromDuration>, path: &str) -> Result<(), ConfigError> {
    match value {
        Some(d) if d.is_zero() => Err(ConfigError::new(path, "cannot be zero")),
        _ => Ok(()),
    }
}

impl RouteTree {
    /// Validates and compiles `config.route`; `path` is where the section sits (empty for its own file).
    pub fn compile(config: &WebhookNotifierConfig, path: &str) -> Result<RouteTree, ConfigError> {
        let root = &config.route;
        let at = join(path, "route");
        if root.receiver.is_none() {
            return Err(ConfigError::new(
                join(&at, "receiver"),
                "root route must specify a default receiver",
            ));
        }
        if !root.matchers.is_empty() || !root.match_equal.is_empty() || !root.match_re.is_empty() {
            return Err(ConfigError::new(
                join(&at, "matchers"),
                "root route must not have any matchers",
            ));
        }
        if root.continue_matching {
            return Err(ConfigError::new(
                join(&at, "continue"),
                "cannot have continue in root route",
            ));
        }
        let defaults = Inherited {
            receiver: None,
            group_by: GroupBy::Names(Vec::new()),
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(5 * 60),
            repeat_interval: Duration::from_secs(4 * 3600),
            key: None,
        };
        let mut tree = RouteTree { nodes: Vec::new() };
        let receivers: Vec<&str> = config.receivers.iter().map(|r| r.name.as_str()).collect();
        tree.add(root, &defaults, &receivers, &at)?;
        Ok(tree)
    }

    fn add(
        &mut self,
        cfg: &RouteConfig,
        parent: &Inherited,
        receivers: &[&str],
        path: &str,
    ) -> Result<usize, ConfigError> {
        let mut own = parent.clone();
        if let Some(name) = &cfg.receiver {
            let idx = receivers.iter().position(|r| r == name).ok_or_else(|| {
                ConfigError::new(
                    join(path, "receiver"),
                    format!("undefined receiver {name:?} used in route"),
                )
            })?;
            own.receiver = Some(idx);
        }
        if let Some(list) = &cfg.group_by {
            own.group_by = group_by(list, &join(path, "group_by"))?;
        }
        positive(cfg.group_interval, &join(path, "group_interval"))?;
        positive(cfg.repeat_interval, &join(path, "repeat_interval"))?;
        if let Some(d) = cfg.group_wait {
            own.group_wait = d.as_duration();
        }
        if let Some(d) = cfg.group_interval {
            own.group_interval = d.as_duration();
        }
        if let Some(d) = cfg.repeat_interval {
            own.repeat_interval = d.as_duration();
        }
        let matchers = route_matchers(cfg, path)?;
        let own_key = matchers_string(&matchers);
        own.key = Some(match &parent.key {
            Some(p) => format!("{p}/{own_key}"),
            None => own_key,
        });
        let idx = self.nodes.len();
        self.nodes.push(RouteNode {
            receiver: own.receiver.expect("the root route names a receiver"),
            group_by: own.group_by.clone(),
            group_wait: own.group_wait,
            group_interval: own.group_interval,
            repeat_interval: own.repeat_interval,
            matchers,
            continue_matching: cfg.continue_matching,
            children: Vec::new(),
            key: own.key.clone().unwrap_or_default(),
        });
        for (i, child) in cfg.routes.iter().enumerate() {
            let child_idx = self.add(child, &own, receivers, &format!("{path}.routes[{i}]"))?;
            self.nodes[idx].children.push(child_idx);
        }
        Ok(idx)
    }

    /// The routes an alert with `labels` ends at: depth first, the first matching child unless it has
    /// `continue`, and a node itself when none of its children matched.
    pub fn matching(&self, labels: &Labels) -> Vec<usize> {
        let mut out = Vec::new();
        self.match_node(0, labels, &mut out);
        out
    }

    fn match_node(&self, idx: usize, labels: &Labels, out: &mut Vec<usize>) -> bool {
        let node = &self.nodes[idx];
        let matched = node
            .matchers
            .iter()
            .all(|m| m.matches(labels.get(&m.name).unwrap_or("")));
        if !matched {
            return false;
        }
        let before = out.len();
        for &child in &node.children {
            if self.match_node(child, labels, out) && !self.nodes[child].continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(idx);
        }
        true
    }
}

fn group_by(list: &[String], path: &str) -> Result<GroupBy, ConfigError> {
    let mut names: Vec<String> = Vec::new();
    let mut all = false;
    for (i, name) in list.iter().enumerate() {
        if name == "..." {
            all = true;
        } else if !is_valid_label_name(name) {
            return Err(ConfigError::new(
                format!("{path}[{i}]"),
                format!("invalid label name {name:?} in group_by list"),
            ));
        } else if names.contains(name) {
            return Err(ConfigError::new(
                format!("{path}[{i}]"),
                format!("duplicated label {name:?} in group_by"),
            ));
        } else {
            names.push(name.clone());
        }
    }
    if all && !names.is_empty() {
        return Err(ConfigError::new(
            path,
            "cannot have wildcard group_by (`...`) and other labels at the same time",
        ));
    }
    Ok(if all {
        GroupBy::All
    } else {
        GroupBy::Names(names)
    })
}

fn route_matchers(cfg: &RouteConfig, path: &str) -> Result<Vec<Matcher>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in &cfg.match_equal {
        if !is_valid_label_name(name) {
            return Err(ConfigError::new(
                format!("{path}.match.{name}"),
                format!("invalid label name {name:?}"),
            ));
        }
        out.push(Matcher::equal(name.as_str(), value.as_str()));
    }
    for (name, value) in &cfg.match_re {
        let m = Matcher::new(MatchOp::Regex, name.as_str(), value.as_str())
            .map_err(|e| ConfigError::new(format!("{path}.match_re.{name}"), e.to_string()))?;
        out.push(m);
    }
    for (i, text) in cfg.matchers.iter().enumerate() {
        let ms = parse_matchers(text)
            .map_err(|e| ConfigError::new(format!("{path}.matchers[{i}]"), e))?;
        out.extend(ms);
    }
    sort_matchers(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(yaml: &str) -> RouteTree {
        let cfg: WebhookNotifierConfig = serde_yaml_ng::from_str(yaml).unwrap();
        RouteTree::compile(&cfg, "").unwrap()
    }

    const YAML: &str = "
route:
  receiver: r0
  group_by: [alertname]
  group_wait: 1s
  routes:
    - matchers: ['team=\"db\"']
      receiver: r1
      group_interval: 2m
      routes:
        - matchers: ['severity=~\"crit.*\"', 'env!=\"dev\"']
          group_by: ['...']
    - match: {team: web}
      continue: true
    - match_re: {team: 'web|api'}
      group_by: []
      receiver: r1
receivers: [{name: r0}, {name: r1}]
";

    #[test]
    fn children_inherit_unset_fields() {
        let t = tree(YAML);
        let root = &t.nodes[0];
        assert_eq!(root.group_wait, Duration::from_secs(1));
        assert_eq!(root.group_interval, Duration::from_secs(300));
        assert_eq!(root.repeat_interval, Duration::from_secs(4 * 3600));
        let db = &t.nodes[root.children[0]];
        assert_eq!(
            (db.receiver, db.group_wait, db.group_interval),
            (1, Duration::from_secs(1), Duration::from_secs(120))
        );
        assert_eq!(db.group_by, GroupBy::Names(vec!["alertname".into()]));
        let crit = &t.nodes[db.children[0]];
        assert_eq!(
            (crit.receiver, crit.group_interval),
            (1, Duration::from_secs(120))
        );
        assert_eq!(crit.group_by, GroupBy::All);
        assert_eq!(t.nodes[root.children[2]].group_by, GroupBy::Names(vec![]));
    }

    #[test]
    fn keys_join_sorted_matchers_like_alertmanager() {
        let t = tree(YAML);
        let root = &t.nodes[0];
        let db = &t.nodes[root.children[0]];
        assert_eq!(root.key, "{}");
        assert_eq!(db.key, r#"{}/{team="db"}"#);
        assert_eq!(
            t.nodes[db.children[0]].key,
            r#"{}/{team="db"}/{env!="dev",severity=~"crit.*"}"#
        );
        assert_eq!(t.nodes[root.children[2]].key, r#"{}/{team=~"web|api"}"#);
    }

    #[test]
    fn matching_is_depth_first_with_continue() {
        let t = tree(YAML);
        let at = |pairs: &[(&str, &str)]| {
            let ids = t.matching(&Labels::from_pairs(pairs).unwrap());
            ids.iter()
                .map(|&i| t.nodes[i].key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            at(&[("team", "db"), ("severity", "critical")]),
            [r#"{}/{team="db"}/{env!="dev",severity=~"crit.*"}"#]
        );
        assert_eq!(
            at(&[("team", "db"), ("severity", "critical"), ("env", "dev")]),
            [r#"{}/{team="db"}"#]
        );
        assert_eq!(
            at(&[("team", "web")]),
            [r#"{}/{team="web"}"#, r#"{}/{team=~"web|api"}"#]
        );
        assert_eq!(at(&[("team", "api")]), [r#"{}/{team=~"web|api"}"#]);
        assert_eq!(at(&[("team", "other")]), ["{}"]);
    }

    #[test]
    fn group_labels_are_the_grouping_names_present() {
        let l = Labels::from_pairs(&[("alertname", "A"), ("job", "j")]).unwrap();
        let by = GroupBy::Names(vec!["alertname".into(), "missing".into()]);
        assert_eq!(
            by.select(&l).into_iter().collect::<Vec<_>>(),
            [("alertname".to_string(), "A".to_string())]
        );
        assert_eq!(GroupBy::All.select(&l).len(), 2);
    }
}
