// HTTP access to Lookout's APIs. Every URL is relative to the page (the UI may be served under a route prefix), so
// `api/v1/query` resolves to `<prefix>/api/v1/query`.

export type Params = Record<string, string | string[] | number | undefined>;

/** An API failure: the server's message (Prometheus `error`, or Loki's plain-text body) and HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorType = "",
  ) {
    super(message);
  }
}

/** A Prometheus API answer's payload with its annotations. */
export interface PromResponse<T> {
  data: T;
  warnings: string[];
  infos: string[];
}

/** The directory the UI is served from, e.g. `https://host/prefix/`. */
export function baseUrl(): URL {
  const u = new URL("./", location.href);
  u.hash = "";
  u.search = "";
  return u;
}

export function encodeParams(params: Params): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else q.append(k, String(v));
  }
  return q.toString();
}

export function apiUrl(path: string, params: Params = {}): string {
  const qs = encodeParams(params);
  return new URL(path + (qs ? `?${qs}` : ""), baseUrl()).toString();
}

/** The WebSocket URL (ws: or wss: after the page's scheme) of `path`. */
export function wsUrl(path: string, params: Params = {}): string {
  const u = new URL(apiUrl(path, params));
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

// Long queries go as a form POST (Prometheus and Loki accept both) so URLs stay below proxy limits.
const MAX_GET_QUERY = 4000;

async function request(path: string, params: Params, signal?: AbortSignal, headers: Record<string, string> = {}) {
  const qs = encodeParams(params);
  const post = qs.length > MAX_GET_QUERY;
  const url = post ? apiUrl(path) : apiUrl(path, params);
  try {
    return await fetch(url, {
      method: post ? "POST" : "GET",
      body: post ? qs : undefined,
      headers: post ? { ...headers, "Content-Type": "application/x-www-form-urlencoded" } : headers,
      signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(`cannot reach the server: ${(e as Error).message}`, 0);
  }
}

async function readBody(res: Response): Promise<{ json: unknown; text: string }> {
  const text = await res.text();
  try {
    return { json: JSON.parse(text), text };
  } catch {
    return { json: undefined, text };
  }
}

function errorFrom(res: Response, json: unknown, text: string): ApiError {
  const j = json as { error?: string; errorType?: string; message?: string } | undefined;
  const msg = j?.error ?? j?.message ?? (text.trim() || `${res.status} ${res.statusText}`);
  return new ApiError(msg, res.status, j?.errorType ?? "");
}

/** A Prometheus-style API call (`{"status":"success","data":…}`). */
export async function promGet<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<PromResponse<T>> {
  const res = await request(path, params, signal);
  const { json, text } = await readBody(res);
  const j = json as { status?: string; data?: T; warnings?: string[]; infos?: string[] } | undefined;
  if (!res.ok || j?.status !== "success") throw errorFrom(res, json, text);
  return { data: j.data as T, warnings: j.warnings ?? [], infos: j.infos ?? [] };
}

/** A Loki API call: same envelope as Prometheus on success, plain-text errors. */
export async function lokiGet<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<PromResponse<T>> {
  const res = await request(path, params, signal, { "X-Loki-Response-Encoding-Flags": "categorize-labels" });
  const { json, text } = await readBody(res);
  const j = json as { status?: string; data?: T; warnings?: string[] } | undefined;
  if (!res.ok || (j?.status !== undefined && j.status !== "success")) throw errorFrom(res, json, text);
  return { data: (j?.data ?? j) as T, warnings: j?.warnings ?? [], infos: [] };
}

/** A plain GET returning text (e.g. `/metrics`). */
export async function getText(path: string, signal?: AbortSignal): Promise<string> {
  const res = await request(path, {}, signal);
  const text = await res.text();
  if (!res.ok) throw new ApiError(text.trim() || `${res.status} ${res.statusText}`, res.status);
  return text;
}

/** A plain GET returning JSON (the dashboards API). */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await request(path, {}, signal);
  const { json, text } = await readBody(res);
  if (!res.ok || json === undefined) throw errorFrom(res, json, text || "the answer is not JSON");
  return json as T;
}
