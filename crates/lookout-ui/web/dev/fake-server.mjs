// A stand-in for Lookout's API that serves the built UI (dist/) and the fixtures, to click through the UI without
// building the appliance: `cd web && npm ci && node build.mjs && node dev/fake-server.mjs [port] [prefix]` (EMPTY=1:
// every list empty). Test aid only; never bundled.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { extname, join } from "node:path";
import * as fx from "./fixtures.mjs";

const port = Number(process.argv[2] ?? 9999);
const prefix = process.argv[3] ?? "";
// EMPTY=1: a server with no data at all (empty lists everywhere), for "no errors on an empty server" checks.
const empty = process.env.EMPTY === "1";
const dist = new URL("../dist/", import.meta.url).pathname;
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml" };

function json(res, body, status = 200) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
const ok = (res, data) => json(res, { status: "success", data });
const bad = (res, msg) => json(res, { status: "error", errorType: "bad_data", error: msg }, 400);

async function params(req, url) {
  const p = new URLSearchParams(url.search);
  if (req.method === "POST") {
    let body = "";
    for await (const c of req) body += c;
    for (const [k, v] of new URLSearchParams(body)) p.append(k, v);
  }
  return p;
}

const sec = (v, dflt) => (v ? (v.length > 13 ? Number(BigInt(v) / 1000000n) / 1000 : Number(v)) : dflt);

// Live tail: a minimal WebSocket server (text frames out, close frames in), one line a second.
function tail(req, socket) {
  const key = req.headers["sec-websocket-key"];
  const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  const send = (text) => {
    const payload = Buffer.from(text);
    const head = payload.length < 126 ? Buffer.from([0x81, payload.length]) : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 255]);
    socket.write(Buffer.concat([head, payload]));
  };
  let n = 0;
  const timer = setInterval(() => {
    const ns = `${Date.now()}000000`;
    send(JSON.stringify({ streams: [{ stream: { app: "tail", job: "varlogs" }, values: [[ns, `level=${n % 3 ? "info" : "error"} tail line ${n++}`]] }] }));
  }, 500);
  const stop = () => clearInterval(timer);
  socket.on("data", (buf) => {
    if ((buf[0] & 0x0f) === 8) {
      stop();
      socket.end(Buffer.from([0x88, 0]));
    }
  });
  socket.on("close", stop);
  socket.on("error", stop);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  let path = url.pathname;
  if (prefix) {
    if (!path.startsWith(prefix)) return json(res, { error: "outside prefix" }, 404);
    path = path.slice(prefix.length) || "/";
  }
  const p = await params(req, url);
  if (empty) {
    const e = { "/api/v1/targets": { activeTargets: [], droppedTargets: [], droppedTargetCounts: {} }, "/api/v1/rules": { groups: [] }, "/api/v1/alerts": { alerts: [] },
      "/api/v1/query": { resultType: "vector", result: [] }, "/api/v1/query_range": { resultType: "matrix", result: [] }, "/loki/api/v1/query_range": { resultType: "streams", result: [] },
      "/api/lookout/v1/dashboards": [] }[path];
    if (e) return ok(res, e);
    if (/\/(labels|values)$/.test(path)) return ok(res, []);
  }
  const q = p.get("query") ?? "";
  if (path === "/api/v1/query") return q.includes("+1m") ? bad(res, "parse error at char 8: unexpected \"+\"") : ok(res, fx.vector(q));
  if (path === "/api/v1/query_range") {
    if (q.includes("+1m")) return bad(res, "1:9: parse error: unexpected <op:+>");
    const start = Number(p.get("start")), end = Number(p.get("end")), step = Number(p.get("step"));
    return json(res, { status: "success", data: fx.matrix(start, end, step, q.startsWith("sum") ? 1 : 3), warnings: q.includes("warn") ? ["a warning from the engine"] : undefined });
  }
  if (path === "/api/v1/label/__name__/values") return ok(res, fx.metricNames);
  if (path === "/api/v1/labels") return ok(res, fx.labelNames);
  const lv = /^\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
  if (lv) return ok(res, fx.labelValues[decodeURIComponent(lv[1])] ?? []);
  if (path === "/api/v1/series") return ok(res, [{ __name__: "up", job: "node", instance: "localhost:9100" }]);
  if (path === "/api/v1/targets") return ok(res, fx.targets);
  if (path === "/api/v1/rules") return ok(res, fx.rules);
  if (path === "/api/v1/alerts") return ok(res, fx.alerts);
  if (path === "/api/v1/status/runtimeinfo") return ok(res, fx.runtimeinfo);
  if (path === "/api/v1/status/buildinfo") return ok(res, fx.buildinfo);
  if (path === "/api/v1/status/flags") return ok(res, fx.flags);
  if (path === "/api/v1/status/config") return ok(res, fx.config);
  if (path === "/api/v1/status/tsdb") return ok(res, fx.tsdb);
  if (path === "/metrics") return res.writeHead(200, { "Content-Type": "text/plain" }), res.end(fx.metricsText);
  if (path === "/loki/api/v1/labels") return ok(res, ["app", "job"]);
  const llv = /^\/loki\/api\/v1\/label\/([^/]+)\/values$/.exec(path);
  if (llv) return ok(res, llv[1] === "app" ? ["api", "worker"] : ["varlogs"]);
  if (path === "/loki/api/v1/query_range") {
    if (q.includes("|||")) return res.writeHead(400, { "Content-Type": "text/plain" }), res.end("parse error at line 1, col 16: syntax error: unexpected |\n");
    const end = BigInt(p.get("end") ?? `${Date.now()}000000`), start = BigInt(p.get("start") ?? `${Date.now() - 3600e3}000000`);
    if (q.startsWith("sum by (detected_level)")) return ok(res, fx.levelVolume(sec(p.get("start")), sec(p.get("end")), Number(p.get("step"))));
    if (!q.trim().startsWith("{")) return ok(res, fx.matrix(sec(p.get("start")), sec(p.get("end")), Number(p.get("step") || 60), 2));
    return ok(res, fx.streams(start, end, Number(p.get("limit") ?? 100)));
  }
  if (path === "/api/lookout/v1/dashboards") return ok(res, fx.dashboards);
  const dash = /^\/api\/lookout\/v1\/dashboards\/(.+)$/.exec(path);
  if (dash) {
    if (dash[1] === "demo") return json(res, fx.demoDashboard);
    if (dash[1] === "second") return json(res, { dashboard: { uid: "second", title: "Second dashboard", panels: [{ type: "text", title: "Hi", gridPos: { x: 0, y: 0, w: 24, h: 3 }, options: { content: "Back to [demo](/d/demo)" } }] }, meta: {} });
    return json(res, { message: "Dashboard not found" }, 404);
  }
  const file = path === "/" ? "index.html" : path.slice(1);
  const full = join(dist, file);
  if (!file.includes("..") && existsSync(full) && !full.endsWith("/")) {
    res.writeHead(200, { "Content-Type": types[extname(full)] ?? "application/octet-stream" });
    return res.end(readFileSync(full));
  }
  json(res, { error: "not found" }, 404);
});
server.on("upgrade", (req, socket) => {
  if (new URL(req.url, "http://x").pathname === `${prefix}/loki/api/v1/tail`) tail(req, socket);
  else socket.destroy();
});
server.listen(port, "127.0.0.1", () => console.log(`fake Lookout on http://127.0.0.1:${port}${prefix}/`));
