// TSDB status: head statistics and the top lists (series per metric name, label value counts, series per label
// pair, memory per label name), with the list length in the URL.
import { h, select } from "../../lib/dom";
import { promGet } from "../../lib/api";
import { replaceParams, type Route } from "../../lib/router";
import { formatTime } from "../../lib/time";
import { formatValueString } from "../../lib/units";
import { kvTable, loadInto } from "./common";

interface NameValue {
  name: string;
  value: number;
}

interface TsdbStatus {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: NameValue[];
  labelValueCountByLabelName: NameValue[];
  memoryInBytesByLabelName: NameValue[];
  seriesCountByLabelValuePair: NameValue[];
}

function topTable(title: string, rows: NameValue[], valueTitle: string, fmt: (n: number) => string = String): HTMLElement {
  return h(
    "div",
    { class: "card", "data-testid": "tsdb-table" },
    h("div", { class: "head" }, h("b", null, title)),
    h(
      "div",
      { class: "body scroll-x" },
      rows.length
        ? h("table", { class: "data" }, h("tr", null, h("th", null, "Name"), h("th", { class: "num" }, valueTitle)), rows.map((r) => h("tr", null, h("td", { class: "mono" }, r.name), h("td", { class: "num" }, fmt(r.value)))))
        : h("div", { class: "muted" }, "Nothing reported."),
    ),
  );
}

function time(ms: number): string {
  return ms > 0 && Number.isFinite(ms) ? `${formatTime(ms)} (${ms})` : "—";
}

export function tsdbPage(root: HTMLElement, route: Route): () => void {
  const limit = route.params.get("limit") ?? "10";
  const box = h("div");
  const limitSel = select(
    ["10", "20", "50", "100", "1000"].map((v) => [v, `top ${v}`]),
    limit,
    (v) => {
      replaceParams(new URLSearchParams({ limit: v }));
      cancel();
      cancel = load(v);
    },
    { "data-testid": "limit" },
  );
  root.append(h("h1", null, "TSDB status"), h("div", { class: "row", style: { marginBottom: "8px" } }, limitSel), box);
  const load = (lim: string) =>
    loadInto(box, async (signal) => {
      const st = (await promGet<TsdbStatus>("api/v1/status/tsdb", { limit: lim }, signal)).data;
      const hs = st.headStats;
      return [
        h("h2", null, "Head"),
        kvTable(
          [
            ["Number of series", String(hs.numSeries)],
            ["Number of label pairs", String(hs.numLabelPairs)],
            ["Chunks", String(hs.chunkCount)],
            ["Earliest sample", time(hs.minTime)],
            ["Latest sample", time(hs.maxTime)],
          ],
          "head-stats",
        ),
        h("h2", null, "Top lists"),
        topTable("Series count by metric name", st.seriesCountByMetricName ?? [], "Series"),
        topTable("Label value count by label name", st.labelValueCountByLabelName ?? [], "Values"),
        topTable("Series count by label value pair", st.seriesCountByLabelValuePair ?? [], "Series"),
        topTable("Memory by label name", st.memoryInBytesByLabelName ?? [], "Memory", (n) => formatValueString(n, "bytes")),
      ];
    });
  let cancel = load(limit);
  return () => cancel();
}
