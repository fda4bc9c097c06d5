// A dashboard's template variables: options loaded in order (a variable may use those before it), the selection
// from the URL (`var-<name>=…`, repeated for multi values, `$__all` for All) or the saved `current`, and the bar of
// selectors. A change re-evaluates the variables that depend on it and tells the viewer.
import { h, replace, select } from "../../lib/dom";
import { lokiGet, promGet } from "../../lib/api";
import { interpolate, referencedVars, type VarValue, type Vars } from "../../lib/interpolate";
import { grafanaInterval, formatInterval } from "../../lib/interval";
import { parseDuration } from "../../lib/time";
import { multiSelect } from "../../components/multiselect";
import { resolveDatasource } from "./datasource";
import type { Variable } from "./model";
import { applyVarRegex, customOptions, lokiVarQuery, parseVarQuery, queryResultText, seriesText, sortOptions, type VarOption, type VarQuery } from "./varquery";

const ALL = "$__all";

export interface VarState {
  def: Variable;
  options: VarOption[];
  selected: string[];
  isAll: boolean;
  error?: string;
}

export interface TimeWindow {
  from: number;
  to: number;
}

function asArray(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

async function runVarQuery(q: VarQuery, loki: boolean, t: TimeWindow, signal: AbortSignal): Promise<string[]> {
  const range = loki ? { start: `${t.from}000000`, end: `${t.to}000000` } : { start: t.from / 1000, end: t.to / 1000 };
  const get = loki ? lokiGet : promGet;
  const prefix = loki ? "loki/api/v1" : "api/v1";
  switch (q.kind) {
    case "label_names":
      return (await get<string[]>(`${prefix}/labels`, { ...range, ...(q.match ? (loki ? { query: q.match } : { "match[]": q.match }) : {}) }, signal)).data ?? [];
    case "label_values":
      return (await get<string[]>(`${prefix}/label/${encodeURIComponent(q.label)}/values`, { ...range, ...(q.match ? (loki ? { query: q.match } : { "match[]": q.match }) : {}) }, signal)).data ?? [];
    case "metrics": {
      const names = (await promGet<string[]>("api/v1/label/__name__/values", range, signal)).data ?? [];
      let re: RegExp | null = null;
      try {
        re = new RegExp(q.regex);
      } catch {
        re = null;
      }
      return re ? names.filter((n) => re.test(n)) : names;
    }
    case "query_result": {
      const r = await promGet<{ resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> | [number, string] }>("api/v1/query", { query: q.expr, time: t.to / 1000 }, signal);
      if (r.data.resultType === "scalar" || r.data.resultType === "string") {
        const v = r.data.result as [number, string];
        return [`${r.data.resultType} ${v[1]} ${v[0] * 1000}`];
      }
      return (r.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map((s) => queryResultText(s.metric, s.value));
    }
    case "series": {
      const r = await promGet<Array<Record<string, string>>>("api/v1/series", { "match[]": q.expr, ...range }, signal);
      return (r.data ?? []).map(seriesText);
    }
  }
}

export class VariableSet {
  readonly states: VarState[];

  constructor(defs: Variable[], params: URLSearchParams) {
    this.states = defs.map((def) => {
      const fromUrl = params.getAll(`var-${def.name}`);
      const saved = fromUrl.length ? fromUrl : asArray(def.current?.value);
      const isAll = saved.includes(ALL) && Boolean(def.includeAll);
      return { def, options: [], selected: saved.filter((v) => v !== ALL), isAll };
    });
  }

  /** Every variable's value, for interpolation (built-ins are added per panel). */
  values(): Vars {
    const vars: Vars = new Map();
    for (const s of this.states) {
      const d = s.def;
      const raw = d.type === "constant" || d.type === "interval" || d.type === "datasource" || d.type === "textbox";
      const texts = s.selected.map((v) => s.options.find((o) => o.value === v)?.text ?? v);
      const v: VarValue = {
        value: d.multi ? s.selected : (s.selected[0] ?? ""),
        text: d.multi ? texts : (texts[0] ?? ""),
        multi: d.multi,
        includeAll: d.includeAll,
        isAll: s.isAll,
        allValue: d.allValue,
        options: s.options.map((o) => o.value),
        raw,
      };
      vars.set(d.name, v);
    }
    return vars;
  }

  /** `var-<name>` parameters for the URL and for links with includeVars. */
  urlParams(): Array<[string, string]> {
    return this.states.flatMap((s) => (s.isAll ? [[`var-${s.def.name}`, ALL]] : s.selected.map((v) => [`var-${s.def.name}`, v])) as Array<[string, string]>);
  }

  private async loadOne(s: VarState, t: TimeWindow, signal: AbortSignal): Promise<void> {
    const d = s.def;
    s.error = undefined;
    let opts: VarOption[] = [];
    const queryText = typeof d.query === "string" ? d.query : (d.query?.query ?? d.definition ?? "");
    try {
      switch (d.type) {
        case "custom":
          opts = customOptions(queryText);
          break;
        case "constant":
        case "textbox":
          opts = [{ text: queryText, value: queryText }];
          if (d.type === "textbox" && s.selected.length) opts = [{ text: s.selected[0], value: s.selected[0] }];
          break;
        case "datasource":
          opts = [{ text: "Lookout", value: "Lookout" }];
          break;
        case "interval": {
          opts = customOptions(queryText);
          if (d.auto) {
            const min = parseDuration(d.auto_min ?? "10s") ?? 10_000;
            const auto = formatInterval(grafanaInterval(t.to - t.from, d.auto_count ?? 30, min));
            opts.unshift({ text: "auto", value: auto });
          }
          break;
        }
        case "query": {
          const ds = resolveDatasource(d.datasource, this.states.map((x) => x.def));
          if (ds.kind === "unsupported") throw new Error(`data source type ${ds.type} is not supported by Lookout`);
          const vars = this.values();
          const loki = ds.kind === "loki";
          const structured = loki && typeof d.query === "object" && d.query !== null;
          const q = structured ? lokiVarQuery(d.query as object) : parseVarQuery(interpolate(queryText, vars, loki ? "loki" : "prometheus"));
          if (structured && (q.kind === "label_names" || q.kind === "label_values") && q.match) q.match = interpolate(q.match, vars, "loki");
          const values = await runVarQuery(q, loki, t, signal);
          opts = sortOptions(applyVarRegex(values, d.regex ? interpolate(d.regex, vars, "text") : undefined), d.sort ?? 0);
          break;
        }
        default:
          opts = (d.options ?? []).map((o) => ({ text: o.text ?? o.value ?? "", value: o.value ?? o.text ?? "" }));
      }
    } catch (e) {
      if ((e as Error).name === "AbortError") throw e;
      s.error = (e as Error).message;
    }
    s.options = opts;
    const known = new Set(opts.map((o) => o.value));
    if (d.type === "textbox" || d.type === "constant") s.selected = [opts[0]?.value ?? ""];
    else if (!s.isAll) {
      s.selected = s.selected.filter((v) => known.has(v));
      if (!d.multi) s.selected = s.selected.slice(0, 1);
      if (s.selected.length === 0) {
        if (d.includeAll && !opts.length) s.isAll = true;
        else if (opts.length) s.selected = [opts[0].value];
      }
    }
  }

  /** Loads every variable in order (`only` limits it to some, e.g. those refreshed on time change). */
  async load(t: TimeWindow, signal: AbortSignal, only?: (s: VarState) => boolean): Promise<void> {
    for (const s of this.states) if (!only || only(s)) await this.loadOne(s, t, signal);
  }

  /** After `name` changed: reloads the variables that refer to it, directly or through another. */
  async reloadDependents(name: string, t: TimeWindow, signal: AbortSignal): Promise<void> {
    const changed = new Set([name]);
    for (const s of this.states) {
      const q = typeof s.def.query === "string" ? s.def.query : JSON.stringify(s.def.query ?? "");
      const refs = new Set([...referencedVars(q), ...referencedVars(s.def.regex ?? "")]);
      if ([...refs].some((r) => changed.has(r))) {
        await this.loadOne(s, t, signal);
        changed.add(s.def.name);
      }
    }
  }

  /** The selector bar; `onChange(name)` after the user picks a value. */
  render(box: HTMLElement, onChange: (name: string) => void): void {
    replace(
      box,
      this.states
        .filter((s) => s.def.hide !== 2)
        .map((s) => {
          const d = s.def;
          const name = d.hide === 1 ? null : h("span", { class: "var-name" }, d.label || d.name);
          let control: HTMLElement;
          if (d.type === "textbox") {
            const input = h("input", { type: "text", value: s.selected[0] ?? "", "data-testid": `var-${d.name}` });
            input.addEventListener("change", () => ((s.selected = [input.value]), onChange(d.name)));
            control = input;
          } else if (d.type === "constant") {
            return null;
          } else if (d.multi) {
            control = multiSelect(s.options, s.selected, Boolean(d.includeAll), s.isAll, (values, all) => {
              s.selected = values;
              s.isAll = all;
              onChange(d.name);
            }, `var-${d.name}`);
          } else {
            const opts: Array<[string, string]> = [...(d.includeAll ? [[ALL, "All"] as [string, string]] : []), ...s.options.map((o) => [o.value, o.text] as [string, string])];
            control = select(opts, s.isAll ? ALL : (s.selected[0] ?? ""), (v) => {
              s.isAll = v === ALL;
              s.selected = s.isAll ? [] : [v];
              onChange(d.name);
            }, { "data-testid": `var-${d.name}` });
          }
          return h("label", { title: s.error ?? d.name }, name, control, s.error ? h("span", { class: "perr", title: s.error }, "!") : null);
        }),
    );
  }
}
