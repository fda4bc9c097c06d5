// The query explorer: a list of query panels whose state lives in the URL (`#/graph?g0.expr=…&g0.tab=graph&…`),
// so a view can be shared. "Add query" appends a panel.
import { h } from "../../lib/dom";
import { replaceParams, type Route } from "../../lib/router";
import { defaultPanel, QueryPanel, type PanelState } from "./panel";

function readPanels(p: URLSearchParams): PanelState[] {
  const out: PanelState[] = [];
  for (let i = 0; i < 50; i++) {
    const get = (k: string) => p.get(`g${i}.${k}`);
    if (get("expr") === null && get("tab") === null) break;
    const d = defaultPanel();
    const num = (v: string | null) => (v && /^\d+$/.test(v) ? parseInt(v, 10) : v ? Date.parse(v) : NaN);
    const end = num(get("end_input"));
    const moment = num(get("moment_input"));
    const tab = get("tab");
    out.push({
      expr: get("expr") ?? "",
      // Prometheus's classic UI numbers the tabs (0 = graph, 1 = table).
      tab: tab === "graph" || tab === "0" ? "graph" : "table",
      range: get("range_input") || d.range,
      end: Number.isNaN(end) ? null : end,
      step: get("step_input") ?? "",
      moment: Number.isNaN(moment) ? null : moment,
      stacked: get("stacked") === "1",
    });
  }
  return out.length ? out : [defaultPanel()];
}

function writePanels(panels: PanelState[]): URLSearchParams {
  const p = new URLSearchParams();
  panels.forEach((s, i) => {
    p.set(`g${i}.expr`, s.expr);
    p.set(`g${i}.tab`, s.tab);
    if (s.tab === "graph") {
      p.set(`g${i}.range_input`, s.range);
      if (s.end !== null) p.set(`g${i}.end_input`, new Date(s.end).toISOString());
      if (s.step) p.set(`g${i}.step_input`, s.step);
      if (s.stacked) p.set(`g${i}.stacked`, "1");
    } else if (s.moment !== null) {
      p.set(`g${i}.moment_input`, new Date(s.moment).toISOString());
    }
  });
  return p;
}

export function queryPage(root: HTMLElement, route: Route): () => void {
  const panels: QueryPanel[] = [];
  const list = h("div");
  const save = () => replaceParams(writePanels(panels.map((p) => p.state)));
  const add = (state: PanelState, runNow = false) => {
    const panel: QueryPanel = new QueryPanel(state, save, () => {
      panels.splice(panels.indexOf(panel), 1);
      panel.destroy();
      panel.el.remove();
      if (panels.length === 0) add(defaultPanel());
      save();
    });
    panels.push(panel);
    list.append(panel.el);
    if (runNow && state.expr) panel.run();
  };
  readPanels(route.params).forEach((s) => add(s, true));
  root.append(
    h("h1", null, "Query"),
    list,
    h("button", { type: "button", "data-testid": "add-query", onclick: () => (add(defaultPanel()), save()) }, "Add query"),
  );
  return () => panels.forEach((p) => p.destroy());
}
