//! One alerting rule's alerts and their states, as Prometheus keeps them: a new label set is *pending* from the
//! evaluation that first returns it; it fires once it has been pending for `for`; when the expression stops
//! returning it a pending alert is dropped and a firing one resolves — unless `keep_firing_for` keeps it firing; a
//! resolved alert is kept (and re-sent as resolved) for 15 minutes. Times are Unix milliseconds.

use std::collections::BTreeMap;

use lookout_model::Labels;

/// How long a resolved alert is kept, to be sent as resolved.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// An alert's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AlertState {
    /// Resolved (or never active).
    Inactive,
    /// Active for less than `for`.
    Pending,
    /// Active for `for` or longer.
    Firing,
}

impl AlertState {
    /// Prometheus's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Inactive => "inactive",
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
        }
    }
}

/// One alert of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Labels: the element's (without `__name__`), the rule's expanded labels, `alertname`.
    pub labels: Labels,
    /// Expanded annotations.
    pub annotations: BTreeMap<String, String>,
    /// The element's value at the last evaluation that returned it.
    pub value: f64,
    /// State.
    pub state: AlertState,
    /// When it became pending.
    pub active_at: i64,
    /// When it started firing (0: never).
    pub fired_at: i64,
    /// When it resolved (0: not resolved).
    pub resolved_at: i64,
    /// When it was last handed to the notifiers (0: never).
    pub last_sent_at: i64,
    /// The first evaluation that no longer returned it while `keep_firing_for` keeps it firing (0: none).
    pub keep_firing_since: i64,
    /// Until when the last notification said it is valid (`endsAt` of a firing alert).
    pub valid_until: i64,
}

impl Alert {
    /// Whether the notifiers should get it at `ts`: never while pending; at once after it resolved; otherwise
    /// every `resend_delay`.
    pub fn needs_sending(&self, ts: i64, resend_delay_ms: i64) -> bool {
        if self.state == AlertState::Pending {
            return false;
        }
        if self.resolved_at > self.last_sent_at || self.last_sent_at == 0 {
            return true;
        }
        self.last_sent_at + resend_delay_ms < ts
    }
}

/// One evaluation's element, after the rule's labels and annotations were expanded.
#[derive(Debug, Clone)]
pub struct Element {
    /// The alert's labels.
    pub labels: Labels,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// The alerts of one rule, by label set.
#[derive(Debug, Default, Clone)]
pub struct ActiveAlerts {
    /// Alerts by their labels' hash.
    pub alerts: BTreeMap<u64, Alert>,
}

impl ActiveAlerts {
    /// Applies one evaluation at `ts` that returned `elements` (label sets already checked to be distinct).
    /// Returns the number of pending and firing alerts afterwards.
    pub fn update(
        &mut self,
        elements: Vec<Element>,
        ts: i64,
        hold_ms: i64,
        keep_firing_for_ms: i64,
    ) -> usize {
        let mut returned = std::collections::HashSet::with_capacity(elements.len());
        for e in elements {
            let h = e.labels.hash64();
            returned.insert(h);
            match self.alerts.get_mut(&h) {
                Some(a) if a.state != AlertState::Inactive => {
                    a.value = e.value;
                    a.annotations = e.annotations;
                }
                _ => {
                    self.alerts.insert(
                        h,
                        Alert {
                            labels: e.labels,
                            annotations: e.annotations,
                            value: e.value,
                            state: AlertState::Pending,
                            active_at: ts,
                            fired_at: 0,
                            resolved_at: 0,
                            last_sent_at: 0,
                            keep_firing_since: 0,
                            valid_until: 0,
                        },
                    );
                }
            }
        }
        let mut active = 0;
        self.alerts.retain(|h, a| {
            if !returned.contains(h) {
                let mut keep_firing = false;
                if a.state == AlertState::Firing && keep_firing_for_ms > 0 {
                    if a.keep_firing_since == 0 {
                        a.keep_firing_since = ts;
                    }
                    keep_firing = ts - a.keep_firing_since < keep_firing_for_ms;
                }
                if a.state == AlertState::Pending
                    || (a.resolved_at != 0 && ts - a.resolved_at > RESOLVED_RETENTION_MS)
                {
                    return false;
                }
                if a.state != AlertState::Inactive && !keep_firing {
                    a.state = AlertState::Inactive;
                    a.resolved_at = ts;
                }
                if !keep_firing {
                    return true;
                }
            } else {
                a.keep_firing_since = 0;
            }
            active += 1;
            if a.state == AlertState::Pending && ts - a.active_at >= hold_ms {
                a.state = AlertState::Firing;
                a.fired_at = ts;
            }
            true
        });
        active
    }

    /// The highest state among the alerts (the rule's state).
    pub fn state(&self) -> AlertState {
        self.alerts
            .values()
            .map(|a| a.state)
            .max()
            .unwrap_or(AlertState::Inactive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(instance: &str, v: f64) -> Element {
        Element {
            labels: Labels::from_pairs(&[("alertname", "A"), ("instance", instance)]).unwrap(),
            annotations: BTreeMap::new(),
            value: v,
        }
    }

    fn state(a: &ActiveAlerts, instance: &str) -> Option<AlertState> {
        a.alerts
            .values()
            .find(|x| x.labels.get("instance") == Some(instance))
            .map(|x| x.state)
    }

    #[test]
    fn pending_then_firing_then_resolved_then_forgotten() {
        let mut a = ActiveAlerts::default();
        assert_eq!(a.update(vec![el("h1", 1.0)], 0, 60_000, 0), 1);
        assert_eq!(state(&a, "h1"), Some(AlertState::Pending));
        a.update(vec![el("h1", 2.0)], 30_000, 60_000, 0);
        assert_eq!(state(&a, "h1"), Some(AlertState::Pending));
        a.update(vec![el("h1", 3.0)], 60_000, 60_000, 0);
        let h1 = a.alerts.values().next().unwrap();
        assert_eq!(
            (h1.state, h1.fired_at, h1.active_at, h1.value),
            (AlertState::Firing, 60_000, 0, 3.0)
        );
        assert_eq!(a.update(vec![], 90_000, 60_000, 0), 0);
        let h1 = a.alerts.values().next().unwrap();
        assert_eq!((h1.state, h1.resolved_at), (AlertState::Inactive, 90_000));
        // Kept for 15 minutes, then dropped.
        a.update(vec![], 90_000 + RESOLVED_RETENTION_MS, 60_000, 0);
        assert_eq!(a.alerts.len(), 1);
        a.update(vec![], 90_001 + RESOLVED_RETENTION_MS, 60_000, 0);
        assert!(a.alerts.is_empty());
    }

    #[test]
    fn a_pending_alert_that_disappears_is_dropped_and_a_returning_one_starts_over() {
        let mut a = ActiveAlerts::default();
        a.update(vec![el("h1", 1.0)], 0, 60_000, 0);
        a.update(vec![], 15_000, 60_000, 0);
        assert!(a.alerts.is_empty());
        // Flapping: each return is a new pending alert, so it never fires.
        for t in (30_000..300_000).step_by(30_000) {
            let els = if (t / 30_000) % 2 == 0 {
                vec![el("h1", 1.0)]
            } else {
                vec![]
            };
            a.update(els, t, 60_000, 0);
            assert_ne!(state(&a, "h1"), Some(AlertState::Firing), "t {t}");
        }
        // A resolved alert that returns is pending again, with a new activeAt.
        let mut b = ActiveAlerts::default();
        b.update(vec![el("h1", 1.0)], 0, 0, 0);
        assert_eq!(
            state(&b, "h1"),
            Some(AlertState::Firing),
            "for 0 fires at once"
        );
        b.update(vec![], 10, 0, 0);
        b.update(vec![el("h1", 1.0)], 20, 60, 0);
        let h1 = b.alerts.values().next().unwrap();
        assert_eq!(
            (h1.state, h1.active_at, h1.resolved_at),
            (AlertState::Pending, 20, 0)
        );
    }

    #[test]
    fn keep_firing_for_holds_a_firing_alert_and_resets_when_it_returns() {
        let mut a = ActiveAlerts::default();
        a.update(vec![el("h1", 1.0)], 0, 0, 0);
        assert_eq!(a.update(vec![], 10_000, 0, 30_000), 1);
        assert_eq!(state(&a, "h1"), Some(AlertState::Firing));
        assert_eq!(a.alerts.values().next().unwrap().keep_firing_since, 10_000);
        // Back: keepFiringSince reset.
        a.update(vec![el("h1", 1.0)], 20_000, 0, 30_000);
        assert_eq!(a.alerts.values().next().unwrap().keep_firing_since, 0);
        a.update(vec![], 30_000, 0, 30_000);
        a.update(vec![], 59_999, 0, 30_000);
        assert_eq!(state(&a, "h1"), Some(AlertState::Firing));
        a.update(vec![], 60_000, 0, 30_000);
        assert_eq!(state(&a, "h1"), Some(AlertState::Inactive));
        assert_eq!(a.alerts.values().next().unwrap().resolved_at, 60_000);
    }

    #[test]
    fn sending_never_pending_resolved_at_once_else_every_resend_delay() {
        let mut a = ActiveAlerts::default();
        a.update(vec![el("h1", 1.0)], 0, 60_000, 0);
        let x = a.alerts.values().next().unwrap().clone();
        assert!(!x.needs_sending(0, 60_000));
        let mut f = x.clone();
        f.state = AlertState::Firing;
        assert!(f.needs_sending(1, 60_000));
        f.last_sent_at = 1;
        assert!(!f.needs_sending(60_001, 60_000));
        assert!(f.needs_sending(60_002, 60_000));
        f.state = AlertState::Inactive;
        f.resolved_at = 2;
        assert!(f.needs_sending(3, 60_000));
    }
}
