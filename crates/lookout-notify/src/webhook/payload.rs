//! The webhook body: Alertmanager's version 4 message (`template.Data` plus `version`, `groupKey` and
//! `truncatedAlerts`), byte for byte as Go's `json.Encoder` writes it, trailing newline included.

use std::collections::BTreeMap;

use serde::Serialize;

use super::gofmt::{go_html_safe, quote_meta};
use crate::alert::{Alert, Fingerprint, LabelsJson};
use crate::time::{format_nanos, zero_time};

/// One alert of a notification as it stands at flush time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NotifyAlert {
    /// The alert; `ends_at` is cleared for firing alerts, as Alertmanager hides a future end time.
    pub alert: Alert,
    pub fingerprint: Fingerprint,
    pub resolved: bool,
}

/// What a message says about its group.
pub(crate) struct MessageContext<'a> {
    pub receiver: &'a str,
    pub group_key: &'a str,
    pub group_labels: &'a BTreeMap<String, String>,
    pub external_url: &'a str,
    pub reason: &'a str,
}

#[derive(Serialize)]
struct AlertJson<'a> {
    status: &'static str,
    labels: LabelsJson<'a>,
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "generatorURL")]
    generator_url: &'a str,
    fingerprint: String,
}

/// Field order follows Go's struct order (`template.Data` first, then the webhook fields); JSON readers do not care,
/// but byte-identical bodies make comparisons with a real Alertmanager easy.
#[derive(Serialize)]
struct Message<'a> {
    receiver: String,
    status: &'static str,
    alerts: Vec<AlertJson<'a>>,
    notification_reason: &'a str,
    #[serde(rename = "groupLabels")]
    group_labels: &'a BTreeMap<String, String>,
    #[serde(rename = "commonLabels")]
    common_labels: BTreeMap<&'a str, &'a str>,
    #[serde(rename = "commonAnnotations")]
    common_annotations: BTreeMap<&'a str, &'a str>,
    /// Alertmanager's route labels; Lookout routes carry none.
    #[serde(rename = "routeLabels")]
    route_labels: BTreeMap<&'a str, &'a str>,
    #[serde(rename = "externalURL")]
    external_url: &'a str,
    version: &'static str,
    #[serde(rename = "groupKey")]
    group_key: &'a str,
    #[serde(rename = "truncatedAlerts")]
    truncated_alerts: u64,
}

fn status(resolved: bool) -> &'static str {
    if resolved { "resolved" } else { "firing" }
}

/// Label pairs every alert shares (Alertmanager's `commonLabels`).
fn common_labels(alerts: &[NotifyAlert]) -> BTreeMap<&str, &str> {
    let Some(first) = alerts.first() else {
        return BTreeMap::new();
    };
    first
        .alert
        .labels
        .iter()
        .filter(|l| {
            alerts[1..]
                .iter()
                .all(|a| a.alert.labels.get(&l.name) == Some(&*l.value))
        })
        .map(|l| (&*l.name, &*l.value))
        .collect()
}

/// Annotation pairs every alert shares (`commonAnnotations`).
fn common_annotations(alerts: &[NotifyAlert]) -> BTreeMap<&str, &str> {
    let Some(first) = alerts.first() else {
        return BTreeMap::new();
    };
    first
        .alert
        .annotations
        .iter()
        .filter(|(k, v)| {
            alerts[1..]
                .iter()
                .all(|a| a.alert.annotations.get(*k) == Some(*v))
        })
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// Builds the body for `alerts`, of which `max_alerts` (0 = all) are included and the rest counted as truncated.
pub(crate) fn build(ctx: &MessageContext<'_>, alerts: &[NotifyAlert], max_alerts: u64) -> Vec<u8> {
    let (alerts, truncated) = match usize::try_from(max_alerts) {
        Ok(max) if max > 0 && alerts.len() > max => (&alerts[..max], (alerts.len() - max) as u64),
        _ => (alerts, 0),
    };
    let message = Message {
        receiver: quote_meta(ctx.receiver),
        status: status(alerts.iter().all(|a| a.resolved)),
        alerts: alerts
            .iter()
            .map(|a| AlertJson {
                status: status(a.resolved),
                labels: LabelsJson(&a.alert.labels),
                annotations: &a.alert.annotations,
                starts_at: format_nanos(a.alert.starts_at),
                ends_at: a.alert.ends_at.map_or_else(zero_time, format_nanos),
                generator_url: &a.alert.generator_url,
                fingerprint: a.fingerprint.to_string(),
            })
            .collect(),
        notification_reason: ctx.reason,
        group_labels: ctx.group_labels,
        common_labels: common_labels(alerts),
        common_annotations: common_annotations(alerts),
        route_labels: BTreeMap::new(),
        external_url: ctx.external_url,
        version: "4",
        group_key: ctx.group_key,
        truncated_alerts: truncated,
    };
    let mut out = serde_json::to_vec(&message).expect("serializing strings to memory cannot fail");
    out.push(b'\n');
    go_html_safe(out)
}
