// The dashboard's links bar: plain links, and "dashboards" links listing the dashboards with the given tags
// (inline or as a dropdown), each routed to the viewer with the current time and variables when asked.
import { h, replace } from "../../lib/dom";
import { getJson } from "../../lib/api";
import { resolveLink } from "./links";
import type { DashboardLink } from "./model";
import type { ViewerContext } from "./panel";

export interface DashboardSummary {
  uid: string;
  title: string;
  tags?: string[];
}

export async function listDashboards(signal?: AbortSignal): Promise<DashboardSummary[]> {
  const r = await getJson<{ status?: string; data?: DashboardSummary[] } | DashboardSummary[]>("api/lookout/v1/dashboards", signal);
  return Array.isArray(r) ? r : (r.data ?? []);
}

export function dashboardLinks(box: HTMLElement, links: DashboardLink[], ctx: ViewerContext, signal: AbortSignal): void {
  if (!links.length) return;
  let all: Promise<DashboardSummary[]> | null = null;
  const items = links.map((l) => {
    const opts = { keepTime: l.keepTime, includeVars: l.includeVars };
    if (l.type !== "dashboards") {
      const a = h("a", { href: resolveLink(l.url ?? "", ctx.links(), opts), title: l.tooltip, target: l.targetBlank ? "_blank" : undefined, rel: "noopener", "data-testid": "dashboard-link" }, ctx.text(l.title || l.url || "link"));
      return a;
    }
    const holder = h("span");
    all ??= listDashboards(signal).catch(() => []);
    void all.then((list) => {
      const tags = l.tags ?? [];
      const self = location.hash.match(/^#\/d\/([^/?]+)/)?.[1];
      const matching = list.filter((d) => d.uid !== self && tags.every((t) => d.tags?.includes(t)));
      const anchors = matching.map((d) => h("a", { href: resolveLink(`/d/${d.uid}`, ctx.links(), opts), "data-testid": "dashboard-link" }, d.title));
      if (l.asDropdown) {
        replace(holder, h("details", { style: { display: "inline-block" } }, h("summary", null, ctx.text(l.title || "Dashboards")), h("div", { class: "card body" }, anchors.map((a) => h("div", null, a)))));
      } else replace(holder, h("span", { class: "row" }, anchors));
    });
    return holder;
  });
  replace(box, items);
}
