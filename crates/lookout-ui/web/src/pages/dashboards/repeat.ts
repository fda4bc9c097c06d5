// Panel repeats: a panel with `repeat: <var>` becomes one copy per selected value of the variable, side by side
// (`repeatDirection: "h"`, at most maxPerRow per line, 4 by default) or stacked ("v"); panels below move down by
// the added height, as in Grafana. Pure (unit-tested).
import type { Panel } from "./model";

const COLUMNS = 24;

export function expandRepeats(panels: Panel[], valuesOf: (name: string) => string[]): Panel[] {
  const out: Panel[] = [];
  let shift: Array<{ fromY: number; by: number }> = [];
  const shiftOf = (y: number) => shift.reduce((n, s) => (y >= s.fromY ? n + s.by : n), 0);
  for (const p of panels) {
    const g = p.gridPos ?? { x: 0, y: 0, w: 12, h: 8 };
    const y = g.y + shiftOf(g.y);
    const values = p.repeat ? valuesOf(p.repeat) : [];
    if (!p.repeat || values.length === 0) {
      out.push({ ...p, gridPos: { ...g, y } });
      continue;
    }
    if (p.repeatDirection === "v") {
      values.forEach((v, i) => out.push({ ...p, id: (p.id ?? 0) * 1000 + i, scopedVars: { [p.repeat as string]: v }, gridPos: { ...g, y: y + i * g.h } }));
      shift = [...shift, { fromY: g.y + g.h, by: (values.length - 1) * g.h }];
      continue;
    }
    const perRow = Math.max(1, p.maxPerRow || 4);
    const w = Math.max(Math.floor(COLUMNS / values.length), Math.floor(COLUMNS / perRow));
    const cols = Math.max(1, Math.floor(COLUMNS / w));
    values.forEach((v, i) =>
      out.push({ ...p, id: (p.id ?? 0) * 1000 + i, scopedVars: { [p.repeat as string]: v }, gridPos: { x: (i % cols) * w, y: y + Math.floor(i / cols) * g.h, w, h: g.h } }),
    );
    const lines = Math.ceil(values.length / cols);
    shift = [...shift, { fromY: g.y + g.h, by: (lines - 1) * g.h }];
  }
  return out;
}
