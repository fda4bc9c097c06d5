import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveField, thresholdColor, seriesColor } from "../src/pages/dashboards/fieldconfig";
import { normalizePanel, sections, unwrapDashboard } from "../src/pages/dashboards/model";

test("overrides by name replace defaults, nested custom properties too", () => {
  const f = resolveField(
    { unit: "s", decimals: 1, custom: { fillOpacity: 10 } },
    [
      { matcher: { id: "byName", options: "errors" }, properties: [{ id: "unit", value: "percent" }, { id: "custom.fillOpacity", value: 50 }, { id: "color", value: { mode: "fixed", fixedColor: "red" } }, { id: "displayName", value: "Errors" }] },
      { matcher: { id: "byRegexp", options: "/req.*/" }, properties: [{ id: "decimals", value: 3 }] },
    ],
    "errors",
  );
  assert.equal(f.unit, "percent");
  assert.equal(f.decimals, 1);
  assert.equal(f.custom?.fillOpacity, 50);
  assert.equal(f.displayName, "Errors");
  assert.equal(f.fixedColor, "#F2495C");
  assert.equal(resolveField({ decimals: 1 }, [{ matcher: { id: "byRegexp", options: "/req.*/" }, properties: [{ id: "decimals", value: 3 }] }], "requests").decimals, 3);
  assert.equal(resolveField({ unit: "s" }, [{ matcher: { id: "byName", options: "x" }, properties: [{ id: "unit", value: "ms" }] }], "y").unit, "s");
});

test("threshold colours, absolute and percentage", () => {
  const f = { thresholds: { mode: "absolute" as const, steps: [{ value: null, color: "green" }, { value: 50, color: "#ff0000" }, { value: 90, color: "dark-red" }] } };
  assert.equal(thresholdColor(f, 10), "#73BF69");
  assert.equal(thresholdColor(f, 50), "#ff0000");
  assert.equal(thresholdColor(f, 95), "#C4162A");
  const p = { thresholds: { mode: "percentage" as const, steps: [{ value: null, color: "green" }, { value: 50, color: "red" }] } };
  assert.equal(thresholdColor(p, 6, 0, 10), "#F2495C");
  assert.equal(thresholdColor(p, 4, 0, 10), "#73BF69");
  assert.equal(seriesColor({ color: { mode: "thresholds" }, ...f }, 3, 95), "#C4162A");
});

test("sections: expanded rows own the panels below them, collapsed rows carry theirs", () => {
  const s = sections([
    { type: "stat", gridPos: { x: 0, y: 0, w: 6, h: 4 } },
    { type: "row", title: "A", gridPos: { x: 0, y: 4, w: 24, h: 1 }, collapsed: false, panels: [] },
    { type: "timeseries", gridPos: { x: 0, y: 5, w: 12, h: 8 } },
    { type: "row", title: "B", gridPos: { x: 0, y: 13, w: 24, h: 1 }, collapsed: true, panels: [{ type: "table", gridPos: { x: 0, y: 14, w: 24, h: 8 } }] },
  ]);
  assert.deepEqual(s.map((x) => [x.row?.title ?? null, x.collapsed, x.panels.map((p) => p.type)]), [
    [null, false, ["stat"]],
    ["A", false, ["timeseries"]],
    ["B", true, ["table"]],
  ]);
});

test("legacy graph and singlestat panels", () => {
  const g = normalizePanel({ type: "graph", yaxes: [{ format: "bytes", min: "0" }], stack: true, fill: 2, legend: { show: true, alignAsTable: true, max: true } });
  assert.equal(g.type, "timeseries");
  assert.equal(g.fieldConfig?.defaults?.unit, "bytes");
  assert.equal(g.fieldConfig?.defaults?.min, 0);
  assert.deepEqual(g.fieldConfig?.defaults?.custom?.stacking, { mode: "normal" });
  assert.equal(g.options?.legend.displayMode, "table");
  assert.deepEqual(g.options?.legend.calcs, ["max"]);
  const s = normalizePanel({ type: "singlestat", format: "percent", thresholds: "50,80", colors: ["green", "orange", "red"], valueName: "current", colorBackground: true });
  assert.equal(s.type, "stat");
  assert.deepEqual(s.fieldConfig?.defaults?.thresholds?.steps?.map((x) => x.value), [null, 50, 80]);
  assert.deepEqual(s.options?.reduceOptions.calcs, ["lastNotNull"]);
});

test("dashboard envelopes", () => {
  assert.equal(unwrapDashboard({ dashboard: { title: "a" }, meta: {} }).title, "a");
  assert.equal(unwrapDashboard({ status: "success", data: { title: "b" } }).title, "b");
  assert.equal(unwrapDashboard({ title: "c" }).title, "c");
});

import { resolveDatasource } from "../src/pages/dashboards/datasource";
import { applyVarRegex, customOptions, parseVarQuery, queryResultText, sortOptions, lokiVarQuery } from "../src/pages/dashboards/varquery";

test("data source resolution", () => {
  const vars = [{ type: "datasource", name: "ds", query: "loki" }];
  assert.deepEqual(resolveDatasource({ type: "loki", uid: "x" }, []), { kind: "loki" });
  assert.deepEqual(resolveDatasource({ uid: "${ds}" }, vars), { kind: "loki" });
  assert.deepEqual(resolveDatasource("$ds", vars), { kind: "loki" });
  assert.deepEqual(resolveDatasource("${DS_PROMETHEUS}", []), { kind: "prometheus" });
  assert.deepEqual(resolveDatasource("${DS_LOKI}", []), { kind: "loki" });
  assert.deepEqual(resolveDatasource(null, []), { kind: "prometheus" });
  assert.deepEqual(resolveDatasource({ type: "influxdb", uid: "i" }, []), { kind: "unsupported", type: "influxdb" });
});

test("variable queries", () => {
  assert.deepEqual(parseVarQuery("label_values(job)"), { kind: "label_values", label: "job" });
  assert.deepEqual(parseVarQuery('label_values(up{job=~"a,b"}, instance)'), { kind: "label_values", label: "instance", match: 'up{job=~"a,b"}' });
  assert.deepEqual(parseVarQuery("label_names()"), { kind: "label_names", match: undefined });
  assert.deepEqual(parseVarQuery("query_result(topk(5, up))"), { kind: "query_result", expr: "topk(5, up)" });
  assert.deepEqual(parseVarQuery("metrics(node_.*)"), { kind: "metrics", regex: "node_.*" });
  assert.deepEqual(parseVarQuery('up{job="x"}'), { kind: "series", expr: 'up{job="x"}' });
  assert.deepEqual(lokiVarQuery({ type: 1, label: "app", stream: '{ns="a"}' }), { kind: "label_values", label: "app", match: '{ns="a"}' });
});

test("variable regex, sort and custom values", () => {
  const lines = [queryResultText({ __name__: "up", instance: "a:1" }, [1700000000, "1"]), queryResultText({ __name__: "up", instance: "b:2" }, [1700000000, "1"])];
  assert.equal(lines[0], 'up{instance="a:1"} 1 1700000000000');
  assert.deepEqual(applyVarRegex(lines, '/instance="([^"]+)"/').map((o) => o.value), ["a:1", "b:2"]);
  assert.deepEqual(applyVarRegex(["x-1", "y-2", "x-1"], "/(?<text>[a-z])-(?<value>\\d)/"), [{ text: "x", value: "1" }, { text: "y", value: "2" }]);
  assert.deepEqual(applyVarRegex(["a", "b"], "/b/").map((o) => o.value), ["b"]);
  assert.deepEqual(sortOptions(customOptions("b10,b9,a"), 7).map((o) => o.value), ["a", "b9", "b10"]);
  assert.deepEqual(sortOptions(customOptions("b10,b9,a"), 1).map((o) => o.value), ["a", "b10", "b9"]);
  assert.deepEqual(customOptions("One : 1, two\\,three"), [{ text: "One", value: "1" }, { text: "two,three", value: "two,three" }]);
});

import { dashboardRoute, resolveLink } from "../src/pages/dashboards/links";

test("dashboard links become viewer routes", () => {
  (globalThis as unknown as { location: { host: string } }).location = { host: "lookout:9090" };
  assert.equal(dashboardRoute("/d/abc/my-dash?var-x=1"), "#/d/abc?var-x=1");
  assert.equal(dashboardRoute("/grafana/d/abc"), "#/d/abc");
  assert.equal(dashboardRoute("d/abc"), null);
  assert.equal(dashboardRoute("https://elsewhere.example/d/abc"), null);
  assert.equal(dashboardRoute("https://example.com/docs"), null);
  const ctx = { text: (s: string) => s.replace("$job", "node"), time: { from: "now-1h", to: "now" }, vars: [["var-job", "node"]] as Array<[string, string]> };
  assert.equal(resolveLink("/d/x/y?${__url_time_range}&var-j=$job", ctx), "#/d/x?from=now-1h&to=now&var-j=node");
  assert.equal(resolveLink("/d/x", ctx, { keepTime: true, includeVars: true }), "#/d/x?from=now-1h&to=now&var-job=node");
  assert.equal(resolveLink("https://example.com/a?b=1", ctx, { keepTime: true }), "https://example.com/a?b=1&from=now-1h&to=now");
});

import { expandRepeats } from "../src/pages/dashboards/repeat";

test("repeated panels and the panels below them", () => {
  const out = expandRepeats(
    [
      { type: "stat", repeat: "host", gridPos: { x: 0, y: 0, w: 8, h: 4 } },
      { type: "timeseries", gridPos: { x: 0, y: 4, w: 24, h: 8 } },
    ],
    () => ["a", "b", "c", "d", "e"],
  );
  assert.deepEqual(out.map((p) => [p.scopedVars?.host ?? null, p.gridPos]), [
    ["a", { x: 0, y: 0, w: 6, h: 4 }],
    ["b", { x: 6, y: 0, w: 6, h: 4 }],
    ["c", { x: 12, y: 0, w: 6, h: 4 }],
    ["d", { x: 18, y: 0, w: 6, h: 4 }],
    ["e", { x: 0, y: 4, w: 6, h: 4 }],
    [null, { x: 0, y: 8, w: 24, h: 8 }],
  ]);
  const v = expandRepeats([{ type: "stat", repeat: "h", repeatDirection: "v", gridPos: { x: 0, y: 0, w: 8, h: 3 } }, { type: "text", gridPos: { x: 8, y: 0, w: 8, h: 3 } }], () => ["x", "y"]);
  assert.deepEqual(v.map((p) => p.gridPos?.y), [0, 3, 0]);
});

test("panels after a collapsed row stay outside it", () => {
  const s = sections([
    { type: "row", title: "C", collapsed: true, gridPos: { x: 0, y: 0, w: 24, h: 1 }, panels: [{ type: "text", gridPos: { x: 0, y: 1, w: 4, h: 4 } }] },
    { type: "stat", gridPos: { x: 0, y: 1, w: 4, h: 4 } },
  ]);
  assert.deepEqual(s.map((x) => [x.row?.title ?? null, x.collapsed, x.panels.map((p) => p.type)]), [["C", true, ["text"]], [null, false, ["stat"]]]);
});

test("malformed dashboards are read defensively", () => {
  const d = unwrapDashboard({ title: "x", panels: { a: 1 }, templating: { list: "no" }, links: 3 });
  assert.deepEqual([d.panels, d.templating?.list, d.links], [[], [], []]);
  assert.equal(unwrapDashboard({ panels: [null, 5, { type: "text" }] }).panels?.length, 1);
});

test("unsafe link targets are dropped", () => {
  const ctx = { text: (s: string) => s, time: { from: "now-1h", to: "now" }, vars: [] as Array<[string, string]> };
  assert.equal(resolveLink("javascript:alert(1)", ctx), "#");
  assert.equal(resolveLink("data:text/html,x", ctx), "#");
});

import { tableModel } from "../src/pages/dashboards/panels/table";

test("table merge joins queries on the label columns they share, as Grafana's merge transformation", () => {
  const t = 1700000000;
  const frame = (refId: string, labels: Record<string, string>, v: number) => ({ refId, name: "", labels, points: [[t, v]] as Array<[number, number | null]> });
  const data = {
    series: [
      frame("A", { id: "node/pve1", name: "pve1" }, 1),
      frame("A", { id: "node/pve2", name: "pve2" }, 1),
      frame("B", { id: "node/pve1" }, 1),
      frame("B", { id: "node/pve2" }, 0),
      frame("C", { id: "node/pve2" }, 0.5),
    ],
    logs: [],
    warnings: [],
    errors: [],
  };
  const merged = tableModel(data, { excludeByName: { Time: true }, renameByName: { id: "ID" } }, true);
  assert.deepEqual(merged.columns, ["ID", "name", "Value #A", "Value #B", "Value #C"]);
  assert.deepEqual(
    merged.rows.map((r) => [r.ID, r.name, r["Value #A"], r["Value #B"], r["Value #C"]]),
    [
      ["node/pve1", "pve1", 1, 1, undefined],
      ["node/pve2", "pve2", 1, 0, 0.5],
    ],
  );
  // Rows whose shared cells differ stay apart; without "merge" only equal label sets share a row.
  assert.equal(tableModel({ ...data, series: [frame("A", { id: "a", name: "x" }, 1), frame("B", { id: "a", name: "y" }, 2)] }, undefined, true).rows.length, 2);
  assert.equal(tableModel(data).rows.length, 4);
});
