//! The checker catches what it claims to: each test breaks one thing in a shipped dashboard and expects exactly
//! that finding, after checking that the untouched dashboard passes (so nothing passes vacuously).

mod support;

use lookout_dashboards::check::{self, Problem};
use serde_json::Value;

fn shipped(file: &str) -> Value {
    let (_, json) = lookout_dashboards::files()
        .iter()
        .find(|(f, _)| *f == file)
        .unwrap_or_else(|| panic!("{file} is shipped"));
    serde_json::from_str(json).expect("shipped JSON parses")
}

fn problems(file: &str, v: &Value) -> Vec<Problem> {
    check::check_dashboard(file, &v.to_string(), &support::parsers()).problems
}

/// The first panel (rows included, depth first) with a target whose data source type is `kind`.
fn first_target_of<'a>(v: &'a mut Value, kind: &str) -> &'a mut Value {
    fn find<'a>(panels: &'a mut [Value], kind: &str) -> Option<&'a mut Value> {
        for p in panels.iter_mut() {
            if p["datasource"]["type"] == kind && p["targets"].is_array() {
                return p["targets"].get_mut(0);
            }
            if let Some(nested) = p.get_mut("panels").and_then(Value::as_array_mut)
                && let Some(t) = find(nested, kind)
            {
                return Some(t);
            }
        }
        None
    }
    let panels = v["panels"].as_array_mut().expect("panels");
    find(panels, kind).unwrap_or_else(|| panic!("a {kind} target"))
}

fn baseline(file: &str) -> Value {
    let v = shipped(file);
    assert_eq!(problems(file, &v), vec![], "{file} must pass untouched");
    v
}

fn expect_one(found: Vec<Problem>, needle: &str) {
    assert!(
        found.iter().any(|p| p.message.contains(needle)),
        "expected a problem containing {needle:?}, got {found:#?}"
    );
}

#[test]
fn an_unknown_panel_type_is_caught() {
    let mut v = baseline("lookout.json");
    v["panels"][1]["type"] = Value::from("graph");
    expect_one(
        problems("lookout.json", &v),
        "panel type \"graph\" is not one of",
    );
}

#[test]
fn an_unknown_panel_type_inside_a_row_is_caught() {
    let mut v = baseline("lookout.json");
    let row = v["panels"]
        .as_array_mut()
        .expect("panels")
        .iter_mut()
        .find(|p| p["type"] == "row" && p["panels"].as_array().is_some_and(|n| !n.is_empty()))
        .expect("lookout.json has a collapsed row with panels");
    row["panels"][0]["type"] = Value::from("piechart");
    expect_one(
        problems("lookout.json", &v),
        "panel type \"piechart\" is not one of",
    );
}

#[test]
fn a_bad_promql_expression_is_caught() {
    let mut v = baseline("lookout.json");
    first_target_of(&mut v, "prometheus")["expr"] =
        Value::from("sum(rate(lookout_tsdb_head_series[$__rate_interval])");
    expect_one(problems("lookout.json", &v), "PromQL does not parse");
}

#[test]
fn a_bad_logql_expression_is_caught() {
    let mut v = baseline("logs.json");
    first_target_of(&mut v, "loki")["expr"] = Value::from("{job=~\"$job\"} |= ");
    expect_one(problems("logs.json", &v), "LogQL does not parse");
}

#[test]
fn a_logql_selector_matching_everything_is_caught_by_the_logql_parser() {
    let mut v = baseline("logs.json");
    first_target_of(&mut v, "loki")["expr"] = Value::from("{job=~\".*\"}");
    expect_one(problems("logs.json", &v), "LogQL does not parse");
}

#[test]
fn a_promql_query_sent_to_loki_is_caught() {
    let mut v = baseline("logs.json");
    let t = first_target_of(&mut v, "loki");
    t["expr"] = Value::from("sum by (job) (rate(lookout_logs_entries_total[$__rate_interval]))");
    expect_one(problems("logs.json", &v), "LogQL does not parse");
}

#[test]
fn a_missing_datasource_variable_is_caught() {
    let mut v = baseline("host.json");
    let list = v["templating"]["list"]
        .as_array_mut()
        .expect("templating.list");
    list.retain(|var| var["type"] != "datasource");
    let found = problems("host.json", &v);
    expect_one(found.clone(), "no data source variable");
    expect_one(found, "is not a data source variable");
}

#[test]
fn an_unknown_template_variable_is_caught() {
    let mut v = baseline("host.json");
    first_target_of(&mut v, "prometheus")["expr"] =
        Value::from("up{instance=\"$no_such_variable\"}");
    expect_one(
        problems("host.json", &v),
        "unknown template variable $no_such_variable",
    );
}

#[test]
fn a_unit_outside_the_list_and_a_fixed_range_are_caught() {
    let mut v = baseline("host.json");
    let panel = v["panels"]
        .as_array_mut()
        .expect("panels")
        .iter_mut()
        .find(|p| p["type"] == "timeseries")
        .expect("a timeseries panel");
    panel["fieldConfig"]["defaults"]["unit"] = Value::from("furlongs");
    panel["targets"][0]["expr"] = Value::from("rate(node_cpu_seconds_total[5m])");
    let found = problems("host.json", &v);
    expect_one(
        found.clone(),
        "unit \"furlongs\" is not in the documented list",
    );
    expect_one(found, "fixed range [5m]");
}

#[test]
fn a_broken_link_and_a_duplicate_uid_are_caught_across_files() {
    let mut host = shipped("host.json");
    host["links"]
        .as_array_mut()
        .expect("links")
        .push(serde_json::json!({"type": "link", "title": "gone", "url": "/d/no-such-uid"}));
    let mut copy = shipped("kubernetes.json");
    copy["uid"] = shipped("host.json")["uid"].clone();
    copy["title"] = Value::from("Another title");
    let (h, c) = (host.to_string(), copy.to_string());
    let report = check::check_all(&[("host.json", &h), ("copy.json", &c)], &support::parsers());
    expect_one(
        report.problems.clone(),
        "/d/no-such-uid is not a shipped dashboard",
    );
    expect_one(report.problems, "also used by host.json");
}

#[test]
fn a_file_that_is_not_json_is_caught() {
    let found = check::check_dashboard("x.json", "{\"uid\": ", &support::parsers()).problems;
    expect_one(found, "not JSON");
}
