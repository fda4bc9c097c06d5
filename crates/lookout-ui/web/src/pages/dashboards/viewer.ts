// The dashboard viewer (`#/d/<uid>?from=…&to=…&var-x=…&refresh=…`): loads the dashboard from
// `api/lookout/v1/dashboards/<uid>`, its variables, time range and refresh, links, and the panels laid out on
// Grafana's 24-column grid, section by section (collapsible rows).
import { h, replace, notice, spinner } from "../../lib/dom";
import { ApiError, getJson } from "../../lib/api";
import { interpolate, type Vars } from "../../lib/interpolate";
import { replaceParams, type Route } from "../../lib/router";
import { parseDuration } from "../../lib/time";
import { dashboardLinks } from "./dashlinks";
import { sections, unwrapDashboard, type Dashboard, type Section } from "./model";
import { PanelView, type ViewerContext } from "./panel";
import { expandRepeats } from "./repeat";
import { refreshPicker, resolveRange, timePicker, type TimeRange } from "./timepicker";
import { VariableSet } from "./variables";

export function dashboardPage(root: HTMLElement, route: Route): () => void {
  const uid = decodeURIComponent(route.path.split("/")[2] ?? "");
  const ctl = new AbortController();
  let teardown = () => {};
  const box = h("div", null, spinner());
  root.append(box);
  getJson<unknown>(`api/lookout/v1/dashboards/${encodeURIComponent(uid)}`, ctl.signal)
    .then((json) => {
      if (ctl.signal.aborted) return;
      try {
        teardown = mountDashboard(box, unwrapDashboard(json), route.params, ctl.signal);
      } catch (e) {
        replace(box, h("h1", null, "Dashboard"), notice("error", `This dashboard cannot be shown: ${(e as Error).message}`, "error"));
      }
    })
    .catch((e: unknown) => {
      if (ctl.signal.aborted) return;
      const msg = e instanceof ApiError && e.status === 404 ? `Dashboard "${uid}" not found.` : `Cannot load dashboard "${uid}": ${(e as Error).message}`;
      replace(box, h("h1", null, "Dashboard"), notice("error", msg, "error"), h("a", { href: "#/dashboards" }, "All dashboards"));
    });
  return () => {
    ctl.abort();
    teardown();
  };
}

function mountDashboard(root: HTMLElement, dash: Dashboard, params: URLSearchParams, signal: AbortSignal): () => void {
  let range: TimeRange = { from: params.get("from") ?? dash.time?.from ?? "now-6h", to: params.get("to") ?? dash.time?.to ?? "now" };
  let refresh = params.get("refresh") ?? (typeof dash.refresh === "string" ? dash.refresh : "");
  const defs = dash.templating?.list ?? [];
  const variables = new VariableSet(defs, params);
  let panels: PanelView[] = [];
  let timer: number | undefined;
  let abs = resolveRange(range);
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) viewOf.get(e.target)?.setVisible(e.isIntersecting);
  });
  const viewOf = new WeakMap<Element, PanelView>();

  const varsWith = (scoped?: Record<string, string>): Vars => {
    const vars = variables.values();
    for (const [k, v] of Object.entries(scoped ?? {})) vars.set(k, { ...(vars.get(k) ?? {}), value: v, text: v, isAll: false });
    vars.set("__dashboard", { value: dash.title ?? "", raw: true });
    return vars;
  };
  const ctx: ViewerContext = {
    env: (panel) => ({ from: abs.from, to: abs.to, vars: varsWith(panel.scopedVars), defs }),
    text: (s, scoped) => interpolate(s, varsWith(scoped), "text"),
    // Titles show multi values as Grafana does: "a + b", or "All".
    title: (s, scoped) => interpolate(s, varsWith(scoped), "text", "text"),
    vars: () => varsWith(),
    links: () => ({ text: (s) => interpolate(s, varsWith(), "text"), time: range, vars: variables.urlParams() }),
    onZoom: (from, to) => setRange({ from: String(from), to: String(to) }),
    utc: dash.timezone === "utc",
  };

  const varBar = h("div", { class: "vars", "data-testid": "variables" });
  const linkBar = h("div", { class: "dash-links" });
  const controls = h("div", { class: "row" });
  const grid = h("div");
  root.replaceChildren(
    h("div", { class: "dash-head" }, h("h1", null, h("a", { href: "#/dashboards", class: "muted", title: "All dashboards" }, "Dashboards › "), dash.title ?? "Untitled"), controls),
    varBar,
    linkBar,
    grid,
  );

  const saveUrl = () => {
    const p = new URLSearchParams({ from: range.from, to: range.to });
    if (refresh) p.set("refresh", refresh);
    for (const [k, v] of variables.urlParams()) p.append(k, v);
    replaceParams(p);
  };

  const repeatValues = (name: string): string[] => {
    const s = variables.states.find((x) => x.def.name === name);
    if (!s) return [];
    return s.isAll ? s.options.map((o) => o.value) : s.selected;
  };

  const layout = () => {
    panels.forEach((p) => p.destroy());
    panels = [];
    observer.disconnect();
    const secs: Section[] = sections(dash.panels ?? []);
    if (!secs.length) {
      replace(grid, notice("empty", dash.rows ? "This dashboard uses Grafana's old rows[] layout, which Lookout's viewer does not support; open it in Grafana." : "This dashboard has no panels.", "no-data"));
      return;
    }
    replace(
      grid,
      secs.map((sec) => {
        const g = h("div", { class: "grid" });
        const fill = () => {
          const expanded = expandRepeats(sec.panels, repeatValues);
          const minY = Math.min(...expanded.map((p) => p.gridPos?.y ?? 0));
          for (const p of expanded) {
            const view = new PanelView({ ...p, gridPos: { ...(p.gridPos ?? { x: 0, y: 0, w: 12, h: 8 }), y: (p.gridPos?.y ?? 0) - minY } }, ctx);
            panels.push(view);
            viewOf.set(view.el, view);
            g.append(view.el);
            observer.observe(view.el);
          }
        };
        if (!sec.row) {
          fill();
          return g;
        }
        let collapsed = sec.collapsed;
        const head = h("div", { class: "dash-row", "data-testid": "row", "data-collapsed": String(collapsed) });
        const drawHead = () =>
          replace(head, h("span", null, collapsed ? "▸" : "▾"), h("span", null, ctx.title(sec.row?.title ?? "")), collapsed ? h("span", { class: "muted small" }, `(${sec.panels.length} panels)`) : null);
        drawHead();
        if (!collapsed) fill();
        head.addEventListener("click", () => {
          collapsed = !collapsed;
          head.dataset.collapsed = String(collapsed);
          drawHead();
          if (collapsed) {
            for (const el of [...g.children]) {
              const v = viewOf.get(el);
              v?.destroy();
              panels = panels.filter((x) => x !== v);
              observer.unobserve(el);
            }
            replace(g);
          } else fill();
        });
        return h("div", { style: { marginBottom: "8px" } }, head, g);
      }),
    );
  };

  const refreshAll = () => {
    abs = resolveRange(range);
    panels.forEach((p) => p.refresh());
  };

  const setRange = (r: TimeRange) => {
    range = r;
    abs = resolveRange(range);
    saveUrl();
    drawControls();
    void variables.load(abs, signal, (s) => s.def.refresh === 2 || s.def.type === "interval").then(() => {
      variables.render(varBar, onVarChange);
      refreshAll();
    }, () => {});
  };

  const setTimer = () => {
    window.clearInterval(timer);
    const ms = refresh ? parseDuration(refresh) : null;
    if (ms && ms >= 1000) timer = window.setInterval(() => !document.hidden && refreshAll(), ms);
  };

  function drawControls(): void {
    replace(
      controls,
      timePicker(range, setRange),
      refreshPicker(refresh, refreshAll, (v) => {
        refresh = v;
        saveUrl();
        setTimer();
      }),
    );
  }

  function onVarChange(name: string): void {
    saveUrl();
    void variables.reloadDependents(name, abs, signal).then(() => {
      variables.render(varBar, onVarChange);
      layout();
    }, () => {});
  }

  drawControls();
  setTimer();
  dashboardLinks(linkBar, dash.links ?? [], ctx, signal);
  variables
    .load(abs, signal)
    .then(() => {
      if (signal.aborted) return;
      variables.render(varBar, onVarChange);
      saveUrl();
      layout();
    })
    .catch(() => {});
  return () => {
    window.clearInterval(timer);
    observer.disconnect();
    panels.forEach((p) => p.destroy());
  };
}
