// Browser end-to-end checks of Lookout's built-in web UI, driven through Debian's Chromium with playwright-core.
//
//   node tests/browser/run.mjs <base-url> <screenshot-dir>
//
// `tests/tests/e2e/browser.rs` starts Lookout on 127.0.0.1 with data the checks rely on (the contract, kept in
// both files): the scrape job `lookout` (self) and the host collector's job `node`; the firing alert
// `BrowserCheckAlwaysFiring` and the recording rule `browser_check:up:sum`; log lines of the stream
// {job="browser-check"} with levels error, warn and info, among them the line "browser check: payment failed";
// synthetic Kubernetes and Proxmox VE series for their dashboards.
//
// Each check has an id and is printed as it passes: `page:<name>`, `query:…`, `logs:…`, `dashboard:<uid>`; for a
// panel that does not end "ok", `panel:<uid>:<title>` (spaces as `_`, `#2` for a repeated title); likewise
// `legend:<uid>:<title>` for a chart with an unnamed series and `table:<uid>:<title>` for the merged tables whose
// rows the synthetic data fixes. Checks listed in `expected_failures.txt` (next to this file: `<check-id>
// <reason>`, one per line, `#` comments) are known server-side problems: they must fail, and the run fails when
// one of them passes, so the list stays right in both directions. Exit status 0 only when every check passed or
// failed as expected. Chromium only ever talks to the base URL's origin: any other request is aborted and
// reported. The synthetic data also names: the Proxmox VE module `lab` (job `pve`) whose API port is closed.
// firefox.mjs makes a smaller pass in Firefox; what both use (the pages, the data names, in-page checks) is in
// common.mjs.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DESKTOP, WAIT_MS, ALERT_NAME, RECORDING_RULE, LOG_SELECTOR, KNOWN_LINE, GRAPH_QUERY, PAGES, die, parseArgs, seriesPixels, panelStatesInPage } from "./common.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.LOOKOUT_CHROMIUM || "/usr/bin/chromium";
const PHONE = { width: 390, height: 844 };

// Rows of merged tables (several queries joined on shared labels) as the synthetic data makes them, every cell filled.
const TABLE_ROWS = {
  "lookout-kubernetes:Deployments": 3,
  "lookout-kubernetes:Node resources": 2,
  "lookout-kubernetes:PersistentVolumeClaims": 2,
  "lookout-proxmox:Nodes": 2,
  "lookout-proxmox:Guests": 4,
  "lookout-proxmox:Storages": 3,
  "lookout-proxmox:Replication jobs": 1,
};
const SHORT_HISTORY = ["lookout-host", "lookout-self"];
const DOWN_POOL = "pve"; // the Proxmox VE module whose API port is closed
const TABLE_QUERY = "up";
const BAD_QUERY = "sum by (job) (rate(up[5m])) + * 2";

const { base: BASE, shots: SHOTS } = parseArgs("run.mjs");
if (!fs.existsSync(CHROMIUM)) die(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or set LOOKOUT_CHROMIUM`);

/** `expected_failures.txt`: check id → reason. */
function readExpected() {
  const file = path.join(HERE, "expected_failures.txt");
  const out = new Map();
  if (!fs.existsSync(file)) return out;
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) die(`expected_failures.txt: "${line}" has no reason (format: <check-id> <reason>)`);
    out.set(m[1], m[2]);
  }
  return out;
}

const expected = readExpected();
const results = []; // {id, ok, detail}
const seen = new Set();

function record(id, ok, detail = "") {
  if (seen.has(id)) throw new Error(`check id ${id} recorded twice`);
  seen.add(id);
  const xfail = expected.has(id);
  let verdict;
  if (ok && !xfail) verdict = "ok   ";
  else if (!ok && xfail) verdict = "xfail";
  else if (ok && xfail) verdict = "XPASS";
  else verdict = "FAIL ";
  results.push({ id, ok, xfail, verdict, detail });
  const extra = verdict === "xfail" ? ` (expected: ${expected.get(id)}) ${detail}` : verdict === "XPASS" ? " passes but is listed in expected_failures.txt: remove it there" : detail ? ` ${detail}` : "";
  console.log(`${verdict} ${id}${extra}`);
}

// ---- the browser and what it reports ----

const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "lookout-chromium-"));
let context;
try {
  context = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions"],
    viewport: DESKTOP,
    deviceScaleFactor: 1,
    colorScheme: "dark",
    timeout: 30_000,
  });
} catch (e) {
  fs.rmSync(userDir, { recursive: true, force: true });
  die(`cannot start ${CHROMIUM}: ${e.message}`);
}
context.setDefaultTimeout(WAIT_MS);

/** Problems seen by the page since the last `take()`: console errors, page errors, failed or refused requests. */
class Watch {
  constructor(page) {
    this.problems = [];
    this.allowed = []; // [{status, path}] answers a step expects
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const text = m.text();
      // Chromium logs every HTTP error answer to the console too; those are judged by the response handler.
      if (/^Failed to load resource: the server responded with a status of \d+/.test(text)) return;
      this.problems.push(`console error: ${text}`);
    });
    page.on("pageerror", (e) => this.problems.push(`uncaught exception: ${e.message}`));
    page.on("requestfailed", (r) => {
      const why = r.failure()?.errorText ?? "";
      // The app aborts its own requests when a route or query changes (AbortController): not a failure.
      if (why === "net::ERR_ABORTED") return;
      this.problems.push(`request failed: ${r.method()} ${r.url()} (${why})`);
    });
    page.on("response", (r) => {
      if (r.status() < 400) return;
      const u = new URL(r.url());
      if (this.allowed.some((a) => a.status === r.status() && u.pathname.endsWith(a.path))) return;
      this.problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
    });
  }
  take() {
    const p = this.problems;
    this.problems = [];
    return p;
  }
}

const foreign = [];
await context.route("**/*", (route) => {
  const u = new URL(route.request().url());
  if (u.origin === BASE.origin || u.protocol === "data:" || u.protocol === "blob:") return route.continue();
  foreign.push(route.request().url());
  return route.abort("blockedbyclient");
});

const page = context.pages()[0] ?? (await context.newPage());
const watch = new Watch(page);

/** Runs one check: its own problems (console, requests) fail it too. */
async function check(id, fn) {
  watch.take();
  const started = Date.now();
  let detail = "";
  let ok = true;
  try {
    detail = (await fn()) ?? "";
  } catch (e) {
    ok = false;
    detail = e.message.split("\n").slice(0, 6).join(" | ");
  }
  const problems = watch.take();
  watch.allowed = [];
  if (problems.length) {
    ok = false;
    detail = [detail, ...problems.slice(0, 10)].filter(Boolean).join(" | ");
  }
  record(id, ok, `${detail}${detail ? " " : ""}(${Date.now() - started} ms)`);
  return ok;
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Opens a route; `fresh` loads the app anew (a deep link) instead of a route change inside the loaded app. */
async function goto(route, fresh = false) {
  if (fresh) await page.goto("about:blank");
  await page.goto(new URL(`#${route}`, BASE).toString(), { waitUntil: "load" });
  await page.locator("main").waitFor();
}

/** Waits until no spinner is left in <main>. */
async function settled() {
  await page.waitForFunction(() => !document.querySelector("main .spinner"), null, { timeout: WAIT_MS });
}

async function noErrorBox() {
  const errs = await page.locator('main [data-testid="error"]').allTextContents();
  assert(errs.length === 0, `the page shows an error: ${errs.join(" / ")}`);
}

async function shot(name, opts = {}) {
  await page.screenshot({ path: path.join(SHOTS, name), ...opts });
}

async function apiJson(p) {
  const res = await fetch(new URL(p, BASE));
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// ---- checks ----

for (const [name, route, ready] of PAGES) {
  await check(`page:${name}`, async () => {
    await goto(route, true);
    await page.locator(ready).first().waitFor();
    await settled();
    await noErrorBox();
    await page.waitForTimeout(200); // late requests and exceptions of the page's first second
    await shot(`page-${name}.png`);
  });
}

// First paint of the query explorer on a fresh load (cold page, warm server), reported for BENCHMARKS.md: a goal
// (≤ 1 s on loopback) is measured, never asserted by a timed test.
await check("perf:first-paint", async () => {
  const paints = [];
  for (let i = 0; i < 5; i++) {
    await goto("/graph", true);
    await page.locator('[data-testid="editor"]').waitFor();
    // The paint timing entry is queued after the frame is presented, so it may come a moment after the editor is
    // in the DOM: wait for it (bounded), then read it.
    await page
      .waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length > 0, null, {
        timeout: WAIT_MS,
      })
      .catch(() => {});
    const fcp = await page.evaluate(
      () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1,
    );
    assert(fcp >= 0, "no first-contentful-paint entry");
    paints.push(fcp);
  }
  paints.sort((a, b) => a - b);
  return `query explorer first contentful paint: median ${paints[2].toFixed(0)} ms, max ${paints[4].toFixed(0)} ms over 5 fresh loads`;
});

await check("targets:health", async () => {
  await goto("/targets");
  await settled();
  const pools = await page.locator('[data-testid="scrape-pool"]').evaluateAll((cards) =>
    cards.map((c) => ({
      pool: c.querySelector("summary b")?.textContent ?? "",
      up: c.querySelectorAll('[data-testid="target"] .badge.up').length,
      down: c.querySelectorAll('[data-testid="target"] .badge.down').length,
      error: [...c.querySelectorAll('[data-testid="target"] td:last-child')].map((td) => td.textContent).join(" "),
    })),
  );
  const pool = (name) => pools.find((p) => p.pool === name) ?? assert(false, `no scrape pool ${name} among ${pools.map((p) => p.pool).join(", ")}`);
  for (const name of ["lookout", "node"]) {
    const p = pool(name);
    assert(p.up >= 1 && p.down === 0, `pool ${name}: ${p.up} up, ${p.down} down (${p.error})`);
  }
  const pve = pool(DOWN_POOL);
  assert(pve.down >= 1 && pve.error.trim() !== "", `pool ${DOWN_POOL} should be down with its error shown: ${JSON.stringify(pve)}`);
  return pools.map((p) => `${p.pool} ${p.up}↑${p.down}↓`).join(", ");
});

await check("rules:listed", async () => {
  await goto("/rules");
  await settled();
  const text = await page.locator('[data-testid="rule"]').allTextContents();
  assert(text.some((t) => t.includes(RECORDING_RULE)), `recording rule ${RECORDING_RULE} not listed`);
  assert(text.some((t) => t.includes(ALERT_NAME)), `alerting rule ${ALERT_NAME} not listed`);
});

await check("alerts:firing", async () => {
  await goto("/alerts");
  const rule = page.locator('[data-testid="alert-rule"][data-state="firing"]', { hasText: ALERT_NAME });
  await rule.waitFor();
  const instances = rule.locator('[data-testid="alert-instances"] tr', { hasText: "firing" });
  await instances.first().waitFor();
  assert((await instances.count()) >= 1, "the firing alert has no active instance row");
  await shot("alerts-firing.png");
});

// Query explorer: graph, table, a bad query.
await check("query:graph", async () => {
  await goto("/graph");
  const editor = page.locator('[data-testid="editor"]').first();
  await editor.fill(GRAPH_QUERY);
  await page.locator('[data-testid="tab-graph"]').first().click();
  const canvas = page.locator('[data-testid="graph"] canvas').first();
  await canvas.waitFor();
  const legend = await page.locator('[data-testid="legend-item"]').count();
  assert(legend >= 1, "the graph has no series in its legend");
  // Pixels of the first series' own colour on the canvas: a drawn line, not just axes and grid.
  const painted = await page.evaluate(seriesPixels);
  assert(painted.w > 200 && painted.h > 100, `the canvas is ${painted.w}×${painted.h}`);
  assert(painted.n >= 50, `only ${painted.n} pixels of the first series' colour on the canvas`);
  await noErrorBox();
  await page.mouse.move(0, 0);
  await shot("query-explorer.png");
  return `${legend} series, ${painted.n} series pixels`;
});

await check("query:table", async () => {
  await goto("/graph");
  await page.locator('[data-testid="editor"]').first().fill(TABLE_QUERY);
  await page.locator('[data-testid="tab-table"]').first().click();
  await page.locator('[data-testid="run"]').first().click();
  const rows = page.locator('[data-testid="table"] tr');
  await page.locator('[data-testid="table"]').waitFor();
  const texts = await rows.allTextContents();
  assert(texts.length >= 3, `the table has ${texts.length - 1} data rows, want ≥ 2`);
  for (const job of ["lookout", "node"]) assert(texts.some((t) => t.includes(`job="${job}"`)), `no row for job ${job}`);
  return `${texts.length - 1} rows`;
});

await check("query:bad-query", async () => {
  watch.allowed.push({ status: 400, path: "/api/v1/query" });
  await goto("/graph");
  await page.locator('[data-testid="editor"]').first().fill(BAD_QUERY);
  await page.locator('[data-testid="tab-table"]').first().click();
  await page.locator('[data-testid="run"]').first().click();
  const box = page.locator('[data-testid="error"]').first();
  await box.waitFor();
  const msg = (await box.textContent()) ?? "";
  assert(/parse|unexpected|error/i.test(msg), `the error box says "${msg}"`);
  const mark = page.locator('[data-testid="error-mark"]').first();
  await mark.waitFor({ state: "attached", timeout: 5_000 }).catch(() => {
    throw new Error(`the error "${msg}" is shown but no position is marked in the editor`);
  });
  const marked = (await mark.textContent()) ?? "";
  const at = /at char (\d+)|^(\d+):(\d+):/.exec(msg);
  assert(at, `the error names no position: "${msg}"`);
  const pos = at[1] !== undefined ? Number(at[1]) : Number(at[3]) - 1;
  assert(pos < BAD_QUERY.length && marked.trim() !== "" && BAD_QUERY.slice(pos).startsWith(marked), `"${marked}" is marked, the error points at "${BAD_QUERY.slice(pos)}"`);
  return `"${msg.slice(0, 80)}" marked at "${marked}"`;
});

// Logs explorer: lines with levels, then a live tail that receives a line pushed after it started.
await check("logs:lines", async () => {
  await goto(`/logs?query=${encodeURIComponent(LOG_SELECTOR)}&range=1h`);
  await page.locator('[data-testid="log-line"]').first().waitFor();
  const levels = new Set(await page.locator('[data-testid="log-line"]').evaluateAll((els) => els.map((e) => e.dataset.level)));
  for (const l of ["error", "warn", "info"]) assert(levels.has(l), `no line of level ${l} (levels: ${[...levels].join(",")})`);
  const lines = await page.locator('[data-testid="log-line"]').allTextContents();
  assert(lines.some((t) => t.includes(KNOWN_LINE)), `"${KNOWN_LINE}" is not shown`);
  await noErrorBox();
  await shot("logs-explorer.png");
  return `${lines.length} lines`;
});

/** Pushes one line to the stream {job="browser-check", level}, stamped `offsetMs` from now. */
async function pushLine(line, level, offsetMs) {
  const ns = `${Date.now() + offsetMs}000000`;
  const res = await fetch(new URL("loki/api/v1/push", BASE), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ streams: [{ stream: { job: "browser-check", level }, values: [[ns, line]] }] }),
  });
  assert(res.status === 204 || res.status === 200, `push answered HTTP ${res.status}: ${await res.text()}`);
}

let tailing = false;
await check("logs:tail", async () => {
  await goto(`/logs?query=${encodeURIComponent(LOG_SELECTOR)}&range=1h`);
  await page.locator('[data-testid="log-line"]').first().waitFor();
  const opened = page.waitForEvent("websocket", { timeout: WAIT_MS });
  await page.locator('[data-testid="tail-toggle"]').click();
  const ws = await opened;
  assert(ws.url().includes("/loki/api/v1/tail"), `the tail opened ${ws.url()}`);
  await page.waitForFunction(() => document.querySelector('[data-testid="tail-toggle"]')?.getAttribute("aria-pressed") === "true");
  // Stamped a second ahead: the server polls by timestamp, and a line stamped before its last poll is the next
  // check's subject, not this one's.
  const marker = `browser check: tailed line ${Date.now()}`;
  await pushLine(marker, "info", 1000);
  await page.locator('[data-testid="log-line"]', { hasText: marker }).first().waitFor({ timeout: 15_000 });
  assert((await page.locator('[data-testid="tail-closed"]').count()) === 0, "the tail closed");
  tailing = true;
});

// A line stamped a few seconds before it arrives, as batching clients (Promtail, Alloy: batch_wait) send them:
// Loki's live tail streams what the ingesters receive, whatever its timestamp.
await check("logs:tail-late-line", async () => {
  assert(tailing, "the live tail is not running (logs:tail failed)");
  await page.waitForTimeout(1500);
  const marker = `browser check: late line ${Date.now()}`;
  await pushLine(marker, "warn", -3000);
  try {
    await page.locator('[data-testid="log-line"]', { hasText: marker }).first().waitFor({ timeout: 8_000 });
  } finally {
    await page.locator('[data-testid="tail-toggle"]').click(); // stop
  }
});

const BAD_LOGQL = '{job="browser-check"} |= ';
await check("logs:bad-query", async () => {
  watch.allowed.push({ status: 400, path: "/loki/api/v1/query_range" });
  await goto("/logs");
  await page.locator('[data-testid="editor"]').first().fill(BAD_LOGQL);
  await page.locator('[data-testid="run"]').first().click();
  const box = page.locator('[data-testid="error"]').first();
  await box.waitFor();
  return `"${((await box.textContent()) ?? "").slice(0, 80)}"`;
});

// Loki words a parse error "parse error at line 1, col 25: …"; the editor marks that position.
await check("logs:bad-query-position", async () => {
  const msg = (await page.locator('[data-testid="error"]').first().textContent()) ?? "";
  const marks = await page.locator('[data-testid="error-mark"]').count();
  assert(marks === 1, `no position is marked for "${msg}"`);
});

// Dashboards: the list matches the API; every panel of every dashboard ends with data.
let dashboards = [];
await check("dashboards:list", async () => {
  const listed = await apiJson("api/lookout/v1/dashboards");
  dashboards = (Array.isArray(listed) ? listed : (listed.data ?? listed.dashboards ?? [])).map((d) => ({ uid: d.uid, title: d.title }));
  assert(dashboards.length >= 1, `the API lists no dashboards: ${JSON.stringify(listed).slice(0, 200)}`);
  await goto("/dashboards");
  await page.locator('[data-testid="dashboard-item"]').first().waitFor();
  const items = await page.locator('[data-testid="dashboard-item"] a[href^="#/d/"]').evaluateAll((as) => as.map((a) => decodeURIComponent(a.getAttribute("href").slice(4))));
  const want = dashboards.map((d) => d.uid).sort();
  assert(JSON.stringify(items.sort()) === JSON.stringify(want), `the page lists ${items.join(",")}, the API ${want.join(",")}`);
  return want.join(", ");
});

/** Expands collapsed rows, brings every panel on screen until it leaves "loading"; returns each panel's state. */
async function panelStates() {
  for (let i = 0; i < 50; i++) {
    const row = page.locator('[data-testid="row"][data-collapsed="true"]').first();
    if ((await row.count()) === 0) break;
    await row.click();
  }
  return page.evaluate(panelStatesInPage, 60_000);
}

for (const d of dashboards) {
  const short = d.uid.replace(/^lookout-/, "");
  let states = [];
  const loaded = await check(`dashboard:${d.uid}`, async () => {
    await goto(`/d/${encodeURIComponent(d.uid)}`);
    await page.locator('[data-testid="panel"]').first().waitFor();
    await noErrorBox();
    states = await panelStates();
    assert(states.length > 0, "no panels");
    const notOk = states.filter((s) => s.state !== "ok").length;
    return `${states.length} panels, ${notOk} not ok`;
  });
  // One check per panel that is not ok, so expected_failures.txt can name exactly one; likewise for a chart
  // with an unnamed series and for the tables whose rows the synthetic data fixes.
  const titles = new Map();
  for (const s of states) {
    const n = (titles.get(s.title) ?? 0) + 1;
    titles.set(s.title, n);
    const name = `${d.uid}:${s.title.replace(/\s+/g, "_")}${n > 1 ? `#${n}` : ""}`;
    const id = `panel:${name}`;
    if (s.state !== "ok" || expected.has(id)) record(id, s.state === "ok", s.state === "ok" ? "" : `[${s.type}] ${s.state}${s.error ? `: ${s.error.replace(/\s+/g, " ").slice(0, 300)}` : ""}`);
    const legend = `legend:${name}`;
    if (s.unnamed > 0 || expected.has(legend)) record(legend, s.unnamed === 0, s.unnamed ? `${s.unnamed} series without a name in the legend` : "");
    const want = TABLE_ROWS[`${d.uid}:${s.title}`];
    if (want !== undefined && s.type === "table") {
      record(`table:${name}`, s.rows === want && s.emptyCells === 0, `${s.rows} rows (want ${want}), ${s.emptyCells} empty cells`);
    }
  }
  if (loaded) {
    await check(`screenshot:${d.uid}`, async () => {
      // The host and self-monitoring series start with this run: their screenshots show the last 5 minutes.
      if (SHORT_HISTORY.includes(d.uid)) {
        await goto(`/d/${encodeURIComponent(d.uid)}?from=now-5m&to=now`);
        const firstDone = () => [...document.querySelectorAll('[data-testid="panel"]')].slice(0, 8).every((p) => p.dataset.panelState !== "loading");
        await page.waitForFunction(firstDone, null, { timeout: WAIT_MS });
      }
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.mouse.move(0, 0);
      await page.waitForTimeout(300);
      await shot(`dashboard-${short}.png`);
    });
  }
}

// Phone width: the query page loads cleanly, the menu opens and navigates.
await check("phone:query", async () => {
  await page.setViewportSize(PHONE);
  try {
    await goto("/graph");
    await page.locator('[data-testid="editor"]').first().waitFor();
    const burger = page.locator('[data-testid="nav-toggle"]');
    assert(await burger.isVisible(), "no menu button at phone width");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `the page is ${overflow}px wider than the screen`);
    await page.locator('[data-testid="editor"]').first().fill(TABLE_QUERY);
    await page.locator('[data-testid="run"]').first().click();
    await page.locator('[data-testid="table"]').waitFor();
    await shot("phone-query.png");
    await burger.click();
    const logs = page.locator('nav a[href="#/logs"]');
    await logs.waitFor({ state: "visible" });
    await logs.click();
    await page.waitForFunction(() => location.hash.startsWith("#/logs"));
    await page.locator('[data-testid="tail-toggle"]').waitFor({ state: "visible" });
    assert(!(await logs.isVisible()), "the menu stays open after navigating");
  } finally {
    await page.setViewportSize(DESKTOP);
  }
});

record("network:loopback-only", foreign.length === 0, foreign.length ? `requests to other origins: ${[...new Set(foreign)].slice(0, 5).join(", ")}` : "");

await context.close();
fs.rmSync(userDir, { recursive: true, force: true });

const bad = results.filter((r) => r.verdict === "FAIL " || r.verdict === "XPASS");
const xfails = results.filter((r) => r.verdict === "xfail").length;
const extra = [...expected.keys()].filter((id) => !seen.has(id));
for (const id of extra) console.log(`FAIL  ${id} is listed in expected_failures.txt but no such check ran`);
console.log(`\n${results.length} checks: ${results.length - bad.length - xfails} passed, ${xfails} failed as expected, ${bad.length} failed; screenshots in ${SHOTS}`);
if (bad.length || extra.length) {
  console.log(`failed: ${[...bad.map((r) => r.id), ...extra].join(", ")}`);
  process.exit(1);
}
