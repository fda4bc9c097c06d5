//! Redaction of a configuration file for `/api/v1/status/config`, as Prometheus shows it: every secret value
//! (passwords, credentials, tokens, client secrets, inline private keys, password hashes) becomes `<secret>`,
//! and the password of a URL's user information becomes `xxxxx` (Go's `url.Redacted`). It works on the YAML
//! tree by key name rather than on typed structs, so sections kept as free-form YAML (alerting, notifications)
//! and sections added later are covered too; file names (`*_file`) stay visible, as in Prometheus.

use serde_yaml_ng::Value;

use crate::secret::REDACTED;

/// Keys whose values are secrets wherever they appear.
const SECRET_KEYS: &[&str] = &[
    "password",
    "password_hash",
    "credentials",
    "client_secret",
    "bearer_token",
    "token",
    "token_value",
    "secret",
    "secret_key",
    "api_key",
    "auth_token",
    "key",
    "private_key",
    "access_key",
    "webhook_url",
    "api_url_secret",
    "routing_key",
    "service_key",
];

/// The text of a configuration file with its secrets redacted (re-serialised, so comments are gone, as in
/// Prometheus). Text that is not YAML is not shown at all, since it cannot be redacted safely.
pub fn redact_config_yaml(text: &str) -> String {
    match serde_yaml_ng::from_str::<Value>(text) {
        Ok(mut v) => {
            redact_value(&mut v);
            serde_yaml_ng::to_string(&v)
                .unwrap_or_else(|e| format!("# the configuration could not be shown: {e}\n"))
        }
        Err(e) => format!("# the configuration could not be shown: {e}\n"),
    }
}

/// Keys whose list items hold a `url` that is itself a secret: a webhook's URL often carries its token, so
/// Alertmanager treats it as secret.
const SECRET_URL_LISTS: &[&str] = &["webhook_configs"];

/// Redacts `v` in place.
pub fn redact_value(v: &mut Value) {
    redact_in(v, false);
}

/// Redacts `v`; `url_is_secret` for the items of a [`SECRET_URL_LISTS`] list.
fn redact_in(v: &mut Value, url_is_secret: bool) {
    match v {
        Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                let key = k.as_str();
                let secret =
                    key.is_some_and(is_secret_key) || (url_is_secret && key == Some("url"));
                if secret && !matches!(val, Value::Null) && !is_empty_string(val) {
                    *val = Value::String(REDACTED.to_string());
                } else if key == Some("http_headers") || key == Some("proxy_connect_header") {
                    redact_headers(val);
                } else if key.is_some_and(|k| SECRET_URL_LISTS.contains(&k)) {
                    match val {
                        Value::Sequence(items) => items.iter_mut().for_each(|i| redact_in(i, true)),
                        other => redact_value(other),
                    }
                } else {
                    redact_value(val);
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(redact_value),
        Value::String(s) => {
            if let Some(r) = redact_url_password(s) {
                *s = r;
            }
        }
        Value::Tagged(t) => redact_in(&mut t.value, url_is_secret),
        _ => {}
    }
}

fn is_secret_key(k: &str) -> bool {
    SECRET_KEYS.contains(&k)
}

fn is_empty_string(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_empty())
}

/// Prometheus's `http_headers`: `{Name: {values: [...], secrets: [...], files: [...]}}`; `secrets` are hidden.
/// `proxy_connect_header` values are secrets as a whole.
fn redact_headers(v: &mut Value) {
    let Value::Mapping(m) = v else {
        return redact_value(v);
    };
    for (_, header) in m.iter_mut() {
        match header {
            Value::Mapping(h) => {
                for (k, val) in h.iter_mut() {
                    if k.as_str() == Some("secrets") {
                        hide_all(val);
                    }
                }
            }
            other => hide_all(other),
        }
    }
}

fn hide_all(v: &mut Value) {
    match v {
        Value::Sequence(s) => s.iter_mut().for_each(hide_all),
        Value::Null => {}
        other => *other = Value::String(REDACTED.to_string()),
    }
}

/// `scheme://user:password@host/…` → `scheme://user:xxxxx@host/…`; `None` when there is no password.
fn redact_url_password(s: &str) -> Option<String> {
    let scheme_end = s.find("://")?;
    let scheme = &s[..scheme_end];
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let rest = &s[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    Some(format!(
        "{}://{}:xxxxx{}",
        scheme,
        &userinfo[..colon],
        &rest[at..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_files_are_not() {
        let text = r#"
scrape_configs:
  - job_name: a
    basic_auth: {username: u, password: hunter2}
    authorization: {credentials: tok-123}
    oauth2: {client_id: c, client_secret: s3cr3t, token_url: "https://idp/token"}
    tls_config: {key_file: /k.pem, cert_file: /c.pem}
    http_headers:
      X-Api: {values: [visible], secrets: [hidden-1]}
remote_write:
  - url: "https://writer:pa55@mimir.example/api/v1/push"
    bearer_token: bt
    basic_auth: {username: u, password_file: /run/secret}
auth:
  users: {grafana: {roles: [read], password_hash: "$2y$10$abcdefghijklmnopqrstuv"}}
  tokens: [{name: t, token: inline-token, roles: [write]}]
collectors:
  proxmox:
    modules: [{name: pve, user: root@pam, token_name: mon, token_value: 1234-5678}]
notifications:
  receivers:
    - name: chat
      webhook_configs: [{url: "https://chat.example/hooks/T0K3N"}]
empty: {password: ""}
"#;
        let out = redact_config_yaml(text);
        for secret in [
            "hunter2",
            "tok-123",
            "s3cr3t",
            "hidden-1",
            "pa55",
            "bt",
            "abcdefghijklmnopqrstuv",
            "inline-token",
            "1234-5678",
            "T0K3N",
        ] {
            assert!(!out.contains(secret), "{secret} shown in:\n{out}");
        }
        for visible in [
            "/k.pem",
            "/run/secret",
            "visible",
            "writer:xxxxx@mimir.example/api/v1/push",
            "username: u",
            "https://idp/token",
        ] {
            assert!(out.contains(visible), "{visible} missing from:\n{out}");
        }
        assert!(out.contains("<secret>"));
        assert!(
            out.contains("password: ''") || out.contains("password: \"\""),
            "{out}"
        );
    }

    #[test]
    fn urls_without_passwords_are_unchanged() {
        assert_eq!(redact_url_password("http://host:9090/x"), None);
        assert_eq!(redact_url_password("http://user@host/x"), None);
        assert_eq!(
            redact_url_password("http://u:p@h:1/?q=a@b").as_deref(),
            Some("http://u:xxxxx@h:1/?q=a@b")
        );
        assert!(
            redact_config_yaml(": not yaml [")
                .starts_with("# the configuration could not be shown")
        );
    }
}
