// The log volume histogram above the lines: lines per step by level (Loki's detected_level), as stacked bars
// coloured by level. Dragging across it narrows the time range.
import { lokiGet } from "../../lib/api";
import { histogramStep } from "../../lib/interval";
import { TimeChart } from "../../components/chart";
import { normalizeLevel, volumeQuery, type Level } from "./model";

const LEVEL_COLORS: Record<Level, string> = {
  error: "#e02f44",
  warn: "#ff9900",
  info: "#56a64b",
  debug: "#3274d9",
  trace: "#a352cc",
  unknown: "#8e8e8e",
};
const ORDER: Level[] = ["error", "warn", "info", "debug", "trace", "unknown"];

interface MatrixResult {
  resultType: string;
  result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
}

export async function loadVolume(
  chart: TimeChart,
  query: string,
  startMs: number,
  endMs: number,
  signal: AbortSignal,
): Promise<number> {
  const step = histogramStep(endMs - startMs, 80) / 1000;
  const res = await lokiGet<MatrixResult>(
    "loki/api/v1/query_range",
    { query: volumeQuery(query, step), start: `${startMs}000000`, end: `${endMs}000000`, step },
    signal,
  );
  const byLevel = new Map<Level, Map<number, number>>();
  let total = 0;
  for (const s of res.data.result ?? []) {
    const level = normalizeLevel(s.metric.detected_level);
    const m = byLevel.get(level) ?? new Map<number, number>();
    for (const [t, v] of s.values) {
      const n = parseFloat(v);
      m.set(t, (m.get(t) ?? 0) + n);
      total += n;
    }
    byLevel.set(level, m);
  }
  chart.setData(
    ORDER.filter((l) => byLevel.has(l)).map((l) => ({ name: l, color: LEVEL_COLORS[l], points: [...(byLevel.get(l) as Map<number, number>)].map(([t, v]) => [t, v] as [number, number]), fillOpacity: 80 })),
    { range: [startMs / 1000, endMs / 1000] },
  );
  return total;
}
