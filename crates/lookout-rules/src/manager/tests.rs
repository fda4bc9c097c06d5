//! The scheduler: a slow group misses its slots (counted) while a fast group keeps its own.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use lookout_model::Labels;
use lookout_promql::{Engine, EngineOptions};
use lookout_storage::Storage;
use lookout_storage::mem::MemStorage;

use super::*;
use crate::file::{GroupSpec, RuleFile, RuleKind, RuleSpec};

/// Expanding the text `slow` takes 2.5 s; anything else is returned as is.
struct SlowTemplates;

impl Templates for SlowTemplates {
    fn expand(&self, text: &str, _: &Labels, _: f64, _: i64) -> Result<String, String> {
        if text == "slow" {
            std::thread::sleep(Duration::from_millis(2500));
        }
        Ok(text.to_string())
    }
    fn check(&self, _: &str) -> Result<(), String> {
        Ok(())
    }
}

struct Blocking;

impl Executor for Blocking {
    fn run(&self, job: Box<dyn FnOnce() + Send>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            let _ = tokio::task::spawn_blocking(job).await;
        })
    }
}

struct Discard;

impl NotifySink for Discard {
    fn notify(&self, _: Vec<Notification>) {}
}

fn group(name: &str, kind: RuleKind, annotation: Option<&str>) -> GroupSpec {
    GroupSpec {
        name: name.into(),
        interval: Some(Duration::from_secs(1)),
        query_offset: None,
        limit: 0,
        labels: BTreeMap::new(),
        rules: vec![RuleSpec {
            kind,
            name: if kind == RuleKind::Alerting {
                "A".into()
            } else {
                "r:one".into()
            },
            expr: "vector(1)".into(),
            hold: Duration::ZERO,
            keep_firing_for: Duration::ZERO,
            labels: BTreeMap::new(),
            annotations: annotation
                .map(|a| [("summary".to_string(), a.to_string())].into())
                .unwrap_or_default(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_group_does_not_delay_the_others() {
    let storage: Arc<dyn Storage> = Arc::new(MemStorage::new());
    let m = RuleManager::new(
        storage,
        Arc::new(Engine::new(EngineOptions::default())),
        Arc::new(SlowTemplates),
        Arc::new(Blocking),
        Arc::new(Discard),
        ManagerOptions::default(),
    );
    let file = RuleFile {
        path: "t.yml".into(),
        groups: vec![
            group("slow", RuleKind::Alerting, Some("slow")),
            group("fast", RuleKind::Recording, None),
        ],
    };
    let m2 = m.clone();
    tokio::task::spawn_blocking(move || m2.update(vec![file]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(6500)).await;
    let groups = m.groups();
    m.stop();
    let by_name = |n: &str| groups.iter().find(|g| g.name == n).unwrap().counters;
    let (slow, fast) = (by_name("slow"), by_name("fast"));
    assert!(
        fast.evaluations >= 4,
        "the fast group kept its 1 s slots: {fast:?}"
    );
    assert_eq!(fast.missed, 0, "{fast:?}");
    assert!(
        slow.missed >= 2,
        "the slow group's 2.5 s evaluations miss slots, counted: {slow:?}"
    );
    assert!(slow.evaluations < fast.evaluations, "{slow:?} {fast:?}");
}
