// The app shell: navigation, theme, and hash routes to pages. Each page mounts into <main> and returns a cleanup
// that aborts its requests, sockets and timers when the route changes.
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { h, replace } from "./lib/dom";
import { currentRoute, type Route } from "./lib/router";
import { initTheme, toggleTheme, currentTheme } from "./lib/theme";
import { queryPage } from "./pages/query/page";
import { logsPage } from "./pages/logs/page";
import { dashboardListPage } from "./pages/dashboards/list";
import { dashboardPage } from "./pages/dashboards/viewer";
import { targetsPage } from "./pages/status/targets";
import { discoveryPage } from "./pages/status/discovery";
import { rulesPage } from "./pages/status/rules";
import { alertsPage } from "./pages/status/alerts";
import { tsdbPage } from "./pages/status/tsdb";
import { runtimePage, flagsPage, configPage } from "./pages/status/runtime";

/** A page draws into `root` and may return its cleanup. */
export type Page = (root: HTMLElement, route: Route) => (() => void) | void;

interface RouteDef {
  match: RegExp;
  page: Page;
  nav: string;
}

const ROUTES: RouteDef[] = [
  { match: /^\/(graph|query)?$/, page: queryPage, nav: "/graph" },
  { match: /^\/logs$/, page: logsPage, nav: "/logs" },
  { match: /^\/dashboards$/, page: dashboardListPage, nav: "/dashboards" },
  { match: /^\/d\/[^/]+(\/.*)?$/, page: dashboardPage, nav: "/dashboards" },
  { match: /^\/targets$/, page: targetsPage, nav: "status" },
  { match: /^\/service-discovery$/, page: discoveryPage, nav: "status" },
  { match: /^\/rules$/, page: rulesPage, nav: "status" },
  { match: /^\/alerts$/, page: alertsPage, nav: "/alerts" },
  { match: /^\/tsdb-status$/, page: tsdbPage, nav: "status" },
  { match: /^\/status$/, page: runtimePage, nav: "status" },
  { match: /^\/flags$/, page: flagsPage, nav: "status" },
  { match: /^\/config$/, page: configPage, nav: "status" },
];

const STATUS_LINKS: Array<[string, string]> = [
  ["#/targets", "Targets"],
  ["#/service-discovery", "Service discovery"],
  ["#/rules", "Rules"],
  ["#/tsdb-status", "TSDB status"],
  ["#/status", "Runtime & build information"],
  ["#/flags", "Command-line flags"],
  ["#/config", "Configuration"],
];

function navBar(): { el: HTMLElement; setActive: (key: string) => void } {
  const links: Record<string, HTMLElement> = {
    "/graph": h("a", { href: "#/graph" }, "Query"),
    "/logs": h("a", { href: "#/logs" }, "Logs"),
    "/dashboards": h("a", { href: "#/dashboards" }, "Dashboards"),
    "/alerts": h("a", { href: "#/alerts" }, "Alerts"),
  };
  const statusBtn = h("button", { type: "button", "aria-haspopup": "true" }, "Status ▾");
  const menu = h("div", { class: "menu" }, statusBtn, h("div", { class: "dropdown" }, ...STATUS_LINKS.map(([href, t]) => h("a", { href }, t))));
  statusBtn.addEventListener("click", (e) => {
    e.stopPropagation();
    menu.classList.toggle("open");
  });
  document.addEventListener("click", () => menu.classList.remove("open"));
  const themeBtn = h("button", { class: "theme", type: "button", title: "Toggle dark/light theme", "data-testid": "theme-toggle" });
  const setThemeLabel = () => (themeBtn.textContent = currentTheme() === "dark" ? "☀ Light" : "☾ Dark");
  setThemeLabel();
  themeBtn.addEventListener("click", () => {
    toggleTheme();
    setThemeLabel();
  });
  const burger = h("button", { class: "burger", type: "button", "aria-label": "Menu", "data-testid": "nav-toggle" }, "☰");
  const el = h(
    "nav",
    { class: "nav" },
    burger,
    h("a", { class: "brand", href: "#/graph" }, h("img", { src: "./favicon.svg", alt: "" }), "Lookout"),
    h("div", { class: "links" }, links["/graph"], links["/logs"], links["/dashboards"], links["/alerts"], menu),
    themeBtn,
  );
  burger.addEventListener("click", () => el.classList.toggle("open"));
  window.addEventListener("hashchange", () => el.classList.remove("open"));
  return {
    el,
    setActive(key) {
      for (const [k, a] of Object.entries(links)) a.classList.toggle("active", k === key);
      statusBtn.classList.toggle("active", key === "status");
    },
  };
}

function start(): void {
  initTheme();
  const app = document.getElementById("app") ?? document.body;
  const nav = navBar();
  const main = h("main");
  replace(app, nav.el, main);
  let cleanup: (() => void) | void;
  const render = () => {
    if (cleanup) cleanup();
    cleanup = undefined;
    const route = currentRoute();
    const def = ROUTES.find((r) => r.match.test(route.path));
    nav.setActive(def?.nav ?? "");
    replace(main);
    if (!def) {
      main.append(h("h1", null, "Not found"), h("p", null, `No page at ${route.path}. `, h("a", { href: "#/graph" }, "Go to the query explorer.")));
      return;
    }
    try {
      cleanup = def.page(main, route);
    } catch (e) {
      console.warn("page failed", e);
      main.append(h("div", { class: "notice notice-error", "data-testid": "error" }, `This page failed: ${(e as Error).message}`));
    }
  };
  window.addEventListener("hashchange", render);
  render();
}

start();
