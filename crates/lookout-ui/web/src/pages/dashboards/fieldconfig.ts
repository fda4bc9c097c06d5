// Per-series display settings: fieldConfig.defaults merged with the overrides whose matcher picks the series
// (byName, byRegexp, byFrameRefID), and threshold colours (absolute or percentage of min–max). Pure (unit-tested).
import { paletteColor, resolveColor } from "../../lib/colors";
import type { FieldConfig, Override, Threshold } from "./model";

export interface FieldDisplay extends FieldConfig {
  /** The colour of a fixed-colour series, if any. */
  fixedColor?: string;
}

function setPath(target: Record<string, any>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = target;
  for (const p of parts.slice(0, -1)) {
    o[p] = typeof o[p] === "object" && o[p] !== null ? { ...o[p] } : {};
    o = o[p];
  }
  o[parts[parts.length - 1]] = value;
}

function matches(m: Override["matcher"], name: string, refId: string): boolean {
  const opt = m.options;
  switch (m.id) {
    case "byName":
      return typeof opt === "string" && opt === name;
    case "byRegexp":
      try {
        return typeof opt === "string" && new RegExp(`^(?:${opt.replace(/^\/(.*)\/[a-z]*$/, "$1")})$`).test(name);
      } catch {
        return false;
      }
    case "byFrameRefID":
      return opt === refId;
    case "byNames":
      return Array.isArray((opt as { names?: string[] })?.names) && ((opt as { names: string[] }).names.includes(name));
    default:
      return false;
  }
}

/** The settings for the series `name` of query `refId`. */
export function resolveField(defaults: FieldConfig | undefined, overrides: Override[] | undefined, name: string, refId = ""): FieldDisplay {
  const out: Record<string, any> = { ...(defaults ?? {}), custom: { ...(defaults?.custom ?? {}) } };
  for (const o of overrides ?? []) {
    if (!o?.matcher || !matches(o.matcher, name, refId)) continue;
    for (const p of o.properties ?? []) setPath(out, p.id, p.value);
  }
  const f = out as FieldDisplay;
  if (f.color?.mode === "fixed" && f.color.fixedColor) f.fixedColor = resolveColor(f.color.fixedColor);
  return f;
}

const DEFAULT_STEPS: Threshold[] = [
  { value: null, color: "green" },
  { value: 80, color: "red" },
];

/** The threshold step `value` falls in, as a CSS colour. */
export function thresholdColor(f: FieldConfig, value: number | null, min = 0, max = 100): string {
  const steps = f.thresholds?.steps?.length ? f.thresholds.steps : DEFAULT_STEPS;
  let v = value ?? -Infinity;
  if (f.thresholds?.mode === "percentage") v = max === min ? 0 : ((v - min) / (max - min)) * 100;
  let color = steps[0].color;
  for (const s of steps) {
    if (s.value === null || s.value === undefined || v >= s.value) color = s.color;
  }
  return resolveColor(color);
}

/** A series' colour by the field's colour mode: fixed, by thresholds (of its last value), or the palette. */
export function seriesColor(f: FieldDisplay, index: number, lastValue: number | null): string {
  const mode = f.color?.mode ?? "palette-classic";
  if (mode === "fixed" && f.fixedColor) return f.fixedColor;
  if (mode === "thresholds") return thresholdColor(f, lastValue, f.min ?? 0, f.max ?? 100);
  if (mode.startsWith("shades") && f.color?.fixedColor) return resolveColor(f.color.fixedColor);
  return paletteColor(index);
}

/** The value's colour for stat, gauge and bar gauge panels (thresholds unless the mode is fixed). */
export function valueColor(f: FieldDisplay, value: number | null, min: number, max: number): string {
  const mode = f.color?.mode ?? "thresholds";
  if (mode === "fixed" && f.fixedColor) return f.fixedColor;
  if (mode.startsWith("palette")) return paletteColor(0);
  return thresholdColor(f, value, min, max);
}

interface MappingResult {
  text?: string;
  color?: string;
}

type Mapping =
  | { type: "value"; options: Record<string, MappingResult> }
  | { type: "range"; options: { from?: number | null; to?: number | null; result: MappingResult } }
  | { type: "special"; options: { match: string; result: MappingResult } }
  | { type: "regex"; options: { pattern: string; result: MappingResult } };

/** Grafana value mappings (value, range, special, regex): the text and colour `value` maps to, if any. */
export function mapValue(mappings: unknown[] | undefined, value: number | null): MappingResult | null {
  for (const raw of mappings ?? []) {
    const m = raw as Mapping;
    if (m.type === "value" && value !== null) {
      const hit = m.options?.[String(value)];
      if (hit) return hit;
    } else if (m.type === "range" && value !== null) {
      const { from, to, result } = m.options ?? ({} as never);
      if ((from === null || from === undefined || value >= from) && (to === null || to === undefined || value <= to)) return result;
    } else if (m.type === "special") {
      const { match, result } = m.options ?? ({} as never);
      if ((match === "null" || match === "null+nan") && value === null) return result;
      if ((match === "nan" || match === "null+nan") && value !== null && Number.isNaN(value)) return result;
      if (match === "true" && value === 1) return result;
      if (match === "false" && value === 0) return result;
    } else if (m.type === "regex" && value !== null) {
      try {
        if (new RegExp(m.options.pattern).test(String(value))) return m.options.result;
      } catch {
        // an invalid pattern maps nothing
      }
    }
  }
  return null;
}
