// What a panel renderer gets and returns; shared display helpers (display names, values with unit, mappings and
// threshold colours).
import { resolveColor } from "../../../lib/colors";
import { formatValueString } from "../../../lib/units";
import { mapValue, resolveField, valueColor, type FieldDisplay } from "../fieldconfig";
import type { Panel } from "../model";
import type { PanelData, SeriesFrame } from "../query";

export interface RenderEnv {
  panel: Panel;
  from: number;
  to: number;
  /** Interpolates dashboard variables into display text (titles, markdown, links). */
  text: (s: string) => string;
  onZoom: (from: number, to: number) => void;
  /** The dashboard shows times in UTC. */
  utc: boolean;
}

export type RenderState = "ok" | "nodata";

export interface PanelRenderer {
  update(data: PanelData, env: RenderEnv): RenderState;
  destroy?(): void;
}

export type RendererFactory = (body: HTMLElement, panel: Panel) => PanelRenderer;

/** Grafana's display-name templates: `${__field.labels.x}`, `${__field.name}`, `${__series.name}`. */
export function displayName(template: string | undefined, frame: SeriesFrame): string {
  if (!template) return frame.name;
  return template.replace(/\$\{__(field|series)\.(labels\.([\w]+)|name|displayName)\}/g, (_m, _k, _what: string, label?: string) =>
    label ? (frame.labels[label] ?? "") : frame.name,
  );
}

export interface SeriesView {
  frame: SeriesFrame;
  field: FieldDisplay;
  name: string;
}

/** Each frame with its resolved field settings and display name; hidden series are left out. */
export function seriesViews(panel: Panel, data: PanelData): SeriesView[] {
  const d = panel.fieldConfig?.defaults;
  const o = panel.fieldConfig?.overrides;
  return data.series
    .map((frame) => {
      // As in Grafana, overrides match the name the defaults give; an override's displayName renames after.
      const field = resolveField(d, o, displayName(d?.displayName, frame), frame.refId);
      return { frame, field, name: displayName(field.displayName, frame) };
    })
    .filter((v) => !(v.field.custom as { hideFrom?: { viz?: boolean } } | undefined)?.hideFrom?.viz);
}

/** A value as the panel shows it: mapped text or the number in its unit, and its colour. */
export function display(f: FieldDisplay, value: number | null, min = 0, max = 100): { text: string; color: string } {
  const mapped = mapValue(f.mappings, value);
  const color = mapped?.color ? resolveColor(mapped.color) : valueColor(f, value, min, max);
  if (mapped?.text !== undefined) return { text: mapped.text, color };
  if (value === null) return { text: f.noValue ?? "No data", color };
  return { text: formatValueString(value, f.unit, f.decimals), color };
}
