// stat (and legacy singlestat): one box per series with the reduced value (reduceOptions.calcs), coloured by
// thresholds or mappings as the value or the background, with an optional sparkline.
import { h, replace, svg } from "../../../lib/dom";
import { reduce } from "../../../components/chart-data";
import { seriesViews, display, type RendererFactory } from "./types";

function sparkline(points: Array<[number, number | null]>, color: string): SVGElement | null {
  const pts = points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]));
  if (pts.length < 2) return null;
  const [t0, t1] = [pts[0][0], pts[pts.length - 1][0]];
  const vs = pts.map((p) => p[1]);
  const [lo, hi] = [Math.min(...vs), Math.max(...vs)];
  const x = (t: number) => ((t - t0) / (t1 - t0 || 1)) * 100;
  const y = (v: number) => 100 - ((v - lo) / (hi - lo || 1)) * 90;
  const line = pts.map((p) => `${x(p[0]).toFixed(2)},${y(p[1]).toFixed(2)}`).join(" ");
  return svg(
    "svg",
    { class: "spark", viewBox: "0 0 100 100", preserveAspectRatio: "none" },
    svg("polygon", { points: `0,100 ${line} 100,100`, fill: color, "fill-opacity": 0.35, stroke: "none" }),
    svg("polyline", { points: line, fill: "none", stroke: color, "stroke-width": 1.5, "vector-effect": "non-scaling-stroke" }),
  );
}

export const statPanel: RendererFactory = (body, panel) => {
  const grid = h("div", { class: "stat-grid" });
  body.append(grid);
  return {
    update(data) {
      const views = seriesViews(panel, data);
      const o = panel.options ?? {};
      const calc = (o.reduceOptions?.calcs as string[] | undefined)?.[0] ?? "lastNotNull";
      const colorMode = (o.colorMode as string | undefined) ?? "value";
      const textMode = (o.textMode as string | undefined) ?? "auto";
      const limit = (o.reduceOptions?.limit as number | undefined) ?? 50;
      if (!views.length) {
        const f = panel.fieldConfig?.defaults ?? {};
        replace(grid, h("div", { class: "stat" }, h("div", { class: "v" }, f.noValue ?? "No data")));
        return "nodata";
      }
      replace(
        grid,
        views.slice(0, limit).map((v) => {
          const value = reduce(v.frame.points.map((p) => p[1]), calc);
          const shown = display(v.field, value, v.field.min ?? 0, v.field.max ?? 100);
          const bg = colorMode === "background" || colorMode === "background_solid";
          const showName = textMode === "value_and_name" || textMode === "name" || (textMode === "auto" && views.length > 1);
          return h(
            "div",
            { class: "stat", style: bg ? { background: shown.color, color: "#fff" } : {} },
            textMode === "name" ? null : h("div", { class: "v", style: !bg && colorMode !== "none" ? { color: shown.color } : {} }, shown.text),
            showName ? h("div", { class: "n" }, v.name) : null,
            o.graphMode === "area" ? sparkline(v.frame.points, bg ? "#ffffff" : shown.color) : null,
          );
        }),
      );
      return "ok";
    },
  };
};
