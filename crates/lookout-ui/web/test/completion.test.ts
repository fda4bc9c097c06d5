import { test } from "node:test";
import assert from "node:assert/strict";
import { completionContext as ctx } from "../src/lib/completion";
import { errorPosition } from "../src/lib/errpos";

const at = (s: string) => ctx(s.replace("|", ""), s.indexOf("|"));

test("metric names and functions at top level", () => {
  assert.deepEqual(at("rat|"), { kind: "metric", prefix: "rat", from: 0 });
  assert.deepEqual(at("sum(rate(http_|"), { kind: "metric", prefix: "http_", from: 9 });
  assert.deepEqual(at("|"), { kind: "metric", prefix: "", from: 0 });
});

test("label names inside braces know the metric and the labels already used", () => {
  assert.deepEqual(at("up{|"), { kind: "labelName", metric: "up", used: [], prefix: "", from: 3 });
  assert.deepEqual(at('up{job="x", inst|'), { kind: "labelName", metric: "up", used: ["job"], prefix: "inst", from: 12 });
  assert.deepEqual(at("{|}"), { kind: "labelName", metric: "", used: [], prefix: "", from: 1 });
});

test("label values inside the quotes after a matcher", () => {
  assert.deepEqual(at('up{job="no|'), { kind: "labelValue", metric: "up", label: "job", prefix: "no", from: 8, quote: '"' });
  assert.deepEqual(at('rate(x{a!~"1", b=~"|"}[5m])'), { kind: "labelValue", metric: "x", label: "b", prefix: "", from: 19, quote: '"' });
  assert.deepEqual(at('up{job="a\\"b|'), { kind: "labelValue", metric: "up", label: "job", prefix: 'a\\"b', from: 8, quote: '"' });
});

test("grouping clauses complete label names", () => {
  assert.deepEqual(at("sum by (|"), { kind: "groupingLabel", prefix: "", from: 8 });
  assert.deepEqual(at("sum(x) without(jo|"), { kind: "groupingLabel", prefix: "jo", from: 15 });
  assert.deepEqual(at("a / on(x) group_left(|"), { kind: "groupingLabel", prefix: "", from: 21 });
});

test("durations, strings and numbers offer no names", () => {
  assert.equal(at("rate(x[5|").kind, "duration");
  assert.equal(at('label_replace(x, "d|').kind, "none");
  assert.equal(at("x > 5e|").kind, "none");
  assert.equal(at("# comment |").kind, "none");
  assert.equal(at("rate(x[5m]) + |").kind, "metric");
});

test("LogQL selectors use the same contexts", () => {
  assert.deepEqual(at('{app="a", |'), { kind: "labelName", metric: "", used: ["app"], prefix: "", from: 10 });
  const q = '{app="a"} |= "err';
  assert.equal(ctx(q, q.length).kind, "none");
});

test("parse error positions", () => {
  assert.equal(errorPosition("1:5: parse error: unexpected", "sum(x[5m+1m])"), 4);
  assert.equal(errorPosition("parse error at char 8: unexpected +", "sum(x[5m+1m])"), 8);
  assert.equal(errorPosition("2:3: parse error: x", "up\n+ *"), 5);
  assert.equal(errorPosition("parse error at char 5: x", "é{a}bc"), 4);
  assert.equal(errorPosition("no position here", "up"), null);
});

test("Loki parse error positions", () => {
  assert.equal(errorPosition("parse error at line 1, col 6: syntax error: unexpected IDENTIFIER", '{a="b"} x'), 5);
});
