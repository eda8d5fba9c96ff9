// Does dashboard traffic slow a run? `node bench/dashboard_load.mjs [build-dir] [rounds]`
// Runs the same FedAvg pilot (configs/pilot-fmnist.toml) from `pagefl dashboard`, alternately with
// no page following it and with 10 followers, each holding the live event stream open and
// reloading the session and results lists every second (what an open page does, without the
// drawing, which a real browser does on its own machine). Prints each trial's seconds per round
// (from the run's summary.json) and the ratio of the medians.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const build = resolve(process.argv[2] || "build");
const rounds = Number(process.argv[3] || 8);
const trials = ["none", "ten", "none", "ten", "none", "ten"];
const results = mkdtempSync(join(tmpdir(), "pagefl-dashboard-load-"));

const server = spawn(join(build, "pagefl"), ["dashboard", "--listen", "127.0.0.1:0", "--config", "configs/pilot-fmnist.toml", "--results", results],
  { stdio: ["ignore", "pipe", "inherit"] });
const url = await new Promise((done) => {
  let text = "";
  server.stdout.on("data", (d) => { text += d; const m = text.match(/dashboard: (\S+)/); if (m) done(m[1]); });
});
const headers = { "Content-Type": "application/json", Origin: url };

// One follower: the event stream read to the end, and a reload of two lists every second.
function follower(signal) {
  const stream = fetch(`${url}/api/events?from=0`, { signal }).then(async (r) => { for await (const _ of r.body) { /* read it all */ } }).catch(() => {});
  const timer = setInterval(() => { for (const p of ["/api/session", "/api/results"]) fetch(url + p, { signal }).then((r) => r.text()).catch(() => {}); }, 1000);
  return { stream, stop: () => clearInterval(timer) };
}

async function finished(name) {
  for (;;) {
    const { results: list } = await (await fetch(`${url}/api/results`)).json();
    const entry = list.find((e) => e.name === name);
    if (entry && entry.finished) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const seconds = { none: [], ten: [] };
for (const [i, kind] of trials.entries()) {
  const controller = new AbortController();
  const followers = kind === "ten" ? Array.from({ length: 10 }, () => follower(controller.signal)) : [];
  const name = `load-${i}-${kind}`;
  const started = await fetch(`${url}/api/comparisons`, { method: "POST", headers, body: JSON.stringify({ name, methods: ["fedavg"], rounds, sites: 20, alpha: 0.5 }) });
  if (started.status !== 202) throw new Error(`could not start: ${await started.text()}`);
  await finished(name);
  followers.forEach((f) => f.stop());
  controller.abort();
  const summary = JSON.parse(readFileSync(join(results, name, "fedavg-seed1", "summary.json"), "utf8"));
  seconds[kind].push(summary.seconds_per_round);
  console.log(`${name}: ${summary.seconds_per_round.toFixed(3)} s/round`);
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`median s/round: none ${median(seconds.none).toFixed(3)}, 10 followers ${median(seconds.ten).toFixed(3)}, ratio ${(median(seconds.ten) / median(seconds.none)).toFixed(3)}`);
server.kill("SIGINT");
rmSync(results, { recursive: true, force: true });
