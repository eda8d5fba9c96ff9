// Bundles the dashboard into one directory (argument 1, default dist/): index.html, app.js and
// app.css, with every npm package inlined, so that pagefl serves it offline.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2] || "dist";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(out, "app.js"),
  logLevel: "warning",
});
const css = readFileSync("node_modules/uplot/dist/uPlot.min.css", "utf8") + "\n" + readFileSync("src/app.css", "utf8");
writeFileSync(join(out, "app.css"), css);
copyFileSync("src/index.html", join(out, "index.html"));
