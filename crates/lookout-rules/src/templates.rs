//! Prometheus's alert templates over `lookout-template`: `$labels`, `$value`, `$externalLabels`, `$externalURL`
//! and Prometheus's function library, with `query` answered by the PromQL engine at the evaluation time.

use std::collections::BTreeMap;
use std::sync::Arc;

use lookout_model::Labels;
use lookout_promql::{Engine, QueryContext, Value};
use lookout_storage::Storage;
use lookout_template::{
    AlertTemplateData, Functions, PromContext, QuerySample, expand_alert_template,
    parse_alert_template,
};

use crate::rule::Templates;

/// Prometheus's alert templates, querying `storage` through `engine`.
pub struct PromTemplates {
    storage: Arc<dyn Storage>,
    engine: Arc<Engine>,
    external_labels: BTreeMap<String, String>,
    external_url: String,
    checking: Functions,
}

impl PromTemplates {
    /// Templates with these external labels and URL.
    pub fn new(
        storage: Arc<dyn Storage>,
        engine: Arc<Engine>,
        external_labels: BTreeMap<String, String>,
        external_url: String,
    ) -> PromTemplates {
        let checking = Functions::prometheus(PromContext {
            external_url: external_url.clone(),
            ..PromContext::default()
        });
        PromTemplates {
            storage,
            engine,
            external_labels,
            external_url,
            checking,
        }
    }
}

impl Templates for PromTemplates {
    fn expand(
        &self,
        text: &str,
        labels: &Labels,
        value: f64,
        eval_ms: i64,
    ) -> Result<String, String> {
        if !text.contains("{{") {
            return Ok(text.to_string());
        }
        let storage = self.storage.clone();
        let engine = self.engine.clone();
        let query = Arc::new(move |q: &str| -> Result<Vec<QuerySample>, String> {
            let out = engine
                .instant_query(&*storage, q, eval_ms, &QueryContext::default())
                .map_err(|e| e.to_string())?;
            let samples = match out.value {
                Value::Vector(v) => v
                    .into_iter()
                    .map(|s| QuerySample {
                        labels: s
                            .labels
                            .iter()
                            .map(|l| (l.name.to_string(), l.value.to_string()))
                            .collect(),
                        value: s.v,
                    })
                    .collect(),
                Value::Scalar { v, .. } => vec![QuerySample {
                    labels: BTreeMap::new(),
                    value: v,
                }],
                other => return Err(format!("query {q:?} returned a {}", other.type_name())),
            };
            Ok(samples)
        });
        let funcs = Functions::prometheus(PromContext {
            query: Some(query),
            external_url: self.external_url.clone(),
            eval_time_ms: eval_ms,
        });
        let data = AlertTemplateData {
            labels: labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect(),
            external_labels: self.external_labels.clone(),
            external_url: self.external_url.clone(),
            value,
        };
        expand_alert_template(text, &data, &funcs).map_err(|e| e.to_string())
    }

    fn check(&self, text: &str) -> Result<(), String> {
        parse_alert_template(text, &self.checking).map_err(|e| e.to_string())
    }
}

/// Checks an alert template with Prometheus's function set, without a store (`lookout check rules`).
pub fn check_alert_template(text: &str) -> Result<(), String> {
    let funcs = Functions::prometheus(PromContext::default());
    parse_alert_template(text, &funcs).map_err(|e| e.to_string())
}
