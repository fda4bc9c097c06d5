// table: series as rows (label columns plus a value column per query, merged on equal label sets, the last value
// for range data), Grafana's "organize" transformation (hide, rename, reorder), per-column unit and threshold
// colours from overrides, sortable headers.
import { h, replace } from "../../../lib/dom";
import { formatTime } from "../../../lib/time";
import { reduce } from "../../../components/chart-data";
import { resolveField } from "../fieldconfig";
import { display, type RendererFactory } from "./types";
import type { PanelData } from "../query";

type Cell = string | number | null;

export interface TableModel {
  columns: string[];
  /** Value columns hold numbers; the rest text. */
  numeric: Set<string>;
  rows: Array<Record<string, Cell>>;
}

type Row = Record<string, Cell>;

/** Grafana's "merge" transformation: one table per query (its label columns, `Value #X`), rows joined on the
 * columns every table has (with `Time`) when no column they both fill differs; otherwise rows stay apart. */
function mergeTables(tables: Array<{ columns: Set<string>; rows: Row[] }>): Row[] {
  const keyCols = [...tables[0].columns].filter((c) => tables.every((t) => t.columns.has(c)));
  const byKey = new Map<string, Row[]>();
  const out: Row[] = [];
  for (const t of tables) {
    for (const row of t.rows) {
      const key = JSON.stringify(keyCols.map((c) => row[c] ?? null));
      const same = byKey.get(key) ?? [];
      const into = same.find((r) => Object.entries(row).every(([c, v]) => r[c] === undefined || r[c] === null || r[c] === v));
      if (into) Object.assign(into, row);
      else {
        const copy = { ...row };
        same.push(copy);
        byKey.set(key, same);
        out.push(copy);
      }
    }
  }
  return out;
}

export function tableModel(
  data: PanelData,
  organize?: { excludeByName?: Record<string, boolean>; renameByName?: Record<string, string>; indexByName?: Record<string, number> },
  merge = false,
): TableModel {
  const refIds = [...new Set(data.series.map((s) => s.refId))];
  const valueCol = (ref: string) => (refIds.length > 1 ? `Value #${ref}` : "Value");
  const labelCols = new Set<string>();
  for (const s of data.series) for (const k of Object.keys(s.labels)) labelCols.add(k);
  const rowOf = (s: PanelData["series"][number]): Row => {
    const last = s.points[s.points.length - 1];
    return { ...s.labels, Time: last ? last[0] * 1000 : null, [valueCol(s.refId)]: reduce(s.points.map((p) => p[1]), "lastNotNull") };
  };
  let rows: Row[];
  if (merge && refIds.length > 1) {
    rows = mergeTables(
      refIds.map((ref) => {
        const series = data.series.filter((s) => s.refId === ref);
        const columns = new Set(["Time", ...series.flatMap((s) => Object.keys(s.labels)), valueCol(ref)]);
        // A query's table has a cell for each of its label columns; a series without the label has it empty.
        const labels = [...columns].filter((c) => c !== "Time" && c !== valueCol(ref));
        return { columns, rows: series.map((s) => ({ ...Object.fromEntries(labels.map((l) => [l, ""])), ...rowOf(s) })) };
      }),
    );
  } else {
    // Without "merge" Grafana shows one table per query; here series with equal label sets share a row.
    const byKey = new Map<string, Row>();
    for (const s of data.series) {
      const key = JSON.stringify(Object.entries(s.labels).sort());
      byKey.set(key, { ...(byKey.get(key) ?? {}), ...rowOf(s) });
    }
    rows = [...byKey.values()];
  }
  const numeric = new Set(refIds.map(valueCol));
  let columns = ["Time", ...[...labelCols].sort(), ...refIds.map(valueCol)];
  if (organize) {
    const ex = organize.excludeByName ?? {};
    const idx = organize.indexByName ?? {};
    const ren = organize.renameByName ?? {};
    columns = columns.filter((c) => !ex[c]);
    if (Object.keys(idx).length) columns.sort((a, b) => (idx[a] ?? 1e9) - (idx[b] ?? 1e9));
    rows = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [ren[k] || k, v])));
    for (const n of [...numeric]) if (ren[n]) numeric.add(ren[n]);
    columns = columns.map((c) => ren[c] || c);
  }
  return { columns, numeric, rows };
}

export const tablePanel: RendererFactory = (body, panel) => {
  const box = h("div", { class: "panel-table" });
  body.append(box);
  const sortBy = (panel.options?.sortBy as Array<{ displayName: string; desc?: boolean }> | undefined)?.[0];
  let sort: { col: string; desc: boolean } | null = sortBy ? { col: sortBy.displayName, desc: Boolean(sortBy.desc) } : null;
  let last: PanelData | null = null;
  const draw = () => {
    if (!last) return;
    const organize = panel.transformations?.find((t) => t.id === "organize")?.options;
    const model = tableModel(last, organize, panel.transformations?.some((t) => t.id === "merge") ?? false);
    const d = panel.fieldConfig?.defaults;
    const o = panel.fieldConfig?.overrides;
    const fields = new Map(model.columns.map((c) => [c, resolveField(d, o, c)]));
    const cols = model.columns.filter((c) => !fields.get(c)?.custom?.hidden && (c !== "Time" || model.rows.some((r) => r.Time !== null)));
    const rows = [...model.rows];
    if (sort) {
      const { col, desc } = sort;
      rows.sort((a, b) => {
        const x = a[col] ?? "";
        const y = b[col] ?? "";
        const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
        return desc ? -c : c;
      });
    }
    const header = (c: string) =>
      h("th", { class: `sortable${model.numeric.has(c) ? " num" : ""}`, onclick: () => ((sort = { col: c, desc: sort?.col === c ? !sort.desc : false }), draw()) }, fields.get(c)?.displayName || c, sort?.col === c ? (sort.desc ? " ▼" : " ▲") : "");
    const cell = (c: string, v: Cell) => {
      if (c === "Time") return h("td", null, typeof v === "number" ? formatTime(v) : "");
      if (!model.numeric.has(c)) return h("td", null, v === null ? "" : String(v));
      const f = fields.get(c) ?? {};
      const shown = display(f, typeof v === "number" ? v : null, f.min ?? 0, f.max ?? 100);
      const mode = (f.custom?.cellOptions?.type as string | undefined) ?? (f.custom?.displayMode as string | undefined) ?? "";
      const style = mode.includes("background") ? { background: shown.color, color: "#fff" } : mode === "color-text" ? { color: shown.color } : {};
      return h("td", { class: "num", style }, shown.text);
    };
    replace(box, h("table", { class: "data", "data-testid": "table" }, h("tr", null, cols.map(header)), rows.map((r) => h("tr", null, cols.map((c) => cell(c, r[c] ?? null))))));
  };
  return {
    update(data) {
      last = data;
      if (!data.series.length) {
        replace(box, h("div", { class: "nodata" }, "No data"));
        return "nodata";
      }
      draw();
      return "ok";
    },
  };
};
