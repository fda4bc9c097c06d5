//! Warnings and infos with Prometheus's wording, collected once per query.

use std::sync::Mutex;

use crate::{Annotation, AnnotationKind, Annotations};

/// Collects annotations, dropping repeats, in first-seen order. Only the query's evaluating thread adds to it
/// (parallel series work hands its annotations back in series order), so the order stays deterministic; the
/// lock only makes the query's shared state `Sync`.
#[derive(Debug, Default)]
pub(crate) struct AnnotationSink {
    items: Mutex<Annotations>,
}

impl AnnotationSink {
    fn add(&self, kind: AnnotationKind, message: String) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        if !items.iter().any(|a| a.kind == kind && a.message == message) {
            items.push(Annotation { kind, message });
        }
    }

    /// Adds a `PromQL warning: …`.
    pub(crate) fn warn(&self, text: impl AsRef<str>) {
        self.add(
            AnnotationKind::Warning,
            format!("PromQL warning: {}", text.as_ref()),
        );
    }

    /// Adds a `PromQL info: …`.
    pub(crate) fn info(&self, text: impl AsRef<str>) {
        self.add(
            AnnotationKind::Info,
            format!("PromQL info: {}", text.as_ref()),
        );
    }

    /// Adds what a piece of parallel work collected, in its order.
    pub(crate) fn add_pending(&self, notes: PendingNotes) {
        for (kind, text) in notes.0 {
            match kind {
                AnnotationKind::Warning => self.warn(text),
                AnnotationKind::Info => self.info(text),
            }
        }
    }

    /// Everything collected.
    pub(crate) fn take(&self) -> Annotations {
        std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Annotations collected by work on the query threads, handed back to the evaluating thread with the work's
/// result so that the query's annotations keep series order whatever the scheduling.
#[derive(Debug, Default)]
pub(crate) struct PendingNotes(Vec<(AnnotationKind, String)>);

impl PendingNotes {
    /// Records a warning (the text after `PromQL warning: `).
    pub(crate) fn warn(&mut self, text: String) {
        self.0.push((AnnotationKind::Warning, text));
    }

    /// Records an info (the text after `PromQL info: `).
    pub(crate) fn info(&mut self, text: String) {
        self.0.push((AnnotationKind::Info, text));
    }
}

/// Formats a float the way Go's `%g` does for the values annotations quote.
pub(crate) fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{v}");
    let exp = if v == 0.0 {
        0
    } else {
        v.abs().log10().floor() as i32
    };
    if !(-4..21).contains(&exp) {
        let e = format!("{v:e}");
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        let x: i32 = x.parse().unwrap_or(0);
        return format!("{m}e{}{:02}", if x < 0 { '-' } else { '+' }, x.abs());
    }
    s
}

/// `metric name` suffix used by several annotations, empty when the name is unknown.
pub(crate) fn for_metric(name: &str) -> String {
    if name.is_empty() {
        String::new()
    } else {
        format!(" for metric name {name:?}")
    }
}

/// The "quantile value should be between 0 and 1" warning.
pub(crate) fn invalid_quantile(q: f64) -> String {
    format!("quantile value should be between 0 and 1, got {}", go_g(q))
}

/// The "metric might not be a counter" info.
pub(crate) fn possible_non_counter(name: &str) -> String {
    format!(
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
    )
}

/// The "bucket label le is missing or malformed" warning.
pub(crate) fn bad_bucket_label(metric: &str, le: &str) -> String {
    format!(
        "bucket label \"le\" is missing or has a malformed value of {le:?}{}",
        for_metric(metric)
    )
}

/// The histogram_quantile monotonicity info.
pub(crate) fn forced_monotonicity(metric: &str) -> String {
    format!(
        "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile){}",
        for_metric(metric)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go_g() {
        assert_eq!(go_g(1.1), "1.1");
        assert_eq!(go_g(-1.0), "-1");
        assert_eq!(go_g(f64::NAN), "NaN");
        assert_eq!(go_g(1e21), "1e+21");
        assert_eq!(go_g(0.00001), "1e-05");
    }

    #[test]
    fn deduplicates_in_order() {
        let s = AnnotationSink::default();
        s.info("a");
        s.warn("b");
        s.info("a");
        let got = s.take();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].message, "PromQL info: a");
        assert_eq!(got[1].kind, AnnotationKind::Warning);
    }
}
