// Targets: active scrape targets grouped by scrape pool, with health, last scrape, duration and error; labels with
// the discovered labels behind a toggle; filters by health and text (kept in the URL).
import { h, replace, notice } from "../../lib/dom";
import { promGet } from "../../lib/api";
import { replaceParams, type Route } from "../../lib/router";
import type { LabelSet } from "../../lib/labels";
import { safeUrl } from "../../lib/markdown";
import { ago, healthBadge, labelBadges, loadInto, matchesText, searchBox, seconds } from "./common";

export interface ActiveTarget {
  discoveredLabels: LabelSet;
  labels: LabelSet;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: string;
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

export interface DroppedTarget {
  discoveredLabels: LabelSet;
  scrapePool?: string;
}

export interface TargetsData {
  activeTargets: ActiveTarget[];
  droppedTargets: DroppedTarget[];
  droppedTargetCounts?: Record<string, number>;
}

export function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

function targetRow(t: ActiveTarget): HTMLElement[] {
  const labels = h("div", null, labelBadges(t.labels));
  const discovered = h("div", { style: { display: "none" } }, h("div", { class: "muted small" }, "Discovered labels:"), labelBadges(t.discoveredLabels));
  const toggle = h("button", { class: "link small", type: "button", "data-testid": "toggle-discovered" }, "discovered labels");
  toggle.addEventListener("click", () => {
    const show = discovered.style.display === "none";
    discovered.style.display = show ? "" : "none";
    toggle.textContent = show ? "hide discovered labels" : "discovered labels";
  });
  return [
    h(
      "tr",
      { "data-testid": "target" },
      h("td", null, h("a", { href: safeUrl(t.scrapeUrl) ?? "#", target: "_blank", rel: "noopener" }, t.scrapeUrl)),
      h("td", null, healthBadge(t.health)),
      h("td", null, labels, toggle, discovered),
      h("td", null, ago(t.lastScrape), t.scrapeInterval ? h("div", { class: "muted small" }, `every ${t.scrapeInterval}`) : null),
      h("td", { class: "num" }, seconds(t.lastScrapeDuration)),
      h("td", { class: "mono", style: { color: "var(--error)" } }, t.lastError),
    ),
  ];
}

export function targetsPage(root: HTMLElement, route: Route): () => void {
  const params = new URLSearchParams(route.params);
  let health = params.get("health") ?? "";
  let search = params.get("search") ?? "";
  let data: TargetsData | null = null;
  const box = h("div");
  const list = h("div");
  const save = () => {
    const p = new URLSearchParams();
    if (health) p.set("health", health);
    if (search) p.set("search", search);
    replaceParams(p);
  };
  const draw = () => {
    if (!data) return;
    const shown = data.activeTargets.filter(
      (t) => (!health || t.health === health) && matchesText(search, t.scrapeUrl, t.scrapePool, t.lastError, ...Object.entries(t.labels).map(([k, v]) => `${k}="${v}"`)),
    );
    const groups = groupBy(shown, (t) => t.scrapePool);
    if (groups.size === 0) {
      replace(list, notice("empty", data.activeTargets.length ? "No target matches the filter." : "No active targets.", "no-data"));
      return;
    }
    replace(
      list,
      [...groups].map(([pool, targets]) => {
        const up = targets.filter((t) => t.health === "up").length;
        return h(
          "details",
          { class: "card", open: true, "data-testid": "scrape-pool" },
          h("summary", { class: "head" }, h("b", null, pool), h("span", { class: "muted" }, `(${up}/${targets.length} up)`)),
          h(
            "div",
            { class: "body scroll-x" },
            h(
              "table",
              { class: "data", "data-testid": "table" },
              h("tr", null, ["Endpoint", "State", "Labels", "Last scrape", "Scrape duration", "Error"].map((c, i) => h("th", { class: i === 4 ? "num" : "" }, c))),
              targets.flatMap(targetRow),
            ),
          ),
        );
      }),
    );
  };
  const stateSel = h(
    "select",
    { "data-testid": "health-filter", "aria-label": "Health" },
    ...[["", "All states"], ["up", "Up"], ["down", "Down"], ["unknown", "Unknown"]].map(([v, t]) => h("option", { value: v }, t)),
  );
  stateSel.value = health;
  stateSel.addEventListener("change", () => {
    health = stateSel.value;
    save();
    draw();
  });
  root.append(
    h("h1", null, "Targets"),
    h("div", { class: "row", style: { marginBottom: "8px" } }, stateSel, searchBox(search, "Filter by endpoint or labels", (v) => ((search = v), save(), draw()))),
    box,
  );
  return loadInto(box, async (signal) => {
    data = (await promGet<TargetsData>("api/v1/targets", { state: "active" }, signal)).data;
    data.activeTargets ??= [];
    draw();
    return list;
  });
}
