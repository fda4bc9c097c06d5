// Which API a panel or variable queries. Every Prometheus or Loki data source of the dashboard means this Lookout;
// the type comes from the reference itself ({type: "loki"}), a datasource variable's plugin type, or, for bare
// names and `${DS_…}` inputs of exported dashboards, the name. Pure (unit-tested).
import type { DataSourceRef, Variable } from "./model";

export type DsKind = { kind: "prometheus" } | { kind: "loki" } | { kind: "unsupported"; type: string };

const PROM_TYPES = new Set(["prometheus", "grafana-amazonprometheus-datasource", "grafana-azureprometheus-datasource"]);

function byType(type: string): DsKind | null {
  const t = type.toLowerCase();
  if (PROM_TYPES.has(t)) return { kind: "prometheus" };
  if (t === "loki") return { kind: "loki" };
  if (t === "datasource" || t === "grafana") return { kind: "unsupported", type: t === "datasource" ? "-- Dashboard --" : "-- Grafana --" };
  if (t === "" || t === "default") return null;
  return { kind: "unsupported", type };
}

function variableType(name: string, vars: Variable[]): DsKind | null {
  const v = vars.find((x) => x.name === name && x.type === "datasource");
  if (!v) return null;
  return byType(typeof v.query === "string" ? v.query : "prometheus");
}

function byName(name: string, vars: Variable[]): DsKind {
  const ref = /^\$\{?([\w]+)\}?$/.exec(name.trim());
  if (ref) {
    const fromVar = variableType(ref[1], vars);
    if (fromVar) return fromVar;
  }
  if (name === "-- Mixed --") return { kind: "prometheus" };
  if (name === "-- Dashboard --" || name === "-- Grafana --") return { kind: "unsupported", type: name };
  return /loki/i.test(name) ? { kind: "loki" } : { kind: "prometheus" };
}

/** The data source kind of a panel's or target's reference; `fallback` when it names none. */
export function resolveDatasource(ref: DataSourceRef, vars: Variable[], fallback: DsKind = { kind: "prometheus" }): DsKind {
  if (ref === null || ref === undefined || ref === "") return fallback;
  if (typeof ref === "string") return byName(ref, vars);
  if (ref.type) {
    const t = byType(ref.type);
    if (t) return t;
  }
  if (ref.uid) {
    if (ref.uid === "-- Mixed --") return fallback;
    return byName(ref.uid, vars);
  }
  return fallback;
}
