// What the browser tests share: the pagefl binary as a child process, Debian's Chromium driven
// through playwright-core (never a downloaded browser), and temporary directories.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const binary = process.env.PAGEFL_BINARY || new URL("../../../build/pagefl", import.meta.url).pathname;
export const chromiumPath = process.env.PAGEFL_CHROMIUM || "/usr/bin/chromium";
export const screenshots = process.env.PAGEFL_SCREENSHOTS || join(tmpdir(), "pagefl-dashboard-screenshots");
mkdirSync(screenshots, { recursive: true });

// Bounds for waits on a process: generous, so that a loaded 2-core machine does not fail a test
// that is merely slow; a broken feature still fails, just later.
export const MINUTE = 60_000;

export function tempDir(t) {
  const dir = mkdtempSync(join(tmpdir(), "pagefl-dashboard-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function writeFile(dir, name, text) {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

export function runPagefl(args) {
  const result = spawnSync(binary, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`pagefl ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

// Starts `pagefl args...`; `address` resolves once it prints the dashboard's address (unless
// `waitFor` is null). Killed after the test.
export function startPagefl(t, args, { waitFor = /dashboard: (\S+)/ } = {}) {
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (data) => { output += data.toString(); };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  t.after(() => { if (child.exitCode === null) child.kill("SIGKILL"); });
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  if (!waitFor) return { child, exited, output: () => output };
  const address = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pagefl did not start in time:\n${output}`)), 2 * MINUTE);
    const look = () => {
      const match = output.match(waitFor);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    exited.then((code) => { clearTimeout(timer); reject(new Error(`pagefl exited (${code}) before serving:\n${output}`)); });
  });
  return { child, address, exited, output: () => output };
}

// Playwright starts Chromium with a fresh temporary profile of its own, removed on close.
export async function openBrowser(t) {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  t.after(() => browser.close());
  return browser;
}

// A new page whose confirm() dialogs are accepted, as an operator clicking "OK".
export async function newPage(browser) {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.on("dialog", (dialog) => dialog.accept());
  return page;
}

// Sets a range input the way a user's drag does: the value, then an input event.
export async function slide(page, testId, value) {
  await page.getByTestId(testId).evaluate((input, v) => {
    input.value = String(v);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }, value);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}
