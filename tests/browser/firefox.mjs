// Browser end-to-end checks of Lookout's built-in web UI in Firefox: a smaller pass than run.mjs (Chromium), driven
// through Debian's firefox-esr with puppeteer-core over WebDriver BiDi (Playwright cannot drive a stock Firefox).
//
//   node tests/browser/firefox.mjs <base-url> <screenshot-dir>
//
// Runs against the same server and data as run.mjs (`tests/tests/e2e/browser.rs`, the contract named at the top of
// run.mjs). Checks, each printed as it ends (`ok   ` or `FAIL `): `page:<name>` every page of the app loads with its
// data; `query:graph` the query explorer runs a query and its canvas draws the series (saved as
// firefox-query-explorer.png); `dashboard:lookout-host` every panel of the host dashboard ends "ok"; `logs:lines` the
// logs explorer shows lines of every level; `network:loopback-only` nothing left the machine. A console error, an
// uncaught exception, a failed request or an HTTP error answer during a check fails it. A failed check also saves
// `firefox-failed-<check>.png`. Exit status 0 only when every check passed, 1 when one failed, 2 on a setup problem.
//
// Firefox only ever talks to 127.0.0.1: its preferences below turn off the background services (telemetry, updates,
// safe browsing, captive portal and connectivity checks, remote settings, Normandy and studies, push, region and
// geolocation lookups, DoH, prefetching); MOZ_DISABLE_NONLOCAL_CONNECTIONS makes it refuse any non-local connection
// (it is also what lets the remote settings server be pointed at nothing); and every non-loopback request is sent to
// a proxy on loopback here that records and refuses it, so a leak fails `network:loopback-only` instead of going out.
import puppeteer from "puppeteer-core";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { DESKTOP, WAIT_MS, LOG_SELECTOR, KNOWN_LINE, GRAPH_QUERY, PAGES, die, parseArgs, seriesPixels, panelStatesInPage } from "./common.mjs";

const WHO = "firefox checks";
const FIREFOX = process.env.LOOKOUT_FIREFOX || "/usr/bin/firefox-esr";
const RUN_LIMIT_MS = 75_000; // the whole run, Firefox's start included; then Firefox is killed
const DASHBOARD = "lookout-host";

const { base: BASE, shots: SHOTS } = parseArgs("firefox.mjs", WHO);
if (!fs.existsSync(FIREFOX)) die(`${FIREFOX} is missing: install Debian's firefox-esr (apt-get install firefox-esr) or set LOOKOUT_FIREFOX`, WHO);

// ---- the proxy that catches whatever would leave the machine ----

const foreign = [];
const trap = http.createServer((req, res) => {
  foreign.push(`${req.method} ${req.url}`);
  res.writeHead(403, { "content-type": "text/plain" });
  res.end("the browser checks allow loopback only\n");
});
trap.on("connect", (req, socket) => {
  foreign.push(`CONNECT ${req.url}`);
  socket.destroy();
});
await new Promise((resolve, reject) => {
  trap.once("error", reject);
  trap.listen(0, "127.0.0.1", resolve);
});
const trapPort = trap.address().port;

/** Preferences that keep Firefox off the network and render like run.mjs's Chromium (dark, 1 px per CSS px). */
const PREFS = {
  // Every request but loopback goes to the trap (Firefox never proxies loopback unless told to).
  "network.proxy.type": 1,
  "network.proxy.http": "127.0.0.1",
  "network.proxy.http_port": trapPort,
  "network.proxy.ssl": "127.0.0.1",
  "network.proxy.ssl_port": trapPort,
  "network.proxy.allow_hijacking_localhost": false,
  "network.trr.mode": 5,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  "network.predictor.enabled": false,
  "network.http.speculative-parallel-limit": 0,
  "browser.urlbar.speculativeConnect.enabled": false,
  "browser.places.speculativeConnect.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "security.OCSP.enabled": 0,
  "security.remote_settings.crlite_filters.enabled": false,
  "security.remote_settings.intermediates.enabled": false,
  "services.settings.server": "data:,#remote-settings-dummy/v1",
  "toolkit.telemetry.enabled": false,
  "toolkit.telemetry.unified": false,
  "toolkit.telemetry.archive.enabled": false,
  "toolkit.telemetry.server": "",
  "datareporting.healthreport.uploadEnabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "datareporting.usage.uploadEnabled": false,
  "app.update.disabledForTesting": true,
  "app.update.auto": false,
  "extensions.update.enabled": false,
  "extensions.systemAddon.update.enabled": false,
  "extensions.getAddons.cache.enabled": false,
  "extensions.blocklist.enabled": false,
  "media.gmp-manager.updateEnabled": false,
  "browser.search.update": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "browser.safebrowsing.downloads.enabled": false,
  "browser.safebrowsing.downloads.remote.enabled": false,
  "browser.safebrowsing.blockedURIs.enabled": false,
  "app.normandy.enabled": false,
  "app.normandy.api_url": "",
  "app.shield.optoutstudies.enabled": false,
  "messaging-system.rsexperimentloader.enabled": false,
  "dom.push.enabled": false,
  "dom.push.connection.enabled": false,
  "browser.region.network.url": "",
  "browser.region.update.enabled": false,
  "geo.enabled": false,
  "geo.provider.network.url": "",
  "identity.fxaccounts.enabled": false,
  "browser.newtabpage.enabled": false,
  "browser.topsites.contile.enabled": false,
  "browser.translations.enable": false,
  "browser.ml.enable": false,
  "browser.discovery.enabled": false,
  "browser.startup.page": 0,
  "browser.startup.homepage": "about:blank",
  // Rendering as run.mjs's Chromium: the dark scheme, one device pixel per CSS pixel.
  "layout.css.prefers-color-scheme.content-override": 0,
  "layout.css.devPixelsPerPx": "1.0",
};

// ---- the browser, bounded ----

// Our own profile directory (puppeteer writes the preferences into it), removed however the run ends.
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "lookout-firefox-"));
const removeProfile = () => fs.rmSync(profile, { recursive: true, force: true });
let browser;
function killFirefox() {
  const pid = browser?.process()?.pid;
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL"); // Firefox leads its own process group (content processes included)
  } catch {
    browser.process().kill("SIGKILL");
  }
}
const watchdog = setTimeout(() => {
  console.log(`FAIL  run: no result after ${RUN_LIMIT_MS} ms; Firefox killed`);
  killFirefox();
  removeProfile();
  process.exit(1);
}, RUN_LIMIT_MS);

const launched = Date.now();
try {
  browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    userDataDir: profile,
    headless: true,
    env: { ...process.env, MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1", MOZ_CRASHREPORTER_DISABLE: "1" },
    extraPrefsFirefox: PREFS,
    defaultViewport: DESKTOP,
    timeout: 30_000,
    protocolTimeout: 30_000,
  });
} catch (e) {
  removeProfile();
  die(`cannot start ${FIREFOX}: ${e.message.split("\n")[0]}`, WHO);
}
const version = await browser.version();
const page = (await browser.pages())[0] ?? (await browser.newPage());
page.setDefaultTimeout(WAIT_MS);
page.setDefaultNavigationTimeout(WAIT_MS);
await page.setViewport(DESKTOP); // the first tab has Firefox's own window size, not the default viewport
console.log(`${version} started in ${Date.now() - launched} ms (${Math.round(process.uptime() * 1000)} ms after node)`);

/** Problems the page reported during the current check: console errors, page errors, failed requests, HTTP errors. */
let problems = [];
page.on("console", (m) => {
  if (m.type() === "error") problems.push(`console error: ${m.text()}`);
});
page.on("pageerror", (e) => problems.push(`uncaught exception: ${e?.message ?? e}`));
page.on("requestfailed", (r) => {
  const why = r.failure()?.errorText ?? "";
  // The app aborts its own requests when a route or query changes (AbortController): not a failure.
  if (why === "NS_BINDING_ABORTED") return;
  problems.push(`request failed: ${r.method()} ${r.url()} (${why})`);
});
page.on("response", (r) => {
  if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
});

const results = [];

function record(id, ok, detail) {
  results.push({ id, ok });
  console.log(`${ok ? "ok   " : "FAIL "} ${id}${detail ? ` ${detail}` : ""}`);
}

/** Runs one check: its own problems (console, requests) fail it too; a failed check leaves a screenshot. */
async function check(id, fn) {
  problems = [];
  const started = Date.now();
  let detail = "";
  let ok = true;
  try {
    detail = (await fn()) ?? "";
  } catch (e) {
    ok = false;
    detail = e.message.split("\n").slice(0, 6).join(" | ");
  }
  const seen = problems;
  problems = [];
  if (seen.length) {
    ok = false;
    detail = [detail, ...seen.slice(0, 10)].filter(Boolean).join(" | ");
  }
  if (!ok) await shot(`firefox-failed-${id.replace(/[^\w-]+/g, "_")}.png`).catch(() => {});
  record(id, ok, `${detail}${detail ? " " : ""}(${Date.now() - started} ms)`);
  return ok;
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Loads the app afresh at a route (a deep link) and waits for its <main>. */
async function goto(route) {
  await page.goto("about:blank");
  await page.goto(new URL(`#${route}`, BASE).toString(), { waitUntil: "load" });
  await page.waitForSelector("main");
}

/** Waits until no spinner is left in <main>. */
async function settled() {
  await page.waitForFunction(() => !document.querySelector("main .spinner"), { timeout: WAIT_MS, polling: 50 });
}

async function noErrorBox() {
  const errs = await page.$$eval('main [data-testid="error"]', (els) => els.map((e) => e.textContent));
  assert(errs.length === 0, `the page shows an error: ${errs.join(" / ")}`);
}

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, name) });
}

/** Types a query as a paste would: the whole text at once, then the `input` event the editor listens to. */
async function fill(selector, text) {
  await page.waitForSelector(selector);
  await page.$eval(
    selector,
    (el, value) => {
      el.focus();
      el.value = value;
      el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste", data: value }));
    },
    text,
  );
}

// ---- checks ----

for (const [name, route, ready] of PAGES) {
  await check(`page:${name}`, async () => {
    await goto(route);
    await page.waitForSelector(ready);
    await settled();
    await noErrorBox();
    await sleep(200); // late requests and exceptions of the page's first second
  });
}

await check("query:graph", async () => {
  await goto("/graph");
  await fill('[data-testid="editor"]', GRAPH_QUERY);
  await page.locator('[data-testid="tab-graph"]').click();
  await page.waitForSelector('[data-testid="graph"] canvas');
  await page.waitForSelector('[data-testid="legend-item"]');
  const legend = (await page.$$('[data-testid="legend-item"]')).length;
  // The canvas draws on the next frames: look for the series' colour a few times, within 5 s.
  let painted = { n: 0, w: 0, h: 0 };
  for (const until = Date.now() + 5_000; Date.now() < until; await sleep(100)) {
    painted = await page.evaluate(seriesPixels);
    if (painted.n >= 50) break;
  }
  assert(painted.w > 200 && painted.h > 100, `the canvas is ${painted.w}×${painted.h}`);
  assert(painted.n >= 50, `only ${painted.n} pixels of the first series' colour on the canvas`);
  await noErrorBox();
  await page.mouse.move(0, 0);
  await shot("firefox-query-explorer.png");
  return `${legend} series, ${painted.n} series pixels`;
});

await check(`dashboard:${DASHBOARD}`, async () => {
  await goto(`/d/${DASHBOARD}`);
  await page.waitForSelector('[data-testid="panel"]');
  await noErrorBox();
  for (let i = 0; i < 50; i++) {
    const row = await page.$('[data-testid="row"][data-collapsed="true"]');
    if (!row) break;
    await row.click();
  }
  const states = await page.evaluate(panelStatesInPage, 30_000);
  assert(states.length > 0, "no panels");
  const notOk = states.filter((s) => s.state !== "ok");
  const list = notOk.map((s) => `${s.title} [${s.type}] ${s.state}${s.error ? `: ${s.error.replace(/\s+/g, " ").slice(0, 200)}` : ""}`);
  assert(notOk.length === 0, `${notOk.length} of ${states.length} panels not ok: ${list.join("; ")}`);
  return `${states.length} panels ok`;
});

await check("logs:lines", async () => {
  await goto(`/logs?query=${encodeURIComponent(LOG_SELECTOR)}&range=1h`);
  await page.waitForSelector('[data-testid="log-line"]');
  const lines = await page.$$eval('[data-testid="log-line"]', (els) => els.map((e) => ({ level: e.dataset.level, text: e.textContent })));
  const levels = new Set(lines.map((l) => l.level));
  for (const l of ["error", "warn", "info"]) assert(levels.has(l), `no line of level ${l} (levels: ${[...levels].join(",")})`);
  assert(lines.some((l) => l.text.includes(KNOWN_LINE)), `"${KNOWN_LINE}" is not shown`);
  await noErrorBox();
  return `${lines.length} lines`;
});

record("network:loopback-only", foreign.length === 0, foreign.length ? `requests that would have left the machine: ${[...new Set(foreign)].slice(0, 5).join(", ")}` : "");

const closeStarted = Date.now();
let closeTimer;
const closeTimeout = new Promise((resolve) => (closeTimer = setTimeout(() => resolve(false), 10_000)));
const closed = await Promise.race([browser.close().then(() => true, () => true), closeTimeout]);
clearTimeout(closeTimer);
if (closed) console.log(`Firefox closed in ${Date.now() - closeStarted} ms`);
else {
  console.log("Firefox did not close within 10 s: killed");
  killFirefox();
}
clearTimeout(watchdog);
trap.close();
removeProfile();

const failed = results.filter((r) => !r.ok).map((r) => r.id);
console.log(`\n${results.length} Firefox checks in ${process.uptime().toFixed(1)} s: ${results.length - failed.length} passed, ${failed.length} failed; screenshots in ${SHOTS}`);
if (failed.length) {
  console.log(`failed: ${failed.join(", ")}`);
  process.exit(1);
}
