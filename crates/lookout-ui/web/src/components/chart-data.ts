// Chart data preparation: align series on one time axis (missing points become gaps) and stack them (normal or
// percent). Pure functions (unit-tested); the chart component draws the result with uPlot.

export type Stacking = "none" | "normal" | "percent";

export interface SeriesIn {
  /** Points as [unix seconds, value]; null or NaN is a gap. */
  points: Array<[number, number | null]>;
}

export interface Aligned {
  xs: number[];
  /** One array per input series, null where it has no point. */
  ys: Array<Array<number | null>>;
}

export function align(series: SeriesIn[]): Aligned {
  const set = new Set<number>();
  for (const s of series) for (const [t] of s.points) set.add(t);
  const xs = [...set].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const ys = series.map((s) => {
    const row: Array<number | null> = new Array(xs.length).fill(null);
    for (const [t, v] of s.points) row[index.get(t) as number] = v === null || Number.isNaN(v) ? null : v;
    return row;
  });
  return { xs, ys };
}

/**
 * Cumulative sums over the visible series (hidden ones stay as they are and add nothing). A gap stays a gap in its
 * own series but counts as 0 for those above it. `percent` first divides by each timestamp's total, so the top is 1.
 */
export function stack(ys: Array<Array<number | null>>, visible: boolean[], mode: Stacking): Array<Array<number | null>> {
  if (mode === "none") return ys;
  const n = ys[0]?.length ?? 0;
  const totals = new Array(n).fill(0);
  if (mode === "percent") {
    ys.forEach((row, i) => {
      if (visible[i]) row.forEach((v, j) => (totals[j] += Math.abs(v ?? 0)));
    });
  }
  const acc = new Array(n).fill(0);
  return ys.map((row, i) => {
    if (!visible[i]) return row;
    return row.map((v, j) => {
      if (v === null) return null;
      acc[j] += mode === "percent" ? (totals[j] ? v / totals[j] : 0) : v;
      return acc[j];
    });
  });
}

/** Reductions for legends and stat panels (Grafana's calc names). */
export function reduce(values: Array<number | null>, calc: string): number | null {
  const nums = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const all = values.filter((v): v is number => v !== null);
  switch (calc) {
    case "last":
      return values.length ? values[values.length - 1] : null;
    case "lastNotNull":
      return all.length ? all[all.length - 1] : null;
    case "first":
      return values.length ? values[0] : null;
    case "firstNotNull":
      return all.length ? all[0] : null;
    case "min":
      return nums.length ? Math.min(...nums) : null;
    case "max":
      return nums.length ? Math.max(...nums) : null;
    case "mean":
    case "avg":
      return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
    case "sum":
    case "total":
      return nums.length ? nums.reduce((a, b) => a + b, 0) : null;
    case "count":
      return values.length;
    case "range":
      return nums.length ? Math.max(...nums) - Math.min(...nums) : null;
    case "delta": {
      let d = 0;
      for (let i = 1; i < nums.length; i++) d += nums[i] >= nums[i - 1] ? nums[i] - nums[i - 1] : nums[i];
      return nums.length ? d : null;
    }
    case "diff":
      return nums.length ? nums[nums.length - 1] - nums[0] : null;
    case "median": {
      if (!nums.length) return null;
      const s = [...nums].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    default:
      return all.length ? all[all.length - 1] : null;
  }
}

export const CALC_NAMES: Record<string, string> = {
  last: "Last",
  lastNotNull: "Last *",
  first: "First",
  firstNotNull: "First *",
  min: "Min",
  max: "Max",
  mean: "Mean",
  sum: "Total",
  count: "Count",
  range: "Range",
  delta: "Delta",
  diff: "Difference",
  median: "Median",
};
