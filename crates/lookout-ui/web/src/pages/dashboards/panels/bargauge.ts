// bargauge: a bar per series filled to its reduced value between min and max, coloured by thresholds; horizontal
// or vertical (options.orientation), gradient or solid (options.displayMode).
import { h, replace } from "../../../lib/dom";
import { withAlpha } from "../../../lib/colors";
import { reduce } from "../../../components/chart-data";
import { seriesViews, display, type RendererFactory } from "./types";

export const barGaugePanel: RendererFactory = (body, panel) => {
  const box = h("div", { class: "bars" });
  body.append(box);
  return {
    update(data) {
      const views = seriesViews(panel, data);
      const o = panel.options ?? {};
      const calc = (o.reduceOptions?.calcs as string[] | undefined)?.[0] ?? "lastNotNull";
      box.classList.toggle("vertical", o.orientation === "vertical");
      if (!views.length) {
        replace(box, h("div", { class: "nodata" }, "No data"));
        return "nodata";
      }
      const values = views.map((v) => reduce(v.frame.points.map((p) => p[1]), calc));
      const dataMax = Math.max(0, ...values.filter((x): x is number => x !== null && Number.isFinite(x)));
      replace(
        box,
        views.map((v, i) => {
          const min = v.field.min ?? 0;
          const max = v.field.max ?? (v.field.unit === "percentunit" ? 1 : v.field.unit === "percent" ? 100 : dataMax || 1);
          const value = values[i];
          const shown = display(v.field, value, min, max);
          const frac = value === null ? 0 : Math.max(0, Math.min(1, (value - min) / (max - min || 1)));
          const vertical = o.orientation === "vertical";
          const fill = o.displayMode === "basic" ? shown.color : `linear-gradient(${vertical ? "0deg" : "90deg"}, ${withAlpha(shown.color, 0.35)}, ${shown.color})`;
          return h(
            "div",
            { class: "bar" },
            h("span", { class: "name", title: v.name }, v.name),
            h("div", { class: "track" }, h("div", { class: "fill", style: vertical ? { height: `${frac * 100}%`, background: fill } : { width: `${frac * 100}%`, background: fill } })),
            h("span", { class: "val", style: { color: shown.color } }, shown.text),
          );
        }),
      );
      return "ok";
    },
  };
};
