//! HorizontalPodAutoscaler families (`autoscaling/v2`; `namespace`, `horizontalpodautoscaler` identity).

use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, MetricSpec, MetricTarget};
use lookout_model::MetricsWriter;

use super::helpers::{each_condition, gauge, parse_quantity, put, simple};
use super::workloads::{id, n, n64};
use crate::cache::Snapshot;

fn hi(h: &HorizontalPodAutoscaler) -> super::helpers::Ident<'static> {
    id("horizontalpodautoscaler", &h.metadata)
}

/// A metric spec's name and target, as KSM reads them (Resource and ContainerResource by resource name).
fn name_and_target(m: &MetricSpec) -> Option<(String, &MetricTarget)> {
    match m.type_.as_str() {
        "Resource" => m.resource.as_ref().map(|r| (r.name.clone(), &r.target)),
        "ContainerResource" => m
            .container_resource
            .as_ref()
            .map(|r| (r.name.clone(), &r.target)),
        "Pods" => m.pods.as_ref().map(|p| (p.metric.name.clone(), &p.target)),
        "Object" => m
            .object
            .as_ref()
            .map(|o| (o.metric.name.clone(), &o.target)),
        "External" => m
            .external
            .as_ref()
            .map(|e| (e.metric.name.clone(), &e.target)),
        _ => None,
    }
}

/// Renders the HPA families.
pub fn render(s: &Snapshot, out: &mut MetricsWriter) {
    let h = &s.horizontal_pod_autoscalers;
    simple(
        out,
        "kube_horizontalpodautoscaler_metadata_generation",
        "The generation observed by the HorizontalPodAutoscaler controller.",
        h,
        hi,
        |x| n64(x.metadata.generation),
    );
    simple(
        out,
        "kube_horizontalpodautoscaler_spec_max_replicas",
        "Upper limit for the number of pods that can be set by the autoscaler; cannot be smaller than MinReplicas.",
        h,
        hi,
        |x| n(x.spec.as_ref().map(|s| s.max_replicas)),
    );
    simple(
        out,
        "kube_horizontalpodautoscaler_spec_min_replicas",
        "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
        h,
        hi,
        // The API server defaults an omitted minReplicas to 1; KSM reports that default.
        |x| {
            n(Some(
                x.spec.as_ref().and_then(|s| s.min_replicas).unwrap_or(1),
            ))
        },
    );
    let mut f = gauge(
        out,
        "kube_horizontalpodautoscaler_spec_target_metric",
        "The metric specifications used by this autoscaler when calculating the desired replica count.",
    );
    for x in h {
        for m in x.spec.iter().flat_map(|s| s.metrics.iter().flatten()) {
            let Some((name, target)) = name_and_target(m) else {
                continue;
            };
            let q = |v: &Option<k8s_openapi::apimachinery::pkg::api::resource::Quantity>| {
                v.as_ref().and_then(|q| parse_quantity(&q.0))
            };
            let values = [
                ("value", q(&target.value)),
                ("utilization", target.average_utilization.map(f64::from)),
                ("average", q(&target.average_value)),
            ];
            for (kind, v) in values {
                if let Some(v) = v {
                    put(
                        &mut f,
                        &hi(x),
                        &[("metric_name", &name), ("metric_target_type", kind)],
                        v,
                    );
                }
            }
        }
    }
    let status = |x: &HorizontalPodAutoscaler| x.status.clone().unwrap_or_default();
    simple(
        out,
        "kube_horizontalpodautoscaler_status_current_replicas",
        "Current number of replicas of pods managed by this autoscaler.",
        h,
        hi,
        |x| n(Some(status(x).current_replicas.unwrap_or(0))),
    );
    simple(
        out,
        "kube_horizontalpodautoscaler_status_desired_replicas",
        "Desired number of replicas of pods managed by this autoscaler.",
        h,
        hi,
        |x| n(Some(status(x).desired_replicas)),
    );
    let mut f = gauge(
        out,
        "kube_horizontalpodautoscaler_status_condition",
        "The condition of this autoscaler.",
    );
    for x in h {
        let conds = x.status.as_ref().and_then(|s| s.conditions.as_ref());
        let pairs = conds.into_iter().flatten();
        each_condition(
            &mut f,
            &hi(x),
            pairs.map(|c| (c.type_.as_str(), c.status.as_str())),
        );
    }
}
