import { test } from "node:test";
import assert from "node:assert/strict";
import { flattenStreams, isLogQuery, levelOf, normalizeLevel, streamSelector, volumeQuery } from "../src/pages/logs/model";

test("levels from labels and metadata", () => {
  assert.equal(normalizeLevel("ERR"), "error");
  assert.equal(normalizeLevel("warning"), "warn");
  assert.equal(normalizeLevel("notice"), "info");
  assert.equal(normalizeLevel("x"), "unknown");
  assert.equal(levelOf({ app: "a" }, { detected_level: "debug" }), "debug");
  assert.equal(levelOf({ level: "fatal" }), "error");
});

test("streams flatten newest first with metadata", () => {
  const lines = flattenStreams([
    { stream: { app: "a" }, values: [["1700000000000000001", "one"], ["1700000000000000003", "three", { structuredMetadata: { detected_level: "warn" } }]] },
    { stream: { app: "b" }, values: [["1700000000000000002", "two"]] },
  ]);
  assert.deepEqual(lines.map((l) => l.line), ["three", "two", "one"]);
  assert.equal(lines[0].level, "warn");
  assert.equal(lines[0].ms, 1700000000000);
  assert.deepEqual(lines[1].labels, { app: "b" });
});

test("selectors and query kinds", () => {
  assert.equal(streamSelector('{app="a}b", x=~"y"} |= "}"'), '{app="a}b", x=~"y"}');
  assert.equal(streamSelector("rate({a=\"b\"}[5m])"), '{a="b"}');
  assert.equal(streamSelector("nothing"), null);
  assert.ok(isLogQuery(' {a="b"} | json'));
  assert.ok(!isLogQuery('sum(rate({a="b"}[1m]))'));
  assert.equal(volumeQuery('{a="b"} |= "x"', 60), 'sum by (detected_level) (count_over_time({a="b"} |= "x" [60s]))');
});

import { levelFromLine } from "../src/pages/logs/model";

test("levels from the line itself", () => {
  assert.equal(levelFromLine("ts=1 level=warn msg=x"), "warn");
  assert.equal(levelFromLine('{"level":"error","msg":"x"}'), "error");
  assert.equal(levelFromLine("2024-01-01 INFO starting"), "info");
  assert.equal(levelFromLine("nothing here"), "unknown");
  assert.equal(flattenStreams([{ stream: {}, values: [["1", "DEBUG x"]] }])[0].level, "debug");
});
