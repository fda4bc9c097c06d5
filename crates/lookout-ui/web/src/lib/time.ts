// Durations and time expressions: Prometheus durations (`1h30m`), Grafana relative times (`now-6h`, `now/d`),
// and display formatting. Pure functions (unit-tested).

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration (`5m`, `1h30m`, `250ms`) in ms, or a plain number of seconds; null when invalid. */
export function parseDuration(s: string): number | null {
  const t = s.trim();
  if (t === "") return null;
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(parseFloat(t) * 1000);
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    if (m.index !== consumed) return null;
    total += parseInt(m[1], 10) * UNIT_MS[m[2]];
    consumed = re.lastIndex;
  }
  return consumed === t.length && consumed > 0 ? total : null;
}

/** ms as a Prometheus duration: `1h30m`, `15s`, `250ms`, `0s`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0s";
  let rest = Math.round(ms);
  let out = "";
  for (const u of ["y", "w", "d", "h", "m", "s", "ms"]) {
    const n = Math.floor(rest / UNIT_MS[u]);
    if (n > 0) {
      out += `${n}${u}`;
      rest -= n * UNIT_MS[u];
    }
  }
  return out;
}

const ROUND_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

function startOf(ms: number, unit: string): number {
  const d = new Date(ms);
  if (ROUND_UNITS[unit]) return Math.floor(ms / ROUND_UNITS[unit]) * ROUND_UNITS[unit];
  if (unit === "d") d.setHours(0, 0, 0, 0);
  else if (unit === "w") {
    d.setHours(0, 0, 0, 0);
    d.setDate(d.getDate() - d.getDay());
  } else if (unit === "M") {
    d.setHours(0, 0, 0, 0);
    d.setDate(1);
  } else if (unit === "y") {
    d.setHours(0, 0, 0, 0);
    d.setMonth(0, 1);
  }
  return d.getTime();
}

/**
 * A time expression in ms: `now`, `now-6h`, `now-1d/d` (Grafana date math, rounding down, or up when `roundUp`
 * as for a range's end), epoch ms or seconds, or an ISO date. Null when invalid.
 */
export function parseTime(expr: string, now: number, roundUp = false): number | null {
  const t = expr.trim();
  if (/^\d+$/.test(t)) {
    const n = parseInt(t, 10);
    return n < 1e11 ? n * 1000 : n;
  }
  if (t.startsWith("now")) {
    let ms = now;
    let rest = t.slice(3);
    const re = /^([+-])(\d+)(ms|s|m|h|d|w|M|y)|^\/(s|m|h|d|w|M|y)/;
    while (rest.length > 0) {
      const m = re.exec(rest);
      if (!m) return null;
      if (m[4]) {
        ms = startOf(ms, m[4]);
        if (roundUp) ms = addUnit(ms, m[4], 1) - 1;
      } else {
        ms = addUnit(ms, m[3], (m[1] === "-" ? -1 : 1) * parseInt(m[2], 10));
      }
      rest = rest.slice(m[0].length);
    }
    return ms;
  }
  const d = Date.parse(t);
  return Number.isNaN(d) ? null : d;
}

function addUnit(ms: number, unit: string, n: number): number {
  if (unit === "M") {
    const d = new Date(ms);
    d.setMonth(d.getMonth() + n);
    return d.getTime();
  }
  if (unit === "y") {
    const d = new Date(ms);
    d.setFullYear(d.getFullYear() + n);
    return d.getTime();
  }
  return ms + n * UNIT_MS[unit];
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `2024-05-01 13:04:05` in local time (or UTC). */
export function formatTime(ms: number, utc = false, withMs = false): string {
  const d = new Date(ms);
  const [Y, M, D, h, m, s, x] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
  return `${Y}-${pad(M)}-${pad(D)} ${pad(h)}:${pad(m)}:${pad(s)}${withMs ? `.${pad(x, 3)}` : ""}`;
}

/** The value of an `<input type="datetime-local">` for ms. */
export function toDatetimeLocal(ms: number): string {
  return formatTime(ms).replace(" ", "T");
}

/** "3m ago", "in 5s", for a time relative to now. */
export function formatRelative(ms: number, now: number): string {
  const diff = now - ms;
  const abs = Math.abs(diff);
  const text = abs < 1000 ? `${Math.round(abs)}ms` : formatDuration(Math.round(abs / 1000) * 1000).replace(/(\d+[a-z]+\d+[a-z]+).*/, "$1");
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/** Human text for a relative range like `now-6h` → "Last 6 hours". */
export function describeRange(from: string, to: string): string {
  const m = /^now-(\d+)([smhdwMy])$/.exec(from);
  if (m && to === "now") {
    const names: Record<string, string> = { s: "second", m: "minute", h: "hour", d: "day", w: "week", M: "month", y: "year" };
    const n = parseInt(m[1], 10);
    return `Last ${n} ${names[m[2]]}${n === 1 ? "" : "s"}`;
  }
  const f = parseTime(from, Date.now());
  const t = parseTime(to, Date.now(), true);
  const show = (expr: string, ms: number | null) => (/^now/.test(expr) || ms === null ? expr : formatTime(ms));
  return `${show(from, f)} to ${show(to, t)}`;
}
