// The log lines list: time, level colour, line; a click expands the line's stream labels (a click on them or on
// "Show this stream" sets the query to that stream's selector), structured metadata and parsed fields.
import { h, replace } from "../../lib/dom";
import { selectorOf, type LabelSet } from "../../lib/labels";
import { formatTime } from "../../lib/time";
import type { LogLine } from "./model";

const MAX_RENDERED = 5000;

function fieldTable(title: string, set: LabelSet, onPick?: (k: string, v: string) => void): HTMLElement | null {
  const keys = Object.keys(set).sort();
  if (!keys.length) return null;
  return h(
    "div",
    null,
    h("div", { class: "muted small" }, title),
    keys.map((k) =>
      h("span", { class: "label", title: onPick ? "Show this stream" : undefined, onclick: onPick ? () => onPick(k, set[k]) : undefined }, `${k}="${set[k]}"`),
    ),
  );
}

function details(l: LogLine, onSelector: (selector: string) => void): HTMLElement {
  return h(
    "div",
    { class: "log-details", "data-testid": "log-details", onclick: (e: Event) => e.stopPropagation() },
    h(
      "div",
      { class: "row" },
      h("span", { class: "muted small" }, `${formatTime(l.ms, false, true)} · ${l.ns} ns · level ${l.level}`),
      h("button", { type: "button", class: "link small", "data-testid": "show-stream", onclick: () => onSelector(selectorOf(l.labels)) }, "Show this stream"),
    ),
    fieldTable("Stream labels", l.labels, () => onSelector(selectorOf(l.labels))),
    fieldTable("Structured metadata", l.metadata),
    fieldTable("Parsed fields", l.parsed),
  );
}

export function renderLines(box: HTMLElement, lines: LogLine[], onSelector: (selector: string) => void): void {
  const shown = lines.slice(0, MAX_RENDERED);
  replace(
    box,
    shown.map((l) => {
      const row = h(
        "div",
        { class: "log-line", "data-testid": "log-line", "data-level": l.level },
        h("span", { class: `lvl lvl-${l.level}`, title: l.level }),
        h("span", { class: "ts" }, formatTime(l.ms, false, true)),
        h("span", { class: "msg" }, l.line),
      );
      let open: HTMLElement | null = null;
      row.addEventListener("click", () => {
        if (open) {
          open.remove();
          open = null;
        } else {
          open = details(l, onSelector);
          row.after(open);
        }
      });
      return row;
    }),
    lines.length > shown.length ? h("div", { class: "muted small" }, `… ${lines.length - shown.length} more lines not shown`) : null,
  );
}
