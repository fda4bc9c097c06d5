//! The collectors of one `/pve` request, run one after another in upstream's order: the cluster collectors
//! (status, resources, node, cluster, version, backup-info, qdevice) when `cluster` is on, then the node
//! collectors (subscription, config, replication) for the node answering the API when `node` is on.
//!
//! Upstream fetches `/cluster/status` once per collector; here it is fetched once per collection and shared,
//! which gives the same series with fewer calls and one consistent view.

mod cluster;
mod node;
mod resources;

use serde_json::Value;

use crate::api::{ApiError, PveApi};
use crate::config::CollectorSwitches;
use crate::families::Family;
use crate::json::{Object, ShapeError, object_list, required, truthy};

/// Why a collection produced nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// An API call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A reply lacks a key or has the wrong shape.
    #[error(transparent)]
    Shape(#[from] ShapeError),
}

/// Which collector groups run for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gates {
    /// Cluster-wide collectors.
    pub cluster: bool,
    /// Node collectors for the node answering the API.
    pub node: bool,
}

/// One collection's API access with `/cluster/status` fetched at most once.
pub(crate) struct Session<'a> {
    api: &'a PveApi,
    status: Option<Value>,
}

impl<'a> Session<'a> {
    pub(crate) fn new(api: &'a PveApi) -> Self {
        Session { api, status: None }
    }

    pub(crate) async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        self.api.get(segments, query).await
    }

    /// The `/cluster/status` entries (copies: the list is a few entries per node).
    pub(crate) async fn cluster_status(&mut self) -> Result<Vec<Object>, CollectError> {
        if self.status.is_none() {
            self.status = Some(self.api.get(&["cluster", "status"], &[]).await?);
        }
        let data = self.status.as_ref().unwrap_or(&Value::Null);
        Ok(object_list(data, "/cluster/status")?
            .into_iter()
            .cloned()
            .collect())
    }

    /// The `name` of the `/cluster/status` node entry marked `local`: the node behind the target.
    pub(crate) async fn local_node(&mut self) -> Result<String, CollectError> {
        for entry in self.cluster_status().await? {
            let kind = required(&entry, "type", "/cluster/status entry")?;
            let local = entry.get("local").is_some_and(truthy);
            if kind == "node" && local {
                let name = required(&entry, "name", "/cluster/status node entry")?;
                return Ok(crate::json::py_str(name));
            }
        }
        Err(ShapeError::Unexpected {
            what: "/cluster/status".to_string(),
            reason: "no node entry has local=1, so the node collectors have no node to query"
                .to_string(),
        }
        .into())
    }
}

/// Runs the enabled collectors and returns their families in upstream's order.
pub async fn collect(
    api: &PveApi,
    gates: Gates,
    switches: &CollectorSwitches,
) -> Result<Vec<Family>, CollectError> {
    let mut session = Session::new(api);
    let mut families = Vec::new();
    if gates.cluster {
        if switches.status {
            families.extend(cluster::status(&mut session).await?);
        }
        if switches.resources {
            families.extend(resources::resources(&session).await?);
        }
        if switches.node {
            families.extend(cluster::node_info(&mut session).await?);
        }
        if switches.cluster {
            families.extend(cluster::cluster_info(&mut session).await?);
        }
        if switches.version {
            families.extend(cluster::version(&session).await?);
        }
        if switches.backup_info {
            families.extend(cluster::backup_info(&mut session).await?);
        }
        if switches.qdevice {
            families.extend(cluster::qdevice(&mut session).await?);
        }
    }
    if gates.node {
        if switches.subscription {
            families.extend(node::subscription(&mut session).await?);
        }
        if switches.config {
            families.extend(node::onboot(&mut session).await?);
        }
        if switches.replication {
            families.extend(node::replication(&mut session).await?);
        }
    }
    Ok(families)
}
