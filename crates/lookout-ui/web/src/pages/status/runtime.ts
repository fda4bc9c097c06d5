// Runtime & build information (with Lookout's memory budget per component against current use, disk, retention
// and WAL), command-line flags, and the loaded configuration as YAML.
import { h, replace, notice } from "../../lib/dom";
import { getText, promGet } from "../../lib/api";
import type { Route } from "../../lib/router";
import { formatTime } from "../../lib/time";
import { formatValueString } from "../../lib/units";
import { kvTable, loadInto, matchesText, searchBox } from "./common";
import { parseExposition, type ExpositionSample } from "./exposition";

type Json = Record<string, unknown>;

const BUDGET_HELP: Record<string, string> = {
  head: "TSDB head: series, open chunks, postings",
  sled_cache: "sled page cache",
  queries: "samples held by running queries",
  ingest: "request and scrape bodies being decoded",
  discovery: "Kubernetes watch stores",
  logs: "log store writer heap and commit buffer",
  other: "runtime, code, allocator slack",
  forward: "remote_write series map, queue buffers, batches in flight",
};

const bytes = (n: unknown) => (typeof n === "number" ? formatValueString(n, "bytes") : "—");

function show(v: unknown): string {
  if (typeof v === "string") {
    const t = Date.parse(v);
    return /^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(t) ? `${formatTime(t)} (${v})` : v;
  }
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function metric(samples: ExpositionSample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

function budgetTable(budget: Json, runtime: Json, samples: ExpositionSample[]): HTMLElement {
  const total = typeof budget.total === "number" ? budget.total : 0;
  const used = (name: string): number | undefined =>
    metric(samples, "lookout_memory_used_bytes", { component: name }) ?? (name === "head" && typeof runtime.headBytes === "number" ? runtime.headBytes : undefined);
  const rows = Object.entries(budget).filter(([k, v]) => k !== "total" && k !== "source" && typeof v === "number") as Array<[string, number]>;
  return h(
    "div",
    { "data-testid": "memory-budget" },
    h("div", { class: "bar-meter", title: "Budget split" }, rows.filter(([, v]) => v > 0).map(([k, v], i) => h("div", { title: `${k}: ${bytes(v)}`, style: { width: `${(100 * v) / (total || 1)}%`, background: `hsl(${(i * 47) % 360} 55% 55%)` } }))),
    h(
      "table",
      { class: "data" },
      h("tr", null, ["Component", "Share", "% of total", "In use", ""].map((c, i) => h("th", { class: i > 0 && i < 4 ? "num" : "" }, c))),
      h("tr", null, h("td", null, h("b", null, "total"), h("div", { class: "muted small" }, `source: ${String(budget.source ?? "?")}`)), h("td", { class: "num" }, bytes(total)), h("td", { class: "num" }, "100%"), h("td"), h("td")),
      rows.map(([k, v]) => {
        const u = used(k);
        const over = metric(samples, "lookout_memory_over_budget", { component: k }) === 1;
        const pct = v > 0 && u !== undefined ? Math.min(100, (100 * u) / v) : 0;
        return h(
          "tr",
          { "data-testid": "budget-row" },
          h("td", null, k, h("div", { class: "muted small" }, BUDGET_HELP[k] ?? "")),
          h("td", { class: "num" }, bytes(v)),
          h("td", { class: "num" }, total ? `${((100 * v) / total).toFixed(0)}%` : ""),
          h("td", { class: "num" }, u === undefined ? "—" : bytes(u), over ? h("span", { class: "badge down" }, "over budget") : null),
          h("td", null, u === undefined ? null : h("div", { class: "meter", title: `${pct.toFixed(0)}% of its share` }, h("div", { class: over ? "over" : "", style: { width: `${pct}%` } }))),
        );
      }),
    ),
  );
}

function storageTable(runtime: Json, samples: ExpositionSample[]): HTMLElement {
  const rows: Array<[string, string]> = [
    ["Retention", show(runtime.storageRetention ?? "—")],
    ["TSDB on disk", bytes(runtime.diskBytes)],
    ["TSDB head (in memory)", bytes(runtime.headBytes)],
  ];
  const add = (label: string, name: string, fmt: (n: number) => string) => {
    const v = metric(samples, name);
    if (v !== undefined) rows.push([label, fmt(v)]);
  };
  add("WAL size", "lookout_tsdb_wal_size_bytes", (n) => bytes(n));
  add("WAL segments", "lookout_tsdb_wal_segments", String);
  add("WAL written since start", "lookout_tsdb_wal_bytes_written_total", (n) => bytes(n));
  add("WAL fsyncs", "lookout_tsdb_wal_fsyncs_total", String);
  add("Longest WAL fsync", "lookout_tsdb_wal_fsync_seconds_max", (n) => formatValueString(n, "s"));
  add("Log store on disk", "lookout_logs_disk_bytes", (n) => bytes(n));
  add("Log store WAL", "lookout_logs_wal_bytes", (n) => bytes(n));
  return kvTable(rows, "storage");
}

export function runtimePage(root: HTMLElement): () => void {
  const box = h("div");
  root.append(h("h1", null, "Runtime & build information"), box);
  return loadInto(box, async (signal) => {
    const [rt, build, metricsText] = await Promise.all([
      promGet<Json>("api/v1/status/runtimeinfo", {}, signal),
      promGet<Json>("api/v1/status/buildinfo", {}, signal).catch(() => null),
      getText("metrics", signal).catch(() => ""),
    ]);
    const runtime = rt.data;
    const samples = parseExposition(metricsText);
    const budget = runtime.memoryBudget as Json | undefined;
    const general = Object.entries(runtime).filter(([k]) => k !== "memoryBudget");
    return [
      h("h2", null, "Runtime information"),
      kvTable(general.map(([k, v]) => [k, /Bytes$/.test(k) && typeof v === "number" ? `${bytes(v)} (${v})` : show(v)]), "runtime-info"),
      h("h2", null, "Memory budget"),
      budget ? budgetTable(budget, runtime, samples) : notice("empty", "This server reports no memory budget."),
      h("h2", null, "Storage"),
      storageTable(runtime, samples),
      metricsText ? null : h("div", { class: "muted small" }, "WAL figures come from /metrics, which could not be read."),
      h("h2", null, "Build information"),
      build ? kvTable(Object.entries(build.data).map(([k, v]) => [k, show(v)]), "build-info") : notice("empty", "No build information."),
    ];
  });
}

export function flagsPage(root: HTMLElement, route: Route): () => void {
  let search = route.params.get("search") ?? "";
  const list = h("div");
  const box = h("div");
  let flags: Record<string, string> = {};
  const draw = () =>
    replace(
      list,
      kvTable(
        Object.entries(flags)
          .filter(([k, v]) => matchesText(search, k, v))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, h("span", { class: "mono" }, v)]),
        "flags",
      ),
    );
  root.append(h("h1", null, "Command-line flags"), h("div", { style: { marginBottom: "8px" } }, searchBox(search, "Filter flags", (v) => ((search = v), draw()))), box);
  return loadInto(box, async (signal) => {
    flags = (await promGet<Record<string, string>>("api/v1/status/flags", {}, signal)).data ?? {};
    draw();
    return list;
  });
}

export function configPage(root: HTMLElement): () => void {
  const box = h("div");
  root.append(h("h1", null, "Configuration"), box);
  return loadInto(box, async (signal) => {
    const yaml = (await promGet<{ yaml: string }>("api/v1/status/config", {}, signal)).data.yaml ?? "";
    const copy = h("button", { type: "button", "data-testid": "copy-config" }, "Copy to clipboard");
    copy.addEventListener("click", () => {
      void navigator.clipboard?.writeText(yaml).then(() => (copy.textContent = "Copied"));
    });
    return [h("div", { style: { marginBottom: "8px" } }, copy), h("pre", { class: "card body", "data-testid": "config-yaml", style: { padding: "10px" } }, yaml)];
  });
}
