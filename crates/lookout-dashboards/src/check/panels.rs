//! Panels (rows and the panels nested in them): type, id, layout, data source reference, targets, units and
//! overrides. Every target's query is expanded and handed to the parser of the language its data source speaks.

use std::collections::BTreeSet;

use serde_json::Value;

use super::variables::Templating;
use super::vocabulary::{OVERRIDE_MATCHERS, PANEL_TYPES, UNITS};
use super::{Ctx, Language, Parsers, scan, template};

/// Checks a `datasource` reference: `{"type": "prometheus"|"loki", "uid": "${<datasource variable>}"}` where the
/// variable's `query` is that same type. Returns the language the data source speaks.
pub(crate) fn datasource_language(
    ctx: &mut Ctx,
    loc: &str,
    ds: Option<&Value>,
    t: &Templating,
) -> Option<Language> {
    let Some(ds) = ds.filter(|d| d.is_object()) else {
        ctx.problem(loc, "no datasource object");
        return None;
    };
    let kind = ds.get("type").and_then(Value::as_str).unwrap_or_default();
    let uid = ds.get("uid").and_then(Value::as_str).unwrap_or_default();
    let var = uid.strip_prefix("${").and_then(|u| u.strip_suffix('}'));
    let Some(var) = var else {
        ctx.problem(
            loc,
            format!("datasource uid {uid:?} is not a ${{variable}} reference"),
        );
        return None;
    };
    match t.datasources.get(var) {
        None => {
            ctx.problem(
                loc,
                format!("datasource ${{{var}}} is not a data source variable"),
            );
            None
        }
        Some(var_kind) if var_kind != kind => {
            ctx.problem(
                loc,
                format!("datasource type {kind:?} but ${{{var}}} selects {var_kind:?}"),
            );
            None
        }
        Some(_) => match kind {
            "prometheus" => Some(Language::PromQl),
            "loki" => Some(Language::LogQl),
            _ => None,
        },
    }
}

fn check_unit(ctx: &mut Ctx, loc: &str, unit: Option<&Value>) {
    match unit {
        None => {}
        Some(Value::String(u)) if UNITS.contains(&u.as_str()) => {}
        Some(u) => ctx.problem(loc, format!("unit {u} is not in the documented list")),
    }
}

fn check_field_config(ctx: &mut Ctx, loc: &str, panel: &Value) {
    let Some(fc) = panel.get("fieldConfig") else {
        return;
    };
    check_unit(ctx, loc, fc.get("defaults").and_then(|d| d.get("unit")));
    let overrides = fc.get("overrides").and_then(Value::as_array);
    for (i, o) in overrides.into_iter().flatten().enumerate() {
        let oloc = format!("{loc} override #{i}");
        let matcher = o.get("matcher");
        let id = matcher
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !OVERRIDE_MATCHERS.contains(&id) {
            ctx.problem(
                &oloc,
                format!("matcher {id:?} is not one of {OVERRIDE_MATCHERS:?}"),
            );
        }
        if matcher.and_then(|m| m.get("options")).is_none() {
            ctx.problem(&oloc, "matcher without options");
        }
        let properties = o.get("properties").and_then(Value::as_array);
        if properties.is_none_or(|p| p.is_empty()) {
            ctx.problem(&oloc, "no properties");
        }
        for p in properties.into_iter().flatten() {
            if p.get("id").and_then(Value::as_str) == Some("unit") {
                check_unit(ctx, &oloc, p.get("value"));
            }
        }
    }
}

fn check_grid(ctx: &mut Ctx, loc: &str, panel: &Value) {
    let g = panel.get("gridPos");
    let n = |k: &str| g.and_then(|g| g.get(k)).and_then(Value::as_u64);
    match (n("h"), n("w"), n("x"), n("y")) {
        (Some(h), Some(w), Some(x), Some(_)) if h > 0 && w > 0 && x + w <= 24 => {}
        _ => ctx.problem(
            loc,
            "gridPos needs h, w, x, y with w > 0, h > 0 and x + w <= 24",
        ),
    }
}

/// Walks `panels` (rows included, with their nested panels).
pub(crate) fn check(ctx: &mut Ctx, dashboard: &Value, t: &Templating, parsers: &Parsers) {
    let Some(panels) = dashboard
        .get("panels")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
    else {
        ctx.problem("panels", "no panels");
        return;
    };
    let mut ids = BTreeSet::new();
    for panel in panels {
        check_panel(ctx, panel, t, parsers, &mut ids, false);
    }
}

fn check_panel(
    ctx: &mut Ctx,
    panel: &Value,
    t: &Templating,
    parsers: &Parsers,
    ids: &mut BTreeSet<u64>,
    in_row: bool,
) {
    let id = panel.get("id").and_then(Value::as_u64);
    let title = panel
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = panel
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let loc = format!(
        "panel {} {title:?}",
        id.map_or("?".to_string(), |i| i.to_string())
    );
    match id {
        Some(i) if !ids.insert(i) => ctx.problem(&loc, "duplicate panel id"),
        Some(_) => {}
        None => ctx.problem(&loc, "no numeric id"),
    }
    if !PANEL_TYPES.contains(&kind) {
        ctx.problem(
            &loc,
            format!("panel type {kind:?} is not one of {PANEL_TYPES:?}"),
        );
        return;
    }
    check_grid(ctx, &loc, panel);
    if title.is_empty() && kind != "text" {
        ctx.problem(&loc, "no title");
    }
    match kind {
        "row" => {
            if in_row {
                ctx.problem(&loc, "a row inside a row");
            }
            let nested = panel.get("panels").and_then(Value::as_array);
            for p in nested.into_iter().flatten() {
                check_panel(ctx, p, t, parsers, ids, true);
            }
        }
        "text" => {
            let content = panel.get("options").and_then(|o| o.get("content"));
            if content.and_then(Value::as_str).is_none_or(str::is_empty) {
                ctx.problem(&loc, "text panel without options.content");
            }
            if panel
                .get("targets")
                .and_then(Value::as_array)
                .is_some_and(|t| !t.is_empty())
            {
                ctx.problem(&loc, "text panel with targets");
            }
        }
        _ => {
            check_field_config(ctx, &loc, panel);
            check_targets(ctx, &loc, kind, panel, t, parsers);
        }
    }
}

fn check_targets(
    ctx: &mut Ctx,
    loc: &str,
    kind: &str,
    panel: &Value,
    t: &Templating,
    parsers: &Parsers,
) {
    let panel_language = datasource_language(ctx, loc, panel.get("datasource"), t);
    let Some(targets) = panel
        .get("targets")
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
    else {
        ctx.problem(loc, "no targets");
        return;
    };
    let mut ref_ids = BTreeSet::new();
    for target in targets {
        let ref_id = target
            .get("refId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let tloc = format!("{loc} target {ref_id}");
        if ref_id.is_empty() || !ref_ids.insert(ref_id.to_string()) {
            ctx.problem(&tloc, "missing or duplicate refId");
        }
        let language = match target.get("datasource") {
            Some(ds) => datasource_language(ctx, &tloc, Some(ds), t),
            None => panel_language,
        };
        let Some(language) = language else {
            continue;
        };
        if kind == "logs" && language != Language::LogQl {
            ctx.problem(&tloc, "a logs panel must query a Loki data source");
        }
        let Some(raw) = target
            .get("expr")
            .and_then(Value::as_str)
            .filter(|e| !e.trim().is_empty())
        else {
            ctx.problem(&tloc, "no expr");
            continue;
        };
        for fixed in scan::fixed_ranges(raw) {
            ctx.problem(
                &tloc,
                format!(
                    "fixed range {fixed}: use $__rate_interval, $__interval, $__range or a variable"
                ),
            );
        }
        match template::expand(raw, &t.values) {
            Ok(expanded) => ctx.parse(&tloc, language, raw, expanded, parsers),
            Err(e) => ctx.problem(&tloc, e),
        }
    }
}
