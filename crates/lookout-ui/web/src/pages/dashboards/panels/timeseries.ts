// timeseries (and legacy graph): the shared chart with the panel's unit, decimals, min/max, stacking, draw style,
// per-series overrides (colour, display name, unit, fill) and legend options; drag-to-zoom sets the dashboard range.
import { TimeChart } from "../../../components/chart";
import type { Stacking } from "../../../components/chart-data";
import { reduce } from "../../../components/chart-data";
import { seriesColor } from "../fieldconfig";
import type { Panel } from "../model";
import { seriesViews, type PanelRenderer, type RendererFactory } from "./types";

function legendOf(panel: Panel): { mode: "list" | "table" | "hidden"; placement: "bottom" | "right"; calcs: string[] } {
  const l = (panel.options?.legend ?? {}) as { showLegend?: boolean; displayMode?: string; placement?: string; calcs?: string[] };
  const mode = l.showLegend === false || l.displayMode === "hidden" ? "hidden" : l.displayMode === "table" ? "table" : "list";
  return { mode, placement: l.placement === "right" ? "right" : "bottom", calcs: l.calcs ?? [] };
}

export const timeseriesPanel: RendererFactory = (body, panel): PanelRenderer => {
  const d = panel.fieldConfig?.defaults ?? {};
  const custom = d.custom ?? {};
  const stackMode = (custom.stacking?.mode ?? "none") as Stacking;
  const chart = new TimeChart({
    height: 0,
    unit: d.unit,
    decimals: d.decimals,
    min: d.min ?? custom.axisSoftMin ?? null,
    max: d.max ?? custom.axisSoftMax ?? null,
    stacking: stackMode === "normal" || stackMode === "percent" ? stackMode : "none",
    drawStyle: custom.drawStyle === "bars" ? "bars" : custom.drawStyle === "points" ? "points" : "line",
    lineWidth: custom.lineWidth ?? 1,
    fillOpacity: custom.fillOpacity ?? 0,
    legend: legendOf(panel),
    onZoom: () => {},
  });
  body.append(chart.el);
  return {
    update(data, env) {
      const views = seriesViews(panel, data);
      if (!views.length) {
        chart.setData([]);
        return "nodata";
      }
      chart.setData(
        views.map((v, i) => ({
          name: v.name,
          points: v.frame.points,
          color: seriesColor(v.field, i, reduce(v.frame.points.map((p) => p[1]), "lastNotNull")),
          unit: v.field.unit,
          decimals: v.field.decimals,
          fillOpacity: v.field.custom?.fillOpacity,
          stack: v.field.custom?.stacking?.mode !== "none",
        })),
        { range: [env.from / 1000, env.to / 1000], onZoom: env.onZoom, utc: env.utc },
      );
      return "ok";
    },
    destroy: () => chart.destroy(),
  };
};
