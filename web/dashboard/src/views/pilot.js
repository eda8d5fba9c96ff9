// Pilot and tune: start a comparison on the built-in or the user's data, watch it live, turn
// PAGE's balance and sweep it into a trade-off against the baselines.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get, post } from "../api.js";
import { PartitionBars, TradeOffChart } from "../charts.js";
import { t } from "../i18n.js";
import { loadRun, loadSummary, tradeOffPoints } from "../results.js";
import { secondsLeft } from "../state.js";
import { ErrorBox, Help, ProgressBar, StatusText, duration } from "../ui.js";
import { BalanceSlider, ControlHistory, RunControlsPanel } from "./controls.js";
import { CurvesByRun, PageChoices, Spread } from "./run_charts.js";

export const SWEEP_BALANCES = ["0", "0.25", "0.5", "0.75", "1"];

// The alpha slider moves on a log scale: 0.01 to 100 across its length.
const alphaOf = (position) => Number((10 ** (-2 + (4 * position) / 100)).toPrecision(2));
const positionOf = (alpha) => Math.round(((Math.log10(alpha) + 2) * 100) / 4);

function usePartition(form) {
  const [preview, setPreview] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const timer = setTimeout(() => {
      const query = new URLSearchParams({ data: form.data, path: form.path, alpha: form.alpha, sites: form.sites });
      get(`/api/partition?${query}`).then((p) => { setPreview(p); setError(null); }, (e) => setError(e.message));
    }, 250);  // redrawn once the slider rests, not at every pixel
    return () => clearTimeout(timer);
  }, [form.data, form.path, form.alpha, form.sites]);
  return [preview, error];
}

function ComparisonForm({ algorithms, operator, busy, onStart }) {
  const [form, setForm] = useState({ data: "fashion-mnist", path: "", alpha: 0.5, sites: 10, rounds: 20, seeds: 1, methods: ["fedavg", "ditto", "page"], balance: 0.5 });
  const [preview, previewError] = usePartition(form);
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.type === "number" ? Number(e.target.value) : e.target.value });
  const toggle = (name) => setForm({ ...form, methods: form.methods.includes(name) ? form.methods.filter((m) => m !== name) : [...form.methods, name] });
  // PAGE runs at the slider's balance; the sweep runs it at five balances next to the baselines.
  const request = (balances) => ({
    data: form.data, path: form.path, alpha: form.alpha, sites: form.sites, rounds: form.rounds, seeds: form.seeds,
    methods: form.methods.filter((m) => m !== "page"), balances,
  });
  const single = () => onStart(request(form.methods.includes("page") ? [String(form.balance)] : []));
  const sweep = () => onStart(request(SWEEP_BALANCES));
  return html`<section class="panel">
    <div class="form">
      <label>${t("data")}</label>
      <div class="row">
        <select value=${form.data} onChange=${set("data")} data-testid="data">
          ${(algorithms.data || ["fashion-mnist"]).map((d) => html`<option value=${d}>${d === "fashion-mnist" ? t("data_builtin") : d}</option>`)}
        </select>
        <input type="text" placeholder=${t("data_path")} value=${form.path} onChange=${set("path")} data-testid="data-path" size="40" />
      </div>
      <label><${Help} text="skew" help="skew_help" /></label>
      <div>
        <div class="row"><input type="range" min="0" max="100" value=${positionOf(form.alpha)} data-testid="alpha"
          onInput=${(e) => setForm({ ...form, alpha: alphaOf(Number(e.target.value)) })} /> α = <strong data-testid="alpha-value">${form.alpha}</strong></div>
        <div class="scale"><span>${t("skew_low")}</span><span>${t("skew_high")}</span></div>
      </div>
      <label>${t("sites")}</label><input type="number" min="2" max="1000" value=${form.sites} onChange=${set("sites")} data-testid="sites" />
      <label>${t("methods")}</label>
      <div class="row">${(algorithms.algorithms || []).map((a) => html`<label title=${a.summary}>
        <input type="checkbox" checked=${form.methods.includes(a.name)} onChange=${() => toggle(a.name)} data-testid=${`method-${a.name}`} />${a.name}</label>`)}</div>
      <label>${t("rounds")}</label><input type="number" min="1" max="1000" value=${form.rounds} onChange=${set("rounds")} data-testid="rounds" />
      <label>${t("seeds")}</label><input type="number" min="1" max="10" value=${form.seeds} onChange=${set("seeds")} data-testid="seeds" />
      <label></label><${BalanceSlider} value=${form.balance} onInput=${(balance) => setForm({ ...form, balance })} />
    </div>
    <div class="row" style="margin-top:10px">
      <button class="action" data-testid="start" disabled=${!operator || busy} onClick=${single}>${busy ? t("starting") : t("start")}</button>
      <button class="action secondary" data-testid="sweep" title=${t("sweep_help")} disabled=${!operator || busy} onClick=${sweep}>${t("sweep")}</button>
    </div>
    <${ErrorBox} error=${previewError} />
    ${preview ? html`<${PartitionBars} histogram=${preview} title=${t("partition")} help=${t("partition_help")} />` : null}
  </section>`;
}

function Progress({ state }) {
  const c = state.comparison;
  if (!c) return null;
  const left = c.status === "running" ? secondsLeft(state) : null;
  return html`<section class="panel" data-testid="progress">
    <h2>${t("progress")}: ${c.directory} — <${StatusText} status=${c.status} />${left !== null ? html` · ${t("time_left")} <span data-testid="time-left">${duration(left)}</span>` : null}</h2>
    ${c.error ? html`<${ErrorBox} error=${c.error} />` : null}
    ${c.report ? html`<p><a href=${c.report} target="_blank" data-testid="report-link">${t("open_report")}</a></p>` : null}
    <table>
      <tr><th>${t("run")}</th><th>${t("round")}</th><th></th><th>${t("status")}</th></tr>
      ${(c.runs || []).map((name) => {
        const run = state.runs[name] || { round: 0, total: 0, status: "waiting" };
        const done = run.lastClosed ? run.lastClosed - run.firstRound + 1 : run.status === "finished" ? run.total : 0;
        return html`<tr data-testid=${`run-${name}`}><td>${name}</td><td data-testid="round-counter">${run.round || "–"} / ${run.total || "–"}</td>
          <td><${ProgressBar} done=${done} total=${run.total} /></td><td><${StatusText} status=${run.status} /></td></tr>`;
      })}
    </table>
  </section>`;
}

function TradeOff({ comparison }) {
  const [points, setPoints] = useState([]);
  const [picked, setPicked] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (!comparison || comparison.status !== "finished") return;
    loadSummary(comparison.directory).then((rows) => setPoints(tradeOffPoints(rows)), (e) => setError(e.message));
  }, [comparison && comparison.directory, comparison && comparison.status]);
  const pick = (point) => {
    const run = (comparison.runs || []).find((name) => name.startsWith(`${point.label}-seed`));
    if (run) loadRun(`${comparison.directory}/${run}`).then(setPicked, (e) => setError(e.message));
  };
  if (!points.length) return html`<${ErrorBox} error=${error} />`;
  return html`<section>
    <${TradeOffChart} title=${t("tradeoff")} help=${t("sweep_help")} points=${points} onPick=${pick} />
    <${ErrorBox} error=${error} />
    ${picked ? html`<div data-testid="picked-run"><h2>${picked.name}</h2><${CurvesByRun} runs=${[picked]} /><${Spread} run=${picked} /><${PageChoices} run=${picked} /></div>` : null}
  </section>`;
}

export function PilotView({ state, session, algorithms }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const operator = session.role === "operator";
  const running = state.comparison && state.comparison.status === "running";
  const start = (request) => {
    setBusy(true);
    post("/api/comparisons", request).then(() => setError(null), (e) => setError(e.message)).finally(() => setBusy(false));
  };
  const runs = state.order.map((name) => state.runs[name]);
  const current = state.runs[state.current];
  // PAGE's choices: of the newest run whose agents have chosen something.
  const agents = [...runs].reverse().find((run) => run.lr.length || Object.keys(run.weights).length);
  return html`<div>
    <${ComparisonForm} algorithms=${algorithms} operator=${operator} busy=${busy || running} onStart=${start} />
    <${ErrorBox} error=${error} />
    <${Progress} state=${state} />
    ${current && current.status !== "finished" ? html`<section><h2>${current.name}</h2><${RunControlsPanel} run=${current} operator=${operator} /></section>` : null}
    <${CurvesByRun} runs=${runs} />
    ${current ? html`<div class="grid"><${Spread} run=${current} /></div>` : null}
    ${agents ? html`<${PageChoices} run=${agents} />` : null}
    <${TradeOff} comparison=${state.comparison} />
    <${ControlHistory} controls=${state.controls} />
  </div>`;
}
