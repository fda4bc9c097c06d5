// One dashboard panel: title bar (description, links, error mark), the renderer for its type, and its state for
// tests and users (`data-panel-state`: loading, ok, nodata, error, unsupported). Queries run only while the panel
// is on screen; a refresh of a hidden panel waits until it scrolls into view.
import { h, replace } from "../../lib/dom";
import type { Vars } from "../../lib/interpolate";
import { resolveLink, type LinkContext } from "./links";
import type { Panel } from "./model";
import { runPanel, type QueryEnv } from "./query";
import { barGaugePanel } from "./panels/bargauge";
import { gaugePanel } from "./panels/gauge";
import { logsPanel } from "./panels/logs";
import { statPanel } from "./panels/stat";
import { tablePanel } from "./panels/table";
import { textPanel } from "./panels/text";
import { timeseriesPanel } from "./panels/timeseries";
import type { PanelRenderer, RendererFactory } from "./panels/types";

const RENDERERS: Record<string, RendererFactory> = {
  timeseries: timeseriesPanel,
  stat: statPanel,
  gauge: gaugePanel,
  bargauge: barGaugePanel,
  table: tablePanel,
  "table-old": tablePanel,
  text: textPanel,
  logs: logsPanel,
};

export type PanelState = "loading" | "ok" | "nodata" | "error" | "unsupported";

export interface ViewerContext {
  env(panel: Panel): Omit<QueryEnv, "width">;
  text(s: string, scoped?: Record<string, string>): string;
  /** Like text, with multi values as "a + b" (panel and row titles). */
  title(s: string, scoped?: Record<string, string>): string;
  vars(): Vars;
  links(): LinkContext;
  onZoom(from: number, to: number): void;
  utc: boolean;
}

export class PanelView {
  readonly el: HTMLElement;
  private body: HTMLElement;
  private errMark: HTMLElement;
  private renderer?: PanelRenderer;
  private inflight?: AbortController;
  private visible = false;
  private stale = true;

  constructor(
    private panel: Panel,
    private ctx: ViewerContext,
  ) {
    const g = panel.gridPos ?? { x: 0, y: 0, w: 12, h: 8 };
    this.body = h("div", { class: "pbody" });
    this.errMark = h("span", { class: "perr", "data-testid": "panel-error", style: { display: "none" } }, "⚠");
    const title = ctx.title(panel.title ?? "", panel.scopedVars);
    this.el = h(
      "div",
      {
        class: `panel${panel.transparent ? " transparent" : ""}`,
        "data-testid": "panel",
        "data-panel-type": panel.type,
        "data-panel-id": panel.id ?? "",
        style: { gridColumn: `${g.x + 1} / span ${Math.min(24, g.w)}`, gridRow: `${g.y + 1} / span ${g.h}` },
      },
      h(
        "div",
        { class: "ptitle" },
        h("span", { class: "t", title }, title),
        // A circled "i" drawn with CSS: the ⓘ character is missing from common fonts (DejaVu) and shows as a box.
        panel.description ? h("span", { class: "pinfo muted", title: ctx.text(panel.description, panel.scopedVars), "data-testid": "panel-description" }, "i") : null,
        this.linksMenu(),
        this.errMark,
      ),
      this.body,
    );
    const factory = RENDERERS[panel.type];
    if (!factory) {
      const what = panel.libraryPanel && !panel.type ? `library panel "${panel.libraryPanel.name ?? panel.libraryPanel.uid}"` : `panel type ${panel.type || "(none)"}`;
      replace(this.body, h("div", { class: "unsupported" }, `${what} is not supported by Lookout's viewer; open this dashboard in Grafana`));
      this.setState("unsupported");
      return;
    }
    this.setState("loading");
    try {
      this.renderer = factory(this.body, panel);
    } catch (e) {
      this.fail([`panel failed to render: ${(e as Error).message}`]);
    }
  }

  private linksMenu(): HTMLElement | null {
    const links = [...(this.panel.links ?? []), ...(this.panel.fieldConfig?.defaults?.links ?? [])].filter((l) => l.url);
    if (!links.length) return null;
    const menu = h("span", { class: "plinks" });
    const button = h("button", { type: "button", class: "link", title: "Panel links", "data-testid": "panel-links" }, "links ▾");
    const list = h("div", { class: "dropdown" });
    button.addEventListener("click", (e) => {
      e.stopPropagation();
      const ctx = this.ctx.links();
      replace(list, links.map((l) => h("a", { href: resolveLink(l.url ?? "", { ...ctx, text: (s) => this.ctx.text(s, this.panel.scopedVars) }), target: l.targetBlank ? "_blank" : undefined, rel: "noopener" }, this.ctx.text(l.title || l.url || "", this.panel.scopedVars))));
      menu.classList.toggle("open");
    });
    document.addEventListener("click", () => menu.classList.remove("open"));
    menu.append(button, list);
    return menu;
  }

  private setState(s: PanelState): void {
    this.el.dataset.panelState = s;
  }

  private fail(errors: string[]): void {
    this.errMark.style.display = "";
    this.errMark.title = errors.join("\n");
    this.setState("error");
  }

  setVisible(v: boolean): void {
    this.visible = v;
    if (v && this.stale) this.refresh();
  }

  /** Re-runs the queries now if on screen, else when it next appears. */
  refresh(): void {
    if (!this.renderer) return;
    if (!this.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.inflight?.abort();
    const ctl = new AbortController();
    this.inflight = ctl;
    const renderer = this.renderer;
    const env = { ...this.ctx.env(this.panel), width: this.body.clientWidth || 600 };
    const textEnv = {
      panel: this.panel,
      from: env.from,
      to: env.to,
      text: (s: string) => this.ctx.text(s, this.panel.scopedVars),
      onZoom: (f: number, t: number) => this.ctx.onZoom(f, t),
      utc: this.ctx.utc,
    };
    const hasQueries = (this.panel.targets ?? []).some((t) => !t.hide) && this.panel.type !== "text";
    if (this.el.dataset.panelState !== "ok") this.setState("loading");
    const run = hasQueries ? runPanel(this.panel, env, ctl.signal) : Promise.resolve({ series: [], logs: [], warnings: [], errors: [] });
    run
      .then((data) => {
        if (ctl.signal.aborted) return;
        this.errMark.style.display = "none";
        let state: PanelState;
        try {
          state = renderer.update(data, textEnv);
        } catch (e) {
          return this.fail([`panel failed to render: ${(e as Error).message}`]);
        }
        this.body.querySelector(".perr-text")?.remove();
        if (data.errors.length) {
          this.fail(data.errors);
          if (state === "nodata") this.body.append(h("div", { class: "perr-text", "data-testid": "error" }, data.errors.join("\n")));
        } else this.setState(state);
        if (data.warnings.length) this.el.title = data.warnings.join("\n");
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) this.fail([String((e as Error).message ?? e)]);
      });
  }

  destroy(): void {
    this.inflight?.abort();
    this.renderer?.destroy?.();
  }
}
