// The query explorer's graph controls: range (5m … 7d, with −/+ steps), end time (empty = now, « » shift by a
// range) and resolution (empty = automatic).
import { h } from "../lib/dom";
import { parseDuration, toDatetimeLocal } from "../lib/time";

export const RANGE_STEPS = ["5m", "15m", "30m", "1h", "2h", "6h", "12h", "1d", "2d", "7d"];

export interface RangeState {
  range: string;
  /** End time as ms since the epoch, or null for "now". */
  end: number | null;
  /** Resolution in seconds as typed; "" is automatic. */
  step: string;
}

export function rangeMs(s: RangeState): number {
  return parseDuration(s.range) ?? 3_600_000;
}

export function rangePicker(state: RangeState, onChange: (s: RangeState) => void): HTMLElement {
  const update = (patch: Partial<RangeState>) => onChange({ ...state, ...patch });
  const idx = RANGE_STEPS.indexOf(state.range);
  const rangeSel = h("select", { "data-testid": "range", "aria-label": "Range" }, ...RANGE_STEPS.map((r) => h("option", { value: r }, r)));
  if (idx < 0) rangeSel.prepend(h("option", { value: state.range }, state.range));
  rangeSel.value = state.range;
  rangeSel.addEventListener("change", () => update({ range: rangeSel.value }));
  const stepBy = (d: number) => {
    const cur = rangeMs(state);
    const next = d > 0 ? RANGE_STEPS.find((r) => (parseDuration(r) ?? 0) > cur) : [...RANGE_STEPS].reverse().find((r) => (parseDuration(r) ?? 0) < cur);
    if (next) update({ range: next });
  };
  const end = h("input", { type: "datetime-local", step: "1", "data-testid": "end-time", "aria-label": "End time", title: "End time (empty: now)" });
  if (state.end !== null) end.value = toDatetimeLocal(state.end);
  end.addEventListener("change", () => {
    const t = end.value ? new Date(end.value).getTime() : NaN;
    update({ end: Number.isNaN(t) ? null : t });
  });
  const shift = (dir: number) => update({ end: (state.end ?? Date.now()) + dir * rangeMs(state) });
  const step = h("input", { type: "text", placeholder: "auto", value: state.step, "data-testid": "resolution", "aria-label": "Resolution", title: "Resolution in seconds (or a duration like 1m); empty: automatic" });
  step.addEventListener("change", () => update({ step: step.value.trim() }));
  return h(
    "div",
    { class: "range-picker" },
    h("button", { type: "button", title: "Shorter range", onclick: () => stepBy(-1) }, "−"),
    rangeSel,
    h("button", { type: "button", title: "Longer range", onclick: () => stepBy(1) }, "+"),
    h("button", { type: "button", title: "Back by one range", onclick: () => shift(-1) }, "«"),
    end,
    h("button", { type: "button", title: "Forward by one range", onclick: () => shift(1) }, "»"),
    h("button", { type: "button", title: "End at now", onclick: () => update({ end: null }) }, "now"),
    h("span", { class: "muted" }, "Res."),
    step,
  );
}

/** The resolution in seconds: the typed one (seconds or a duration), else the automatic one. */
export function stepSeconds(s: RangeState, auto: (rangeSeconds: number) => number): number {
  if (s.step) {
    const ms = parseDuration(s.step);
    if (ms && ms > 0) return ms / 1000;
  }
  return auto(rangeMs(s) / 1000);
}
