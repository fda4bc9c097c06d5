// Dashboard and panel links: Grafana URLs to other dashboards (`/d/<uid>/<slug>?…`, absolute or under a
// sub-path) become viewer routes (`#/d/<uid>?…`); `${__url_time_range}`, `${__all_variables}` and variables are
// interpolated; keepTime and includeVars append the current range and variables. Pure (unit-tested).

import { safeUrl } from "../../lib/markdown";

export interface LinkContext {
  /** Interpolates dashboard variables (text format). */
  text: (s: string) => string;
  /** from/to as in the URL. */
  time: { from: string; to: string };
  vars: Array<[string, string]>;
}

/** The viewer route for a Grafana dashboard URL, or null when `url` is not one. */
export function dashboardRoute(url: string): string | null {
  const m = /^(?:https?:\/\/[^/]+)?(?:\/[^#?]*?)?\/d\/([^/?#]+)(?:\/[^?#]*)?(?:\?([^#]*))?/.exec(url);
  if (!m || /^https?:/i.test(url) && new URL(url).host !== location.host) return null;
  return `#/d/${m[1]}${m[2] ? `?${m[2]}` : ""}`;
}

function appendQuery(url: string, params: Array<[string, string]>): string {
  if (!params.length) return url;
  const qs = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  const hash = url.indexOf("#", url.startsWith("#") ? 1 : 0);
  const [base, frag] = hash > 0 ? [url.slice(0, hash), url.slice(hash)] : [url, ""];
  return `${base}${base.includes("?") ? "&" : "?"}${qs}${frag}`;
}

/** The href a link gets: interpolated, extended, and routed to the viewer when it points at a dashboard. */
export function resolveLink(url: string, ctx: LinkContext, opts: { keepTime?: boolean; includeVars?: boolean } = {}): string {
  const range = `from=${encodeURIComponent(ctx.time.from)}&to=${encodeURIComponent(ctx.time.to)}`;
  const allVars = ctx.vars.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  let u = url.replace(/\$\{__url_time_range\}|\$__url_time_range/g, range).replace(/\$\{__all_variables\}|\$__all_variables/g, allVars);
  u = ctx.text(u);
  const extra: Array<[string, string]> = [];
  if (opts.keepTime) extra.push(["from", ctx.time.from], ["to", ctx.time.to]);
  if (opts.includeVars) extra.push(...ctx.vars);
  u = appendQuery(u, extra);
  // A dashboard is data, not code: `javascript:` and other unsafe targets go nowhere.
  return dashboardRoute(u) ?? safeUrl(u) ?? "#";
}
