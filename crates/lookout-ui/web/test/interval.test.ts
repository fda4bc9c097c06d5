import { test } from "node:test";
import assert from "node:assert/strict";
import { formatInterval, grafanaInterval, promAutoStep, rateInterval, roundInterval, histogramStep } from "../src/lib/interval";
import { parseDuration, formatDuration, parseTime } from "../src/lib/time";

test("Prometheus UI automatic step", () => {
  assert.equal(promAutoStep(3600), 14);
  assert.equal(promAutoStep(60), 1);
});

test("Grafana interval rounding and minimum", () => {
  assert.equal(roundInterval(13_000), 15_000);
  assert.equal(roundInterval(50_000), 60_000);
  // 6 h over 1000 px = 21.6 s → 20 s
  assert.equal(grafanaInterval(6 * 3600_000, 1000), 20_000);
  // 5 m over 1000 px is below the 15 s minimum
  assert.equal(grafanaInterval(5 * 60_000, 1000), 15_000);
  // 30 days over 100 points: never more than 11,000 points either way
  assert.ok(30 * 86400_000 / grafanaInterval(30 * 86400_000, 100_000, 1) <= 11000);
});

test("rate interval is at least four scrape intervals", () => {
  assert.equal(rateInterval(15_000, 15_000), 60_000);
  assert.equal(rateInterval(120_000, 15_000), 135_000);
});

test("interval text", () => {
  assert.equal(formatInterval(15_000), "15s");
  assert.equal(formatInterval(90_000), "1m");
  assert.equal(formatInterval(500), "500ms");
  assert.equal(formatInterval(2 * 86400_000), "2d");
});

test("histogram step stays readable", () => {
  assert.equal(histogramStep(3600_000), 30_000);
  assert.equal(histogramStep(10_000), 1000);
});

test("durations", () => {
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("15"), 15_000);
  assert.equal(parseDuration("1x"), null);
  assert.equal(parseDuration("5m3"), null);
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(7 * 86400_000), "1w");
});

test("relative times", () => {
  const now = Date.UTC(2024, 0, 10, 12, 30, 0);
  assert.equal(parseTime("now", now), now);
  assert.equal(parseTime("now-6h", now), now - 6 * 3600_000);
  assert.equal(parseTime("now-5m", now), now - 300_000);
  assert.equal(parseTime("1704844800000", now), 1704844800000);
  assert.equal(parseTime("1704844800", now), 1704844800000);
  assert.equal(parseTime("now-1h/h", now), Date.UTC(2024, 0, 10, 11, 0, 0));
  assert.equal(parseTime("bogus", now), null);
});

import { builtins } from "../src/pages/dashboards/query";

test("dashboard built-ins", () => {
  const b = builtins({ from: 0, to: 3600_000, vars: new Map(), defs: [], width: 1000 }, 15_000, 15_000);
  assert.equal(b.get("__interval")?.value, "15s");
  assert.equal(b.get("__interval_ms")?.value, "15000");
  assert.equal(b.get("__rate_interval")?.value, "1m");
  assert.equal(b.get("__range")?.value, "3600s");
  assert.equal(b.get("__range_s")?.value, "3600");
});
