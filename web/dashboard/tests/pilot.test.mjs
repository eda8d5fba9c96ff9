// The pilot from the page, in headless Chromium against `pagefl dashboard`: the partition preview
// follows the skew slider, a small comparison starts from the page, its round counter advances and
// its curves appear, the finished report opens, and the page switches to Japanese and remembers it.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { MINUTE, newPage, openBrowser, screenshot, slide, startPagefl, tempDir, writeFile } from "./support.mjs";

// Fashion-MNIST (the built-in data) cut small, an MLP, and PAGE's warm-up shortened to fit.
const BASE_CONFIG = `
[run]
seed = 3
workers = 1
[data]
source = "fashion-mnist"
train_subset = 1200
test_subset = 300
[partition]
scheme = "dirichlet"
min_size = 10
[model]
name = "mlp"
[train]
lr = 0.05
epochs = 1
batch_size = 32
[page]
warmup_rounds = 1
epsilon_decay_rounds = 2
`;

test("a comparison started from the page runs live and opens its report", { timeout: 15 * MINUTE }, async (t) => {
  const dir = tempDir(t);
  const config = writeFile(dir, "base.toml", BASE_CONFIG);
  const results = join(dir, "results");
  const server = startPagefl(t, ["dashboard", "--listen", "127.0.0.1:0", "--config", config, "--results", results]);
  const url = await server.address;
  const browser = await openBrowser(t);
  const page = await newPage(browser);
  await page.goto(url);

  // The partition preview: drawn at once, and again when the skew slider moves.
  await page.getByTestId("partition").waitFor({ timeout: 2 * MINUTE });
  const previewRequests = [];
  page.on("request", (r) => { if (r.url().includes("/api/partition")) previewRequests.push(r.url()); });
  await page.getByTestId("sites").fill("4");
  await page.getByTestId("sites").dispatchEvent("change");
  await slide(page, "alpha", 25);  // alpha 0.1: very different sites
  await page.waitForResponse((r) => r.url().includes("alpha=0.1") && r.url().includes("sites=4") && r.ok(), { timeout: 2 * MINUTE });
  assert.equal(await page.getByTestId("alpha-value").textContent(), "0.1");

  // A small comparison: FedAvg and PAGE, 3 rounds.
  for (const name of ["ditto"]) await page.getByTestId(`method-${name}`).uncheck();
  await page.getByTestId("method-fedavg").check();
  await page.getByTestId("method-page").check();
  await page.getByTestId("rounds").fill("3");
  await page.getByTestId("rounds").dispatchEvent("change");
  await screenshot(page, "pilot-form");
  await page.getByTestId("start").click();

  await page.getByTestId("progress").waitFor({ timeout: MINUTE });
  // The round counter advances and curves appear while it runs.
  await page.waitForFunction(() => [...document.querySelectorAll("[data-testid=round-counter]")].some((c) => /^[1-9]/.test(c.textContent.trim())),
    null, { timeout: 5 * MINUTE });
  await page.getByTestId("g2s-chart").waitFor({ timeout: 5 * MINUTE });
  const report = page.getByTestId("report-link");
  await report.waitFor({ timeout: 10 * MINUTE });
  await page.getByTestId("tradeoff").waitFor({ timeout: MINUTE });
  await screenshot(page, "pilot-live");

  const progress = await page.getByTestId("progress").textContent();
  assert.match(progress, /fedavg-seed3/);
  assert.match(progress, /page-b0\.5-seed3/);
  const href = await report.getAttribute("href");
  const reportPage = await newPage(browser);
  const response = await reportPage.goto(new URL(href, url).toString());
  assert.equal(response.status(), 200);
  assert.match(await reportPage.content(), /G-&gt;S|G->S|G→S/);
  const directory = href.split("/")[2];
  assert.ok(existsSync(join(results, directory, "summary.csv")), "the comparison wrote its summary");
  assert.match(readFileSync(join(results, directory, "summary.csv"), "utf8"), /^algorithm,/);

  // The Results tab browses the same comparison: its table, its trade-off, and a run's curves.
  await page.getByTestId("tab-results").click();
  await page.getByTestId(`result-${directory}`).click();
  const detail = page.getByTestId("comparison-detail");
  await detail.getByText("fedavg", { exact: true }).waitFor({ timeout: MINUTE });
  await detail.getByTestId("tradeoff").waitFor();
  await detail.getByText("fedavg-seed3").click();
  await page.getByTestId("run-detail").getByTestId("g2s-chart").waitFor({ timeout: MINUTE });
  await screenshot(page, "results");
  await page.getByTestId("tab-pilot").click();

  // Japanese, and remembered after a reload.
  await page.getByTestId("language").click();
  assert.equal(await page.getByTestId("tab-pilot").textContent(), "試行と調整");
  await page.reload();
  await page.getByTestId("tab-pilot").waitFor();
  assert.equal(await page.getByTestId("tab-pilot").textContent(), "試行と調整");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "ja");
  await screenshot(page, "pilot-japanese");
  await page.getByTestId("language").click();
  assert.equal(await page.getByTestId("tab-pilot").textContent(), "Pilot and tune");
});
