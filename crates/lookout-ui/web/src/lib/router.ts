// Hash routing (`#/graph?g0.expr=up`): the server only ever serves index.html and /assets/*, so deep links work
// under any route prefix without server-side knowledge of the client routes.

export interface Route {
  path: string;
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, "");
  const q = raw.indexOf("?");
  const path = (q < 0 ? raw : raw.slice(0, q)) || "/";
  return { path: path.startsWith("/") ? path : `/${path}`, params: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)) };
}

export function currentRoute(): Route {
  return parseHash(location.hash);
}

export function href(path: string, params?: URLSearchParams | Record<string, string>): string {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams(params ?? {});
  const qs = p.toString();
  return `#${path}${qs ? `?${qs}` : ""}`;
}

/** Goes to a route (a new history entry; the page is rebuilt). */
export function navigate(path: string, params?: URLSearchParams | Record<string, string>): void {
  location.hash = href(path, params);
}

/** Records a page's own state in the URL without rebuilding the page. */
export function replaceParams(params: URLSearchParams): void {
  const { path } = currentRoute();
  history.replaceState(history.state, "", href(path, params));
}
