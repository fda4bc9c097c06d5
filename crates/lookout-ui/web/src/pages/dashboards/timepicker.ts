// The dashboard's time range (quick relative ranges, or absolute from/to) and auto-refresh pickers.
import { h, replace } from "../../lib/dom";
import { describeRange, parseTime, toDatetimeLocal } from "../../lib/time";

export interface TimeRange {
  from: string;
  to: string;
}

const QUICK = ["5m", "15m", "30m", "1h", "3h", "6h", "12h", "24h", "2d", "7d", "30d"];
export const REFRESH = ["", "5s", "10s", "30s", "1m", "5m", "15m", "30m", "1h"];

/** The range in ms (ends rounded up, as Grafana does for `now/d`). */
export function resolveRange(r: TimeRange, now = Date.now()): { from: number; to: number } {
  const to = parseTime(r.to, now, true) ?? now;
  const from = parseTime(r.from, now) ?? to - 6 * 3600_000;
  return from < to ? { from, to } : { from: to - 3600_000, to };
}

export function timePicker(range: TimeRange, onChange: (r: TimeRange) => void): HTMLElement {
  const button = h("button", { type: "button", "data-testid": "time-picker", title: `${range.from} to ${range.to}` }, describeRange(range.from, range.to));
  const pop = h("div", { class: "complete", style: { display: "none", right: "0", top: "100%", padding: "8px", fontFamily: "var(--sans)", minWidth: "260px" } });
  const wrap = h("span", { style: { position: "relative", display: "inline-block" } }, button, pop);
  const close = () => {
    pop.style.display = "none";
    document.removeEventListener("mousedown", outside);
  };
  const outside = (e: MouseEvent) => {
    if (!wrap.contains(e.target as Node)) close();
  };
  const pick = (r: TimeRange) => {
    close();
    onChange(r);
  };
  button.addEventListener("click", () => {
    if (pop.style.display !== "none") return close();
    const abs = resolveRange(range);
    const from = h("input", { type: "datetime-local", step: "1", value: toDatetimeLocal(abs.from), "data-testid": "time-from" });
    const to = h("input", { type: "datetime-local", step: "1", value: toDatetimeLocal(abs.to), "data-testid": "time-to" });
    replace(
      pop,
      h("div", { class: "muted small" }, "Absolute range"),
      h("div", { class: "row" }, "From", from),
      h("div", { class: "row", style: { marginTop: "4px" } }, "To\u00a0\u00a0\u00a0", to),
      h(
        "button",
        {
          type: "button",
          class: "primary",
          style: { margin: "6px 0" },
          onclick: () => {
            const f = new Date(from.value).getTime();
            const t = new Date(to.value).getTime();
            if (Number.isFinite(f) && Number.isFinite(t) && f < t) pick({ from: String(f), to: String(t) });
          },
        },
        "Apply",
      ),
      h("div", { class: "muted small" }, "Relative"),
      QUICK.map((q) => h("div", { role: "option", "data-testid": `range-${q}`, onmousedown: (e: Event) => (e.preventDefault(), pick({ from: `now-${q}`, to: "now" })) }, describeRange(`now-${q}`, "now"))),
    );
    pop.style.display = "block";
    document.addEventListener("mousedown", outside);
  });
  const zoomOut = h("button", {
    type: "button",
    title: "Zoom out (twice the range)",
    onclick: () => {
      const { from, to } = resolveRange(range);
      const span = to - from;
      const relative = range.to === "now";
      pick(relative ? { from: `now-${Math.round((2 * span) / 1000)}s`, to: "now" } : { from: String(from - span / 2), to: String(to + span / 2) });
    },
  }, "⊖");
  return h("span", { class: "row" }, wrap, zoomOut);
}

export function refreshPicker(value: string, onRefresh: () => void, onChange: (v: string) => void): HTMLElement {
  const sel = h("select", { "data-testid": "refresh-picker", title: "Auto refresh" }, ...REFRESH.map((r) => h("option", { value: r }, r || "Off")));
  if (!REFRESH.includes(value)) sel.prepend(h("option", { value }, value));
  sel.value = value;
  sel.addEventListener("change", () => onChange(sel.value));
  return h("span", { class: "row" }, h("button", { type: "button", title: "Refresh", "data-testid": "refresh", onclick: onRefresh }, "⟳"), sel);
}
