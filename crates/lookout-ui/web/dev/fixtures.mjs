// API answers in the shapes Lookout's handlers write (crates/lookout-api/src/{status,rules,query}.rs,
// loki/*.rs), for trying the UI without the appliance: `node dev/fake-server.mjs`.

const now = () => Date.now() / 1000;

export const targets = {
  activeTargets: [
    { discoveredLabels: { __address__: "localhost:9100", __scheme__: "http", job: "node" }, labels: { instance: "localhost:9100", job: "node" }, scrapePool: "node", scrapeUrl: "http://localhost:9100/metrics", globalUrl: "http://localhost:9100/metrics", lastError: "", lastScrape: new Date().toISOString(), lastScrapeDuration: 0.0123, health: "up", scrapeInterval: "15s", scrapeTimeout: "10s" },
    { discoveredLabels: { __address__: "db:9187", job: "postgres" }, labels: { instance: "db:9187", job: "postgres" }, scrapePool: "postgres", scrapeUrl: "http://db:9187/metrics", globalUrl: "http://db:9187/metrics", lastError: "Get \"http://db:9187/metrics\": dial tcp: connection refused", lastScrape: new Date(Date.now() - 20000).toISOString(), lastScrapeDuration: 0.001, health: "down", scrapeInterval: "15s", scrapeTimeout: "10s" },
  ],
  droppedTargets: [{ discoveredLabels: { __address__: "10.0.0.9:8080", job: "node", __meta_kubernetes_pod_name: "x" }, scrapePool: "node" }],
  droppedTargetCounts: { node: 1 },
};

export const rules = {
  groups: [
    {
      name: "node.rules",
      file: "/etc/lookout/rules/node.yml",
      rules: [
        { type: "alerting", state: "firing", name: "InstanceDown", query: "up == 0", duration: 300, keepFiringFor: 0, labels: { severity: "page" }, annotations: { summary: "Instance {{ $labels.instance }} down" }, alerts: [{ labels: { alertname: "InstanceDown", instance: "db:9187", job: "postgres", severity: "page" }, annotations: { summary: "Instance db:9187 down" }, state: "firing", activeAt: new Date(Date.now() - 600000).toISOString(), value: "0e+00" }], health: "ok", evaluationTime: 0.0004, lastEvaluation: new Date().toISOString() },
        { type: "alerting", state: "inactive", name: "HighLoad", query: "node_load1 > 10", duration: 60, keepFiringFor: 0, labels: {}, annotations: {}, alerts: [], health: "ok", evaluationTime: 0.0002, lastEvaluation: new Date().toISOString() },
        { type: "recording", name: "job:up:sum", query: "sum by (job) (up)", labels: {}, health: "err", lastError: "many-to-many matching not allowed", evaluationTime: 0.0001, lastEvaluation: new Date().toISOString() },
      ],
      interval: 15, limit: 0, evaluationTime: 0.0008, lastEvaluation: new Date().toISOString(),
    },
  ],
};

export const alerts = { alerts: rules.groups[0].rules[0].alerts };

export const runtimeinfo = {
  startTime: new Date(Date.now() - 3600e3).toISOString(), CWD: "/var/lib/lookout", reloadConfigSuccess: true, lastConfigTime: new Date().toISOString(),
  storageRetention: "15d", headBytes: 123456789, diskBytes: 987654321, queryMaxSamples: 50000000,
  memoryBudget: { total: 1073741824, head: 461708984, sled_cache: 96636764, queries: 257698037, ingest: 107374182, discovery: 42949672, logs: 53687091, other: 53687091, forward: 0, source: "default" },
};

export const buildinfo = { version: "2.50.1", revision: "lookout-0.0.0", branch: "lookout", buildUser: "lookout", buildDate: "", goVersion: "rust" };
export const flags = { "config.file": "/etc/lookout/lookout.yml", "storage.tsdb.path": "/var/lib/lookout", "web.listen-address": ":9090" };
export const config = { yaml: "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [localhost:9100]\n" };
export const tsdb = {
  headStats: { numSeries: 1234, numLabelPairs: 456, chunkCount: 2345, minTime: Date.now() - 7200e3, maxTime: Date.now() },
  seriesCountByMetricName: [{ name: "node_cpu_seconds_total", value: 64 }, { name: "up", value: 2 }],
  labelValueCountByLabelName: [{ name: "__name__", value: 300 }, { name: "mode", value: 8 }],
  memoryInBytesByLabelName: [],
  seriesCountByLabelValuePair: [{ name: "job=node", value: 900 }],
};
export const metricsText = `# TYPE lookout_memory_used_bytes gauge
lookout_memory_used_bytes{component="head"} 123456789
lookout_memory_used_bytes{component="discovery"} 52000000
lookout_memory_over_budget{component="discovery"} 1
lookout_tsdb_wal_size_bytes 33554432
lookout_tsdb_wal_segments 3
lookout_tsdb_wal_fsync_seconds_max 0.004
`;

export const metricNames = ["up", "node_cpu_seconds_total", "node_load1", "http_requests_total", "node_memory_MemAvailable_bytes"];
export const labelNames = ["__name__", "instance", "job", "mode"];
export const labelValues = { job: ["node", "postgres"], instance: ["localhost:9100", "db:9187"], mode: ["idle", "user", "system"] };

export function vector(query) {
  const t = now();
  return { resultType: "vector", result: [
    { metric: { __name__: "up", instance: "localhost:9100", job: "node" }, value: [t, "1"] },
    { metric: { __name__: "up", instance: "db:9187", job: "postgres" }, value: [t, query.includes("== 0") ? "0" : "0"] },
  ] };
}

export function matrix(start, end, step, n = 3) {
  const result = [];
  for (let s = 0; s < n; s++) {
    const values = [];
    for (let t = start; t <= end; t += step) values.push([t, String((50 + 40 * Math.sin(t / 600 + s)).toFixed(3))]);
    result.push({ metric: { __name__: "http_requests_total", instance: `host-${s}:9100`, job: "node" }, values });
  }
  return { resultType: "matrix", result };
}

export function streams(startNs, endNs, limit) {
  const levels = ["info", "warn", "error", "debug"];
  const out = {};
  const n = Math.min(limit, 60);
  const span = (endNs - startNs) / BigInt(n);
  for (let i = 0; i < n; i++) {
    const app = i % 2 ? "api" : "worker";
    const ts = (endNs - span * BigInt(i)).toString();
    (out[app] ??= []).push([ts, `${levels[i % 4]} request ${i} handled path=/v1/items/${i} status=${i % 4 === 2 ? 500 : 200}`, { structuredMetadata: { detected_level: levels[i % 4] }, parsed: {} }]);
  }
  return { resultType: "streams", result: Object.entries(out).map(([app, values]) => ({ stream: { app, job: "varlogs" }, values })), stats: {} };
}

export function levelVolume(start, end, step) {
  const result = ["info", "warn", "error"].map((level, k) => {
    const values = [];
    for (let t = Math.ceil(start / step) * step; t <= end; t += step) values.push([t, String(Math.round((3 - k) * 5 + 4 * Math.sin(t / 300 + k)))]);
    return { metric: { detected_level: level }, values };
  });
  return { resultType: "matrix", result };
}

export const dashboards = [
  { uid: "demo", title: "Demo: everything", tags: ["lookout", "demo"] },
  { uid: "second", title: "Second dashboard", tags: ["demo"] },
];

export const demoDashboard = {
  uid: "demo", title: "Demo: everything", tags: ["lookout", "demo"], time: { from: "now-1h", to: "now" }, refresh: "",
  links: [{ type: "dashboards", tags: ["demo"], title: "Demo dashboards", asDropdown: false, keepTime: true }, { type: "link", title: "Docs", url: "https://example.com/docs", targetBlank: true }],
  templating: { list: [
    { type: "query", name: "job", datasource: { type: "prometheus", uid: "P" }, query: { query: "label_values(up, job)", refId: "A" }, multi: true, includeAll: true, current: { value: ["$__all"] }, refresh: 1 },
    { type: "custom", name: "mode", query: "idle,user,system", current: { value: "user" } },
    { type: "interval", name: "iv", query: "1m,5m,1h", auto: true, auto_count: 30, auto_min: "10s", current: { value: "5m" } },
    { type: "datasource", name: "ds", query: "prometheus" },
  ] },
  panels: [
    { id: 1, type: "stat", title: "Up ($job)", gridPos: { x: 0, y: 0, w: 6, h: 4 }, datasource: { uid: "${ds}" }, targets: [{ refId: "A", expr: 'sum(up{job=~"$job"})' }], fieldConfig: { defaults: { unit: "short", thresholds: { mode: "absolute", steps: [{ value: null, color: "red" }, { value: 1, color: "green" }] } }, overrides: [] }, options: { reduceOptions: { calcs: ["lastNotNull"] }, colorMode: "background", graphMode: "area" } },
    { id: 2, type: "gauge", title: "CPU", gridPos: { x: 6, y: 0, w: 6, h: 4 }, targets: [{ refId: "A", expr: "avg(rate(node_cpu_seconds_total[$__rate_interval]))" }], fieldConfig: { defaults: { unit: "percent", min: 0, max: 100 }, overrides: [] } },
    { id: 3, type: "bargauge", title: "Per host", gridPos: { x: 12, y: 0, w: 6, h: 4 }, targets: [{ refId: "A", expr: "rate(http_requests_total[5m])", legendFormat: "{{instance}}" }], fieldConfig: { defaults: { unit: "reqps" } } },
    { id: 4, type: "text", title: "Notes", gridPos: { x: 18, y: 0, w: 6, h: 4 }, options: { mode: "markdown", content: "# Hello $job\n\nSee [second](/d/second/second-dashboard) and <b>not bold</b>." } },
    { id: 5, type: "row", title: "Graphs", collapsed: false, gridPos: { x: 0, y: 4, w: 24, h: 1 }, panels: [] },
    { id: 6, type: "timeseries", title: "Requests (stacked)", gridPos: { x: 0, y: 5, w: 12, h: 8 }, targets: [{ refId: "A", expr: "rate(http_requests_total[$__rate_interval])", legendFormat: "{{instance}}" }], fieldConfig: { defaults: { unit: "reqps", custom: { stacking: { mode: "normal" }, fillOpacity: 30 } }, overrides: [{ matcher: { id: "byName", options: "host-0:9100" }, properties: [{ id: "color", value: { mode: "fixed", fixedColor: "red" } }, { id: "displayName", value: "first host" }] }] }, options: { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max"] } }, links: [{ title: "Second", url: "/d/second?${__url_time_range}" }] },
    { id: 7, type: "graph", title: "Legacy graph", gridPos: { x: 12, y: 5, w: 12, h: 8 }, targets: [{ refId: "A", expr: "node_load1" }], yaxes: [{ format: "bytes" }, {}], legend: { show: true } },
    { id: 8, type: "row", title: "Tables and logs", collapsed: true, gridPos: { x: 0, y: 13, w: 24, h: 1 }, panels: [
      { id: 9, type: "table", title: "Targets up", gridPos: { x: 0, y: 14, w: 12, h: 8 }, targets: [{ refId: "A", expr: "up", instant: true, format: "table" }], transformations: [{ id: "organize", options: { excludeByName: { __name__: true }, renameByName: { Value: "Up" } } }] },
      { id: 10, type: "logs", title: "Logs", gridPos: { x: 12, y: 14, w: 12, h: 8 }, datasource: { type: "loki", uid: "L" }, targets: [{ refId: "A", expr: '{job="varlogs"}' }] },
    ] },
    { id: 11, type: "piechart", title: "A pie", gridPos: { x: 0, y: 22, w: 8, h: 6 }, targets: [{ refId: "A", expr: "up" }] },
    { id: 12, type: "timeseries", title: "Broken query", gridPos: { x: 8, y: 22, w: 8, h: 6 }, targets: [{ refId: "A", expr: "sum(x[5m+1m])" }] },
    { id: 13, type: "stat", title: "Influx", gridPos: { x: 16, y: 22, w: 8, h: 6 }, datasource: { type: "influxdb", uid: "i" }, targets: [{ refId: "A", query: "SELECT 1" }] },
    { id: 14, type: "stat", title: "Repeated $mode", repeat: "mode", maxPerRow: 3, gridPos: { x: 0, y: 28, w: 8, h: 3 }, targets: [{ refId: "A", expr: 'count(node_cpu_seconds_total{mode="$mode"})' }] },
  ],
};
