// One query panel of the explorer: editor, Table and Graph tabs, the result, its warnings and errors. Its state is
// a plain object the page stores in the URL (g<N>.expr, g<N>.tab, …, as Prometheus's own UI does).
import { h, replace, notice, spinner } from "../../lib/dom";
import { ApiError, promGet } from "../../lib/api";
import { errorPosition } from "../../lib/errpos";
import { promAutoStep } from "../../lib/interval";
import { formatSeries } from "../../lib/labels";
import { formatDuration, toDatetimeLocal } from "../../lib/time";
import { QueryEditor } from "../../components/editor";
import { TimeChart } from "../../components/chart";
import { rangePicker, rangeMs, stepSeconds, type RangeState } from "../../components/rangepicker";
import { resultTable, type QueryData, type MatrixSeries } from "../../components/result-table";
import { promqlCompletion } from "./complete";

export interface PanelState extends RangeState {
  expr: string;
  tab: "table" | "graph";
  /** Evaluation time of the table, ms; null = now. */
  moment: number | null;
  stacked: boolean;
}

export function defaultPanel(): PanelState {
  return { expr: "", tab: "table", range: "1h", end: null, step: "", moment: null, stacked: false };
}

export class QueryPanel {
  readonly el: HTMLElement;
  private editor: QueryEditor;
  private body: HTMLElement;
  private controls: HTMLElement;
  private messages: HTMLElement;
  private chart?: TimeChart;
  private inflight?: AbortController;
  private tabButtons: Record<string, HTMLButtonElement>;

  constructor(
    public state: PanelState,
    private onState: () => void,
    onRemove: (() => void) | null,
  ) {
    this.editor = new QueryEditor({
      value: state.expr,
      placeholder: "Expression (Ctrl+Enter to run, Ctrl+Space to complete)",
      onRun: () => this.run(),
      onChange: (v) => (this.state.expr = v),
      complete: promqlCompletion,
    });
    const runBtn = h("button", { class: "primary", type: "button", "data-testid": "run", onclick: () => this.run() }, "Execute");
    this.tabButtons = {
      table: h("button", { type: "button", "data-testid": "tab-table", onclick: () => this.setTab("table") }, "Table"),
      graph: h("button", { type: "button", "data-testid": "tab-graph", onclick: () => this.setTab("graph") }, "Graph"),
    };
    this.controls = h("div");
    this.messages = h("div", { class: "annotations" });
    this.body = h("div", { "data-testid": "result" });
    this.el = h(
      "div",
      { class: "card", "data-testid": "query-panel" },
      h(
        "div",
        { class: "body" },
        h("div", { class: "panel-controls" }, this.editor.el, runBtn, onRemove ? h("button", { type: "button", title: "Remove this query", "data-testid": "remove-panel", onclick: onRemove }, "✕") : null),
        h("div", { class: "tabs" }, this.tabButtons.table, this.tabButtons.graph),
        this.controls,
        this.messages,
        this.body,
      ),
    );
    this.renderControls();
  }

  destroy(): void {
    this.inflight?.abort();
    this.chart?.destroy();
  }

  private setTab(tab: PanelState["tab"]): void {
    this.state.tab = tab;
    this.onState();
    this.renderControls();
    if (this.state.expr) this.run();
    else replace(this.body);
  }

  private renderControls(): void {
    for (const [k, b] of Object.entries(this.tabButtons)) b.classList.toggle("active", k === this.state.tab);
    if (this.state.tab === "graph") {
      const stacked = h("input", { type: "checkbox", checked: this.state.stacked, "data-testid": "stacked" });
      stacked.addEventListener("change", () => {
        this.state.stacked = stacked.checked;
        this.onState();
        this.run();
      });
      replace(
        this.controls,
        h(
          "div",
          { class: "row" },
          rangePicker(this.state, (s) => {
            Object.assign(this.state, s);
            this.onState();
            this.renderControls();
            this.run();
          }),
          h("label", { class: "range-picker" }, stacked, " stacked"),
        ),
      );
    } else {
      const moment = h("input", { type: "datetime-local", step: "1", "data-testid": "eval-time", title: "Evaluation time (empty: now)" });
      if (this.state.moment !== null) moment.value = toDatetimeLocal(this.state.moment);
      moment.addEventListener("change", () => {
        const t = moment.value ? new Date(moment.value).getTime() : NaN;
        this.state.moment = Number.isNaN(t) ? null : t;
        this.onState();
        this.run();
      });
      replace(this.controls, h("div", { class: "range-picker" }, h("span", { class: "muted" }, "Evaluation time"), moment, h("button", { type: "button", onclick: () => ((moment.value = ""), moment.dispatchEvent(new Event("change"))) }, "now")));
    }
  }

  run(): void {
    this.state.expr = this.editor.value;
    this.onState();
    this.inflight?.abort();
    this.editor.markError(null);
    replace(this.messages);
    const expr = this.state.expr.trim();
    if (!expr) {
      replace(this.body);
      return;
    }
    const ctl = new AbortController();
    this.inflight = ctl;
    replace(this.body, spinner());
    const started = performance.now();
    const done = (data: QueryData, warnings: string[], infos: string[], extra: string) => {
      if (ctl.signal.aborted) return;
      const ms = Math.round(performance.now() - started);
      replace(
        this.messages,
        warnings.map((w) => notice("warning", w, "warning")),
        infos.map((i) => notice("info", i, "info")),
        h("div", { class: "muted small" }, `Load time: ${ms} ms · ${extra}`),
      );
      this.renderResult(data);
    };
    const fail = (e: unknown) => {
      if (ctl.signal.aborted) return;
      const msg = e instanceof ApiError ? e.message : String(e);
      this.editor.markError(errorPosition(msg, this.editor.value));
      this.chart?.destroy();
      this.chart = undefined;
      replace(this.body, notice("error", msg, "error"));
    };
    if (this.state.tab === "table") {
      const time = this.state.moment === null ? Date.now() / 1000 : this.state.moment / 1000;
      promGet<QueryData>("api/v1/query", { query: expr, time }, ctl.signal)
        .then((r) => done(r.data, r.warnings, r.infos, `Result series: ${Array.isArray(r.data.result) && r.data.resultType !== "scalar" && r.data.resultType !== "string" ? r.data.result.length : 1}`))
        .catch(fail);
    } else {
      const end = (this.state.end ?? Date.now()) / 1000;
      const start = end - rangeMs(this.state) / 1000;
      const step = stepSeconds(this.state, promAutoStep);
      promGet<QueryData>("api/v1/query_range", { query: expr, start, end, step }, ctl.signal)
        .then((r) => done(r.data, r.warnings, r.infos, `Resolution: ${step}s · Result series: ${Array.isArray(r.data.result) ? r.data.result.length : 1}`))
        .catch(fail);
    }
  }

  private renderResult(data: QueryData): void {
    if (this.state.tab === "table") {
      this.chart?.destroy();
      this.chart = undefined;
      replace(this.body, resultTable(data));
      return;
    }
    const series: MatrixSeries[] = data.resultType === "matrix" ? data.result : [];
    if (series.length === 0) {
      this.chart?.destroy();
      this.chart = undefined;
      replace(this.body, notice("empty", "Empty query result", "no-data"));
      return;
    }
    const end = (this.state.end ?? Date.now()) / 1000;
    const range: [number, number] = [end - rangeMs(this.state) / 1000, end];
    if (!this.chart) {
      this.chart = new TimeChart({
        height: 320,
        legend: { mode: "list" },
        onZoom: (from, to) => {
          this.state.range = formatDuration(Math.max(1000, Math.round((to - from) / 1000) * 1000));
          this.state.end = to;
          this.onState();
          this.renderControls();
          this.run();
        },
      });
    }
    replace(this.body, this.chart.el);
    this.chart.setData(
      series.map((s) => ({ name: formatSeries(s.metric), points: (s.values ?? []).map(([t, v]) => [t, parseFloat(v)] as [number, number]) })),
      { stacking: this.state.stacked ? "normal" : "none", range },
    );
  }
}
