// LogQL completion: label names and values of the log store inside the stream selector, LogQL functions and
// parsers elsewhere.
import type { CompletionSource } from "../../components/editor";
import { lokiGet } from "../../lib/api";
import { cachedList } from "../../lib/cached";
import { completionContext } from "../../lib/completion";
import { escapeLabelValue } from "../../lib/labels";
import { LOGQL_WORDS } from "../../lib/words";

function list(path: string): Promise<string[]> {
  return cachedList(`loki|${path}`, async () => (await lokiGet<string[]>(path)).data ?? []);
}

export const logqlCompletion: CompletionSource = async (text, cursor) => {
  const ctx = completionContext(text, cursor);
  switch (ctx.kind) {
    case "labelName": {
      const names = await list("loki/api/v1/labels");
      return { from: ctx.from, items: names.filter((n) => !ctx.used.includes(n)).map((n) => ({ label: n, kind: "label", insert: `${n}=""`, caretBack: 1 })) };
    }
    case "groupingLabel": {
      const names = await list("loki/api/v1/labels");
      return { from: ctx.from, items: names.map((n) => ({ label: n, kind: "label" })) };
    }
    case "labelValue": {
      const values = await list(`loki/api/v1/label/${encodeURIComponent(ctx.label)}/values`);
      return { from: ctx.from, items: values.map((v) => ({ label: v, kind: "value", insert: ctx.quote === "`" ? v : escapeLabelValue(v) })) };
    }
    case "metric":
      return { from: ctx.from, items: LOGQL_WORDS.map((w) => ({ label: w, kind: "keyword" })) };
    default:
      return null;
  }
};
