// Bundles the app into dist/ (index.html + hashed assets under dist/assets/), or with --tests the unit tests into
// dist-test/ for `node --test`. Run by the crate's build.rs; no dev server, no watch mode.
import { build } from "esbuild";
import { readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync, copyFileSync } from "node:fs";
import { basename, join } from "node:path";

const tests = process.argv.includes("--tests");

if (tests) {
  rmSync("dist-test", { recursive: true, force: true });
  const entryPoints = readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => join("test", f));
  await build({
    entryPoints,
    outdir: "dist-test",
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node18",
    logLevel: "warning",
  });
} else {
  rmSync("dist", { recursive: true, force: true });
  mkdirSync("dist/assets", { recursive: true });
  const result = await build({
    entryPoints: { app: "src/main.ts" },
    outdir: "dist/assets",
    entryNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    metafile: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith(".js"));
  const css = outputs.find((f) => f.endsWith(".css"));
  if (!js || !css) throw new Error(`esbuild produced no app bundle: ${outputs.join(", ")}`);
  // Relative URLs only: the UI may be served under a route prefix.
  const html = readFileSync("src/index.html", "utf8")
    .replace("%APP_JS%", `./assets/${js}`)
    .replace("%APP_CSS%", `./assets/${css}`);
  writeFileSync("dist/index.html", html);
  copyFileSync("src/favicon.svg", "dist/favicon.svg");
}
