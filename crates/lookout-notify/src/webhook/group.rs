//! The state of one aggregation group: its alerts (merged as Alertmanager's alert store merges re-sent alerts),
//! the per-integration notification log, and the decision whether a flush must notify (Alertmanager's dedup
//! stage). Pure data; the dispatcher owns the timing and the I/O.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use lookout_model::Labels;

use super::payload::NotifyAlert;
use crate::alert::{Alert, Fingerprint};

/// An alert held by a group.
#[derive(Debug, Clone)]
struct StoredAlert {
    alert: Alert,
    /// True when the end time was made up from the resolve timeout rather than sent by the rules engine.
    timeout: bool,
    /// Bumped on every update, so a flush only deletes resolved alerts that did not change meanwhile.
    version: u64,
}

/// What was last notified to one integration for this group (Alertmanager's notification log entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogEntry {
    pub firing: BTreeSet<Fingerprint>,
    pub resolved: BTreeSet<Fingerprint>,
    pub at: Instant,
}

/// Why a flush notifies, with Alertmanager's wording (it becomes `notification_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    DoNotNotify,
    FirstNotification,
    NewAlertsInGroup,
    NewResolvedAlerts,
    AllAlertsResolved,
    RepeatIntervalElapsed,
}

impl Reason {
    pub fn should_notify(self) -> bool {
        self != Reason::DoNotNotify
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::DoNotNotify => "none",
            Reason::FirstNotification => "first notification",
            Reason::NewAlertsInGroup => "new alerts added",
            Reason::NewResolvedAlerts => "some alerts resolved",
            Reason::AllAlertsResolved => "all alerts resolved",
            Reason::RepeatIntervalElapsed => "repeat interval elapsed",
        }
    }
}

/// Alertmanager's dedup decision for one integration.
pub(crate) fn needs_update(
    entry: Option<&LogEntry>,
    firing: &BTreeSet<Fingerprint>,
    resolved: &BTreeSet<Fingerprint>,
    send_resolved: bool,
    repeat: Duration,
    now: Instant,
) -> Reason {
    let Some(entry) = entry else {
        // Never notified: only firing alerts are news.
        return if firing.is_empty() {
            Reason::DoNotNotify
        } else {
            Reason::FirstNotification
        };
    };
    if !firing.is_subset(&entry.firing) {
        return if entry.firing.is_empty() {
            Reason::FirstNotification
        } else {
            Reason::NewAlertsInGroup
        };
    }
    if firing.is_empty() {
        // Sent regardless of send_resolved so the log forgets the firing alerts; alerts that fired and resolved
        // between two flushes were never announced, so they need no resolution either.
        return if entry.firing.is_empty() {
            Reason::DoNotNotify
        } else {
            Reason::AllAlertsResolved
        };
    }
    if send_resolved && !resolved.is_subset(&entry.resolved) {
        return Reason::NewResolvedAlerts;
    }
    if entry.at + repeat < now {
        Reason::RepeatIntervalElapsed
    } else {
        Reason::DoNotNotify
    }
}

/// Prometheus's `LabelSet.Before`: fewer labels first, then the first differing pair in name order decides.
fn label_set_order(a: &Labels, b: &Labels) -> Ordering {
    if a.len() != b.len() {
        return a.len().cmp(&b.len());
    }
    let mut names: Vec<&str> = a.iter().chain(b.iter()).map(|l| &*l.name).collect();
    names.sort_unstable();
    for name in names {
        match (a.get(name), b.get(name)) {
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    Ordering::Equal
}

/// Alertmanager's notification order: by `job`, then `instance` (alerts lacking one sort after those having it),
/// then by label set.
pub(crate) fn alert_order(a: &Labels, b: &Labels) -> Ordering {
    for key in ["job", "instance"] {
        match (a.get(key), b.get(key)) {
            (None, None) => {}
            (None, Some(_)) => return Ordering::Greater,
            (Some(_), None) => return Ordering::Less,
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            _ => {}
        }
    }
    label_set_order(a, b)
}

/// One alert of a flush snapshot, with the version it had.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub alert: NotifyAlert,
    version: u64,
}

/// The alerts and notification log of one aggregation group.
#[derive(Debug)]
pub(crate) struct GroupState {
    alerts: BTreeMap<Fingerprint, StoredAlert>,
    /// One entry per integration of the group's receiver.
    pub log: Vec<Option<LogEntry>>,
    next_version: u64,
}

impl GroupState {
    /// An empty group whose receiver has `integrations` webhooks.
    pub fn new(integrations: usize) -> Self {
        GroupState {
            alerts: BTreeMap::new(),
            log: vec![None; integrations],
            next_version: 0,
        }
    }

    /// True when no alert is held.
    pub fn is_empty(&self) -> bool {
        self.alerts.is_empty()
    }

    /// Adds or updates an alert. A re-sent alert whose activity overlaps the stored one is merged: the earliest
    /// start wins, and a later explicit end time is kept, as in Alertmanager's alert store.
    pub fn insert(&mut self, alert: Alert, timeout: bool, now: SystemTime) {
        let fp = alert.fingerprint();
        self.next_version += 1;
        let mut new = StoredAlert {
            alert,
            timeout,
            version: self.next_version,
        };
        if let Some(old) = self.alerts.get(&fp) {
            let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 64);
            let (o_start, o_end) = (old.alert.starts_at, old.alert.ends_at.unwrap_or(far));
            let (n_start, n_end) = (new.alert.starts_at, new.alert.ends_at.unwrap_or(far));
            let overlaps =
                (n_end > o_start && n_end < o_end) || (n_start > o_start && n_start < o_end);
            if overlaps {
                if o_start < n_start {
                    new.alert.starts_at = o_start;
                }
                let keep_old_end = if new.alert.is_resolved_at(now) {
                    old.alert.is_resolved_at(now) && o_end > n_end
                } else {
                    o_end > n_end && !old.timeout
                };
                if keep_old_end {
                    new.alert.ends_at = old.alert.ends_at;
                }
            }
        }
        self.alerts.insert(fp, new);
    }

    /// The alerts as of `now`, in notification order; firing ones lose their (future) end time.
    pub fn snapshot(&self, now: SystemTime) -> Vec<Snapshot> {
        let mut out: Vec<Snapshot> = self
            .alerts
            .iter()
            .map(|(&fp, stored)| {
                let resolved = stored.alert.is_resolved_at(now);
                let mut alert = stored.alert.clone();
                if !resolved {
                    alert.ends_at = None;
                }
                Snapshot {
                    alert: NotifyAlert {
                        alert,
                        fingerprint: fp,
                        resolved,
                    },
                    version: stored.version,
                }
            })
            .collect();
        out.sort_by(|a, b| alert_order(&a.alert.alert.labels, &b.alert.alert.labels));
        out
    }

    /// After a successful flush: forgets the resolved alerts of `snapshot` that were not updated since.
    pub fn delete_resolved(&mut self, snapshot: &[Snapshot]) {
        for s in snapshot.iter().filter(|s| s.alert.resolved) {
            if self
                .alerts
                .get(&s.alert.fingerprint)
                .is_some_and(|a| a.version == s.version)
            {
                self.alerts.remove(&s.alert.fingerprint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn set(fps: &[u64]) -> BTreeSet<Fingerprint> {
        fps.iter().map(|&f| Fingerprint(f)).collect()
    }

    #[test]
    fn dedup_follows_alertmanager() {
        let now = Instant::now();
        let repeat = Duration::from_secs(60);
        let entry = |firing: &[u64], resolved: &[u64], age: u64| LogEntry {
            firing: set(firing),
            resolved: set(resolved),
            at: now - Duration::from_secs(age),
        };
        let r = |e: Option<&LogEntry>, f: &[u64], res: &[u64], sr: bool| {
            needs_update(e, &set(f), &set(res), sr, repeat, now)
        };
        assert_eq!(r(None, &[1], &[], true), Reason::FirstNotification);
        assert_eq!(r(None, &[], &[1], true), Reason::DoNotNotify);
        assert_eq!(
            r(Some(&entry(&[1], &[], 1)), &[1, 2], &[], true),
            Reason::NewAlertsInGroup
        );
        assert_eq!(
            r(Some(&entry(&[], &[1], 1)), &[2], &[], true),
            Reason::FirstNotification
        );
        assert_eq!(
            r(Some(&entry(&[1], &[], 1)), &[], &[1], false),
            Reason::AllAlertsResolved
        );
        assert_eq!(
            r(Some(&entry(&[], &[1], 1)), &[], &[1], true),
            Reason::DoNotNotify
        );
        assert_eq!(
            r(Some(&entry(&[1, 2], &[], 1)), &[1], &[2], true),
            Reason::NewResolvedAlerts
        );
        assert_eq!(
            r(Some(&entry(&[1, 2], &[], 1)), &[1], &[2], false),
            Reason::DoNotNotify
        );
        assert_eq!(
            r(Some(&entry(&[1], &[], 61)), &[1], &[], true),
            Reason::RepeatIntervalElapsed
        );
    }

    #[test]
    fn notification_order_prefers_job_then_instance() {
        let l = |pairs: &[(&str, &str)]| Labels::from_pairs(pairs).unwrap();
        let mut v = [
            l(&[("a", "1")]),
            l(&[("job", "b"), ("x", "1")]),
            l(&[("job", "a"), ("instance", "2")]),
            l(&[("job", "a"), ("instance", "1")]),
            l(&[("job", "a")]),
        ];
        v.sort_by(alert_order);
        let names: Vec<String> = v.iter().map(|l| l.to_string()).collect();
        assert_eq!(
            names,
            [
                r#"{instance="1", job="a"}"#,
                r#"{instance="2", job="a"}"#,
                r#"{job="a"}"#,
                r#"{job="b", x="1"}"#,
                r#"{a="1"}"#,
            ]
        );
    }

    #[test]
    fn resent_alert_keeps_its_first_start() {
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        let labels = Labels::from_pairs(&[("alertname", "A")]).unwrap();
        let mut g = GroupState::new(1);
        let mut a = Alert::new(labels.clone(), t(100));
        a.ends_at = Some(t(400));
        g.insert(a.clone(), false, t(150));
        let mut b = Alert::new(labels, t(160));
        b.ends_at = Some(t(460));
        g.insert(b, false, t(160));
        let snap = g.snapshot(t(170));
        assert_eq!(snap.len(), 1);
        assert_eq!(snap[0].alert.alert.starts_at, t(100));
        assert!(!snap[0].alert.resolved);
        assert_eq!(snap[0].alert.alert.ends_at, None);
        // Resolution: an end time in the past.
        let mut c = a;
        c.ends_at = Some(t(180));
        g.insert(c, false, t(190));
        let snap = g.snapshot(t(200));
        assert!(snap[0].alert.resolved);
        g.delete_resolved(&snap);
        assert!(g.is_empty());
    }
}
