// The dashboards list from `api/lookout/v1/dashboards`, filterable by title and tag (kept in the URL).
import { h, replace, notice } from "../../lib/dom";
import { replaceParams, type Route } from "../../lib/router";
import { loadInto, matchesText, searchBox } from "../status/common";
import { listDashboards, type DashboardSummary } from "./dashlinks";

export function dashboardListPage(root: HTMLElement, route: Route): () => void {
  let search = route.params.get("search") ?? "";
  let tag = route.params.get("tag") ?? "";
  let all: DashboardSummary[] = [];
  const list = h("div");
  const save = () => {
    const p = new URLSearchParams();
    if (search) p.set("search", search);
    if (tag) p.set("tag", tag);
    replaceParams(p);
  };
  const draw = () => {
    const shown = all.filter((d) => matchesText(search, d.title, ...(d.tags ?? [])) && (!tag || d.tags?.includes(tag)));
    replace(
      list,
      tag ? h("div", { style: { margin: "6px 0" } }, "Tag: ", h("span", { class: "tag" }, tag), h("button", { type: "button", class: "link", onclick: () => ((tag = ""), save(), draw()) }, "✕")) : null,
      shown.length
        ? h(
            "table",
            { class: "data", "data-testid": "dashboard-list" },
            h("tr", null, h("th", null, "Title"), h("th", null, "Tags")),
            shown.map((d) =>
              h(
                "tr",
                { "data-testid": "dashboard-item" },
                h("td", null, h("a", { href: `#/d/${encodeURIComponent(d.uid)}` }, d.title || d.uid)),
                h("td", null, (d.tags ?? []).map((t) => h("a", { class: "tag", href: "#", onclick: (e: Event) => (e.preventDefault(), (tag = t), save(), draw()) }, t))),
              ),
            ),
          )
        : notice("empty", all.length ? "No dashboard matches the filter." : "No dashboards are provisioned.", "no-data"),
    );
  };
  const box = h("div");
  root.append(h("h1", null, "Dashboards"), h("div", { class: "row dash-list", style: { marginBottom: "8px" } }, searchBox(search, "Search dashboards by title or tag", (v) => ((search = v), save(), draw()))), box);
  return loadInto(box, async (signal) => {
    all = (await listDashboards(signal)).sort((a, b) => (a.title ?? "").localeCompare(b.title ?? ""));
    draw();
    return list;
  });
}
