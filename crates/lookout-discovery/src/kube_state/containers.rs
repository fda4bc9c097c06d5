//! Container families, for `status.containerStatuses` (`kube_pod_container_*`) and `status.initContainerStatuses`
//! (`kube_pod_init_container_*`, whose info series adds the sidecar `restart_policy`).

use k8s_openapi::api::core::v1::{Container, ContainerStateTerminated, ContainerStatus, Pod};
use lookout_model::MetricsWriter;
use lookout_model::self_metrics::MetricKind;

use super::helpers::{put, ts};
use super::pod::ident;
use crate::cache::Snapshot;

/// Extra labels and a value for one container status.
type ContainerSamples = Vec<(Vec<(&'static str, String)>, f64)>;

/// Which list of containers a family set covers.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Regular,
    Init,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Regular => "kube_pod_container",
            Kind::Init => "kube_pod_init_container",
        }
    }

    fn statuses(self, p: &Pod) -> &[ContainerStatus] {
        let st = p.status.as_ref();
        match self {
            Kind::Regular => st.and_then(|s| s.container_statuses.as_deref()),
            Kind::Init => st.and_then(|s| s.init_container_statuses.as_deref()),
        }
        .unwrap_or_default()
    }

    fn spec<'a>(self, p: &'a Pod, name: &str) -> Option<&'a Container> {
        let spec = p.spec.as_ref()?;
        match self {
            Kind::Regular => spec.containers.iter().find(|c| c.name == name),
            Kind::Init => spec
                .init_containers
                .as_ref()?
                .iter()
                .find(|c| c.name == name),
        }
    }
}

/// The container's previous termination, if it has one.
fn last_terminated(cs: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    cs.last_state.as_ref()?.terminated.as_ref()
}

/// Renders both container family sets.
pub fn render(s: &Snapshot, out: &mut MetricsWriter) {
    render_kind(s, out, Kind::Regular);
    render_kind(s, out, Kind::Init);
}

fn render_kind(s: &Snapshot, out: &mut MetricsWriter, kind: Kind) {
    let pods = &s.pods;
    let prefix = kind.prefix();
    let each = |out: &mut MetricsWriter,
                suffix: &str,
                help: &str,
                metric_kind: MetricKind,
                f: &dyn Fn(&Pod, &ContainerStatus) -> ContainerSamples| {
        let name = format!("{prefix}_{suffix}");
        let mut fam = out.family(&name, metric_kind, help);
        for p in pods {
            for cs in kind.statuses(p) {
                for (extra, v) in f(p, cs) {
                    let mut labels = vec![("container", cs.name.clone())];
                    labels.extend(extra);
                    let e: Vec<(&str, &str)> =
                        labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    put(&mut fam, &ident(p), &e, v);
                }
            }
        }
    };
    let g = MetricKind::Gauge;
    each(
        out,
        "info",
        "Information about a container in a pod.",
        g,
        &|p, cs| {
            let spec = kind.spec(p, &cs.name);
            let image_spec = spec
                .and_then(|c| c.image.clone())
                .unwrap_or_else(|| cs.image.clone());
            let mut labels = vec![
                ("image_spec", image_spec),
                ("image", cs.image.clone()),
                ("image_id", cs.image_id.clone()),
                ("container_id", cs.container_id.clone().unwrap_or_default()),
            ];
            if kind == Kind::Init {
                let policy = spec.and_then(|c| c.restart_policy.clone());
                labels.push(("restart_policy", policy.unwrap_or_default()));
            }
            vec![(labels, 1.0)]
        },
    );
    each(
        out,
        "status_ready",
        "Describes whether the containers readiness check succeeded.",
        g,
        &|_, cs| vec![(vec![], f64::from(u8::from(cs.ready)))],
    );
    for (suffix, which) in [
        ("status_running", 0),
        ("status_waiting", 1),
        ("status_terminated", 2),
    ] {
        each(
            out,
            suffix,
            "Describes whether the container is currently in this state.",
            g,
            &|_, cs| {
                let st = cs.state.as_ref();
                let set = match which {
                    0 => st.and_then(|s| s.running.as_ref()).is_some(),
                    1 => st.and_then(|s| s.waiting.as_ref()).is_some(),
                    _ => st.and_then(|s| s.terminated.as_ref()).is_some(),
                };
                vec![(vec![], f64::from(u8::from(set)))]
            },
        );
    }
    let reason = |r: &Option<String>| vec![(vec![("reason", r.clone().unwrap_or_default())], 1.0)];
    each(
        out,
        "status_waiting_reason",
        "Describes the reason the container is currently in waiting state.",
        g,
        &|_, cs| {
            let w = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
            w.map(|w| reason(&w.reason)).unwrap_or_default()
        },
    );
    each(
        out,
        "status_terminated_reason",
        "Describes the reason the container is currently in terminated state.",
        g,
        &|_, cs| {
            let t = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
            t.map(|t| reason(&t.reason)).unwrap_or_default()
        },
    );
    each(
        out,
        "status_last_terminated_reason",
        "Describes the last reason the container was in terminated state.",
        g,
        &|_, cs| {
            last_terminated(cs)
                .map(|t| reason(&t.reason))
                .unwrap_or_default()
        },
    );
    each(
        out,
        "status_restarts_total",
        "The number of container restarts per container.",
        MetricKind::Counter,
        &|_, cs| vec![(vec![], f64::from(cs.restart_count))],
    );
    if kind == Kind::Init {
        return;
    }
    each(
        out,
        "status_last_terminated_timestamp",
        "Last terminated time for a pod container in unix timestamp.",
        g,
        &|_, cs| {
            last_terminated(cs)
                .and_then(|t| t.finished_at.as_ref())
                .map(|t| vec![(vec![], ts(t))])
                .unwrap_or_default()
        },
    );
    each(
        out,
        "state_started",
        "Start time in unix timestamp for a pod container.",
        g,
        &|_, cs| {
            let st = cs.state.as_ref();
            st.and_then(|s| s.running.as_ref().and_then(|r| r.started_at.as_ref()))
                .or_else(|| {
                    st.and_then(|s| s.terminated.as_ref().and_then(|t| t.started_at.as_ref()))
                })
                .map(|t| vec![(vec![], ts(t))])
                .unwrap_or_default()
        },
    );
    each(
        out,
        "status_last_terminated_exitcode",
        "Describes the exit code for the last container in terminated state.",
        g,
        &|_, cs| {
            last_terminated(cs)
                .map(|t| vec![(vec![], f64::from(t.exit_code))])
                .unwrap_or_default()
        },
    );
}
