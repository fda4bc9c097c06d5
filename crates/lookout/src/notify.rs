//! Wiring of alert delivery: `alerting:` (Alertmanager API v2, Prometheus's notifier) and `notifications:` (the
//! built-in webhook notifier), both fed by the rule manager, both replaced on reload when their settings change.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lookout_api::SelfMetrics;
use lookout_discovery::KubernetesTargets;
use lookout_discovery::config::KubernetesSdConfig;
use lookout_discovery::sd::KubernetesDiscovery;
use lookout_model::{Labels, MetricsWriter, TargetGroup};
use lookout_notify::{
    Alert, AlertingConfig, Notifier, NotifierOptions, WebhookNotifier, WebhookNotifierConfig,
    WebhookOptions,
};
use lookout_rules::Notification;
use parking_lot::RwLock;

use crate::config::Config;
use crate::rules::Fanout;

/// Checked settings, ready to apply.
#[derive(Clone, PartialEq)]
pub(crate) struct Prepared {
    alerting: Option<AlertingConfig>,
    webhook: Option<WebhookNotifierConfig>,
    external_labels: Labels,
}

/// The running notifiers.
pub struct Notifiers {
    handle: tokio::runtime::Handle,
    /// Runs the Alertmanagers' `kubernetes_sd_configs`.
    discovery: KubernetesDiscovery,
    /// The discovery tasks of the current Alertmanager notifier (aborted when it is replaced).
    discovering: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    current: RwLock<Prepared>,
    alertmanager: RwLock<Option<Notifier>>,
    webhook: RwLock<Option<WebhookNotifier>>,
}

fn yaml_text(v: &serde_yaml_ng::Value) -> Result<String, String> {
    serde_yaml_ng::to_string(v).map_err(|e| e.to_string())
}

/// The `kubernetes_sd_configs` of `alertmanagers[i]`, checked.
fn kubernetes_sd(
    i: usize,
    am: &lookout_notify::AlertmanagerConfig,
) -> Result<Vec<KubernetesSdConfig>, String> {
    am.kubernetes_sd_configs
        .iter()
        .enumerate()
        .map(|(j, v)| {
            serde_json::from_value(v.clone())
                .map_err(|e| format!("alerting.alertmanagers[{i}].kubernetes_sd_configs[{j}]: {e}"))
        })
        .collect()
}

fn to_time(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

fn to_alert(n: &Notification) -> Alert {
    Alert {
        labels: n.labels.clone(),
        annotations: n.annotations.clone(),
        starts_at: to_time(n.starts_at),
        ends_at: Some(to_time(n.ends_at)),
        generator_url: n.generator_url.clone(),
    }
}

impl Notifiers {
    /// Checks the `alerting:` and `notifications:` sections of `cfg`.
    pub(crate) fn parse(cfg: &Config) -> Result<Prepared, String> {
        let alerting = match &cfg.alerting {
            Some(v) => Some(AlertingConfig::from_yaml(&yaml_text(v)?).map_err(|e| e.to_string())?),
            None => None,
        };
        for (i, am) in alerting
            .iter()
            .flat_map(|a| a.alertmanagers.iter())
            .enumerate()
        {
            kubernetes_sd(i, am)?;
        }
        let webhook = match &cfg.notifications {
            Some(v) => Some(
                WebhookNotifierConfig::from_yaml(&yaml_text(v)?)
                    .map_err(|e| format!("notifications: {e}"))?,
            ),
            None => None,
        };
        let pairs: Vec<(&str, &str)> = cfg
            .global
            .external_labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(Prepared {
            alerting,
            webhook,
            external_labels: Labels::from_pairs(&pairs)
                .map_err(|e| format!("global.external_labels: {e}"))?,
        })
    }

    /// Starts the notifiers `cfg` configures (call within the runtime).
    pub(crate) fn start(
        cfg: &Config,
        discovery: KubernetesDiscovery,
    ) -> Result<Arc<Notifiers>, String> {
        let prepared = Self::parse(cfg)?;
        let n = Arc::new(Notifiers {
            handle: tokio::runtime::Handle::current(),
            discovery,
            discovering: parking_lot::Mutex::new(Vec::new()),
            current: RwLock::new(Prepared {
                alerting: None,
                webhook: None,
                external_labels: Labels::empty(),
            }),
            alertmanager: RwLock::new(None),
            webhook: RwLock::new(None),
        });
        n.build(prepared)?;
        Ok(n)
    }

    /// Checks the sections of a reloaded `cfg` without applying them.
    pub(crate) fn prepare(&self, cfg: &Config) -> Result<Prepared, String> {
        Self::parse(cfg)
    }

    fn build(&self, p: Prepared) -> Result<(), String> {
        let cur = self.current.read().clone();
        if cur.alerting != p.alerting || cur.external_labels != p.external_labels {
            let next = match &p.alerting {
                Some(a) => Some(
                    Notifier::new(
                        a,
                        NotifierOptions {
                            external_labels: p.external_labels.clone(),
                            ..NotifierOptions::default()
                        },
                        self.handle.clone(),
                    )
                    .map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            for task in self.discovering.lock().drain(..) {
                task.abort();
            }
            if let (Some(n), Some(a)) = (&next, &p.alerting) {
                *self.discovering.lock() = self.discover(n, a)?;
            }
            if let Some(old) = std::mem::replace(&mut *self.alertmanager.write(), next) {
                self.handle
                    .spawn(async move { old.shutdown(Duration::from_secs(5)).await });
            }
        }
        if cur.webhook != p.webhook || cur.external_labels != p.external_labels {
            let next = match &p.webhook {
                Some(w) => Some(
                    WebhookNotifier::new(
                        w,
                        WebhookOptions {
                            external_labels: p.external_labels.clone(),
                            ..WebhookOptions::default()
                        },
                        self.handle.clone(),
                    )
                    .map_err(|e| e.to_string())?,
                ),
                None => None,
            };
            if let Some(old) = std::mem::replace(&mut *self.webhook.write(), next) {
                self.handle
                    .spawn(async move { old.shutdown(Duration::from_secs(5)).await });
            }
        }
        *self.current.write() = p;
        Ok(())
    }

    /// Runs the `kubernetes_sd_configs` of each `alertmanagers[]` entry, handing `notifier` the entry's static
    /// targets plus everything discovered whenever discovery changes.
    fn discover(
        &self,
        notifier: &Notifier,
        cfg: &AlertingConfig,
    ) -> Result<Vec<tokio::task::JoinHandle<()>>, String> {
        let mut tasks = Vec::new();
        for (i, am) in cfg.alertmanagers.iter().enumerate() {
            let sds = kubernetes_sd(i, am)?;
            if sds.is_empty() {
                continue;
            }
            let statics = lookout_notify::alertmanager::static_groups(am);
            let found = Arc::new(parking_lot::Mutex::new(vec![Vec::new(); sds.len()]));
            for (j, sd) in sds.into_iter().enumerate() {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<TargetGroup>>(4);
                let mut run = self.discovery.run(sd, tx);
                let (notifier, found, statics) = (notifier.clone(), found.clone(), statics.clone());
                tasks.push(self.handle.spawn(async move {
                    loop {
                        let groups = tokio::select! {
                            _ = &mut run => return,
                            g = rx.recv() => match g {
                                Some(g) => g,
                                None => return,
                            },
                        };
                        let all: Vec<TargetGroup> = {
                            let mut f = found.lock();
                            f[j] = groups;
                            statics
                                .iter()
                                .cloned()
                                .chain(f.iter().flatten().cloned())
                                .collect()
                        };
                        if let Err(e) = notifier.set_alertmanagers(i, &all) {
                            tracing::warn!(error = %e, "discovered Alertmanagers not applied");
                        }
                    }
                }));
            }
        }
        Ok(tasks)
    }

    /// Applies checked settings (a notifier whose settings did not change keeps running).
    pub(crate) fn apply(&self, p: Prepared) {
        if let Err(e) = self.build(p) {
            tracing::error!(error = %e, "notifier settings not applied; the previous notifiers keep running");
        }
    }

    /// Where the rule manager hands due alerts.
    pub(crate) fn sink(self: &Arc<Self>) -> Fanout {
        let me = self.clone();
        Fanout {
            sinks: vec![Box::new(move |alerts: &[Notification]| {
                let alerts: Vec<Alert> = alerts.iter().map(to_alert).collect();
                if let Some(n) = me.alertmanager.read().as_ref() {
                    n.send(alerts.clone());
                }
                if let Some(w) = me.webhook.read().as_ref() {
                    w.send(alerts);
                }
            })],
        }
    }

    /// Lists the Alertmanagers alerts go to (active, dropped).
    pub(crate) fn alertmanager_lister(
        self: &Arc<Self>,
    ) -> Box<dyn Fn() -> (Vec<String>, Vec<String>) + Send + Sync> {
        let me = self.clone();
        Box::new(move || match me.alertmanager.read().as_ref() {
            Some(n) => {
                let u = n.alertmanagers();
                (u.active, u.dropped)
            }
            None => (Vec::new(), Vec::new()),
        })
    }

    /// Sends what is queued (within `deadline`) and stops.
    pub(crate) async fn shutdown(&self, deadline: Duration) {
        let am = self.alertmanager.write().take();
        let wh = self.webhook.write().take();
        if let Some(n) = am {
            n.shutdown(deadline).await;
        }
        if let Some(w) = wh {
            w.shutdown(deadline).await;
        }
    }
}

impl SelfMetrics for Notifiers {
    fn write_metrics(&self, out: &mut MetricsWriter) {
        if let Some(n) = self.alertmanager.read().clone() {
            n.stats().render(out);
        }
        if let Some(w) = self.webhook.read().as_ref() {
            w.stats().render(out);
        }
    }
}
