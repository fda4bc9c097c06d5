// Label sets as text: `name{a="b"}` for display and selectors for queries.

export type LabelSet = Record<string, string>;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** `{a="b", c="d"}` (without __name__); `{}` when empty. */
export function formatLabelSet(labels: LabelSet, sep = ", "): string {
  const parts = Object.keys(labels)
    .filter((k) => k !== "__name__")
    .sort()
    .map((k) => `${k}="${escapeLabelValue(labels[k])}"`);
  return `{${parts.join(sep)}}`;
}

/** Prometheus's series notation: `up{job="x"}`. */
export function formatSeries(metric: LabelSet): string {
  const name = metric.__name__ ?? "";
  const rest = formatLabelSet(metric);
  return rest === "{}" && name ? name : `${name}${rest}`;
}

/** A stream selector matching exactly these labels (Loki). */
export function selectorOf(labels: LabelSet): string {
  return formatLabelSet(labels, ", ");
}

/** Grafana's legend format: `{{job}} on {{instance}}`. */
export function renderLegend(format: string, labels: LabelSet): string {
  return format.replace(/\{\{\s*(.+?)\s*\}\}/g, (_, name: string) => labels[name] ?? "");
}

/** Sorted label names. */
export function labelNames(labels: LabelSet): string[] {
  return Object.keys(labels).sort();
}
