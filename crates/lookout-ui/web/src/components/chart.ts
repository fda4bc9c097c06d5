// A time-series chart on uPlot: aligned series, optional stacking, y-axis units, drag-to-zoom reported to the
// caller, a hover tooltip with every series' value, and a legend that isolates a series on click (Ctrl/⌘-click
// toggles one). Redraws on resize and theme change.
import uPlot from "uplot";
import { h, replace } from "../lib/dom";
import { paletteColor, withAlpha } from "../lib/colors";
import { cssVar } from "../lib/theme";
import { formatValueString, type Decimals } from "../lib/units";
import { formatTime } from "../lib/time";
import { align, reduce, stack, CALC_NAMES, type Stacking } from "./chart-data";

export interface ChartSeries {
  name: string;
  points: Array<[number, number | null]>;
  color?: string;
  unit?: string;
  decimals?: Decimals;
  fillOpacity?: number;
  /** False keeps this series out of the stack (a per-series `custom.stacking.mode: none` override). */
  stack?: boolean;
}

export interface ChartOptions {
  /** Plot height in px; 0 fills the container's height (dashboard panels). */
  height: number;
  unit?: string;
  decimals?: Decimals;
  min?: number | null;
  max?: number | null;
  stacking?: Stacking;
  drawStyle?: "line" | "bars" | "points";
  lineWidth?: number;
  fillOpacity?: number;
  legend?: { mode: "list" | "table" | "hidden"; placement?: "bottom" | "right"; calcs?: string[] };
  /** Time range shown (unix seconds), so the axis spans the query range even where data is missing. */
  range?: [number, number];
  /** Time axis and tooltip in UTC (a dashboard's `timezone: "utc"`). */
  utc?: boolean;
  onZoom?: (fromMs: number, toMs: number) => void;
}

export class TimeChart {
  readonly el: HTMLElement;
  private plotBox: HTMLElement;
  private legendBox: HTMLElement;
  private tooltip: HTMLElement;
  private plot?: uPlot;
  private series: ChartSeries[] = [];
  private hidden = new Set<number>();
  private resizeObs: ResizeObserver;
  private onTheme = () => this.draw();

  constructor(private opts: ChartOptions) {
    this.plotBox = h("div", { class: "plot", "data-testid": "graph" });
    this.legendBox = h("div", { class: "legend", "data-testid": "legend" });
    this.tooltip = h("div", { class: "tooltip" });
    const right = opts.legend?.placement === "right";
    this.el = h(
      "div",
      { class: "chart", style: right ? { display: "flex", gap: "8px", height: opts.height ? "" : "100%" } : { height: opts.height ? "" : "100%" } },
      h("div", { style: { flex: "1", minWidth: "0", position: "relative" } }, this.plotBox, this.tooltip),
      this.legendBox,
    );
    if (right) this.legendBox.classList.add("right");
    this.resizeObs = new ResizeObserver(() => this.resize());
    this.resizeObs.observe(this.el);
    window.addEventListener("lookout-theme", this.onTheme);
  }

  setData(series: ChartSeries[], opts?: Partial<ChartOptions>): void {
    if (opts) this.opts = { ...this.opts, ...opts };
    const names = series.map((s) => s.name).join("\n");
    if (names !== this.series.map((s) => s.name).join("\n")) this.hidden.clear();
    this.series = series;
    this.draw();
  }

  destroy(): void {
    this.resizeObs.disconnect();
    window.removeEventListener("lookout-theme", this.onTheme);
    this.plot?.destroy();
  }

  private size(): { width: number; height: number } {
    const width = Math.max(100, this.plotBox.parentElement?.clientWidth ?? this.el.clientWidth);
    if (this.opts.height) return { width, height: this.opts.height };
    const legendH = this.opts.legend?.placement === "right" ? 0 : this.legendBox.offsetHeight;
    return { width, height: Math.max(60, this.el.clientHeight - legendH - 4) };
  }

  private resize(): void {
    if (!this.plot) return;
    const s = this.size();
    if (s.width !== this.plot.width || s.height !== this.plot.height) this.plot.setSize(s);
  }

  private color(i: number): string {
    return this.series[i].color ?? paletteColor(i);
  }

  private fmt(v: number | null | undefined, i?: number): string {
    if (v === null || v === undefined) return "–";
    const s = i === undefined ? undefined : this.series[i];
    const unit = this.opts.stacking === "percent" && i === undefined ? "percentunit" : (s?.unit ?? this.opts.unit);
    return formatValueString(v, unit, s?.decimals ?? this.opts.decimals);
  }

  private draw(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.renderLegend();
    if (this.series.length === 0) {
      replace(this.plotBox);
      return;
    }
    const { xs, ys } = align(this.series);
    const visible = this.series.map((_, i) => !this.hidden.has(i));
    const mode = this.opts.stacking ?? "none";
    const stacked = this.series.map((s, i) => visible[i] && s.stack !== false);
    const drawn = stack(ys, stacked, mode);
    const axisColor = cssVar("--axis") || "#888";
    const grid = { stroke: cssVar("--grid") || "rgba(128,128,128,0.2)", width: 1 };
    const bars = this.opts.drawStyle === "bars" ? uPlot.paths.bars?.({ size: [0.7, 60] }) : undefined;
    const points = this.opts.drawStyle === "points";
    let prev = -1;
    const bands: uPlot.Band[] = [];
    const series: uPlot.Series[] = [{}];
    this.series.forEach((s, i) => {
      const color = this.color(i);
      const fillOpacity = (s.fillOpacity ?? this.opts.fillOpacity ?? (mode !== "none" ? 50 : 0)) / 100;
      series.push({
        label: s.name,
        stroke: color,
        width: points ? 0 : (this.opts.lineWidth ?? 1),
        fill: fillOpacity > 0 ? withAlpha(color, fillOpacity) : undefined,
        show: visible[i],
        spanGaps: false,
        paths: bars,
        points: { show: points, size: 4, fill: color },
      });
      if (mode !== "none" && stacked[i]) {
        if (prev >= 0) bands.push({ series: [i + 1, prev + 1] });
        prev = i;
      }
    });
    const fixedRange = mode === "percent" ? [0, 1] : [this.opts.min ?? null, this.opts.max ?? null];
    const opts: uPlot.Options = {
      ...this.size(),
      series,
      bands,
      legend: { show: false },
      padding: [8, 20, 0, 0],
      ...(this.opts.utc ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") } : {}),
      scales: {
        x: { time: true, ...(this.opts.range ? { min: this.opts.range[0], max: this.opts.range[1] } : {}) },
        y: {
          range: (_u, dmin, dmax) => {
            const [lo, hi] = uPlot.rangeNum(dmin, dmax, 0.1, true);
            const low = lo ?? dmin;
            return [fixedRange[0] ?? (dmin >= 0 && low < 0 ? 0 : low), fixedRange[1] ?? hi ?? dmax];
          },
        },
      },
      axes: [
        { stroke: axisColor, grid, ticks: grid, space: 80 },
        {
          stroke: axisColor,
          grid,
          ticks: grid,
          values: (_u, splits) => splits.map((v) => this.fmt(v)),
          size: (_u, values) => Math.max(40, ...(values ?? []).map((v) => v.length * 7 + 18)),
        },
      ],
      cursor: {
        drag: { x: true, y: false, setScale: !this.opts.onZoom },
        points: { show: !bars },
        focus: { prox: 16 },
      },
      focus: { alpha: 0.4 },
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        setCursor: [(u) => this.onCursor(u, ys)],
      },
    };
    try {
      this.plot = new uPlot(opts, [xs, ...drawn] as uPlot.AlignedData, this.plotBox);
    } catch (e) {
      replace(this.plotBox, h("div", { class: "notice notice-error" }, `chart failed: ${(e as Error).message}`));
    }
    this.plotBox.querySelector(".u-over")?.addEventListener("mouseleave", () => (this.tooltip.style.display = "none"));
  }

  private onSelect(u: uPlot): void {
    if (!this.opts.onZoom || u.select.width < 4) return;
    const from = u.posToVal(u.select.left, "x");
    const to = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.opts.onZoom(Math.round(from * 1000), Math.round(to * 1000));
  }

  private onCursor(u: uPlot, ys: Array<Array<number | null>>): void {
    const idx = u.cursor.idx;
    const left = u.cursor.left ?? -1;
    if (idx === null || idx === undefined || left < 0) {
      this.tooltip.style.display = "none";
      return;
    }
    const t = u.data[0][idx];
    const rows = this.series
      .map((s, i) => ({ i, name: s.name, v: ys[i][idx] }))
      .filter((r) => !this.hidden.has(r.i) && r.v !== null)
      .sort((a, b) => (b.v as number) - (a.v as number));
    if (rows.length === 0) {
      this.tooltip.style.display = "none";
      return;
    }
    const shown = rows.slice(0, 15);
    replace(
      this.tooltip,
      h("div", { class: "t" }, formatTime(t * 1000, this.opts.utc)),
      shown.map((r) =>
        h("div", { class: "s" }, h("span", { class: "swatch", style: { background: this.color(r.i) } }), h("b", null, this.fmt(r.v, r.i)), h("span", null, r.name)),
      ),
      rows.length > shown.length ? h("div", { class: "muted" }, `… ${rows.length - shown.length} more`) : null,
    );
    this.tooltip.style.display = "block";
    const over = u.over;
    const top = (u.cursor.top ?? 0) + over.offsetTop;
    const width = this.tooltip.offsetWidth;
    const x = left + over.offsetLeft;
    const box = this.plotBox.clientWidth;
    this.tooltip.style.left = `${x + 16 + width > box ? Math.max(0, x - width - 16) : x + 16}px`;
    this.tooltip.style.top = `${Math.max(0, top - 10)}px`;
  }

  private toggle(i: number, only: boolean): void {
    if (only) {
      const isolated = !this.hidden.has(i) && this.hidden.size === this.series.length - 1;
      this.hidden = new Set(isolated ? [] : this.series.map((_, j) => j).filter((j) => j !== i));
    } else if (this.hidden.has(i)) this.hidden.delete(i);
    else this.hidden.add(i);
    this.draw();
  }

  private renderLegend(): void {
    const legend = this.opts.legend ?? { mode: "list" };
    if (legend.mode === "hidden" || this.series.length === 0) {
      replace(this.legendBox);
      return;
    }
    const calcs = legend.calcs ?? [];
    const click = (i: number) => (e: MouseEvent) => this.toggle(i, !(e.ctrlKey || e.metaKey || e.shiftKey));
    const swatch = (i: number) => h("span", { class: "swatch", style: { background: this.color(i) } });
    if (legend.mode === "table" || calcs.length > 0) {
      replace(
        this.legendBox,
        h(
          "table",
          null,
          h("tr", null, h("th", null, ""), calcs.map((c) => h("th", null, CALC_NAMES[c] ?? c))),
          this.series.map((s, i) =>
            h(
              "tr",
              { class: `item${this.hidden.has(i) ? " hidden" : ""}`, onclick: click(i), title: "Click: show only this series; Ctrl-click: toggle" },
              h("td", null, h("span", { class: "row" }, swatch(i), s.name)),
              calcs.map((c) => h("td", null, this.fmt(reduce(s.points.map((p) => p[1]), c), i))),
            ),
          ),
        ),
      );
      return;
    }
    replace(
      this.legendBox,
      this.series.map((s, i) =>
        h(
          "div",
          { class: `item${this.hidden.has(i) ? " hidden" : ""}`, onclick: click(i), title: "Click: show only this series; Ctrl-click: toggle", "data-testid": "legend-item" },
          swatch(i),
          h("span", null, s.name),
        ),
      ),
    );
  }
}
