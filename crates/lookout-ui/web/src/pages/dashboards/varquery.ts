// Template-variable queries: Grafana's Prometheus functions (label_names, label_values, metrics, query_result, or
// a series selector) and Loki's (label_names, label_values, or the structured form), plus the variable regex and
// sort options. Pure (unit-tested).

export type VarQuery =
  | { kind: "label_names"; match?: string }
  | { kind: "label_values"; label: string; match?: string }
  | { kind: "metrics"; regex: string }
  | { kind: "query_result"; expr: string }
  | { kind: "series"; expr: string };

/** The argument list of `fn(…)` when `q` is exactly such a call. */
function call(q: string, fn: string): string | null {
  const m = new RegExp(`^\\s*${fn}\\s*\\(([\\s\\S]*)\\)\\s*$`).exec(q);
  return m ? m[1].trim() : null;
}

/** Splits `metric{a="b,c"}, label` at its last top-level comma. */
function lastArg(args: string): [string, string] | null {
  let depth = 0;
  let quote = "";
  let split = -1;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if ("{([".includes(c)) depth++;
    else if ("})]".includes(c)) depth--;
    else if (c === "," && depth === 0) split = i;
  }
  return split < 0 ? null : [args.slice(0, split).trim(), args.slice(split + 1).trim()];
}

export function parseVarQuery(raw: string): VarQuery {
  const q = raw.trim();
  const names = call(q, "label_names");
  if (names !== null) return { kind: "label_names", match: names || undefined };
  const values = call(q, "label_values");
  if (values !== null) {
    const two = lastArg(values);
    return two ? { kind: "label_values", label: two[1], match: two[0] } : { kind: "label_values", label: values };
  }
  const metrics = call(q, "metrics");
  if (metrics !== null) return { kind: "metrics", regex: metrics };
  const result = call(q, "query_result");
  if (result !== null) return { kind: "query_result", expr: result };
  return { kind: "series", expr: q };
}

/** Loki's structured variable query ({type: 0 label names | 1 label values, label, stream}) as a VarQuery. */
export function lokiVarQuery(q: string | { type?: number; label?: string; stream?: string; query?: string }): VarQuery {
  if (typeof q === "string") return parseVarQuery(q);
  if (q.query) return parseVarQuery(q.query);
  if (q.type === 1 && q.label) return { kind: "label_values", label: q.label, match: q.stream || undefined };
  return { kind: "label_names" };
}

export interface VarOption {
  text: string;
  value: string;
}

/** Grafana's variable regex `/…/flags`: keeps matching values; a capture group (or named text/value groups) picks. */
export function applyVarRegex(values: string[], regex: string | undefined): VarOption[] {
  const seen = new Set<string>();
  const out: VarOption[] = [];
  let re: RegExp | null = null;
  if (regex) {
    const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
    try {
      re = m ? new RegExp(m[1], m[2].replace("g", "")) : new RegExp(regex);
    } catch {
      re = null;
    }
  }
  for (const v of values) {
    let opt: VarOption = { text: v, value: v };
    if (re) {
      const m = re.exec(v);
      if (!m) continue;
      const g = m.groups ?? {};
      if (g.value !== undefined || g.text !== undefined) opt = { text: g.text ?? g.value, value: g.value ?? g.text };
      else if (m.length > 1 && m[1] !== undefined) opt = { text: m[1], value: m[1] };
    }
    if (seen.has(opt.value)) continue;
    seen.add(opt.value);
    out.push(opt);
  }
  return out;
}

const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Grafana's variable sort: 0 none, 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive, 7/8 natural. */
export function sortOptions(opts: VarOption[], sort = 0): VarOption[] {
  const by = (cmp: (a: VarOption, b: VarOption) => number) => [...opts].sort(cmp);
  const numOf = (t: string) => {
    const m = /\d+(\.\d+)?/.exec(t);
    return m ? parseFloat(m[0]) : -Infinity;
  };
  switch (sort) {
    case 1: return by((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
    case 2: return by((a, b) => (a.text < b.text ? 1 : a.text > b.text ? -1 : 0));
    case 3: return by((a, b) => numOf(a.text) - numOf(b.text));
    case 4: return by((a, b) => numOf(b.text) - numOf(a.text));
    case 5: return by((a, b) => a.text.toLowerCase().localeCompare(b.text.toLowerCase()));
    case 6: return by((a, b) => b.text.toLowerCase().localeCompare(a.text.toLowerCase()));
    case 7: return by((a, b) => natural.compare(a.text, b.text));
    case 8: return by((a, b) => natural.compare(b.text, a.text));
    default: return opts;
  }
}

/** A custom variable's options: `a, b, c` or `text : value` pairs, `\,` escaping a comma. */
export function customOptions(query: string): VarOption[] {
  const parts = query.match(/(?:\\,|[^,])+/g) ?? [];
  return parts.map((p) => {
    const t = p.trim().replace(/\\,/g, ",");
    const kv = /^(.+?)\s:\s(.+)$/.exec(t);
    return kv ? { text: kv[1].trim(), value: kv[2].trim() } : { text: t, value: t };
  });
}

/** Grafana's text for a series in query_result: `name{a="b"} value timestamp_ms`. */
export function queryResultText(metric: Record<string, string>, value: [number, string]): string {
  return `${seriesText(metric)} ${value[1]} ${value[0] * 1000}`;
}

export function seriesText(metric: Record<string, string>): string {
  const { __name__: name = "", ...rest } = metric;
  const labels = Object.keys(rest).map((k) => `${k}="${rest[k]}"`);
  return `${name}{${labels.join(",")}}`;
}
