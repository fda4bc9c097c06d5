//! `/api/v1/rules`, `/api/v1/alerts` and `/api/v1/alertmanagers` in Prometheus's shapes (Grafana's alert list and
//! its data-source-managed rule views read them).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::Response;
use lookout_model::Matcher;
use lookout_rules::{Alert, AlertState, Group, Rule, RuleKind};

use crate::ApiState;
use crate::error::ApiError;
use crate::format::{rfc3339, write_json_str, write_labels};
use crate::params::parse_match;
use crate::respond::{read_params, success};

/// What the rules engine shows the API.
pub trait RuleStatus: Send + Sync {
    /// Every group, in file order, as of their last evaluation.
    fn groups(&self) -> Vec<Group>;
    /// Alertmanager URLs alerts are sent to, and those relabeling dropped.
    fn alertmanagers(&self) -> (Vec<String>, Vec<String>);
}

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time_or_zero(ms: i64) -> String {
    if ms == 0 {
        ZERO_TIME.into()
    } else {
        rfc3339(ms)
    }
}

fn write_map(s: &mut String, m: &BTreeMap<String, String>) {
    s.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        write_json_str(s, k);
        s.push(':');
        write_json_str(s, v);
    }
    s.push('}');
}

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: the alert value form Prometheus uses (`1e+00`, `4.2e+01`).
fn value_e(v: f64) -> String {
    if let Some(s) = crate::format::non_finite(v) {
        return s.into();
    }
    let s = format!("{v:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

fn write_alert(s: &mut String, a: &Alert) {
    s.push_str(r#"{"labels":"#);
    write_labels(s, &a.labels);
    s.push_str(r#","annotations":"#);
    write_map(s, &a.annotations);
    s.push_str(r#","state":"#);
    write_json_str(s, a.state.as_str());
    s.push_str(r#","activeAt":"#);
    write_json_str(s, &rfc3339(a.active_at));
    if a.keep_firing_since != 0 {
        s.push_str(r#","keepFiringSince":"#);
        write_json_str(s, &rfc3339(a.keep_firing_since));
    }
    s.push_str(r#","value":"#);
    write_json_str(s, &value_e(a.value));
    s.push('}');
}

fn active(rule: &Rule) -> impl Iterator<Item = &Alert> {
    rule.alerts
        .alerts
        .values()
        .filter(|a| a.state != AlertState::Inactive)
}

fn write_rule(s: &mut String, r: &Rule, with_alerts: bool) {
    let alerting = r.spec.kind == RuleKind::Alerting;
    s.push_str(if alerting {
        r#"{"type":"alerting","state":"#
    } else {
        r#"{"type":"recording""#
    });
    if alerting {
        write_json_str(s, r.state().as_str());
    }
    s.push_str(r#","name":"#);
    write_json_str(s, &r.spec.name);
    s.push_str(r#","query":"#);
    let query = lookout_promql::format_query(&r.spec.expr).unwrap_or_else(|_| r.spec.expr.clone());
    write_json_str(s, &query);
    if alerting {
        s.push_str(&format!(
            r#","duration":{},"keepFiringFor":{}"#,
            r.spec.hold.as_secs_f64(),
            r.spec.keep_firing_for.as_secs_f64()
        ));
    }
    s.push_str(r#","labels":"#);
    write_map(s, &r.spec.labels);
    if alerting {
        s.push_str(r#","annotations":"#);
        write_map(s, &r.spec.annotations);
        s.push_str(r#","alerts":"#);
        if with_alerts {
            s.push('[');
            for (i, a) in active(r).enumerate() {
                if i > 0 {
                    s.push(',');
                }
                write_alert(s, a);
            }
            s.push(']');
        } else {
            s.push_str("null");
        }
    }
    s.push_str(r#","health":"#);
    write_json_str(s, r.health.as_str());
    if !r.last_error.is_empty() {
        s.push_str(r#","lastError":"#);
        write_json_str(s, &r.last_error);
    }
    s.push_str(&format!(
        r#","evaluationTime":{},"lastEvaluation":"#,
        r.evaluation_time.as_secs_f64()
    ));
    write_json_str(s, &time_or_zero(r.last_evaluation));
    s.push('}');
}

fn rule_status(state: &ApiState) -> Result<&dyn RuleStatus, ApiError> {
    state
        .services
        .rules
        .as_deref()
        .ok_or_else(|| ApiError::unavailable("rule evaluation is not running"))
}

/// `GET /api/v1/rules` (`type`, `rule_name[]`, `rule_group[]`, `file[]`, `exclude_alerts`, `match[]`).
pub async fn rules(
    State(state): State<ApiState>,
    req: Request<Body>,
) -> Result<Response, ApiError> {
    let p = read_params(&state, req).await?;
    let kind = match p.get("type") {
        None | Some("") => None,
        Some("alert") => Some(RuleKind::Alerting),
        Some("record") => Some(RuleKind::Recording),
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid query parameter type='{other}', must be one of 'alert' or 'record'"
            )));
        }
    };
    let names = p.get_all("rule_name[]");
    let groups_wanted = p.get_all("rule_group[]");
    let files = p.get_all("file[]");
    let exclude_alerts = match p.get("exclude_alerts") {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid query parameter exclude_alerts='{other}', must be true or false"
            )));
        }
    };
    let matcher_sets: Vec<Vec<Matcher>> = p
        .get_all("match[]")
        .into_iter()
        .map(parse_match)
        .collect::<Result<_, _>>()?;
    let keep_rule = |r: &Rule| {
        kind.is_none_or(|k| k == r.spec.kind)
            && (names.is_empty() || names.contains(&r.spec.name.as_str()))
            && (matcher_sets.is_empty()
                || matcher_sets.iter().any(|set| {
                    set.iter()
                        .all(|m| m.matches(r.spec.labels.get(&m.name).map_or("", String::as_str)))
                }))
    };
    let mut s = String::from(r#"{"groups":["#);
    let mut first = true;
    for g in rule_status(&state)?.groups() {
        if !groups_wanted.is_empty() && !groups_wanted.contains(&g.name.as_str()) {
            continue;
        }
        if !files.is_empty() && !files.contains(&g.file.as_str()) {
            continue;
        }
        let rules: Vec<&Rule> = g.rules.iter().filter(|r| keep_rule(r)).collect();
        if rules.is_empty() && (kind.is_some() || !names.is_empty() || !matcher_sets.is_empty()) {
            continue;
        }
        if !first {
            s.push(',');
        }
        first = false;
        s.push_str(r#"{"name":"#);
        write_json_str(&mut s, &g.name);
        s.push_str(r#","file":"#);
        write_json_str(&mut s, &g.file);
        s.push_str(r#","rules":["#);
        for (i, r) in rules.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_rule(&mut s, r, !exclude_alerts);
        }
        s.push_str(&format!(
            r#"],"interval":{},"limit":{},"evaluationTime":{},"lastEvaluation":"#,
            g.interval.as_secs_f64(),
            g.limit,
            g.evaluation_time.as_secs_f64()
        ));
        write_json_str(&mut s, &time_or_zero(g.last_evaluation));
        s.push('}');
    }
    s.push_str("]}");
    Ok(success(&s, &Vec::new(), &[]))
}

/// `GET /api/v1/alerts`: every pending and firing alert.
pub async fn alerts(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let mut s = String::from(r#"{"alerts":["#);
    let mut first = true;
    for g in rule_status(&state)?.groups() {
        for r in &g.rules {
            for a in active(r) {
                if !first {
                    s.push(',');
                }
                first = false;
                write_alert(&mut s, a);
            }
        }
    }
    s.push_str("]}");
    Ok(success(&s, &Vec::new(), &[]))
}

/// `GET /api/v1/alertmanagers`.
pub async fn alertmanagers(State(state): State<ApiState>) -> Result<Response, ApiError> {
    let (active, dropped) = rule_status(&state)?.alertmanagers();
    let list = |s: &mut String, urls: &[String]| {
        s.push('[');
        for (i, u) in urls.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(r#"{"url":"#);
            write_json_str(s, u);
            s.push('}');
        }
        s.push(']');
    };
    let mut s = String::from(r#"{"activeAlertmanagers":"#);
    list(&mut s, &active);
    s.push_str(r#","droppedAlertmanagers":"#);
    list(&mut s, &dropped);
    s.push('}');
    Ok(success(&s, &Vec::new(), &[]))
}

#[cfg(test)]
mod tests {
    use super::value_e;

    #[test]
    fn alert_values_print_as_go_e_format() {
        assert_eq!(value_e(1.0), "1e+00");
        assert_eq!(value_e(42.0), "4.2e+01");
        assert_eq!(value_e(0.000123), "1.23e-04");
        assert_eq!(value_e(1e100), "1e+100");
        assert_eq!(value_e(f64::NAN), "NaN");
        assert_eq!(value_e(f64::NEG_INFINITY), "-Inf");
        assert_eq!(value_e(0.0), "0e+00");
    }
}
