import { test } from "node:test";
import assert from "node:assert/strict";
import { interpolate, referencedVars, type Vars } from "../src/lib/interpolate";

const vars: Vars = new Map([
  ["job", { value: "node" }],
  ["inst", { value: ["a.b:9100", "c:9100"], multi: true }],
  ["one", { value: ["x.y"], multi: true }],
  ["all", { value: "$__all", isAll: true, includeAll: true, options: ["p", "q"] }],
  ["allcustom", { value: "$__all", isAll: true, includeAll: true, allValue: ".*", options: ["p"] }],
  ["quote", { value: "it's\\here" }],
  ["__rate_interval", { value: "1m", raw: true }],
  ["__interval", { value: "15s", raw: true }],
  ["__interval_ms", { value: "15000", raw: true }],
]);

test("the three reference syntaxes", () => {
  assert.equal(interpolate('up{job="$job"}', vars, "prometheus"), 'up{job="node"}');
  assert.equal(interpolate('up{job="${job}"}', vars, "prometheus"), 'up{job="node"}');
  assert.equal(interpolate('up{job="[[job]]"}', vars, "prometheus"), 'up{job="node"}');
});

test("multi-value variables become an escaped regex alternation for Prometheus", () => {
  assert.equal(interpolate('up{instance=~"$inst"}', vars, "prometheus"), 'up{instance=~"(a\\\\.b:9100|c:9100)"}');
  assert.equal(interpolate("$one", vars, "prometheus"), "x\\\\.y");
});

test("Loki joins multi values without parentheses", () => {
  assert.equal(interpolate("$inst", vars, "loki"), "a\\\\.b:9100|c:9100");
});

test("All expands to every option, or to the custom all value unescaped", () => {
  assert.equal(interpolate('{x=~"$all"}', vars, "prometheus"), '{x=~"(p|q)"}');
  assert.equal(interpolate('{x=~"$allcustom"}', vars, "prometheus"), '{x=~".*"}');
});

test("single values get Grafana's regular escaping", () => {
  assert.equal(interpolate("$quote", vars, "prometheus"), "it\\\\'s\\\\here");
});

test("built-ins are raw and longest names win", () => {
  assert.equal(interpolate("rate(x[$__rate_interval])", vars, "prometheus"), "rate(x[1m])");
  assert.equal(interpolate("$__interval_ms/$__interval", vars, "prometheus"), "15000/15s");
});

test("explicit formats", () => {
  assert.equal(interpolate("${inst:csv}", vars), "a.b:9100,c:9100");
  assert.equal(interpolate("${inst:pipe}", vars), "a.b:9100|c:9100");
  assert.equal(interpolate("${inst:regex}", vars), "(a\\.b:9100|c:9100)");
  assert.equal(interpolate("${inst:json}", vars), '["a.b:9100","c:9100"]');
  assert.equal(interpolate("${job:queryparam}", vars), "var-job=node");
  assert.equal(interpolate("${inst:glob}", vars), "{a.b:9100,c:9100}");
  assert.equal(interpolate("${job:raw}", vars), "node");
});

test("unknown variables stay as written", () => {
  assert.equal(interpolate("$nope and ${nope}", vars, "prometheus"), "$nope and ${nope}");
});

test("referenced variables", () => {
  assert.deepEqual([...referencedVars('x{a="$a",b="${b:csv}"} [[c]]')].sort(), ["a", "b", "c"]);
});

test("titles show text: values joined with +, All, unknown names untouched", () => {
  assert.equal(interpolate("Up ($inst) $nope", vars, "text", "text"), "Up (a.b:9100 + c:9100) $nope");
  assert.equal(interpolate("$all", vars, "text", "text"), "All");
  assert.equal(interpolate("$__interval", vars, "text", "text"), "15s");
});
