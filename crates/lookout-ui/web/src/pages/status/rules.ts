// Rules: every rule group (file, interval, last evaluation and its duration) with its rules, their health, last
// error and evaluation time.
import { h, notice } from "../../lib/dom";
import { promGet } from "../../lib/api";
import { href } from "../../lib/router";
import type { LabelSet } from "../../lib/labels";
import { ago, healthBadge, labelBadges, loadInto, seconds } from "./common";

export interface AlertInstance {
  labels: LabelSet;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

export interface RuleInfo {
  type: "alerting" | "recording";
  state?: string;
  name: string;
  query: string;
  duration?: number;
  keepFiringFor?: number;
  labels?: LabelSet;
  annotations?: Record<string, string>;
  alerts?: AlertInstance[] | null;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
}

export interface RuleGroup {
  name: string;
  file: string;
  rules: RuleInfo[];
  interval: number;
  limit?: number;
  evaluationTime: number;
  lastEvaluation: string;
}

/** A link to the query explorer for an expression. */
export function exprLink(expr: string): HTMLElement {
  return h("a", { class: "mono", href: href("/graph", { "g0.expr": expr, "g0.tab": "table" }), title: "Open in the query explorer" }, expr);
}

function ruleText(r: RuleInfo): HTMLElement {
  const lines: Array<HTMLElement | string> = [];
  const kv = (k: string, v: HTMLElement | string) => h("div", null, h("span", { class: "muted" }, `${k}: `), v);
  lines.push(kv(r.type === "alerting" ? "alert" : "record", h("b", null, r.name)));
  lines.push(kv("expr", exprLink(r.query)));
  if (r.type === "alerting" && r.duration) lines.push(kv("for", seconds(r.duration)));
  if (r.keepFiringFor) lines.push(kv("keep_firing_for", seconds(r.keepFiringFor)));
  if (r.labels && Object.keys(r.labels).length) lines.push(kv("labels", h("span", null, labelBadges(r.labels))));
  if (r.annotations && Object.keys(r.annotations).length) {
    lines.push(kv("annotations", h("div", { style: { paddingLeft: "16px" } }, Object.entries(r.annotations).map(([k, v]) => h("div", null, h("span", { class: "muted" }, `${k}: `), v)))));
  }
  return h("div", { class: "mono small" }, lines);
}

export function rulesPage(root: HTMLElement): () => void {
  const box = h("div");
  root.append(h("h1", null, "Rules"), box);
  return loadInto(box, async (signal) => {
    const groups = (await promGet<{ groups: RuleGroup[] }>("api/v1/rules", {}, signal)).data.groups ?? [];
    if (groups.length === 0) return notice("empty", "No rule groups are loaded.", "no-data");
    return groups.map((g) =>
      h(
        "div",
        { class: "card", "data-testid": "rule-group" },
        h(
          "div",
          { class: "head" },
          h("b", null, g.name),
          h("span", { class: "muted small grow" }, g.file),
          h("span", { class: "small" }, `interval ${seconds(g.interval)} · last evaluation `, ago(g.lastEvaluation), ` · took ${seconds(g.evaluationTime)}`),
        ),
        h(
          "div",
          { class: "body scroll-x" },
          h(
            "table",
            { class: "data", "data-testid": "table" },
            h("tr", null, h("th", null, "Rule"), h("th", null, "State"), h("th", null, "Error"), h("th", null, "Last evaluation"), h("th", { class: "num" }, "Evaluation time")),
            g.rules.map((r) =>
              h(
                "tr",
                { "data-testid": "rule" },
                h("td", null, ruleText(r)),
                h("td", null, healthBadge(r.health), r.state ? h("span", { class: `badge ${r.state}` }, r.state) : null),
                h("td", { class: "mono", style: { color: "var(--error)" } }, r.lastError ?? ""),
                h("td", null, ago(r.lastEvaluation)),
                h("td", { class: "num" }, seconds(r.evaluationTime)),
              ),
            ),
          ),
        ),
      ),
    );
  });
}
