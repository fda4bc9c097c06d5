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

export function tableModel(data: PanelData, organize?: { excludeByName?: Record<string, boolean>; renameByName?: Record<string, string>; indexByName?: Record<string, number> }): TableModel {
  const refIds = [...new Set(data.series.map((s) => s.refId))];
  const valueCol = (ref: string) => (refIds.length > 1 ? `Value #${ref}` : "Value");
  const labelCols = new Set<string>();
  const byKey = new Map<string, Record<string, Cell>>();
  for (const s of data.series) {
    for (const k of Object.keys(s.labels)) labelCols.add(k);
    const key = JSON.stringify(Object.entries(s.labels).sort());
    const row = byKey.get(key) ?? { ...s.labels };
    const last = s.points[s.points.length - 1];
    row.Time = last ? last[0] * 1000 : null;
    row[valueCol(s.refId)] = reduce(s.points.map((p) => p[1]), "lastNotNull");
    byKey.set(key, row);
  }
  const numeric = new Set(refIds.map(valueCol));
  let columns = ["Time", ...[...labelCols].sort(), ...refIds.map(valueCol)];
  let rows = [...byKey.values()];
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
    const model = tableModel(last, organize);
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
