// Who may do what, in a real browser: a dashboard with an access file asks for a login, a viewer
// sees but cannot change (HTTP 403), an unauthenticated request is refused, a POST from another
// origin is refused, and a path outside the bundle is 404.
import assert from "node:assert/strict";
import { test } from "node:test";
import { MINUTE, newPage, openBrowser, screenshot, startPagefl, tempDir, writeFile } from "./support.mjs";

const OPERATOR = "operator-token-0123456789";
const VIEWER = "viewer-token-0123456789ab";
const ACCESS = `
[[user]]
name = "plant-manager"
role = "operator"
token = "${OPERATOR}"

[[user]]
name = "hq-analyst"
role = "viewer"
token = "${VIEWER}"
`;

test("viewers read, operators act, strangers are refused", { timeout: 10 * MINUTE }, async (t) => {
  const dir = tempDir(t);
  const access = writeFile(dir, "access.toml", ACCESS);
  const config = writeFile(dir, "base.toml", "[data]\nsource = \"synthetic\"\n[model]\nname = \"logreg\"\n");
  const server = startPagefl(t, ["dashboard", "--listen", "127.0.0.1:0", "--config", config, "--results", dir, "--access", access]);
  const url = await server.address;

  // Without a login: refused, and the page asks for the token.
  const anonymous = await fetch(`${url}/api/session`);
  assert.equal(anonymous.status, 401);
  const browser = await openBrowser(t);
  const page = await newPage(browser);
  await page.goto(url);
  await page.getByTestId("login").waitFor({ timeout: MINUTE });
  await page.getByTestId("token").fill("not-the-token-at-all");
  await page.getByTestId("login-button").click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /not in the dashboard's access file/);

  // A viewer: logged in, controls disabled, and the server refuses a change even when asked directly.
  await page.getByTestId("token").fill(VIEWER);
  await page.getByTestId("login-button").click();
  await page.getByTestId("who").filter({ hasText: "hq-analyst" }).waitFor();
  assert.equal(await page.getByTestId("start").isDisabled(), true);
  await screenshot(page, "viewer");
  const viewerPost = await page.evaluate(async () => {
    const r = await fetch("/api/comparisons", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ methods: ["fedavg"] }) });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(viewerPost.status, 403);
  assert.match(viewerPost.body.error, /viewer/);
  const viewerControl = await page.evaluate(async () => (await fetch("/api/controls", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"action":"stop"}' })).status);
  assert.equal(viewerControl, 403);

  // An operator's token, but from another origin (what a hostile page would send): refused.
  const crossOrigin = await fetch(`${url}/api/controls`, {
    method: "POST", headers: { Authorization: `Bearer ${OPERATOR}`, Origin: "http://evil.example", "Content-Type": "application/json" },
    body: '{"action":"stop"}',
  });
  assert.equal(crossOrigin.status, 403);
  // The operator from the dashboard's own origin gets past the guard (and is told no run is in progress).
  const operator = await fetch(`${url}/api/controls`, {
    method: "POST", headers: { Authorization: `Bearer ${OPERATOR}`, Origin: url, "Content-Type": "application/json" },
    body: '{"action":"stop"}',
  });
  assert.equal(operator.status, 400);
  assert.match((await operator.json()).error, /no run is in progress/);
  // Bad input gets a message that says what to fix.
  const badRequest = await fetch(`${url}/api/comparisons`, {
    method: "POST", headers: { Authorization: `Bearer ${OPERATOR}`, Origin: url, "Content-Type": "application/json" },
    body: JSON.stringify({ methods: ["fedavg"], alpha: 1000 }),
  });
  assert.equal(badRequest.status, 400);
  assert.match((await badRequest.json()).error, /alpha.*between 0.01 and 100/);

  // Files outside the bundle and the results directory do not exist for the dashboard.
  for (const path of ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/package.json", "/src/main.js"]) {
    const outside = await page.evaluate(async (p) => (await fetch(p)).status, path);
    assert.equal(outside, 404, path);
  }
  // The results directory is shared read only, and only its results: not the access file in it.
  for (const path of ["/results/access.toml", "/results/../base.toml", "/results/base.toml"]) {
    const status = await page.evaluate(async (p) => (await fetch(p)).status, path);
    assert.equal(status, 404, path);
  }
});
