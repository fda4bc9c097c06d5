// The subset of Grafana's dashboard JSON model the viewer reads, and its normalisation: rows (expanded: panels
// follow the row; collapsed: panels inside it) become sections with their own grid, legacy `graph` and
// `singlestat` panels map onto timeseries and stat. Pure functions (unit-tested).

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type DataSourceRef = string | { type?: string; uid?: string } | null | undefined;

export interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  interval?: string;
  intervalFactor?: number;
  format?: string;
  hide?: boolean;
  datasource?: DataSourceRef;
  queryType?: string;
  maxLines?: number;
  step?: number | string;
}

export interface Threshold {
  value: number | null;
  color: string;
}

export interface FieldConfig {
  unit?: string;
  decimals?: number | null;
  min?: number | null;
  max?: number | null;
  displayName?: string;
  noValue?: string;
  color?: { mode?: string; fixedColor?: string };
  thresholds?: { mode?: "absolute" | "percentage"; steps?: Threshold[] };
  mappings?: unknown[];
  links?: PanelLink[];
  custom?: Record<string, unknown> & {
    fillOpacity?: number;
    lineWidth?: number;
    drawStyle?: string;
    stacking?: { mode?: string; group?: string };
    axisSoftMin?: number;
    axisSoftMax?: number;
    displayMode?: string;
    cellOptions?: { type?: string };
    hidden?: boolean;
  };
}

export interface Override {
  matcher: { id: string; options?: unknown };
  properties: Array<{ id: string; value?: unknown }>;
}

export interface PanelLink {
  title?: string;
  url?: string;
  targetBlank?: boolean;
}

export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos?: GridPos;
  datasource?: DataSourceRef;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldConfig; overrides?: Override[] };
  options?: Record<string, any>;
  links?: PanelLink[];
  repeat?: string;
  repeatDirection?: "h" | "v";
  maxPerRow?: number;
  maxDataPoints?: number;
  interval?: string;
  transparent?: boolean;
  collapsed?: boolean;
  panels?: Panel[];
  transformations?: Array<{ id: string; options?: any }>;
  libraryPanel?: { uid?: string; name?: string };
  // Legacy graph/singlestat fields, mapped by normalizePanel.
  yaxes?: Array<{ format?: string; min?: number | string | null; max?: number | string | null; decimals?: number | null }>;
  stack?: boolean;
  percentage?: boolean;
  fill?: number;
  linewidth?: number;
  bars?: boolean;
  lines?: boolean;
  points?: boolean;
  legend?: { show?: boolean; alignAsTable?: boolean; rightSide?: boolean; avg?: boolean; current?: boolean; max?: boolean; min?: boolean; total?: boolean };
  format?: string;
  valueName?: string;
  thresholds?: string;
  colors?: string[];
  colorValue?: boolean;
  colorBackground?: boolean;
  sparkline?: { show?: boolean };
  content?: string;
  mode?: string;
  /** Set by the viewer on repeated copies: the repeat variable's value for this copy. */
  scopedVars?: Record<string, string>;
}

export interface Variable {
  type: string;
  name: string;
  label?: string;
  hide?: number;
  query?: string | { query?: string; qryType?: number; label?: string; stream?: string; type?: number };
  definition?: string;
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text?: string | string[]; value?: string | string[] };
  options?: Array<{ text?: string; value?: string; selected?: boolean }>;
  datasource?: DataSourceRef;
  sort?: number;
  refresh?: number;
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
}

export interface DashboardLink {
  type?: "dashboards" | "link";
  title?: string;
  url?: string;
  tags?: string[];
  asDropdown?: boolean;
  targetBlank?: boolean;
  keepTime?: boolean;
  includeVars?: boolean;
  tooltip?: string;
}

export interface Dashboard {
  uid?: string;
  title?: string;
  tags?: string[];
  time?: { from?: string; to?: string };
  refresh?: string | false;
  timezone?: string;
  templating?: { list?: Variable[] };
  links?: DashboardLink[];
  panels?: Panel[];
  rows?: unknown[];
}

export interface Section {
  row: Panel | null;
  collapsed: boolean;
  panels: Panel[];
}

/** Accepts the dashboard itself, Grafana's `{dashboard, meta}` envelope, or `{status, data}`. */
export function unwrapDashboard(json: unknown): Dashboard {
  let d = json as Record<string, unknown>;
  if (d && d.status === "success" && typeof d.data === "object") d = d.data as Record<string, unknown>;
  if (d && typeof d.dashboard === "object" && d.dashboard !== null) d = d.dashboard as Record<string, unknown>;
  const dash = { ...(d ?? {}) } as Dashboard;
  // Hand-written JSON may have the wrong shapes; what cannot be read is left out rather than crashing the viewer.
  if (!Array.isArray(dash.panels)) dash.panels = [];
  dash.panels = dash.panels.filter((p) => p && typeof p === "object" && typeof p.type === "string" || (p && p.libraryPanel));
  if (!Array.isArray(dash.templating?.list)) dash.templating = { list: [] };
  if (!Array.isArray(dash.links)) dash.links = [];
  return dash;
}

function byPosition(a: Panel, b: Panel): number {
  const pa = a.gridPos ?? { x: 0, y: 0, w: 0, h: 0 };
  const pb = b.gridPos ?? { x: 0, y: 0, w: 0, h: 0 };
  return pa.y - pb.y || pa.x - pb.x;
}

export function sections(panels: Panel[]): Section[] {
  const out: Section[] = [];
  let current: Section = { row: null, collapsed: false, panels: [] };
  for (const p of [...panels].sort(byPosition)) {
    if (p.type === "row") {
      if (current.row || current.panels.length) out.push(current);
      current = { row: p, collapsed: Boolean(p.collapsed), panels: [...(p.panels ?? [])] };
      if (current.collapsed) {
        // A collapsed row carries its panels; top-level panels after it are outside it and stay visible.
        out.push(current);
        current = { row: null, collapsed: false, panels: [] };
      }
    } else current.panels.push(p);
  }
  if (current.row || current.panels.length) out.push(current);
  for (const s of out) s.panels = s.panels.map(normalizePanel).sort(byPosition);
  return out;
}

const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number.isFinite(Number(v)) ? Number(v) : null);

/** Legacy panel types in today's terms (graph → timeseries, singlestat → stat), grid positions defaulted. */
export function normalizePanel(p: Panel): Panel {
  const gridPos = { x: p.gridPos?.x ?? 0, y: p.gridPos?.y ?? 0, w: p.gridPos?.w || 12, h: p.gridPos?.h || 8 };
  if (p.type === "graph") {
    const y = p.yaxes?.[0] ?? {};
    const legend = p.legend ?? {};
    const calcs = (["mean", "lastNotNull", "max", "min", "sum"] as const).filter((_c, i) => [legend.avg, legend.current, legend.max, legend.min, legend.total][i]);
    return {
      ...p,
      type: "timeseries",
      gridPos,
      fieldConfig: {
        defaults: {
          unit: y.format,
          decimals: y.decimals ?? undefined,
          min: num(y.min),
          max: num(y.max),
          ...p.fieldConfig?.defaults,
          custom: {
            fillOpacity: (p.fill ?? 1) * 10,
            lineWidth: p.linewidth ?? 1,
            drawStyle: p.bars ? "bars" : p.lines === false && p.points ? "points" : "line",
            stacking: { mode: p.stack ? (p.percentage ? "percent" : "normal") : "none" },
            ...p.fieldConfig?.defaults?.custom,
          },
        },
        overrides: p.fieldConfig?.overrides ?? [],
      },
      options: {
        legend: { showLegend: legend.show !== false, displayMode: legend.alignAsTable ? "table" : "list", placement: legend.rightSide ? "right" : "bottom", calcs },
        ...p.options,
      },
    };
  }
  if (p.type === "singlestat") {
    const steps = (p.thresholds ?? "")
      .split(",")
      .map((s) => num(s.trim()))
      .filter((v): v is number => v !== null);
    const colors = p.colors ?? [];
    const calc = { current: "lastNotNull", avg: "mean", total: "sum", max: "max", min: "min", first: "firstNotNull", delta: "delta", range: "range" }[p.valueName ?? "avg"] ?? "mean";
    return {
      ...p,
      type: "stat",
      gridPos,
      fieldConfig: {
        defaults: {
          unit: p.format,
          thresholds: colors.length ? { mode: "absolute", steps: [{ value: null, color: colors[0] }, ...steps.map((v, i) => ({ value: v, color: colors[i + 1] ?? colors[colors.length - 1] }))] } : undefined,
          color: { mode: colors.length ? "thresholds" : "fixed", fixedColor: "text" },
        },
        overrides: [],
      },
      options: { reduceOptions: { calcs: [calc] }, colorMode: p.colorBackground ? "background" : p.colorValue ? "value" : "none", graphMode: p.sparkline?.show ? "area" : "none" },
    };
  }
  return { ...p, gridPos };
}
