// PromQL completion: the context under the cursor decides what to list, the API supplies metric names, label names
// and values (narrowed to the metric being edited).
import type { CompletionItem, CompletionSource } from "../../components/editor";
import { promGet } from "../../lib/api";
import { cachedList } from "../../lib/cached";
import { completionContext } from "../../lib/completion";
import { escapeLabelValue } from "../../lib/labels";
import { PROMQL_AGGREGATIONS, PROMQL_FUNCTIONS, PROMQL_KEYWORDS } from "../../lib/words";

const DURATIONS = ["30s", "1m", "5m", "10m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "7d"];

function list(path: string, match: string): Promise<string[]> {
  const params = match ? { "match[]": match } : {};
  return cachedList(`${path}|${match}`, async () => (await promGet<string[]>(path, params)).data ?? []);
}

export function metricNames(): Promise<string[]> {
  return list("api/v1/label/__name__/values", "");
}

const fnItems: CompletionItem[] = [
  ...PROMQL_FUNCTIONS.map((f) => ({ label: f, kind: "function", insert: `${f}()`, caretBack: 1 })),
  ...PROMQL_AGGREGATIONS.map((f) => ({ label: f, kind: "aggregation" })),
  ...PROMQL_KEYWORDS.map((f) => ({ label: f, kind: "keyword" })),
];

export const promqlCompletion: CompletionSource = async (text, cursor) => {
  const ctx = completionContext(text, cursor);
  switch (ctx.kind) {
    case "metric": {
      const names = await metricNames().catch(() => [] as string[]);
      return { from: ctx.from, items: [...names.map((n) => ({ label: n, kind: "metric" })), ...fnItems] };
    }
    case "labelName": {
      const match = ctx.metric ? ctx.metric : "";
      const names = await list("api/v1/labels", match);
      const items = names
        .filter((n) => !ctx.used.includes(n) && (n !== "__name__" || !ctx.metric))
        .map((n) => ({ label: n, kind: "label", insert: `${n}=""`, caretBack: 1 }));
      return { from: ctx.from, items };
    }
    case "groupingLabel": {
      const names = await list("api/v1/labels", "");
      return { from: ctx.from, items: names.filter((n) => n !== "__name__").map((n) => ({ label: n, kind: "label" })) };
    }
    case "labelValue": {
      const values = await list(`api/v1/label/${encodeURIComponent(ctx.label)}/values`, ctx.metric);
      const esc = (v: string) => (ctx.quote === "`" ? v : ctx.quote === "'" ? v.replace(/\\/g, "\\\\").replace(/'/g, "\\'") : escapeLabelValue(v));
      return { from: ctx.from, items: values.map((v) => ({ label: v, kind: "value", insert: esc(v) })) };
    }
    case "duration":
      return { from: ctx.from, items: DURATIONS.map((d) => ({ label: d, kind: "duration" })) };
    default:
      return null;
  }
};
