// Shared pieces of the status pages: loading with a spinner and an error box, label badges, health badges,
// relative times, key/value tables.
import { h, replace, notice, spinner, type Child } from "../../lib/dom";
import { ApiError } from "../../lib/api";
import type { LabelSet } from "../../lib/labels";
import { formatRelative, formatTime } from "../../lib/time";

/** Runs `load` and draws what it returns into `box`, or the error. Returns an abort function. */
export function loadInto(box: HTMLElement, load: (signal: AbortSignal) => Promise<Child>): () => void {
  const ctl = new AbortController();
  replace(box, spinner());
  load(ctl.signal)
    .then((content) => {
      if (!ctl.signal.aborted) replace(box, content);
    })
    .catch((e: unknown) => {
      if (ctl.signal.aborted) return;
      const msg = e instanceof ApiError ? e.message : String(e);
      replace(box, notice("error", msg, "error"));
    });
  return () => ctl.abort();
}

export function labelBadges(labels: LabelSet): HTMLElement[] {
  return Object.keys(labels)
    .sort()
    .map((k) => h("span", { class: "label" }, `${k}="${labels[k]}"`));
}

export function healthBadge(health: string): HTMLElement {
  const cls = health === "up" || health === "ok" ? "up" : health === "down" || health === "err" ? "down" : "unknown";
  return h("span", { class: `badge ${cls}` }, health.toUpperCase());
}

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** "12s ago" with the absolute time as a tooltip; "never" for Go's zero time. */
export function ago(iso: string | undefined): HTMLElement {
  if (!iso || iso === ZERO_TIME) return h("span", { class: "muted" }, "never");
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return h("span", null, iso);
  return h("span", { title: formatTime(ms) }, formatRelative(ms, Date.now()));
}

export function seconds(s: number | undefined): string {
  if (s === undefined || s === null) return "";
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 3 : 1)}ms`;
  return `${s.toFixed(3)}s`;
}

export function kvTable(rows: Array<[string, Child]>, testid?: string): HTMLElement {
  return h("table", { class: "data kv", "data-testid": testid }, rows.map(([k, v]) => h("tr", null, h("th", null, k), h("td", null, v))));
}

/** A filter text box whose value is kept in the URL by the caller. */
export function searchBox(value: string, placeholder: string, oninput: (v: string) => void): HTMLInputElement {
  const el = h("input", { type: "search", placeholder, value, "data-testid": "filter", style: { minWidth: "240px" } });
  el.addEventListener("input", () => oninput(el.value));
  return el;
}

export function matchesText(q: string, ...texts: string[]): boolean {
  if (!q) return true;
  const lc = q.toLowerCase();
  return texts.some((t) => t.toLowerCase().includes(lc));
}
