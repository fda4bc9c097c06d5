//! One queue and one send loop per Alertmanager: a bounded queue that drops its oldest alerts when full, batches
//! of at most `max_batch_size` posted as JSON with a per-request timeout, no retries, and a drain on stop.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use serde::Serializer;
use tokio::sync::{Notify, watch};

use crate::alert::{Alert, LabelsJson};
use crate::http::{HttpClientConfig, error_chain};
use crate::time::format_millis;

/// Counters of one send loop; read for self-metrics.
#[derive(Debug, Default)]
pub(crate) struct LoopCounters {
    pub sent: AtomicU64,
    pub errors: AtomicU64,
    pub dropped: AtomicU64,
    pub latency_nanos: AtomicU64,
    pub requests: AtomicU64,
}

/// What a send loop needs to post to one Alertmanager.
pub(crate) struct LoopShared {
    pub url: String,
    pub client: reqwest::Client,
    pub http: Arc<HttpClientConfig>,
    pub timeout: Duration,
    pub capacity: usize,
    pub batch_size: usize,
    pub queue: Mutex<VecDeque<Arc<Alert>>>,
    /// Holds at most one pending wake-up, like Prometheus's buffered `hasWork` channel.
    pub work: Notify,
    pub counters: LoopCounters,
    /// The notifier-wide dropped counter, which outlives loops whose target goes away.
    pub dropped_total: Arc<AtomicU64>,
}

impl LoopShared {
    fn count_dropped(&self, n: usize) {
        if n > 0 {
            self.counters.dropped.fetch_add(n as u64, Ordering::Relaxed);
            self.dropped_total.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Queues alerts, dropping the oldest ones when the queue would overflow; never waits.
    pub fn push(&self, alerts: &[Arc<Alert>]) {
        let mut dropped = 0;
        // A batch larger than the whole queue keeps only its newest alerts.
        let alerts = if alerts.len() > self.capacity {
            dropped += alerts.len() - self.capacity;
            &alerts[alerts.len() - self.capacity..]
        } else {
            alerts
        };
        {
            let mut queue = self.queue.lock();
            let overflow = (queue.len() + alerts.len()).saturating_sub(self.capacity);
            queue.drain(..overflow);
            dropped += overflow;
            queue.extend(alerts.iter().cloned());
        }
        if dropped > 0 {
            tracing::warn!(alertmanager = %self.url, dropped, "alert notification queue full, dropping the oldest alerts");
        }
        self.count_dropped(dropped);
        self.work.notify_one();
    }

    pub fn queue_len(&self) -> usize {
        self.queue.lock().len()
    }

    fn next_batch(&self) -> Vec<Arc<Alert>> {
        let mut queue = self.queue.lock();
        let n = queue.len().min(self.batch_size);
        queue.drain(..n).collect()
    }

    /// Sends one batch; `deadline` further bounds the request during a drain.
    async fn send_one_batch(&self, deadline: Option<Instant>) {
        let batch = self.next_batch();
        if batch.is_empty() {
            return;
        }
        let mut timeout = self.timeout;
        if let Some(d) = deadline {
            timeout = timeout.min(d.saturating_duration_since(Instant::now()));
        }
        let begin = Instant::now();
        let mut result = self.post(&batch, timeout).await;
        // A failure the next attempt may not repeat (no connection, a timeout, 5xx, 429) is retried twice with a
        // short backoff while the batch's time (the request timeout, or what is left of a drain) lasts; the rule
        // engine's resend covers longer outages, as in Prometheus.
        let budget_end = begin + timeout;
        for backoff in [Duration::from_millis(250), Duration::from_millis(1000)] {
            let Err((reason, true)) = &result else { break };
            if Instant::now() + backoff >= budget_end {
                break;
            }
            tracing::debug!(alertmanager = %self.url, %reason, "retrying alerts");
            tokio::time::sleep(backoff).await;
            let left = budget_end.saturating_duration_since(Instant::now());
            result = self.post(&batch, left).await;
        }
        match result.map_err(|(reason, _)| reason) {
            Ok(()) => {
                let c = &self.counters;
                c.sent.fetch_add(batch.len() as u64, Ordering::Relaxed);
                c.latency_nanos
                    .fetch_add(begin.elapsed().as_nanos() as u64, Ordering::Relaxed);
                c.requests.fetch_add(1, Ordering::Relaxed);
            }
            Err(reason) => {
                tracing::error!(alertmanager = %self.url, count = batch.len(), %reason, "error sending alerts");
                self.counters
                    .errors
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                // Still failing after its retries: the batch counts as dropped (the rule engine re-sends it).
                self.count_dropped(batch.len());
            }
        }
    }

    /// Posts one batch; an error says whether a retry may succeed.
    async fn post(&self, batch: &[Arc<Alert>], timeout: Duration) -> Result<(), (String, bool)> {
        let body = encode(batch);
        let request = self
            .client
            .post(&self.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let request = self.http.authorize(request).map_err(|e| (e, false))?;
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                (format!("timed out after {timeout:?}"), true)
            } else {
                (error_chain(&e), e.is_connect() || e.is_request())
            }
        })?;
        let status = response.status();
        // Any 2xx is success, as in Prometheus; the body is not read beyond what reqwest buffers.
        if status.is_success() {
            Ok(())
        } else {
            let retry = status.is_server_error() || status.as_u16() == 429;
            Err((format!("bad response status {status}"), retry))
        }
    }
}

/// Runs until `stop` carries a deadline (or its sender is gone), then drains what is queued until that deadline.
pub(crate) async fn run(shared: Arc<LoopShared>, mut stop: watch::Receiver<Option<Instant>>) {
    let deadline = loop {
        if let Some(deadline) = *stop.borrow() {
            break deadline;
        }
        tokio::select! {
            // Stopping takes priority over sending more, as in Prometheus.
            biased;
            changed = stop.changed() => {
                if changed.is_err() {
                    break Instant::now();
                }
            }
            () = shared.work.notified() => {
                shared.send_one_batch(None).await;
                if shared.queue_len() > 0 {
                    shared.work.notify_one();
                }
            }
        }
    };
    while shared.queue_len() > 0 {
        if Instant::now() >= deadline {
            let left = std::mem::take(&mut *shared.queue.lock()).len();
            tracing::warn!(alertmanager = %shared.url, dropped = left, "notification queue not fully drained before the shutdown deadline");
            shared.count_dropped(left);
            break;
        }
        shared.send_one_batch(Some(deadline)).await;
    }
}

/// Alertmanager API v2 `postableAlert`.
#[derive(Serialize)]
struct PostableAlert<'a> {
    labels: LabelsJson<'a>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    /// Left out when unknown; Alertmanager then applies its `resolve_timeout`, as for Go's zero time.
    #[serde(rename = "endsAt", skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL", skip_serializing_if = "str::is_empty")]
    generator_url: &'a str,
}

/// The request body: a JSON array of postable alerts.
pub(crate) fn encode(alerts: &[Arc<Alert>]) -> Vec<u8> {
    let items: Vec<PostableAlert<'_>> = alerts
        .iter()
        .map(|a| PostableAlert {
            labels: LabelsJson(&a.labels),
            annotations: &a.annotations,
            starts_at: format_millis(a.starts_at),
            ends_at: a.ends_at.map(format_millis),
            generator_url: &a.generator_url,
        })
        .collect();
    let mut out = Vec::with_capacity(128 * items.len());
    let mut ser = serde_json::Serializer::new(&mut out);
    ser.collect_seq(&items)
        .expect("serializing strings to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use lookout_model::Labels;

    use super::*;

    #[test]
    fn encodes_postable_alerts() {
        let mut a = Alert::new(
            Labels::from_pairs(&[("alertname", "InstanceDown"), ("instance", "h1:9100")]).unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_777_629_600),
        );
        a.annotations.insert("summary".into(), "h1 down".into());
        a.ends_at = Some(UNIX_EPOCH + Duration::from_secs(1_777_629_840));
        a.generator_url = "http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1".into();
        let body = String::from_utf8(encode(&[Arc::new(a)])).unwrap();
        assert_eq!(
            body,
            r#"[{"labels":{"alertname":"InstanceDown","instance":"h1:9100"},"annotations":{"summary":"h1 down"},"startsAt":"2026-05-01T10:00:00.000Z","endsAt":"2026-05-01T10:04:00.000Z","generatorURL":"http://prom:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1"}]"#
        );
    }
}
