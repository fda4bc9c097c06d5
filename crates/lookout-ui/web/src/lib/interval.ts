// Query step and interval arithmetic: the Prometheus UI's automatic resolution, and Grafana's `$__interval` /
// `$__rate_interval` rules (interval = range / max data points rounded to a "nice" value, never below the minimum
// interval; rate interval = max(interval + scrape interval, 4 × scrape interval)). Pure functions (unit-tested).

/** The Prometheus UI's automatic step for a range: range / 250 points, at least 1 s (in seconds). */
export function promAutoStep(rangeSeconds: number): number {
  return Math.max(Math.floor(rangeSeconds / 250), 1);
}

// Grafana's rounding table: [below this many ms, use this interval].
const ROUND: Array<[number, number]> = [
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1500, 1000],
  [3500, 2000],
  [7500, 5000],
  [12500, 10000],
  [17500, 15000],
  [25000, 20000],
  [45000, 30000],
  [90000, 60000],
  [210000, 120000],
  [450000, 300000],
  [750000, 600000],
  [1050000, 900000],
  [1500000, 1200000],
  [2700000, 1800000],
  [5400000, 3600000],
  [9000000, 7200000],
  [16200000, 10800000],
  [32400000, 21600000],
  [86400000, 43200000],
  [604800000, 86400000],
  [1814400000, 604800000],
  [3628800000, 2592000000],
];

/** Grafana's `roundInterval`: the nice interval (ms) for a raw one. */
export function roundInterval(ms: number): number {
  for (const [below, use] of ROUND) if (ms < below) return use;
  return 31536000000;
}

/** Prometheus answers at most 11,000 points per series: the smallest step (ms) that stays below. */
export function safeInterval(rangeMs: number): number {
  return Math.ceil(rangeMs / 11000);
}

/**
 * Grafana's `$__interval` in ms for a panel: range / maxDataPoints rounded, at least `minIntervalMs` (the query's or
 * data source's min interval, 15 s by default), and at least the 11,000-points safe interval.
 */
export function grafanaInterval(rangeMs: number, maxDataPoints: number, minIntervalMs = 15000): number {
  const raw = rangeMs / Math.max(1, maxDataPoints);
  const calculated = raw < minIntervalMs ? minIntervalMs : roundInterval(raw);
  return Math.max(calculated, safeInterval(rangeMs));
}

/** Grafana's `$__rate_interval` in ms: max(interval + scrape interval, 4 × scrape interval). */
export function rateInterval(intervalMs: number, scrapeIntervalMs = 15000): number {
  return Math.max(intervalMs + scrapeIntervalMs, 4 * scrapeIntervalMs);
}

/** An interval as Grafana prints `$__interval`: its largest whole unit (`1d`, `2h`, `30s`, `500ms`). */
export function formatInterval(ms: number): string {
  const units: Array<[number, string]> = [
    [31536000000, "y"],
    [86400000, "d"],
    [3600000, "h"],
    [60000, "m"],
    [1000, "s"],
    [1, "ms"],
  ];
  for (const [size, u] of units) if (ms >= size) return `${Math.floor(ms / size)}${u}`;
  return "1ms";
}

/** Loki's step for a log-volume histogram over a range: about `buckets` bars, a nice value, at least 1 s. */
export function histogramStep(rangeMs: number, buckets = 100): number {
  return Math.max(1000, roundInterval(rangeMs / buckets));
}
