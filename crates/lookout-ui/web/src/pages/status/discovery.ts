// Service discovery: per scrape pool, every discovered target with its labels before and after relabeling, and the
// targets relabeling dropped.
import { h, replace, notice } from "../../lib/dom";
import { promGet } from "../../lib/api";
import { replaceParams, type Route } from "../../lib/router";
import { labelBadges, loadInto, matchesText, searchBox } from "./common";
import { groupBy, type TargetsData } from "./targets";

export function discoveryPage(root: HTMLElement, route: Route): () => void {
  let search = route.params.get("search") ?? "";
  let showDropped = route.params.get("dropped") !== "0";
  let data: TargetsData | null = null;
  const list = h("div");
  const save = () => {
    const p = new URLSearchParams();
    if (search) p.set("search", search);
    if (!showDropped) p.set("dropped", "0");
    replaceParams(p);
  };
  const draw = () => {
    if (!data) return;
    const text = (l: Record<string, string>) => Object.entries(l).map(([k, v]) => `${k}="${v}"`);
    type Row = { discovered: Record<string, string>; target: Record<string, string> | null; pool: string };
    const rows: Row[] = [
      ...data.activeTargets.map((t) => ({ discovered: t.discoveredLabels, target: t.labels, pool: t.scrapePool })),
      ...(showDropped ? data.droppedTargets.map((t) => ({ discovered: t.discoveredLabels, target: null, pool: t.scrapePool ?? t.discoveredLabels.job ?? "" })) : []),
    ].filter((r) => matchesText(search, r.pool, ...text(r.discovered)));
    const pools = groupBy(rows, (r) => r.pool);
    const counts = data.droppedTargetCounts ?? {};
    if (pools.size === 0) {
      replace(list, notice("empty", "No discovered targets.", "no-data"));
      return;
    }
    replace(
      list,
      [...pools].map(([pool, items]) => {
        const active = items.filter((r) => r.target).length;
        const dropped = counts[pool] ?? items.length - active;
        return h(
          "details",
          { class: "card", open: true, "data-testid": "sd-pool" },
          h("summary", { class: "head" }, h("b", null, pool), h("span", { class: "muted" }, `(${active} active / ${dropped} dropped)`)),
          h(
            "div",
            { class: "body scroll-x" },
            h(
              "table",
              { class: "data", "data-testid": "table" },
              h("tr", null, h("th", null, "Discovered labels"), h("th", null, "Target labels")),
              items.map((r) =>
                h(
                  "tr",
                  null,
                  h("td", null, labelBadges(r.discovered)),
                  h("td", null, r.target ? labelBadges(r.target) : h("span", { class: "badge unknown" }, "Dropped")),
                ),
              ),
            ),
          ),
        );
      }),
    );
  };
  const dropped = h("input", { type: "checkbox", checked: showDropped, "data-testid": "show-dropped" });
  dropped.addEventListener("change", () => {
    showDropped = dropped.checked;
    save();
    draw();
  });
  const box = h("div");
  root.append(
    h("h1", null, "Service discovery"),
    h("div", { class: "row", style: { marginBottom: "8px" } }, searchBox(search, "Filter by pool or labels", (v) => ((search = v), save(), draw())), h("label", null, dropped, " show dropped targets")),
    box,
  );
  return loadInto(box, async (signal) => {
    data = (await promGet<TargetsData>("api/v1/targets", { state: "any" }, signal)).data;
    data.activeTargets ??= [];
    data.droppedTargets ??= [];
    draw();
    return list;
  });
}
