// The instant-query result as a table, for each result type Prometheus returns.
import { h } from "../lib/dom";
import { formatSeries, type LabelSet } from "../lib/labels";
import { formatTime } from "../lib/time";

type SampleValue = [number, string];
interface Histogram {
  count: string;
  sum: string;
  buckets?: Array<[number, string, string, string]>;
}
export interface VectorSample {
  metric: LabelSet;
  value?: SampleValue;
  histogram?: [number, Histogram];
}
export interface MatrixSeries {
  metric: LabelSet;
  values?: SampleValue[];
  histograms?: Array<[number, Histogram]>;
}
export type QueryData =
  | { resultType: "vector"; result: VectorSample[] }
  | { resultType: "matrix"; result: MatrixSeries[] }
  | { resultType: "scalar"; result: SampleValue }
  | { resultType: "string"; result: SampleValue };

const MAX_ROWS = 10_000;

function histText(hist: Histogram): string {
  return `count: ${hist.count}, sum: ${hist.sum}${hist.buckets ? `, ${hist.buckets.length} buckets` : ""}`;
}

export function resultTable(data: QueryData): HTMLElement {
  const table = h("table", { class: "data", "data-testid": "table" });
  const head = (...cols: string[]) => table.append(h("tr", null, cols.map((c, i) => h("th", { class: i > 0 ? "num" : "" }, c))));
  let truncated = 0;
  switch (data.resultType) {
    case "vector": {
      head("Series", "Value");
      const rows = data.result.slice(0, MAX_ROWS);
      truncated = data.result.length - rows.length;
      for (const s of rows) {
        const v = s.value ? s.value[1] : s.histogram ? histText(s.histogram[1]) : "";
        table.append(h("tr", null, h("td", { class: "series-name" }, formatSeries(s.metric)), h("td", { class: "num mono" }, v)));
      }
      break;
    }
    case "matrix": {
      head("Series", "Values");
      const rows = data.result.slice(0, MAX_ROWS);
      truncated = data.result.length - rows.length;
      for (const s of rows) {
        const vals = (s.values ?? []).map(([t, v]) => `${v} @${t}`).concat((s.histograms ?? []).map(([t, hh]) => `${histText(hh)} @${t}`));
        table.append(h("tr", null, h("td", { class: "series-name" }, formatSeries(s.metric)), h("td", { class: "num mono" }, h("pre", null, vals.join("\n")))));
      }
      break;
    }
    case "scalar":
    case "string":
      head(data.resultType === "scalar" ? "Scalar" : "String", "Time");
      table.append(h("tr", null, h("td", { class: "mono" }, data.result[1]), h("td", { class: "num" }, formatTime(data.result[0] * 1000))));
      break;
  }
  const empty = table.rows.length <= 1;
  return h(
    "div",
    { class: "scroll-x" },
    empty ? h("div", { class: "notice notice-empty", "data-testid": "no-data" }, "Empty query result") : table,
    truncated > 0 ? h("div", { class: "notice notice-warning" }, `Showing ${MAX_ROWS} of ${MAX_ROWS + truncated} series.`) : null,
  );
}
