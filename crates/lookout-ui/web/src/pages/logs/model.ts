// Log results as the explorer shows them: streams flattened to lines (newest first), each line's level from its
// labels or structured metadata, and the query's stream selector. Pure functions (unit-tested).
import type { LabelSet } from "../../lib/labels";

/** A stream value: [ns timestamp, line] or, with categorized labels, [ns, line, {structuredMetadata, parsed}]. */
export type StreamValue = [string, string] | [string, string, { structuredMetadata?: LabelSet; parsed?: LabelSet }];

export interface Stream {
  stream: LabelSet;
  values: StreamValue[];
}

export interface LogLine {
  /** Nanoseconds since the epoch, as a string (beyond float precision). */
  ns: string;
  ms: number;
  line: string;
  labels: LabelSet;
  metadata: LabelSet;
  parsed: LabelSet;
  level: Level;
  /** Distinguishes equal lines for rendering keys. */
  key: string;
}

export type Level = "error" | "warn" | "info" | "debug" | "trace" | "unknown";

const LEVEL_KEYS = ["detected_level", "level", "lvl", "loglevel", "severity"];

/** Grafana's level names: `err`, `fatal`, `critical` are errors; `warning` is warn; and so on. */
export function normalizeLevel(v: string | undefined): Level {
  switch ((v ?? "").toLowerCase()) {
    case "error": case "err": case "eror": case "fatal": case "critical": case "crit": case "alert": case "emerg": case "emergency": case "panic":
      return "error";
    case "warn": case "warning": case "wrn":
      return "warn";
    case "info": case "information": case "informational": case "notice": case "inf":
      return "info";
    case "debug": case "dbug": case "dbg":
      return "debug";
    case "trace": case "trc":
      return "trace";
    default:
      return "unknown";
  }
}

export function levelOf(...sets: LabelSet[]): Level {
  for (const k of LEVEL_KEYS) for (const s of sets) if (s[k] !== undefined) return normalizeLevel(s[k]);
  return "unknown";
}

/** The level a line states itself (`level=warn`, `"level":"error"`, or a level word), as Grafana guesses it. */
export function levelFromLine(line: string): Level {
  const head = line.slice(0, 300);
  const kv = /\b(?:level|lvl|severity|loglevel)["']?\s*[=:]\s*["']?([A-Za-z]+)/i.exec(head);
  if (kv) return normalizeLevel(kv[1]);
  const word = /\b(ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|WARN|WARNING|INFO|DEBUG|TRACE)\b/i.exec(head);
  return word ? normalizeLevel(word[1]) : "unknown";
}

/** Nanosecond strings compare by length, then lexically (no precision loss). */
export function compareNs(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

export function flattenStreams(streams: Stream[], newestFirst = true): LogLine[] {
  const out: LogLine[] = [];
  streams.forEach((s, si) => {
    s.values.forEach((v, vi) => {
      const extra = v.length > 2 ? (v[2] ?? {}) : {};
      const metadata = extra.structuredMetadata ?? {};
      const parsed = extra.parsed ?? {};
      out.push({
        ns: v[0],
        ms: Number(BigInt(v[0]) / 1000000n),
        line: v[1],
        labels: s.stream,
        metadata,
        parsed,
        level: (() => {
          const l = levelOf(s.stream, metadata, parsed);
          return l === "unknown" ? levelFromLine(v[1]) : l;
        })(),
        key: `${si}:${vi}:${v[0]}`,
      });
    });
  });
  out.sort((a, b) => (newestFirst ? compareNs(b.ns, a.ns) : compareNs(a.ns, b.ns)));
  return out;
}

/** The query's stream selector (`{…}`, quotes respected), or null when there is none. */
export function streamSelector(query: string): string | null {
  const start = query.indexOf("{");
  if (start < 0) return null;
  let quote = "";
  for (let i = start + 1; i < query.length; i++) {
    const c = query[i];
    if (quote) {
      if (c === "\\" && quote !== "`") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "`") quote = c;
    else if (c === "}") return query.slice(start, i + 1);
  }
  return null;
}

/** A LogQL log query starts with its selector; anything else (`rate(…)`, `sum(…)`) is a metric query. */
export function isLogQuery(query: string): boolean {
  return query.trim().startsWith("{");
}

/** The volume query: log lines per level per step (Loki's detected_level structured metadata). */
export function volumeQuery(query: string, stepSeconds: number): string {
  return `sum by (detected_level) (count_over_time(${query.trim()} [${stepSeconds}s]))`;
}
