// Reading a finished comparison or run from the results directory the server shares read only
// (/results/...): summary.csv, rounds.jsonl. The same files `pagefl report` reads.
import { roundPoint, weightsOf } from "./state.js";

async function text(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.text();
}

// A CSV line split at commas outside double quotes.
function cells(line) {
  const out = [];
  let cell = "", quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) { out.push(cell); cell = ""; }
    else cell += c;
  }
  out.push(cell);
  return out;
}

// summary.csv: one row per method, "<column> (mean)" and "<column> (std)" per number.
export function parseSummary(csv) {
  const lines = csv.trim().split("\n");
  const header = cells(lines[0]);
  return lines.slice(1).map((line) => {
    const row = {};
    cells(line).forEach((value, i) => { row[header[i]] = i === 0 ? value : Number(value); });
    return row;
  });
}

export const G2S_COLUMN = "G->S acc, final round (mean)";
export const P2L_COLUMN = "P->L acc (client mean), final round (mean)";

export async function loadSummary(directory) {
  return parseSummary(await text(`/results/${encodeURIComponent(directory)}/summary.csv`));
}

// The trade-off's points: each method's final P->L (x) against its G->S (y), in percent.
export function tradeOffPoints(rows) {
  return rows.filter((row) => Number.isFinite(row[G2S_COLUMN]) && Number.isFinite(row[P2L_COLUMN])).map((row) => ({
    label: row.algorithm, x: 100 * row[P2L_COLUMN], y: 100 * row[G2S_COLUMN], page: row.algorithm.startsWith("page"),
  }));
}

// A run as the charts draw it, from its rounds.jsonl and clients.jsonl.
export async function loadRun(path) {
  const lines = (await text(`/results/${path.split("/").map(encodeURIComponent).join("/")}/rounds.jsonl`))
    .split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  const run = { name: path.split("/").pop(), rounds: [], lr: [], epochs: [], weights: {} };
  for (const line of lines) {
    if (line.evaluated) run.rounds.push(roundPoint(line));
    const weights = weightsOf(line);
    if (Object.keys(weights).length) run.weights = weights;
  }
  try {
    const byRound = new Map();
    for (const l of (await text(`/results/${path.split("/").map(encodeURIComponent).join("/")}/clients.jsonl`)).split("\n")) {
      if (!l.trim()) continue;
      const row = JSON.parse(l);
      if (row.rl_lr === undefined) continue;
      const r = byRound.get(row.round) || { lr: 0, epochs: 0, n: 0 };
      r.lr += row.rl_lr; r.epochs += row.rl_epochs; r.n += 1;
      byRound.set(row.round, r);
    }
    for (const [round, r] of byRound) {
      run.lr.push({ round, value: r.lr / r.n });
      run.epochs.push({ round, value: r.epochs / r.n });
    }
  } catch (_) { /* a run without clients.jsonl has no agents to show */ }
  return run;
}
