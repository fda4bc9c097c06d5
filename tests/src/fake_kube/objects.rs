//! Realistic Kubernetes objects (JSON, as the API server returns them) to feed the fake API server; each built-in one
//! deserializes into its k8s-openapi type. `FakeKube::apply` adds `uid`, `resourceVersion` and `creationTimestamp`.
//! Labels, selectors and ports are slices of pairs: `&[("app", "web")]`, `&[("http", 8080)]`.

use serde_json::{Map, Value, json};

/// Now, RFC 3339 with second precision, as the API server writes timestamps.
pub fn now() -> String {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    serde_json::to_value(Time(k8s_openapi::jiff::Timestamp::now()))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A string map (labels, annotations, selectors) from pairs.
pub fn string_map(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect(),
    )
}

/// Metadata of a namespaced (`namespace` non-empty) or cluster-scoped object.
fn meta(namespace: &str, name: &str, labels: &[(&str, &str)]) -> Value {
    let mut meta = json!({"name": name});
    if !namespace.is_empty() {
        meta["namespace"] = namespace.into();
    }
    if !labels.is_empty() {
        meta["labels"] = string_map(labels);
    }
    meta
}

/// Merges into a `metadata` string map (`labels` or `annotations`).
fn merge_meta_map(mut obj: Value, field: &str, pairs: &[(&str, &str)]) -> Value {
    let map = obj["metadata"][field]
        .as_object_mut()
        .map(std::mem::take)
        .unwrap_or_default();
    let mut map = Value::Object(map);
    for (k, v) in pairs {
        map[*k] = (*v).into();
    }
    obj["metadata"][field] = map;
    obj
}

/// The object with these labels added (replacing same-named ones).
pub fn with_labels(obj: Value, labels: &[(&str, &str)]) -> Value {
    merge_meta_map(obj, "labels", labels)
}

/// The object with these annotations added (replacing same-named ones).
pub fn with_annotations(obj: Value, annotations: &[(&str, &str)]) -> Value {
    merge_meta_map(obj, "annotations", annotations)
}

/// A stable 64-bit hash (FNV-1a) for made-up IDs and IPs.
fn hash(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.join("/").bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// 64 hex digits derived from `parts` (container IDs, image digests).
fn hex64(parts: &[&str]) -> String {
    (0..4u8)
        .map(|i| {
            format!(
                "{:016x}",
                hash(parts) ^ hash(&[&i.to_string()]).rotate_left(17)
            )
        })
        .collect()
}

fn ports_json(ports: &[(&str, u16)], port_field: &str) -> Vec<Value> {
    ports
        .iter()
        .map(|(name, port)| {
            let mut p = json!({port_field: port, "protocol": "TCP"});
            if !name.is_empty() {
                p["name"] = (*name).into();
            }
            p
        })
        .collect()
}

fn condition(kind: &str, ok: bool, time_field: &str) -> Value {
    json!({"type": kind, "status": if ok { "True" } else { "False" }, time_field: now()})
}

/// A Pod on `node` with `ip`: Running and Ready, every container started, with its ports
/// (`containers`: `&[("app", &[("http", 8080)])]`). An empty `ip` gives a Pending pod with no container statuses.
pub fn pod(
    namespace: &str,
    name: &str,
    ip: &str,
    node: &str,
    labels: &[(&str, &str)],
    containers: &[(&str, &[(&str, u16)])],
) -> Value {
    let image = |c: &str| format!("registry.example/{c}:1.0");
    let specs: Vec<Value> = containers
        .iter()
        .map(|(c, ports)| {
            let mut spec = json!({"name": c, "image": image(c), "imagePullPolicy": "IfNotPresent"});
            if !ports.is_empty() {
                spec["ports"] = ports_json(ports, "containerPort").into();
            }
            spec
        })
        .collect();
    let mut spec = json!({
        "containers": specs, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "terminationGracePeriodSeconds": 30,
    });
    if !node.is_empty() {
        spec["nodeName"] = node.into();
    }
    let scheduled = condition("PodScheduled", !node.is_empty(), "lastTransitionTime");
    let status = if ip.is_empty() {
        json!({"phase": "Pending", "conditions": [scheduled], "qosClass": "BestEffort"})
    } else {
        let statuses: Vec<Value> = containers
            .iter()
            .map(|(c, _)| {
                json!({
                    "name": c, "ready": true, "started": true, "restartCount": 0, "image": image(c),
                    "imageID": format!("registry.example/{c}@sha256:{}", hex64(&[c])),
                    "containerID": format!("containerd://{}", hex64(&[namespace, name, c])),
                    "state": {"running": {"startedAt": now()}},
                })
            })
            .collect();
        let conditions: Vec<Value> = ["Initialized", "Ready", "ContainersReady"]
            .into_iter()
            .map(|kind| condition(kind, true, "lastTransitionTime"))
            .chain([scheduled])
            .collect();
        json!({
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now(),
            "conditions": conditions, "containerStatuses": statuses, "qosClass": "BestEffort",
        })
    };
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta(namespace, name, labels), "spec": spec, "status": status,
    })
}

/// A linux/amd64 Node with InternalIP `ip` and the Ready condition `ready`.
pub fn node(name: &str, ip: &str, ready: bool) -> Value {
    let labels = [
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("kubernetes.io/arch", "amd64"),
        ("beta.kubernetes.io/os", "linux"),
        ("beta.kubernetes.io/arch", "amd64"),
    ];
    let mut ready_condition = condition("Ready", ready, "lastTransitionTime");
    ready_condition["reason"] = if ready {
        "KubeletReady"
    } else {
        "KubeletNotReady"
    }
    .into();
    ready_condition["lastHeartbeatTime"] = now().into();
    let pressure = ["MemoryPressure", "DiskPressure", "PIDPressure"].map(|kind| {
        let mut c = condition(kind, false, "lastTransitionTime");
        c["lastHeartbeatTime"] = now().into();
        c
    });
    let resources = json!({"cpu": "4", "memory": "16317144Ki", "pods": "110", "ephemeral-storage": "101430960Ki"});
    json!({
        "apiVersion": "v1", "kind": "Node", "metadata": meta("", name, &labels),
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [pressure[0], pressure[1], pressure[2], ready_condition],
            "capacity": resources, "allocatable": resources,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64", "bootID": &hex64(&[name, "boot"])[..32], "machineID": &hex64(&[name])[..32],
                "systemUUID": &hex64(&[name, "uuid"])[..32], "containerRuntimeVersion": "containerd://1.7.24",
                "kernelVersion": "6.8.0-fake", "kubeProxyVersion": "v1.33.0", "kubeletVersion": "v1.33.0",
                "operatingSystem": "linux", "osImage": "Fake Linux 1.0",
            },
        },
    })
}

/// A ClusterIP Service (its IP derived from the name) selecting `selector`, with named `ports` (target port = port).
pub fn service(
    namespace: &str,
    name: &str,
    labels: &[(&str, &str)],
    selector: &[(&str, &str)],
    ports: &[(&str, u16)],
) -> Value {
    let h = hash(&[namespace, name]);
    let ip = format!("10.96.{}.{}", (h >> 8) & 0xff, 1 + (h & 0xff) % 254);
    let ports: Vec<Value> = ports_json(ports, "port")
        .into_iter()
        .map(|mut p| {
            p["targetPort"] = p["port"].clone();
            p
        })
        .collect();
    let mut spec = json!({
        "type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ports": ports, "sessionAffinity": "None",
        "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster",
    });
    if !selector.is_empty() {
        spec["selector"] = string_map(selector);
    }
    json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta(namespace, name, labels), "spec": spec,
        "status": {"loadBalancer": {}},
    })
}

/// One backend of a Service, for [`endpoints`] and [`endpoint_slice`]: an IP, the Pod behind it (empty: no
/// targetRef), that Pod's Node (empty: none) and readiness.
#[derive(Clone, Copy, Debug)]
pub struct Backend<'a> {
    /// The address.
    pub ip: &'a str,
    /// The Pod's name (same namespace as the Service), or "".
    pub pod: &'a str,
    /// The Node's name, or "".
    pub node: &'a str,
    /// Whether the address is ready.
    pub ready: bool,
}

impl<'a> Backend<'a> {
    /// A ready backend.
    pub fn ready(ip: &'a str, pod: &'a str, node: &'a str) -> Self {
        Backend {
            ip,
            pod,
            node,
            ready: true,
        }
    }

    /// A backend that is not ready.
    pub fn not_ready(ip: &'a str, pod: &'a str, node: &'a str) -> Self {
        Backend {
            ip,
            pod,
            node,
            ready: false,
        }
    }

    fn target_ref(&self, namespace: &str) -> Option<Value> {
        (!self.pod.is_empty())
            .then(|| json!({"kind": "Pod", "namespace": namespace, "name": self.pod}))
    }
}

/// The Endpoints of Service `name`: ready backends in `addresses`, the others in `notReadyAddresses`.
pub fn endpoints(
    namespace: &str,
    name: &str,
    backends: &[Backend<'_>],
    ports: &[(&str, u16)],
) -> Value {
    let address = |b: &Backend<'_>| {
        let mut a = json!({"ip": b.ip});
        if let Some(target) = b.target_ref(namespace) {
            a["targetRef"] = target;
        }
        if !b.node.is_empty() {
            a["nodeName"] = b.node.into();
        }
        a
    };
    let mut subset = json!({"ports": ports_json(ports, "port")});
    let ready: Vec<Value> = backends.iter().filter(|b| b.ready).map(address).collect();
    let not_ready: Vec<Value> = backends.iter().filter(|b| !b.ready).map(address).collect();
    if !ready.is_empty() {
        subset["addresses"] = ready.into();
    }
    if !not_ready.is_empty() {
        subset["notReadyAddresses"] = not_ready.into();
    }
    let subsets = if backends.is_empty() {
        vec![]
    } else {
        vec![subset]
    };
    json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(namespace, name, &[]), "subsets": subsets})
}

/// The IPv4 EndpointSlice `SERVICE-xxxxx` of `service` (labelled `kubernetes.io/service-name`).
pub fn endpoint_slice(
    namespace: &str,
    service: &str,
    backends: &[Backend<'_>],
    ports: &[(&str, u16)],
) -> Value {
    let name = format!("{service}-{}", &hex64(&[namespace, service])[..5]);
    let labels = [
        ("kubernetes.io/service-name", service),
        (
            "endpointslice.kubernetes.io/managed-by",
            "endpointslice-controller.k8s.io",
        ),
    ];
    let endpoints: Vec<Value> = backends
        .iter()
        .map(|b| {
            let conditions = json!({"ready": b.ready, "serving": b.ready, "terminating": false});
            let mut e = json!({"addresses": [b.ip], "conditions": conditions});
            if let Some(target) = b.target_ref(namespace) {
                e["targetRef"] = target;
            }
            if !b.node.is_empty() {
                e["nodeName"] = b.node.into();
            }
            e
        })
        .collect();
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "metadata": meta(namespace, &name, &labels),
        "addressType": "IPv4", "endpoints": endpoints, "ports": ports_json(ports, "port"),
    })
}

/// A Deployment of `replicas` pods labelled `app=NAME`, `available` of them available.
pub fn deployment(namespace: &str, name: &str, replicas: i32, available: i32) -> Value {
    let labels = [("app", name)];
    let mut metadata = meta(namespace, name, &labels);
    metadata["generation"] = 1.into();
    let mut available_condition =
        condition("Available", available >= replicas, "lastTransitionTime");
    available_condition["lastUpdateTime"] = now().into();
    let mut progressing = condition("Progressing", true, "lastTransitionTime");
    progressing["reason"] = "NewReplicaSetAvailable".into();
    progressing["lastUpdateTime"] = now().into();
    let mut status = json!({
        "observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas, "readyReplicas": available,
        "availableReplicas": available, "conditions": [available_condition, progressing],
    });
    if replicas > available {
        status["unavailableReplicas"] = (replicas - available).into();
    }
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": string_map(&labels)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": string_map(&labels)},
                "spec": {"containers": [{"name": name, "image": format!("registry.example/{name}:1.0")}]},
            },
        },
        "status": status,
    })
}

/// An Active Namespace with `labels` plus `kubernetes.io/metadata.name`.
pub fn namespace(name: &str, labels: &[(&str, &str)]) -> Value {
    let obj = json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": meta("", name, &[("kubernetes.io/metadata.name", name)]),
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"},
    });
    with_labels(obj, labels)
}

/// An Opaque Secret; `data` values are given in clear and stored base64-encoded.
pub fn secret(namespace: &str, name: &str, data: &[(&str, &str)]) -> Value {
    let data: Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), base64(v.as_bytes()).into()))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta(namespace, name, &[]), "type": "Opaque", "data": data})
}

/// A Prometheus Operator ServiceMonitor with this `spec`.
pub fn service_monitor(namespace: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": meta(namespace, name, &[]),
        "spec": spec,
    })
}

/// A Prometheus Operator PodMonitor with this `spec`.
pub fn pod_monitor(namespace: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor", "metadata": meta(namespace, name, &[]),
        "spec": spec,
    })
}

/// A Prometheus Operator PrometheusRule with this `spec`.
pub fn prometheus_rule(namespace: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": meta(namespace, name, &[]),
        "spec": spec,
    })
}

/// Standard base64 with padding (Secret data).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
