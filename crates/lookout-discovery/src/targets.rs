//! The contract between discovery and the scraper: complete target-group lists for one `kubernetes_sd_configs`
//! entry, as often as they change.

use std::future::Future;
use std::pin::Pin;

use lookout_model::TargetGroup;
use tokio::sync::mpsc;

use crate::config::KubernetesSdConfig;

/// What the scraper asks for: the target groups of one `kubernetes_sd_configs` entry.
pub trait KubernetesTargets: Send + Sync + 'static {
    /// Sends the complete list of target groups on every change until `tx` is closed or the future is dropped.
    fn run(
        &self,
        config: KubernetesSdConfig,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}
