import { test } from "node:test";
import assert from "node:assert/strict";
import { renderMarkdown as md, safeUrl } from "../src/lib/markdown";
import { renderLegend, formatSeries } from "../src/lib/labels";

test("headings, paragraphs and emphasis", () => {
  assert.equal(md("# Title\n\nsome **bold** and *em* text"), "<h1>Title</h1>\n<p>some <strong>bold</strong> and <em>em</em> text</p>");
});

test("HTML is escaped, never rendered", () => {
  const out = md('<script>alert(1)</script> <img src=x onerror="y">');
  assert.doesNotMatch(out, /<script|<img/);
  assert.match(out, /&lt;script&gt;/);
});

test("links are kept only with safe targets", () => {
  assert.equal(md("[docs](https://example.com/a_b_c)"), '<p><a href="https://example.com/a_b_c" rel="noopener noreferrer">docs</a></p>');
  assert.equal(md("[x](javascript:alert(1))"), "<p>x)</p>");
  assert.equal(safeUrl("JaVaScRiPt:alert(1)"), null);
  assert.equal(safeUrl("/d/abc"), "/d/abc");
});

test("code is not formatted", () => {
  assert.equal(md("`a*b*c`"), "<p><code>a*b*c</code></p>");
  assert.equal(md("```\n<b>x</b>\n```"), "<pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>");
});

test("lists", () => {
  assert.equal(md("- a\n- b\n\n1. c"), "<ul><li>a</li><li>b</li></ul>\n<ol><li>c</li></ol>");
});

test("legend formats and series names", () => {
  assert.equal(renderLegend("{{job}} on {{ instance }}", { job: "node", instance: "h:1" }), "node on h:1");
  assert.equal(formatSeries({ __name__: "up", job: "a" }), 'up{job="a"}');
  assert.equal(formatSeries({ __name__: "up" }), "up");
  assert.equal(formatSeries({ b: '"' }), '{b="\\""}');
});

import { parseExposition } from "../src/pages/status/exposition";

test("exposition text", () => {
  const s = parseExposition('# HELP x y\nlookout_memory_used_bytes{component="head",a="q\\"x"} 1024\nup 1 1700000000000\nbad line\n');
  assert.deepEqual(s, [
    { name: "lookout_memory_used_bytes", labels: { component: "head", a: 'q"x' }, value: 1024 },
    { name: "up", labels: {}, value: 1 },
  ]);
});
