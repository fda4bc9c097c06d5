// gauge: an arc per series filled to the reduced value between min and max (0–100 by default, 0–1 for
// percentunit), coloured by thresholds, with the threshold bands as an outer ring (showThresholdMarkers).
import { h, replace, svg } from "../../../lib/dom";
import { resolveColor } from "../../../lib/colors";
import { reduce } from "../../../components/chart-data";
import type { FieldDisplay } from "../fieldconfig";
import { seriesViews, display, type RendererFactory } from "./types";

const START = -120;
const SWEEP = 240;

function arcPath(r: number, fromDeg: number, toDeg: number): string {
  const pt = (deg: number) => {
    const rad = ((deg - 90) * Math.PI) / 180;
    return `${(60 + r * Math.cos(rad)).toFixed(2)} ${(60 + r * Math.sin(rad)).toFixed(2)}`;
  };
  const large = toDeg - fromDeg > 180 ? 1 : 0;
  return `M ${pt(fromDeg)} A ${r} ${r} 0 ${large} 1 ${pt(toDeg)}`;
}

export function gaugeRange(f: FieldDisplay, value: number | null): [number, number] {
  const min = f.min ?? 0;
  let max = f.max ?? (f.unit === "percentunit" ? 1 : 100);
  if (f.max === null || f.max === undefined) {
    if (value !== null && value > max) max = Math.pow(10, Math.ceil(Math.log10(value)));
  }
  return [min, max > min ? max : min + 1];
}

function gauge(f: FieldDisplay, value: number | null, name: string | null, markers: boolean): HTMLElement {
  const [min, max] = gaugeRange(f, value);
  const shown = display(f, value, min, max);
  const frac = value === null ? 0 : Math.max(0, Math.min(1, (value - min) / (max - min)));
  const el = svg("svg", { viewBox: "0 0 120 100" });
  el.append(svg("path", { d: arcPath(44, START, START + SWEEP), stroke: "var(--bg3)", "stroke-width": 12, fill: "none" }));
  if (frac > 0) el.append(svg("path", { d: arcPath(44, START, START + SWEEP * frac), stroke: shown.color, "stroke-width": 12, fill: "none" }));
  if (markers) {
    const steps = f.thresholds?.steps ?? [];
    const pct = f.thresholds?.mode === "percentage";
    steps.forEach((s, i) => {
      const at = (v: number | null | undefined, dflt: number) => (v === null || v === undefined ? dflt : pct ? v / 100 : (v - min) / (max - min));
      const a = Math.max(0, Math.min(1, at(s.value, 0)));
      const b = Math.max(0, Math.min(1, at(steps[i + 1]?.value, 1)));
      if (b > a) el.append(svg("path", { d: arcPath(54, START + SWEEP * a, START + SWEEP * b), stroke: resolveColor(s.color), "stroke-width": 4, fill: "none" }));
    });
  }
  const t = svg("text", { x: 60, y: 68, "text-anchor": "middle", "font-size": 17, "font-weight": 600, fill: shown.color });
  t.textContent = shown.text;
  el.append(t);
  return h("div", { class: "gauge" }, el, name ? h("div", { class: "small muted" }, name) : null);
}

export const gaugePanel: RendererFactory = (body, panel) => {
  const box = h("div", { class: "gauges" });
  body.append(box);
  return {
    update(data) {
      const views = seriesViews(panel, data);
      const calc = (panel.options?.reduceOptions?.calcs as string[] | undefined)?.[0] ?? "lastNotNull";
      const markers = panel.options?.showThresholdMarkers !== false;
      if (!views.length) {
        replace(box, h("div", { class: "nodata" }, panel.fieldConfig?.defaults?.noValue ?? "No data"));
        return "nodata";
      }
      replace(box, views.map((v) => gauge(v.field, reduce(v.frame.points.map((p) => p[1]), calc), views.length > 1 ? v.name : null, markers)));
      return "ok";
    },
  };
};
