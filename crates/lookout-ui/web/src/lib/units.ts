// Grafana's value formats for the units dashboards use most (fieldConfig.defaults.unit): the same scaling steps,
// suffixes and automatic decimals, so a panel reads the same here as in Grafana. Pure functions (unit-tested).

export interface Formatted {
  text: string;
  suffix?: string;
  prefix?: string;
}

export type Decimals = number | null | undefined;
type Formatter = (v: number, decimals: Decimals) => Formatted;

export function formattedToString(f: Formatted): string {
  return `${f.prefix ?? ""}${f.text}${f.suffix ?? ""}`;
}

function decimalsFor(value: number): number {
  const abs = Math.abs(value);
  if (abs === 0 || !Number.isFinite(abs)) return 0;
  let dec = -Math.floor(Math.log10(abs)) + 1;
  const norm = abs / Math.pow(10, -dec);
  if (norm > 2.25) ++dec;
  if (value % 1 === 0) dec = 0;
  return Math.max(0, dec);
}

/** A number with `decimals` digits (automatic when not given), without trailing noise. */
export function toFixed(value: number, decimals?: Decimals): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf";
  const dec = decimals === null || decimals === undefined ? decimalsFor(value) : Math.max(0, Math.min(20, decimals));
  if (value === 0) return dec > 0 && decimals !== null && decimals !== undefined ? (0).toFixed(dec) : "0";
  const factor = dec ? Math.pow(10, dec) : 1;
  const formatted = String(Math.round(value * factor) / factor);
  if (formatted.includes("e")) return formatted;
  const dot = formatted.indexOf(".");
  const precision = dot === -1 ? 0 : formatted.length - dot - 1;
  if (precision < dec) return (precision ? formatted : `${formatted}.`) + "0".repeat(dec - precision);
  return formatted;
}

function scaled(factor: number, units: string[], offset = 0): Formatter {
  return (v, decimals) => {
    if (!Number.isFinite(v)) return { text: toFixed(v) };
    const idx = v === 0 ? 0 : Math.floor(Math.log(Math.abs(v)) / Math.log(factor));
    const i = Math.max(-offset, Math.min(units.length - offset - 1, idx));
    return { text: toFixed(v / Math.pow(factor, i), decimals), suffix: units[i + offset] };
  };
}

const SI = ["f", "p", "n", "µ", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"];
const decimalSI = (unit: string) => scaled(1000, SI.map((p) => ` ${p}${unit}`), 5);
const binary = (unit: string) => scaled(1024, ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"].map((p) => ` ${p}${unit}`));
const count = (unit: string): Formatter => {
  const s = scaled(1000, ["", "K", "M", "B", "T"]);
  return (v, d) => {
    const f = s(v, d);
    return { ...f, suffix: `${f.suffix ?? ""} ${unit}` };
  };
};
const fixedUnit = (suffix: string): Formatter => (v, d) => ({ text: toFixed(v, d), suffix });

// Each step: below `limit` (in the unit's own scale), divide by `div` and append `suffix`.
type Step = [limit: number, div: number, suffix: string];
function stepped(steps: Step[], last: [number, string]): Formatter {
  return (v, d) => {
    if (v === 0) return { text: "0", suffix: steps[0][2] };
    for (const [limit, div, suffix] of steps) {
      if (Math.abs(v) < limit) return { text: toFixed(v / div, d), suffix };
    }
    return { text: toFixed(v / last[0], d), suffix: last[1] };
  };
}

const toSeconds = stepped(
  [
    [1e-6, 1e-9, " ns"],
    [1e-3, 1e-6, " µs"],
    [1, 1e-3, " ms"],
    [60, 1, " s"],
    [3600, 60, " min"],
    [86400, 3600, " hour"],
    [604800, 86400, " day"],
    [31536000, 604800, " week"],
  ],
  [3.15569e7, " year"],
);
const toMilliseconds = stepped(
  [
    [1000, 1, " ms"],
    [60000, 1000, " s"],
    [3600000, 60000, " min"],
    [86400000, 3600000, " hour"],
    [31536000000, 86400000, " day"],
  ],
  [31536000000, " year"],
);
const toMicroseconds = stepped(
  [
    [1000, 1, " µs"],
    [1e6, 1000, " ms"],
  ],
  [1e6, " s"],
);
const toNanoseconds = stepped(
  [
    [1000, 1, " ns"],
    [1e6, 1000, " µs"],
    [1e9, 1e6, " ms"],
    [60e9, 1e9, " s"],
    [3600e9, 60e9, " min"],
    [86400e9, 3600e9, " hour"],
  ],
  [86400e9, " day"],
);
// Seconds (zero: "0 s" as Grafana prints it).
const seconds: Formatter = (v, d) => (v === 0 ? { text: "0", suffix: " s" } : toSeconds(v, d));

const DURATION_UNITS: Array<[string, number]> = [
  ["year", 31536000],
  ["month", 2629744],
  ["week", 604800],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
  ["millisecond", 0.001],
];

/** Grafana's `dtdurations`: "2 hours, 5 minutes"; `decimals` is how many more units follow the first. */
export function dtDuration(seconds: number, decimals: Decimals): Formatted {
  if (seconds === 0) return { text: "0", suffix: " seconds" };
  if (seconds < 0) {
    const f = dtDuration(-seconds, decimals);
    return { ...f, text: `-${f.text}` };
  }
  let rest = seconds;
  let remaining = decimals ?? 0;
  let started = false;
  const parts: string[] = [];
  for (const [name, size] of DURATION_UNITS) {
    if (remaining < 0) break;
    const n = rest / size;
    if (n >= 1 || started) {
      started = true;
      const whole = Math.floor(n + 1e-9);
      parts.push(`${whole} ${name}${whole === 1 ? "" : "s"}`);
      rest -= whole * size;
      remaining--;
    }
  }
  return { text: parts.join(", ") || "0 seconds" };
}

const FORMATS: Record<string, Formatter> = {
  none: (v, d) => ({ text: toFixed(v, d) }),
  short: scaled(1000, ["", " K", " Mil", " Bil", " Tri", " Quadr", " Quint", " Sext", " Sept"]),
  percent: fixedUnit("%"),
  percentunit: (v, d) => ({ text: toFixed(v * 100, d), suffix: "%" }),
  bytes: binary("B"),
  decbytes: decimalSI("B"),
  bits: binary("b"),
  decbits: decimalSI("b"),
  bps: decimalSI("bps"),
  Bps: decimalSI("B/s"),
  binBps: binary("B/s"),
  binbps: binary("bps"),
  s: seconds,
  ms: toMilliseconds,
  µs: toMicroseconds,
  us: toMicroseconds,
  ns: toNanoseconds,
  dtdurations: dtDuration,
  dtdurationms: (v, d) => dtDuration(v / 1000, d),
  reqps: count("req/s"),
  rps: count("rd/s"),
  wps: count("wr/s"),
  iops: count("io/s"),
  ops: count("ops/s"),
  opm: count("ops/min"),
  hertz: decimalSI("Hz"),
  celsius: fixedUnit("°C"),
  fahrenheit: fixedUnit("°F"),
  volt: decimalSI("V"),
  watt: decimalSI("W"),
  kbytes: (v, d) => binary("B")(v * 1024, d),
  mbytes: (v, d) => binary("B")(v * 1024 * 1024, d),
  deckbytes: (v, d) => decimalSI("B")(v * 1000, d),
  decmbytes: (v, d) => decimalSI("B")(v * 1e6, d),
  decgbytes: (v, d) => decimalSI("B")(v * 1e9, d),
  m: (v, d) => toSeconds(v * 60, d),
  h: (v, d) => toSeconds(v * 3600, d),
  d: (v, d) => toSeconds(v * 86400, d),
};

/** Formats `value` in Grafana's `unit`; unknown units print the number with the unit as suffix (Grafana's custom units). */
export function formatValue(value: number | null | undefined, unit = "", decimals?: Decimals): Formatted {
  if (value === null || value === undefined) return { text: "" };
  if (!Number.isFinite(value)) return { text: toFixed(value) };
  const f = FORMATS[unit || "none"];
  if (f) return f(value, decimals);
  if (unit.startsWith("suffix:")) return { text: toFixed(value, decimals), suffix: unit.slice(7) };
  if (unit.startsWith("prefix:")) return { text: toFixed(value, decimals), prefix: unit.slice(7) };
  if (unit.startsWith("currency")) return { text: toFixed(value, decimals), prefix: unit.slice(8) };
  return { text: toFixed(value, decimals), suffix: ` ${unit}` };
}

export function formatValueString(value: number | null | undefined, unit = "", decimals?: Decimals): string {
  return formattedToString(formatValue(value, unit, decimals));
}
