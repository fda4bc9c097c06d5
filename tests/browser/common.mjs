// What run.mjs (Chromium, playwright-core) and firefox.mjs (Firefox, puppeteer-core) share: the command line, the
// data contract with tests/tests/e2e/browser.rs, the pages of the app, and the checks that run inside the page
// (plain functions handed to `page.evaluate`, so they must not use anything from this module's scope).
import fs from "node:fs";
import path from "node:path";

export const DESKTOP = { width: 1280, height: 800 };
export const WAIT_MS = 20_000;

export const ALERT_NAME = "BrowserCheckAlwaysFiring";
export const RECORDING_RULE = "browser_check:up:sum";
export const LOG_SELECTOR = '{job="browser-check"}';
export const KNOWN_LINE = "browser check: payment failed";
export const GRAPH_QUERY = 'sum by (namespace) (rate(container_cpu_usage_seconds_total{job="kubelet", container!=""}[5m]))';

/** Every page of the app: check name, route, an element that shows the page has its data. */
export const PAGES = [
  ["query", "/graph", '[data-testid="editor"]'],
  ["logs", "/logs", '[data-testid="editor"]'],
  ["targets", "/targets", '[data-testid="scrape-pool"]'],
  ["service-discovery", "/service-discovery", '[data-testid="sd-pool"]'],
  ["rules", "/rules", '[data-testid="rule-group"]'],
  ["alerts", "/alerts", '[data-testid="alert-rule"]'],
  ["tsdb-status", "/tsdb-status", '[data-testid="tsdb-table"]'],
  ["status", "/status", '[data-testid="memory-budget"]'],
  ["flags", "/flags", "main table"],
  ["config", "/config", '[data-testid="config-yaml"]'],
  ["dashboards", "/dashboards", '[data-testid="dashboard-item"]'],
];

/** Prints `<who>: <msg>` and exits with status 2 (a usage or setup problem, not a failed check). */
export function die(msg, who = "browser checks") {
  console.error(`${who}: ${msg}`);
  process.exit(2);
}

/** `<base-url> <screenshot-dir>` from the command line: the base URL on loopback, the directory created. */
export function parseArgs(script, who) {
  const [baseArg, shotArg] = process.argv.slice(2);
  if (!baseArg || !shotArg) die(`usage: node ${script} <base-url> <screenshot-dir>`, who);
  const base = new URL(baseArg.endsWith("/") ? baseArg : `${baseArg}/`);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(base.hostname)) die(`the base URL must be on loopback, not ${base.hostname}`, who);
  const shots = path.resolve(shotArg);
  fs.mkdirSync(shots, { recursive: true });
  return { base, shots };
}

/** In the page: the query explorer's canvas size and how many of its pixels have the first series' own colour
 * (a drawn line, not just axes and grid). */
export function seriesPixels() {
  const c = document.querySelector('[data-testid="graph"] canvas');
  const sw = document.querySelector('[data-testid="legend-item"] .swatch');
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(getComputedStyle(sw).backgroundColor);
  const [r, g, b] = m.slice(1).map(Number);
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.abs(d[i] - r) < 24 && Math.abs(d[i + 1] - g) < 24 && Math.abs(d[i + 2] - b) < 24) n++;
  return { n, w: c.width, h: c.height };
}

/** In the page: brings every dashboard panel on screen until it leaves "loading" (within `timeout` ms in all) and
 * returns each panel's state. Collapsed rows must be expanded first. */
export async function panelStatesInPage(timeout) {
  const deadline = Date.now() + timeout;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const panels = [...document.querySelectorAll('[data-testid="panel"]')];
  for (const p of panels) {
    p.scrollIntoView({ block: "center" });
    while (p.dataset.panelState === "loading" && Date.now() < deadline) await sleep(40);
  }
  window.scrollTo(0, 0);
  return panels.map((p) => ({
    title: p.querySelector(".ptitle .t")?.textContent ?? "",
    type: p.dataset.panelType ?? "",
    state: p.dataset.panelState ?? "",
    unnamed: [...p.querySelectorAll('[data-testid="legend-item"]')].filter((i) => !i.textContent.trim()).length,
    rows: p.querySelectorAll('[data-testid="table"] tr').length - 1,
    emptyCells: [...p.querySelectorAll('[data-testid="table"] td')].filter((td) => ["", "No data"].includes(td.textContent.trim())).length,
    error: p.querySelector('[data-testid="panel-error"]')?.title || p.querySelector(".perr-text")?.textContent || p.querySelector(".unsupported")?.textContent || "",
  }));
}
