// Alerts: alerting rules grouped by rule group with their state (firing, pending, inactive), filterable by state
// (kept in the URL); each rule expands to its active alerts with labels, active since, value and annotations.
import { h, replace, notice } from "../../lib/dom";
import { promGet } from "../../lib/api";
import { replaceParams, type Route } from "../../lib/router";
import { ago, labelBadges, loadInto, matchesText, searchBox } from "./common";
import { exprLink, type AlertInstance, type RuleGroup, type RuleInfo } from "./rules";

const STATES = ["firing", "pending", "inactive"];

function alertTable(alerts: AlertInstance[]): HTMLElement {
  return h(
    "table",
    { class: "data", "data-testid": "alert-instances" },
    h("tr", null, ["Labels", "State", "Active since", "Value", "Annotations"].map((c) => h("th", null, c))),
    alerts.map((a) =>
      h(
        "tr",
        null,
        h("td", null, labelBadges(a.labels)),
        h("td", null, h("span", { class: `badge ${a.state}` }, a.state)),
        h("td", null, ago(a.activeAt)),
        h("td", { class: "mono" }, a.value),
        h("td", { class: "small" }, Object.entries(a.annotations ?? {}).map(([k, v]) => h("div", null, h("b", null, `${k}: `), v))),
      ),
    ),
  );
}

function ruleCard(r: RuleInfo): HTMLElement {
  const alerts = r.alerts ?? [];
  const state = r.state ?? "inactive";
  return h(
    "details",
    { class: "card", "data-testid": "alert-rule", "data-state": state, open: state === "firing" },
    h("summary", { class: "head" }, h("span", { class: `badge ${state}` }, state.toUpperCase()), h("b", null, r.name), h("span", { class: "muted" }, `(${alerts.length} active)`)),
    h(
      "div",
      { class: "body scroll-x" },
      h("div", { class: "mono small" }, h("span", { class: "muted" }, "expr: "), exprLink(r.query)),
      r.labels && Object.keys(r.labels).length ? h("div", { class: "small" }, h("span", { class: "muted" }, "labels: "), labelBadges(r.labels)) : null,
      r.lastError ? notice("error", r.lastError) : null,
      alerts.length ? alertTable(alerts) : h("div", { class: "muted small" }, "No active alerts."),
    ),
  );
}

export function alertsPage(root: HTMLElement, route: Route): () => void {
  const fromUrl = route.params.get("state");
  const shown = new Set(fromUrl !== null ? fromUrl.split(",").filter((s) => STATES.includes(s)) : STATES);
  let search = route.params.get("search") ?? "";
  let groups: RuleGroup[] = [];
  let activeCount = 0;
  const list = h("div");
  const save = () => {
    const p = new URLSearchParams();
    if (shown.size !== STATES.length) p.set("state", [...shown].join(","));
    if (search) p.set("search", search);
    replaceParams(p);
  };
  const draw = () => {
    const counts: Record<string, number> = { firing: 0, pending: 0, inactive: 0 };
    const cards = groups.flatMap((g) => {
      const rules = g.rules.filter((r) => r.type === "alerting");
      rules.forEach((r) => (counts[r.state ?? "inactive"] = (counts[r.state ?? "inactive"] ?? 0) + 1));
      const visible = rules.filter((r) => shown.has(r.state ?? "inactive") && matchesText(search, r.name, r.query, ...Object.values(r.labels ?? {})));
      if (!visible.length) return [];
      return [h("h3", null, g.name, h("span", { class: "muted small" }, ` ${g.file}`)), ...visible.map(ruleCard)];
    });
    replace(
      list,
      h("div", { class: "muted", style: { marginBottom: "8px" } }, `${counts.firing} firing, ${counts.pending} pending, ${counts.inactive} inactive rules · ${activeCount} active alerts`),
      cards.length ? cards : notice("empty", groups.length ? "No alerting rule matches the filter." : "No alerting rules.", "no-data"),
    );
  };
  const boxes = STATES.map((s) => {
    const cb = h("input", { type: "checkbox", checked: shown.has(s), "data-testid": `state-${s}` });
    cb.addEventListener("change", () => {
      if (cb.checked) shown.add(s);
      else shown.delete(s);
      save();
      draw();
    });
    return h("label", null, cb, ` ${s}`);
  });
  const box = h("div");
  root.append(h("h1", null, "Alerts"), h("div", { class: "row", style: { marginBottom: "8px" } }, ...boxes, searchBox(search, "Filter by name, expression or labels", (v) => ((search = v), save(), draw()))), box);
  return loadInto(box, async (signal) => {
    const [rules, alerts] = await Promise.all([
      promGet<{ groups: RuleGroup[] }>("api/v1/rules", { type: "alert" }, signal),
      promGet<{ alerts: AlertInstance[] }>("api/v1/alerts", {}, signal).catch(() => null),
    ]);
    groups = rules.data.groups ?? [];
    activeCount = alerts?.data.alerts?.length ?? groups.reduce((n, g) => n + g.rules.reduce((m, r) => m + (r.alerts?.length ?? 0), 0), 0);
    draw();
    return list;
  });
}
