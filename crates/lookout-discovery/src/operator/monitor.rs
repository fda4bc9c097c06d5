//! ServiceMonitor and PodMonitor → scrape jobs, in the Operator's order of generated relabel rules.

use serde_json::{Map, Value, json};

use super::http_fields::{Ctx, user_rule};
use super::spec::{Endpoint, IntOrString, LabelSelector, MonitorSpec};
use super::{MonitorError, SecretSource};
use crate::roles::meta::sanitize;

/// One relabel rule in Prometheus's YAML form.
fn rule(source: &[&str], target: &str, regex: &str, replacement: &str, action: &str) -> Value {
    let mut m = Map::new();
    if !source.is_empty() {
        m.insert("source_labels".into(), json!(source));
    }
    if !target.is_empty() {
        m.insert("target_label".into(), json!(target));
    }
    if !regex.is_empty() {
        m.insert("regex".into(), json!(regex));
    }
    if !replacement.is_empty() {
        m.insert("replacement".into(), json!(replacement));
    }
    m.insert("action".into(), json!(action));
    Value::Object(m)
}

/// The keep rule of the deprecated `targetPort`: a container port number or name.
fn target_port_rule(tp: &IntOrString) -> Value {
    match tp {
        IntOrString::Int(n) => rule(
            &["__meta_kubernetes_pod_container_port_number"],
            "",
            &n.to_string(),
            "",
            "keep",
        ),
        IntOrString::Str(s) => rule(
            &["__meta_kubernetes_pod_container_port_name"],
            "",
            s,
            "",
            "keep",
        ),
    }
}

/// The selector as keep/drop rules on `__meta_kubernetes_<kind>_label_*` (the Operator's RelabelConfig mechanism).
fn selector_rules(sel: &LabelSelector, kind: &str, out: &mut Vec<Value>) -> Result<(), String> {
    let label = |k: &str| format!("__meta_kubernetes_{kind}_label_{}", sanitize(k));
    let present = |k: &str| format!("__meta_kubernetes_{kind}_labelpresent_{}", sanitize(k));
    for (k, v) in &sel.match_labels {
        out.push(rule(
            &[&label(k), &present(k)],
            "",
            &format!("({v});true"),
            "",
            "keep",
        ));
    }
    for e in &sel.match_expressions {
        let set = format!("({});true", e.values.join("|"));
        match e.operator.as_str() {
            "In" => out.push(rule(
                &[&label(&e.key), &present(&e.key)],
                "",
                &set,
                "",
                "keep",
            )),
            "NotIn" => out.push(rule(
                &[&label(&e.key), &present(&e.key)],
                "",
                &set,
                "",
                "drop",
            )),
            "Exists" => out.push(rule(&[&present(&e.key)], "", "true", "", "keep")),
            "DoesNotExist" => out.push(rule(&[&present(&e.key)], "", "true", "", "drop")),
            other => return Err(format!("unknown operator {other:?}")),
        }
    }
    Ok(())
}

fn limits(job: &mut Map<String, Value>, spec: &MonitorSpec) {
    for (key, v) in [
        ("sample_limit", spec.sample_limit),
        ("label_limit", spec.label_limit),
        ("label_name_length_limit", spec.label_name_length_limit),
        ("label_value_length_limit", spec.label_value_length_limit),
    ] {
        if let Some(v) = v {
            job.insert(key.into(), json!(v));
        }
    }
}

fn sd_config(role: &str, spec: &MonitorSpec, own_namespace: &str) -> Value {
    let mut sd = Map::new();
    sd.insert("role".into(), json!(role));
    let ns = &spec.namespace_selector;
    if !ns.any {
        let names = if ns.match_names.is_empty() {
            vec![own_namespace.to_string()]
        } else {
            ns.match_names.clone()
        };
        sd.insert("namespaces".into(), json!({"names": names}));
    }
    if spec.attach_metadata.as_ref().is_some_and(|a| a.node) {
        sd.insert("attach_metadata".into(), json!({"node": true}));
    }
    Value::Object(sd)
}

/// One generated job: its name, the endpoint's HTTP settings, the monitor's limits, discovery and relabel rules.
fn job(
    ctx: &Ctx<'_>,
    spec: &MonitorSpec,
    (ep, at): (&Endpoint, &str),
    job_name: &str,
    role: &str,
    relabel: Vec<Value>,
) -> Result<Value, MonitorError> {
    let mut job = Map::new();
    job.insert("job_name".into(), json!(job_name));
    ctx.http_fields(&mut job, ep, at)?;
    limits(&mut job, spec);
    job.insert(
        "kubernetes_sd_configs".into(),
        json!([sd_config(role, spec, ctx.namespace)]),
    );
    job.insert("relabel_configs".into(), Value::Array(relabel));
    Ok(Value::Object(job))
}

fn parse_spec(ctx: &Ctx<'_>, spec: &Value) -> Result<MonitorSpec, MonitorError> {
    serde_json::from_value(spec.clone()).map_err(|e| ctx.err("spec".into(), e.to_string()))
}

/// The jobs of one ServiceMonitor (`serviceMonitor/<ns>/<name>/<i>`, one per endpoint).
pub fn service_monitor_jobs(
    namespace: &str,
    name: &str,
    spec: &Value,
    secrets: &dyn SecretSource,
) -> Result<Vec<Value>, MonitorError> {
    let ctx = Ctx {
        kind: "ServiceMonitor",
        namespace,
        name,
        secrets,
    };
    let spec = parse_spec(&ctx, spec)?;
    let slices = spec.service_discovery_role.as_deref() == Some("EndpointSlice");
    let (role, ep_kind) = if slices {
        ("endpointslice", "endpointslice")
    } else {
        ("endpoints", "endpoint")
    };
    let mut jobs = Vec::new();
    for (i, ep) in spec.endpoints.iter().enumerate() {
        let at = format!("endpoints[{i}]");
        let mut r = vec![rule(
            &["job"],
            "__tmp_prometheus_job_name",
            "",
            "",
            "replace",
        )];
        selector_rules(&spec.selector, "service", &mut r)
            .map_err(|e| ctx.err("selector".into(), e))?;
        if let Some(port) = &ep.port {
            r.push(rule(
                &[&format!("__meta_kubernetes_{ep_kind}_port_name")],
                "",
                port,
                "",
                "keep",
            ));
        } else if let Some(tp) = &ep.target_port {
            r.push(target_port_rule(tp));
        }
        let kind_name = [
            format!("__meta_kubernetes_{ep_kind}_address_target_kind"),
            format!("__meta_kubernetes_{ep_kind}_address_target_name"),
        ];
        let kn = [kind_name[0].as_str(), kind_name[1].as_str()];
        r.push(rule(&kn, "node", "Node;(.*)", "${1}", "replace"));
        r.push(rule(&kn, "pod", "Pod;(.*)", "${1}", "replace"));
        r.push(rule(
            &["__meta_kubernetes_namespace"],
            "namespace",
            "",
            "",
            "replace",
        ));
        r.push(rule(
            &["__meta_kubernetes_service_name"],
            "service",
            "",
            "",
            "replace",
        ));
        r.push(rule(
            &["__meta_kubernetes_pod_name"],
            "pod",
            "",
            "",
            "replace",
        ));
        r.push(rule(
            &["__meta_kubernetes_pod_container_name"],
            "container",
            "",
            "",
            "replace",
        ));
        if ep.filter_running.unwrap_or(true) {
            r.push(rule(
                &["__meta_kubernetes_pod_phase"],
                "",
                "(Failed|Succeeded)",
                "",
                "drop",
            ));
        }
        for l in &spec.target_labels {
            let src = format!("__meta_kubernetes_service_label_{}", sanitize(l));
            r.push(rule(&[&src], &sanitize(l), "(.+)", "${1}", "replace"));
        }
        for l in &spec.pod_target_labels {
            let src = format!("__meta_kubernetes_pod_label_{}", sanitize(l));
            r.push(rule(&[&src], &sanitize(l), "(.+)", "${1}", "replace"));
        }
        r.push(rule(
            &["__meta_kubernetes_service_name"],
            "job",
            "",
            "${1}",
            "replace",
        ));
        if let Some(jl) = &spec.job_label {
            let src = format!("__meta_kubernetes_service_label_{}", sanitize(jl));
            r.push(rule(&[&src], "job", "(.+)", "${1}", "replace"));
        }
        let endpoint = match (&ep.port, &ep.target_port) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(IntOrString::Int(n))) => Some(n.to_string()),
            (None, Some(IntOrString::Str(s))) => Some(s.clone()),
            (None, None) => None,
        };
        if let Some(e) = endpoint {
            r.push(rule(&[], "endpoint", "", &e, "replace"));
        }
        r.extend(ep.relabelings.iter().map(user_rule));
        let job_name = format!("serviceMonitor/{namespace}/{name}/{i}");
        jobs.push(job(&ctx, &spec, (ep, &at), &job_name, role, r)?);
    }
    Ok(jobs)
}

/// The jobs of one PodMonitor (`podMonitor/<ns>/<name>/<i>`, one per endpoint).
pub fn pod_monitor_jobs(
    namespace: &str,
    name: &str,
    spec: &Value,
    secrets: &dyn SecretSource,
) -> Result<Vec<Value>, MonitorError> {
    let ctx = Ctx {
        kind: "PodMonitor",
        namespace,
        name,
        secrets,
    };
    let spec = parse_spec(&ctx, spec)?;
    let mut jobs = Vec::new();
    for (i, ep) in spec.pod_metrics_endpoints.iter().enumerate() {
        let at = format!("podMetricsEndpoints[{i}]");
        let mut r = vec![rule(
            &["job"],
            "__tmp_prometheus_job_name",
            "",
            "",
            "replace",
        )];
        selector_rules(&spec.selector, "pod", &mut r).map_err(|e| ctx.err("selector".into(), e))?;
        if let Some(port) = &ep.port {
            r.push(rule(
                &["__meta_kubernetes_pod_container_port_name"],
                "",
                port,
                "",
                "keep",
            ));
        } else if let Some(n) = ep.port_number {
            r.push(rule(
                &["__meta_kubernetes_pod_container_port_number"],
                "",
                &n.to_string(),
                "",
                "keep",
            ));
        } else if let Some(tp) = &ep.target_port {
            r.push(target_port_rule(tp));
        }
        r.push(rule(
            &["__meta_kubernetes_namespace"],
            "namespace",
            "",
            "",
            "replace",
        ));
        r.push(rule(
            &["__meta_kubernetes_pod_container_name"],
            "container",
            "",
            "",
            "replace",
        ));
        r.push(rule(
            &["__meta_kubernetes_pod_name"],
            "pod",
            "",
            "",
            "replace",
        ));
        if ep.filter_running.unwrap_or(true) {
            r.push(rule(
                &["__meta_kubernetes_pod_phase"],
                "",
                "(Failed|Succeeded)",
                "",
                "drop",
            ));
        }
        for l in &spec.pod_target_labels {
            let src = format!("__meta_kubernetes_pod_label_{}", sanitize(l));
            r.push(rule(&[&src], &sanitize(l), "(.+)", "${1}", "replace"));
        }
        r.push(rule(
            &[],
            "job",
            "",
            &format!("{namespace}/{name}"),
            "replace",
        ));
        if let Some(jl) = &spec.job_label {
            let src = format!("__meta_kubernetes_pod_label_{}", sanitize(jl));
            r.push(rule(&[&src], "job", "(.+)", "${1}", "replace"));
        }
        let endpoint = ep
            .port
            .clone()
            .or_else(|| ep.port_number.map(|n| n.to_string()));
        if let Some(e) = endpoint {
            r.push(rule(&[], "endpoint", "", &e, "replace"));
        }
        r.extend(ep.relabelings.iter().map(user_rule));
        let job_name = format!("podMonitor/{namespace}/{name}/{i}");
        jobs.push(job(&ctx, &spec, (ep, &at), &job_name, "pod", r)?);
    }
    Ok(jobs)
}
