//! What the endpoints and endpointslice roles share for addresses backed by a pod: the pod's labels and those of
//! the container port the endpoint port points at, and the extra targets for the container ports of those pods
//! that no endpoint port covers.

use std::sync::Arc;

use k8s_openapi::api::core::v1::{ObjectReference, Pod};
use lookout_model::Labels;

use super::meta::{LabelSet, join_host_port, opt};
use super::pod::{container_labels, containers, pod_ip, pod_labels, port_labels};
use crate::cache::ObjectLookup;

/// Where `pod_container_port_protocol` comes from on an endpoint target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProtocolFrom<'a> {
    /// The endpoint port's protocol (the endpoints role).
    Endpoint(&'a str),
    /// The container port's protocol (the endpointslice role).
    Container,
}

/// The pod a target reference names, when it is a known pod (looked up in the reference's own namespace).
pub(crate) fn resolve_pod(
    r: Option<&ObjectReference>,
    lookup: &dyn ObjectLookup,
) -> Option<Arc<Pod>> {
    let r = r?;
    if r.kind.as_deref() != Some("Pod") {
        return None;
    }
    lookup.pod(opt(&r.namespace), opt(&r.name))
}

/// The pods seen behind one object's endpoints, in first-seen order, with the endpoint port numbers that gave
/// them a target.
#[derive(Default)]
pub(crate) struct SeenPods(Vec<(Arc<Pod>, Vec<i32>)>);

impl SeenPods {
    /// Adds the pod's labels to `t` and, for each container with a port numbered `port`, that container's labels
    /// (a later container overwrites an earlier one, as in Prometheus); records `port` as covered for the pod.
    pub(crate) fn add(
        &mut self,
        t: &mut LabelSet,
        pod: Arc<Pod>,
        port: Option<i32>,
        protocol: ProtocolFrom<'_>,
    ) {
        t.merge(pod_labels(&pod));
        if let Some(port) = port {
            for (c, init) in containers(&pod) {
                if let Some(cp) = c
                    .ports
                    .iter()
                    .flatten()
                    .find(|cp| cp.container_port == port)
                {
                    container_labels(t, c, init);
                    let protocol = match protocol {
                        ProtocolFrom::Endpoint(p) => p,
                        ProtocolFrom::Container => opt(&cp.protocol),
                    };
                    port_labels(t, cp, protocol);
                }
            }
        }
        let same = |p: &Pod| {
            p.metadata.namespace == pod.metadata.namespace && p.metadata.name == pod.metadata.name
        };
        let entry = match self.0.iter().position(|(p, _)| same(p)) {
            Some(i) => &mut self.0[i],
            None => {
                self.0.push((pod.clone(), Vec::new()));
                self.0.last_mut().expect("just pushed")
            }
        };
        entry.1.extend(port);
    }

    /// One target per container port of the seen pods (with an IP) that no endpoint port covered: the pod and
    /// container labels, no endpoint labels.
    pub(crate) fn uncovered_targets(&self, out: &mut Vec<Labels>) {
        for (pod, covered) in &self.0 {
            let ip = pod_ip(pod);
            if ip.is_empty() {
                continue;
            }
            for (c, init) in containers(pod) {
                for cp in c.ports.iter().flatten() {
                    if covered.contains(&cp.container_port) {
                        continue;
                    }
                    let mut t = LabelSet::default();
                    t.address(join_host_port(ip, cp.container_port));
                    container_labels(&mut t, c, init);
                    port_labels(&mut t, cp, opt(&cp.protocol));
                    t.merge(pod_labels(pod));
                    out.push(t.labels());
                }
            }
        }
    }
}
