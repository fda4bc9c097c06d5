//! The HTTP client settings of a monitor endpoint (path, scheme, params, intervals, credentials from Secrets, TLS
//! files) and its relabel rules, in Prometheus's scrape-config YAML.

use serde_json::{Map, Value, json};

use super::spec::{Endpoint, RelabelRule, SecretOrConfigMap};
use super::{MonitorError, SecretSource};

/// A relabel rule from a monitor, in Prometheus's YAML form (actions lower-cased).
pub(super) fn user_rule(r: &RelabelRule) -> Value {
    let mut m = Map::new();
    if !r.source_labels.is_empty() {
        m.insert("source_labels".into(), json!(r.source_labels));
    }
    if let Some(v) = &r.separator {
        m.insert("separator".into(), json!(v));
    }
    if let Some(v) = &r.target_label {
        m.insert("target_label".into(), json!(v));
    }
    if let Some(v) = &r.regex {
        m.insert("regex".into(), json!(v));
    }
    if let Some(v) = r.modulus {
        m.insert("modulus".into(), json!(v));
    }
    if let Some(v) = &r.replacement {
        m.insert("replacement".into(), json!(v));
    }
    let action = r
        .action
        .clone()
        .unwrap_or_else(|| "replace".into())
        .to_lowercase();
    m.insert("action".into(), json!(action));
    Value::Object(m)
}

/// The monitor being turned into jobs, for error messages and Secret reads.
pub(super) struct Ctx<'a> {
    pub(super) kind: &'static str,
    pub(super) namespace: &'a str,
    pub(super) name: &'a str,
    pub(super) secrets: &'a dyn SecretSource,
}

impl Ctx<'_> {
    pub(super) fn err(&self, field: String, reason: String) -> MonitorError {
        MonitorError {
            kind: self.kind,
            namespace: self.namespace.to_string(),
            name: self.name.to_string(),
            field,
            reason,
        }
    }

    fn secret(
        &self,
        field: &str,
        sel: &super::spec::SecretKeySelector,
    ) -> Result<String, MonitorError> {
        self.secrets
            .secret_value(self.namespace, &sel.name, &sel.key)
            .map_err(|e| self.err(field.to_string(), e))
    }

    fn tls_file(&self, field: &str, src: &SecretOrConfigMap) -> Result<String, MonitorError> {
        match (&src.secret, &src.config_map) {
            (Some(s), _) => self
                .secrets
                .write_tls_file(self.namespace, &s.name, &s.key)
                .map_err(|e| self.err(field.to_string(), e)),
            (None, Some(_)) => Err(self.err(
                field.to_string(),
                "ConfigMap references are not supported; use a Secret".into(),
            )),
            (None, None) => Err(self.err(
                field.to_string(),
                "names neither a Secret nor a ConfigMap".into(),
            )),
        }
    }

    /// HTTP settings, limits and common fields of one endpoint's job.
    pub(super) fn http_fields(
        &self,
        job: &mut Map<String, Value>,
        ep: &Endpoint,
        at: &str,
    ) -> Result<(), MonitorError> {
        if let Some(p) = &ep.path {
            job.insert("metrics_path".into(), json!(p));
        }
        if let Some(s) = &ep.scheme {
            job.insert("scheme".into(), json!(s.to_lowercase()));
        }
        if !ep.params.is_empty() {
            job.insert("params".into(), json!(ep.params));
        }
        if let Some(v) = &ep.interval {
            job.insert("scrape_interval".into(), json!(v));
        }
        if let Some(v) = &ep.scrape_timeout {
            job.insert("scrape_timeout".into(), json!(v));
        }
        job.insert(
            "honor_labels".into(),
            json!(ep.honor_labels.unwrap_or(false)),
        );
        if let Some(v) = ep.honor_timestamps {
            job.insert("honor_timestamps".into(), json!(v));
        }
        if let Some(b) = &ep.basic_auth {
            let user = match &b.username {
                Some(u) => self.secret(&format!("{at}.basicAuth.username"), u)?,
                None => String::new(),
            };
            let pass = match &b.password {
                Some(p) => self.secret(&format!("{at}.basicAuth.password"), p)?,
                None => String::new(),
            };
            job.insert(
                "basic_auth".into(),
                json!({"username": user, "password": pass}),
            );
        }
        if let Some(a) = &ep.authorization {
            let mut auth = Map::new();
            auth.insert(
                "type".into(),
                json!(a.kind.clone().unwrap_or_else(|| "Bearer".into())),
            );
            if let Some(c) = &a.credentials {
                auth.insert(
                    "credentials".into(),
                    json!(self.secret(&format!("{at}.authorization.credentials"), c)?),
                );
            }
            job.insert("authorization".into(), Value::Object(auth));
        } else if let Some(t) = &ep.bearer_token_secret {
            let token = self.secret(&format!("{at}.bearerTokenSecret"), t)?;
            job.insert(
                "authorization".into(),
                json!({"type": "Bearer", "credentials": token}),
            );
        }
        if let Some(t) = &ep.tls_config {
            let mut tls = Map::new();
            if let Some(ca) = &t.ca {
                tls.insert(
                    "ca_file".into(),
                    json!(self.tls_file(&format!("{at}.tlsConfig.ca"), ca)?),
                );
            }
            if let Some(cert) = &t.cert {
                tls.insert(
                    "cert_file".into(),
                    json!(self.tls_file(&format!("{at}.tlsConfig.cert"), cert)?),
                );
            }
            if let Some(k) = &t.key_secret {
                let path = self
                    .secrets
                    .write_tls_file(self.namespace, &k.name, &k.key)
                    .map_err(|e| self.err(format!("{at}.tlsConfig.keySecret"), e))?;
                tls.insert("key_file".into(), json!(path));
            }
            if let Some(s) = &t.server_name {
                tls.insert("server_name".into(), json!(s));
            }
            if t.insecure_skip_verify {
                tls.insert("insecure_skip_verify".into(), json!(true));
            }
            job.insert("tls_config".into(), Value::Object(tls));
        }
        if !ep.metric_relabelings.is_empty() {
            job.insert(
                "metric_relabel_configs".into(),
                Value::Array(ep.metric_relabelings.iter().map(user_rule).collect()),
            );
        }
        Ok(())
    }
}
