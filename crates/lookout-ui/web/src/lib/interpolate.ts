// Grafana template-variable interpolation: `$var`, `${var}`, `${var:format}`, `[[var]]`, `[[var:format]]`, with
// Grafana's escaping rules per data source (Prometheus: regex-escaped `(a|b)` for multi-value/include-all
// variables; Loki: `a|b`), custom all values passed raw, and the built-ins ($__interval, $__range, …) passed raw.
// Pure functions (unit-tested).

export interface VarValue {
  /** Selected value(s). */
  value: string | string[];
  /** Display text (defaults to value). */
  text?: string | string[];
  multi?: boolean;
  includeAll?: boolean;
  /** "All" is selected: expands to `allValue` when set, else to every option. */
  isAll?: boolean;
  allValue?: string | null;
  /** Every option's value (what "All" means without a custom all value). */
  options?: string[];
  /** Built-ins and constants: never escaped. */
  raw?: boolean;
}

export type Vars = Map<string, VarValue>;
export type Dialect = "prometheus" | "loki" | "text";

// The same alternatives as Grafana's variable regex: $name, [[name(:fmt)]], ${name(.field)(:fmt)}.
const VAR_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

const RE_META = /[$^*{}[\]+?.()|]/g;

export function promRegularEscape(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/'/g, "\\\\'");
}

export function promRegexEscape(v: string): string {
  return v.replace(/\\/g, "\\\\\\\\").replace(RE_META, "\\\\$&");
}

export function lokiRegularEscape(v: string): string {
  return v.replace(/'/g, "\\\\'");
}

export function lokiRegexEscape(v: string): string {
  return lokiRegularEscape(v.replace(/\\/g, "\\\\\\\\").replace(RE_META, "\\\\$&"));
}

function asList(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

/** The data-source default format (no `:format` given). */
function dialectFormat(values: string[], v: VarValue, dialect: Dialect): string {
  if (dialect === "text") return values.length === 1 ? values[0] : `{${values.join(",")}}`;
  const multiLike = v.multi || v.includeAll;
  if (dialect === "prometheus") {
    if (!multiLike) return values.map(promRegularEscape).join(",");
    const esc = values.map(promRegexEscape);
    return esc.length === 1 ? esc[0] : `(${esc.join("|")})`;
  }
  if (!multiLike) return values.map(lokiRegularEscape).join(",");
  return values.map(lokiRegexEscape).join("|");
}

const escapeRegex = (s: string) => s.replace(/[\\^$*+?.()|[\]{}/]/g, "\\$&");

function explicitFormat(values: string[], texts: string[], format: string, name: string): string {
  const one = values.length === 1;
  switch (format) {
    case "raw":
      return values.join(",");
    case "regex":
      return one ? escapeRegex(values[0]) : `(${values.map(escapeRegex).join("|")})`;
    case "pipe":
      return values.join("|");
    case "csv":
      return values.join(",");
    case "json":
      return JSON.stringify(one ? values[0] : values);
    case "text":
      return texts.join(" + ");
    case "doublequote":
      return values.map((x) => `"${x.replace(/"/g, '\\"')}"`).join(",");
    case "singlequote":
      return values.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(",");
    case "glob":
      return one ? values[0] : `{${values.join(",")}}`;
    case "queryparam":
      return values.map((x) => `var-${encodeURIComponent(name)}=${encodeURIComponent(x)}`).join("&");
    case "percentencode":
      return encodeURIComponent(one ? values[0] : `{${values.join(",")}}`);
    case "sqlstring":
      return values.map((x) => `'${x.replace(/'/g, "''")}'`).join(",");
    default:
      return values.join(",");
  }
}

/** The text one variable reference becomes. */
export function formatVar(name: string, v: VarValue, dialect: Dialect, format?: string): string {
  if (v.isAll && v.allValue) return format === "queryparam" ? `var-${name}=${encodeURIComponent("$__all")}` : v.allValue;
  const values = v.isAll && v.options ? v.options : asList(v.value);
  const texts = v.isAll ? ["All"] : asList(v.text ?? v.value);
  if (format) return explicitFormat(values, texts, format, name);
  if (v.raw) return values.join(",");
  return dialectFormat(values, v, dialect);
}

/**
 * Replaces every known variable reference in `template`; unknown ones stay as written. `defaultFormat` applies to
 * references without an explicit `:format` (titles use "text": "a + b", "All").
 */
export function interpolate(template: string, vars: Vars, dialect: Dialect = "text", defaultFormat?: string): string {
  if (!template || !template.includes("$") && !template.includes("[[")) return template;
  return template.replace(VAR_RE, (match, plain, bracket, bracketFmt, braced, _field, bracedFmt) => {
    const name: string = plain ?? bracket ?? braced;
    const v = vars.get(name);
    if (!v) return match;
    return formatVar(name, v, dialect, bracketFmt ?? bracedFmt ?? (v.raw ? undefined : defaultFormat));
  });
}

/** Names of the variables `template` refers to (to know which queries a variable change affects). */
export function referencedVars(template: string): Set<string> {
  const out = new Set<string>();
  for (const m of template.matchAll(VAR_RE)) out.add(m[1] ?? m[2] ?? m[4]);
  return out;
}
