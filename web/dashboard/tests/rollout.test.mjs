// The roll-out view against a live deployment on loopback: `pagefl server --dashboard` with three
// `pagefl client` sites. The sites table fills; pause holds the next round; a balance change made
// while paused is in force from the next round (in the run's controls.jsonl, the audit log and the
// page's history); resume continues; stop ends the run cleanly.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { MINUTE, newPage, openBrowser, runPagefl, screenshot, slide, startPagefl, tempDir, writeFile } from "./support.mjs";

const SITES = ["client_0", "client_1", "client_2"];

function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => { const { port } = server.address(); server.close(() => resolve(port)); });
  });
}

function federationConfig(runs, address) {
  return `
[run]
name = "deployed"
seed = 5
rounds = 400
progress = false
output_dir = "${runs}"
[data]
source = "synthetic"
[synthetic]
num_clients = ${SITES.length}
dimension = 10
classes = 5
samples_per_client = 100
[partition]
scheme = "natural"
[model]
name = "logreg"
[train]
lr = 0.05
epochs = 1
batch_size = 10
[algorithm]
name = "page"
[page]
warmup_rounds = 2
epsilon_decay_rounds = 4
[deploy]
listen = "${address}"
tls = false
min_clients = ${SITES.length}
round_deadline_s = 60
client_timeout_s = 120
clients = [${SITES.map((s) => `"${s}"`).join(", ")}]
`;
}

const jsonLines = (path) => (existsSync(path) ? readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l)) : []);
const lastRound = (path) => Math.max(0, ...jsonLines(path).map((l) => l.round));

async function until(what, check, timeout = 3 * MINUTE) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(200);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("an operator watches and steers a live deployment", { timeout: 15 * MINUTE }, async (t) => {
  const dir = tempDir(t);
  const runs = join(dir, "runs");
  const address = `127.0.0.1:${await freePort()}`;
  const config = writeFile(dir, "federation.toml", federationConfig(runs, address));
  runPagefl(["partition", "--config", config, "--export-leaf", join(dir, "leaf")]);
  const server = startPagefl(t, ["server", "--config", config, "--dashboard", "127.0.0.1:0"]);
  const url = await server.address;
  for (const site of SITES)
    startPagefl(t, ["client", "--server", address, "--id", site, "--data", join(dir, "leaf"), "--state", join(dir, `state-${site}`),
      "--insecure", "--give-up-after", "120"], { waitFor: null });

  const browser = await openBrowser(t);
  const page = await newPage(browser);
  await page.goto(url);
  await page.getByTestId("tab-rollout").waitFor({ timeout: MINUTE });

  // The sites table fills as the sites answer.
  for (let s = 0; s < SITES.length; ++s)
    await page.waitForFunction((id) => {
      const row = document.querySelector(`[data-testid=site-${id}]`);
      return row && Number(row.querySelector("[data-testid=answered]").textContent) >= 1;
    }, s, { timeout: 5 * MINUTE });
  await page.getByTestId("streams-chart").waitFor({ timeout: 2 * MINUTE });
  await screenshot(page, "rollout-live");

  // Pause: the round in progress finishes and the next one is held.
  await page.getByTestId("pause").click();
  const history = page.getByTestId("history");
  await history.filter({ hasText: "paused" }).waitFor({ timeout: 3 * MINUTE });
  const rounds = join(runs, "deployed", "rounds.jsonl");
  const controlsFile = join(runs, "deployed", "controls.jsonl");
  await until("the pause in controls.jsonl", () => jsonLines(controlsFile).some((c) => c.new === "paused"));
  const heldAt = jsonLines(controlsFile).find((c) => c.new === "paused").round;
  await until("the rounds before the pause to close", () => lastRound(rounds) >= heldAt - 1);
  await sleep(3000);
  assert.equal(lastRound(rounds), heldAt - 1, "no round runs while paused");

  // While paused: the balance moves towards the company-wide model, from the next round.
  await slide(page, "live-balance", 0.8);
  await page.getByTestId("apply-balance").click();
  await history.filter({ hasText: "page.balance" }).waitFor({ timeout: 2 * MINUTE });
  await page.getByTestId("resume").click();
  await until("a round after the pause", () => lastRound(rounds) > heldAt, 3 * MINUTE);
  const change = jsonLines(controlsFile).find((c) => c.setting === "page.balance");
  assert.ok(change, "controls.jsonl records the balance change");
  assert.equal(Number(change.new), 0.8);
  assert.equal(Number(change.old), 0.5);
  assert.equal(change.who, "local");
  assert.equal(change.round, heldAt, "applied from the held round on");
  const heldRound = jsonLines(rounds).find((l) => l.round === heldAt);
  assert.deepEqual(heldRound.settings_changed, [{ setting: "page.balance", old: "0.5", new: "0.8", who: "local" }],
    "rounds.jsonl: the held round ran with the new balance");
  await page.waitForFunction(() => document.querySelector("[data-testid='setting-page.balance']")?.textContent === "0.8", null, { timeout: MINUTE });
  await screenshot(page, "rollout-controls");

  // The audit log shows who changed what.
  await page.getByTestId("tab-audit").click();
  await page.getByTestId("audit-kind").selectOption("events");
  await page.getByTestId("audit-table").filter({ hasText: "page.balance" }).waitFor({ timeout: MINUTE });
  const audit = await page.getByTestId("audit-table").textContent();
  assert.match(audit, /local changed page\.balance from 0\.5 to 0\.8/);
  await page.getByTestId("audit-kind").selectOption("updates");
  await page.getByTestId("audit-site").fill("client_1");
  await page.getByTestId("audit-search").click();
  // Choosing "updates" loads every site's updates first, client_1's among them, so wait for the
  // searched table itself: rows, and client_1 in each.
  await page.waitForFunction(() => {
    const table = document.querySelector("[data-testid=audit-table]");
    if (!table) return false;
    const column = [...table.querySelectorAll("th")].findIndex((th) => th.textContent === "client");
    const rows = [...table.querySelectorAll("tr")].slice(1);
    return column >= 0 && rows.length > 0 && rows.every((tr) => tr.children[column].textContent === "client_1");
  }, null, { timeout: MINUTE });
  assert.doesNotMatch(await page.getByTestId("audit-table").textContent(), /client_2/);
  await screenshot(page, "rollout-audit");

  // Stop gracefully: the server checkpoints and exits cleanly.
  await page.getByTestId("tab-rollout").click();
  await page.getByTestId("stop").click();
  const code = await Promise.race([server.exited, sleep(3 * MINUTE, "still running", { ref: false })]);
  assert.equal(code, 0, server.output());
  assert.ok(jsonLines(controlsFile).some((c) => c.new === "stopped"), "controls.jsonl records the stop");
});
