// Runs a panel's queries against this Lookout: each target's expression with the variables and Grafana's
// built-ins ($__interval, $__rate_interval, $__range, …) interpolated, as a range query at the panel's interval
// or an instant query, through the Prometheus or the Loki API.
import { ApiError, lokiGet, promGet } from "../../lib/api";
import { interpolate, type Vars } from "../../lib/interpolate";
import { formatInterval, grafanaInterval, rateInterval } from "../../lib/interval";
import { formatSeries, renderLegend, type LabelSet } from "../../lib/labels";
import { formatDuration, parseDuration } from "../../lib/time";
import { flattenStreams, isLogQuery, type LogLine, type Stream } from "../logs/model";
import { resolveDatasource, type DsKind } from "./datasource";
import type { Panel, Target, Variable } from "./model";

export interface SeriesFrame {
  refId: string;
  name: string;
  labels: LabelSet;
  /** [unix seconds, value] */
  points: Array<[number, number | null]>;
}

export interface PanelData {
  series: SeriesFrame[];
  logs: LogLine[];
  warnings: string[];
  errors: string[];
}

export interface QueryEnv {
  from: number;
  to: number;
  vars: Vars;
  defs: Variable[];
  /** Panel width in px: Grafana's default max data points. */
  width: number;
}

/** The built-in variables of one panel's queries. */
export function builtins(env: QueryEnv, intervalMs: number, scrapeMs: number): Vars {
  const rangeMs = env.to - env.from;
  const raw = (value: string) => ({ value, raw: true });
  return new Map([
    ["__interval", raw(formatInterval(intervalMs))],
    ["__interval_ms", raw(String(intervalMs))],
    // Grafana prints the rate interval as a Go duration (2m15s), not rounded like $__interval.
    ["__rate_interval", raw(formatDuration(rateInterval(intervalMs, scrapeMs)))],
    ["__rate_interval_ms", raw(String(rateInterval(intervalMs, scrapeMs)))],
    ["__range", raw(`${Math.round(rangeMs / 1000)}s`)],
    ["__range_s", raw(String(Math.round(rangeMs / 1000)))],
    ["__range_ms", raw(String(rangeMs))],
    ["__from", raw(String(env.from))],
    ["__to", raw(String(env.to))],
    ["__auto", raw(formatInterval(intervalMs))],
  ]);
}

function seriesName(metric: LabelSet, legend: string | undefined, expr: string): string {
  if (legend && legend !== "__auto") return renderLegend(legend, metric);
  if (Object.keys(metric).length === 0) return expr;
  return formatSeries(metric);
}

interface Matrix {
  resultType: string;
  result: unknown;
}

function framesOf(data: Matrix, refId: string, legend: string | undefined, expr: string): SeriesFrame[] {
  const one = (metric: LabelSet, points: Array<[number, string]>): SeriesFrame => ({
    refId,
    labels: metric,
    name: seriesName(metric, legend, expr),
    points: points.map(([t, v]) => [Number(t), v === null ? null : parseFloat(v)]),
  });
  switch (data.resultType) {
    case "matrix":
      return (data.result as Array<{ metric: LabelSet; values?: Array<[number, string]> }>).map((s) => one(s.metric ?? {}, s.values ?? []));
    case "vector":
      return (data.result as Array<{ metric: LabelSet; value?: [number, string] }>).filter((s) => s.value).map((s) => one(s.metric ?? {}, [s.value as [number, string]]));
    case "scalar":
      return [one({}, [data.result as [number, string]])];
    default:
      return [];
  }
}

async function runTarget(panel: Panel, t: Target, ds: DsKind, env: QueryEnv, out: PanelData, signal: AbortSignal): Promise<void> {
  if (ds.kind === "unsupported") throw new ApiError(`data source type ${ds.type} is not supported by Lookout`, 0);
  const loki = ds.kind === "loki";
  const vars = new Map(env.vars);
  for (const [k, v] of Object.entries(panel.scopedVars ?? {})) vars.set(k, { value: v });
  const minText = interpolate(t.interval || panel.interval || "", vars, "text").replace(/^>/, "");
  const scrapeMs = loki ? 1000 : 15000;
  const minMs = parseDuration(minText) ?? scrapeMs;
  const maxPoints = panel.maxDataPoints || Math.max(100, Math.round(env.width));
  const intervalMs = grafanaInterval(env.to - env.from, maxPoints, minMs) * Math.max(1, t.intervalFactor ?? 1);
  for (const [k, v] of builtins(env, intervalMs, minText ? minMs : scrapeMs)) vars.set(k, v);
  const expr = interpolate(t.expr ?? "", vars, loki ? "loki" : "prometheus");
  if (!expr.trim()) return;
  const refId = t.refId ?? "A";
  const step = Math.max(1, intervalMs / 1000);
  const instant = t.instant === true && t.range !== true;
  if (loki) {
    if (isLogQuery(expr) || panel.type === "logs") {
      const limit = t.maxLines ?? (panel.options?.maxLines as number | undefined) ?? 1000;
      const r = await lokiGet<{ resultType: string; result: Stream[] }>("loki/api/v1/query_range", { query: expr, start: `${env.from}000000`, end: `${env.to}000000`, limit, direction: "backward" }, signal);
      out.warnings.push(...r.warnings);
      if (r.data.resultType === "streams") out.logs.push(...flattenStreams(r.data.result ?? []));
      else out.series.push(...framesOf(r.data, refId, t.legendFormat, expr));
      return;
    }
    const r = instant
      ? await lokiGet<Matrix>("loki/api/v1/query", { query: expr, time: `${env.to}000000` }, signal)
      : await lokiGet<Matrix>("loki/api/v1/query_range", { query: expr, start: `${env.from}000000`, end: `${env.to}000000`, step }, signal);
    out.warnings.push(...r.warnings);
    out.series.push(...framesOf(r.data, refId, t.legendFormat, expr));
    return;
  }
  const r = instant
    ? await promGet<Matrix>("api/v1/query", { query: expr, time: env.to / 1000 }, signal)
    : await promGet<Matrix>("api/v1/query_range", { query: expr, start: Math.floor(env.from / 1000 / step) * step, end: Math.floor(env.to / 1000 / step) * step + step, step }, signal);
  out.warnings.push(...r.warnings, ...r.infos);
  out.series.push(...framesOf(r.data, refId, t.legendFormat, expr));
}

/** Every visible target of the panel, concurrently; one failing target leaves the others' data. */
export async function runPanel(panel: Panel, env: QueryEnv, signal: AbortSignal): Promise<PanelData> {
  const out: PanelData = { series: [], logs: [], warnings: [], errors: [] };
  const fallback = resolveDatasource(panel.datasource, env.defs, panel.type === "logs" ? { kind: "loki" } : { kind: "prometheus" });
  const targets = (panel.targets ?? []).filter((t) => !t.hide);
  await Promise.all(
    targets.map((t) =>
      runTarget(panel, t, resolveDatasource(t.datasource, env.defs, fallback), env, out, signal).catch((e: unknown) => {
        if ((e as Error).name === "AbortError") throw e;
        out.errors.push(`${targets.length > 1 ? `${t.refId ?? "?"}: ` : ""}${(e as Error).message}`);
      }),
    ),
  );
  // Targets finish in any order; keep their series in target order.
  const order = new Map(targets.map((t, i) => [t.refId ?? "A", i]));
  out.series.sort((a, b) => (order.get(a.refId) ?? 0) - (order.get(b.refId) ?? 0));
  return out;
}
