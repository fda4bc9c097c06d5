// Where the cursor is in a PromQL (or LogQL) query, for completion: a metric/function name at top level, a label
// name inside `{…}` or a grouping clause, a label value inside the quotes after a matcher, a duration inside `[…]`.
// A single left-to-right scan of the text before the cursor; no full parser needed. Pure (unit-tested).

export type CompletionContext =
  | { kind: "metric"; prefix: string; from: number }
  | { kind: "labelName"; metric: string; used: string[]; prefix: string; from: number }
  | { kind: "labelValue"; metric: string; label: string; prefix: string; from: number; quote: string }
  | { kind: "groupingLabel"; prefix: string; from: number }
  | { kind: "duration"; prefix: string; from: number }
  | { kind: "none" };

interface BraceFrame {
  type: "brace";
  metric: string;
  label: string;
  op: boolean;
  used: string[];
}
type Frame = BraceFrame | { type: "paren"; grouping: boolean } | { type: "bracket" };

const GROUPING = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const IDENT_START = /[A-Za-z_:]/;
const IDENT = /[\w:]/;

export function completionContext(text: string, cursor: number): CompletionContext {
  const stack: Frame[] = [];
  let str: { quote: string; start: number; label: string | null; metric: string } | null = null;
  let lastIdent = "";
  let lastIdentEnd = -2;
  let lastTokenEnd = -1;
  const top = () => stack[stack.length - 1];
  let i = 0;
  while (i < cursor) {
    const c = text[i];
    if (str) {
      if (c === "\\" && str.quote !== "`") i += 2;
      else {
        if (c === str.quote) str = null;
        i++;
      }
      lastTokenEnd = i;
      continue;
    }
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      if (nl < 0 || nl >= cursor) return { kind: "none" };
      i = nl + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      const f = top();
      const label = f?.type === "brace" && f.op ? f.label : null;
      str = { quote: c, start: i, label, metric: f?.type === "brace" ? f.metric : "" };
      i++;
      continue;
    }
    if (IDENT_START.test(c) && !(i > 0 && /[\d.]/.test(text[i - 1]) && lastTokenEnd === i)) {
      let j = i + 1;
      while (j < text.length && IDENT.test(text[j])) j++;
      if (j > cursor) break; // the word under the cursor is the completion prefix
      const word = text.slice(i, j);
      const f = top();
      if (f?.type === "brace" && !f.op) {
        f.label = word;
        f.used.push(word);
      }
      lastIdent = word;
      lastIdentEnd = j;
      lastTokenEnd = j;
      i = j;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const adjacentIdent = lastIdentEnd === lastTokenEnd;
    if (c === "{") {
      const metric = adjacentIdent && !GROUPING.has(lastIdent) ? lastIdent : "";
      stack.push({ type: "brace", metric, label: "", op: false, used: [] });
    } else if (c === "(") {
      stack.push({ type: "paren", grouping: adjacentIdent && GROUPING.has(lastIdent) });
    } else if (c === "[") {
      stack.push({ type: "bracket" });
    } else if (c === "}" || c === ")" || c === "]") {
      stack.pop();
    } else if (c === "," ) {
      const f = top();
      if (f?.type === "brace") {
        f.label = "";
        f.op = false;
      }
    } else if (c === "=" || c === "~" || c === "!") {
      const f = top();
      if (f?.type === "brace" && f.label) f.op = true;
    }
    i++;
    lastTokenEnd = i;
  }
  if (str) {
    if (str.label === null) return { kind: "none" };
    return { kind: "labelValue", metric: str.metric, label: str.label, prefix: text.slice(str.start + 1, cursor), from: str.start + 1, quote: str.quote };
  }
  const word = /[A-Za-z_:][\w:]*$/.exec(text.slice(0, cursor));
  const prefix = word ? word[0] : "";
  const from = cursor - prefix.length;
  if (from > 0 && /[\d.]/.test(text[from - 1]) && prefix) {
    const f = top();
    return f?.type === "bracket" ? { kind: "duration", prefix: "", from } : { kind: "none" };
  }
  const f = top();
  if (f?.type === "brace") {
    if (f.op) return { kind: "none" };
    const used = f.used.filter((u) => u !== prefix);
    return { kind: "labelName", metric: f.metric, used, prefix, from };
  }
  if (f?.type === "paren" && f.grouping) return { kind: "groupingLabel", prefix, from };
  if (f?.type === "bracket") return { kind: "duration", prefix, from };
  return { kind: "metric", prefix, from };
}
