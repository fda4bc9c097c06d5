// The logs explorer: a LogQL editor, the range, the volume histogram by level, and the lines newest first; metric
// queries draw a graph instead. Live tail streams new lines over a WebSocket. State in the URL
// (`#/logs?query=…&range=1h&end=…&limit=…`).
import { h, replace, notice, spinner, select } from "../../lib/dom";
import { ApiError, lokiGet } from "../../lib/api";
import { errorPosition } from "../../lib/errpos";
import { promAutoStep } from "../../lib/interval";
import { formatSeries } from "../../lib/labels";
import { replaceParams, type Route } from "../../lib/router";
import { formatDuration } from "../../lib/time";
import { QueryEditor } from "../../components/editor";
import { TimeChart } from "../../components/chart";
import { rangeMs, rangePicker, stepSeconds, type RangeState } from "../../components/rangepicker";
import { logqlCompletion } from "./complete";
import { renderLines } from "./lines";
import { flattenStreams, isLogQuery, type LogLine, type Stream } from "./model";
import { startTail } from "./tail";
import { loadVolume } from "./volume";

type LokiData =
  | { resultType: "streams"; result: Stream[] }
  | { resultType: "matrix"; result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }> }
  | { resultType: "vector" | "scalar"; result: unknown };

const MAX_TAIL_LINES = 2000;

export function logsPage(root: HTMLElement, route: Route): () => void {
  const p = route.params;
  const endParam = p.get("end");
  const state: RangeState & { query: string; limit: string } = {
    query: p.get("query") ?? "",
    range: p.get("range") ?? "1h",
    end: endParam ? (Number.isNaN(Date.parse(endParam)) ? null : Date.parse(endParam)) : null,
    step: p.get("step") ?? "",
    limit: p.get("limit") ?? "1000",
  };
  const save = () => {
    const q = new URLSearchParams({ query: state.query, range: state.range, limit: state.limit });
    if (state.end !== null) q.set("end", new Date(state.end).toISOString());
    if (state.step) q.set("step", state.step);
    replaceParams(q);
  };
  let inflight: AbortController | undefined;
  let stopTail: (() => void) | undefined;
  let tailLines: LogLine[] = [];
  const editor = new QueryEditor({
    value: state.query,
    placeholder: 'LogQL, e.g. {job="varlogs"} |= "error" (Ctrl+Enter to run)',
    onRun: () => run(),
    onChange: (v) => (state.query = v),
    complete: logqlCompletion,
  });
  const messages = h("div", { class: "annotations" });
  const volumeBox = h("div");
  const results = h("div");
  const lines = h("div", { class: "log-lines", "data-testid": "log-lines" });
  const volume = new TimeChart({
    height: 110,
    drawStyle: "bars",
    stacking: "normal",
    legend: { mode: "list" },
    onZoom: (from, to) => {
      state.range = formatDuration(Math.max(1000, Math.round((to - from) / 1000) * 1000));
      state.end = to;
      drawControls();
      run();
    },
  });
  let graph: TimeChart | undefined;
  const tailBtn = h("button", { type: "button", "data-testid": "tail-toggle", "aria-pressed": "false" }, "▶ Live");
  const limitSel = select(["100", "500", "1000", "5000"].map((v) => [v, `${v} lines`]), state.limit, (v) => ((state.limit = v), run()), { "data-testid": "limit" });
  const controls = h("div");
  const drawControls = () =>
    replace(controls, rangePicker(state, (s) => (Object.assign(state, s), drawControls(), run())));

  const onSelector = (selector: string) => {
    editor.value = selector;
    state.query = selector;
    run();
  };

  const stop = () => {
    stopTail?.();
    stopTail = undefined;
    tailBtn.textContent = "▶ Live";
    tailBtn.setAttribute("aria-pressed", "false");
    tailBtn.classList.remove("primary");
  };

  tailBtn.addEventListener("click", () => {
    if (stopTail) return stop();
    state.query = editor.value;
    if (!isLogQuery(state.query)) {
      replace(messages, notice("error", "Live tail needs a log query (one that starts with a stream selector {…}).", "error"));
      return;
    }
    save();
    inflight?.abort();
    replace(messages, notice("info", "Live tail: new lines appear at the top."));
    replace(volumeBox);
    tailLines = [];
    replace(results, lines);
    renderLines(lines, [], onSelector);
    tailBtn.textContent = "■ Stop";
    tailBtn.setAttribute("aria-pressed", "true");
    tailBtn.classList.add("primary");
    stopTail = startTail(state.query, {
      onLines: (newLines) => {
        tailLines = [...newLines, ...tailLines].slice(0, MAX_TAIL_LINES);
        renderLines(lines, tailLines, onSelector);
      },
      onClose: (reason) => {
        stop();
        messages.append(notice("warning", reason, "tail-closed"));
      },
    });
  });

  const fail = (e: unknown) => {
    const msg = e instanceof ApiError ? e.message : String(e);
    editor.markError(errorPosition(msg, editor.value));
    replace(results, notice("error", msg, "error"));
  };

  function run(): void {
    stop();
    inflight?.abort();
    state.query = editor.value;
    save();
    editor.markError(null);
    replace(messages);
    const query = state.query.trim();
    if (!query) {
      replace(results);
      replace(volumeBox);
      return;
    }
    const ctl = new AbortController();
    inflight = ctl;
    const endMs = state.end ?? Date.now();
    const startMs = endMs - rangeMs(state);
    replace(results, spinner());
    const started = performance.now();
    if (isLogQuery(query)) {
      replace(volumeBox, volume.el);
      loadVolume(volume, query, startMs, endMs, ctl.signal).catch((e: unknown) => {
        if (!ctl.signal.aborted) replace(volumeBox, h("div", { class: "muted small" }, `Volume unavailable: ${e instanceof Error ? e.message : String(e)}`));
      });
    } else replace(volumeBox);
    const step = stepSeconds(state, promAutoStep);
    lokiGet<LokiData>("loki/api/v1/query_range", { query, start: `${startMs}000000`, end: `${endMs}000000`, limit: state.limit, direction: "backward", step }, ctl.signal)
      .then((r) => {
        if (ctl.signal.aborted) return;
        const ms = Math.round(performance.now() - started);
        r.warnings.forEach((w) => messages.append(notice("warning", w, "warning")));
        const d = r.data;
        if (d.resultType === "streams") {
          const all = flattenStreams(d.result ?? []);
          messages.append(h("div", { class: "muted small" }, `${all.length} lines${all.length >= Number(state.limit) ? ` (limit ${state.limit} reached)` : ""} · ${ms} ms`));
          if (!all.length) return replace(results, notice("empty", "No log lines in this range.", "no-data"));
          replace(results, lines);
          renderLines(lines, all, onSelector);
        } else if (d.resultType === "matrix") {
          messages.append(h("div", { class: "muted small" }, `${d.result.length} series · step ${step}s · ${ms} ms`));
          if (!d.result.length) return replace(results, notice("empty", "Empty query result", "no-data"));
          graph ??= new TimeChart({ height: 320, legend: { mode: "list" } });
          replace(results, graph.el);
          graph.setData(
            d.result.map((s) => ({ name: formatSeries(s.metric), points: s.values.map(([t, v]) => [t, parseFloat(v)] as [number, number]) })),
            { range: [startMs / 1000, endMs / 1000] },
          );
        } else {
          replace(results, h("pre", { class: "card body" }, JSON.stringify(d.result, null, 2)));
        }
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) fail(e);
      });
  }

  drawControls();
  root.append(
    h("h1", null, "Logs"),
    h("div", { class: "panel-controls" }, editor.el, h("button", { class: "primary", type: "button", "data-testid": "run", onclick: () => run() }, "Run"), limitSel, tailBtn),
    controls,
    messages,
    volumeBox,
    results,
  );
  if (state.query) run();
  return () => {
    stop();
    inflight?.abort();
    volume.destroy();
    graph?.destroy();
  };
}
