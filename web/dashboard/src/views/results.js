// Finished runs and comparisons in the results directory: the comparison's table and trade-off,
// each run's curves, and the report `pagefl report` wrote.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "../api.js";
import { TradeOffChart } from "../charts.js";
import { t } from "../i18n.js";
import { G2S_COLUMN, P2L_COLUMN, loadRun, loadSummary, tradeOffPoints } from "../results.js";
import { ErrorBox, percent } from "../ui.js";
import { CurvesByRun, PageChoices, Spread } from "./run_charts.js";

function ComparisonDetail({ entry, onRun }) {
  const [rows, setRows] = useState([]);
  const [error, setError] = useState(null);
  useEffect(() => {
    setRows([]);
    if (entry.finished) loadSummary(entry.name).then(setRows, (e) => setError(e.message));
  }, [entry.name]);
  const pick = (point) => {
    const run = entry.runs.find((r) => r.name.startsWith(`${point.label}-seed`));
    if (run) onRun(`${entry.name}/${run.name}`);
  };
  return html`<div data-testid="comparison-detail">
    <${ErrorBox} error=${error} />
    ${entry.report ? html`<p><a href=${`/results/${encodeURIComponent(entry.name)}/report.html`} target="_blank">${t("open_report")}</a></p>` : null}
    ${rows.length ? html`<table>
      <tr><th>${t("methods")}</th><th title=${t("g2s_help")}>G→S</th><th title=${t("p2l_help")}>P→L</th><th title=${t("p2l_worst_help")}>${t("p2l_worst")}</th></tr>
      ${rows.map((row) => html`<tr><td>${row.algorithm}</td><td>${percent(row[G2S_COLUMN])}</td><td>${percent(row[P2L_COLUMN])}</td>
        <td>${percent(row["P->L worst client, final round (mean)"])}</td></tr>`)}
    </table>
    <${TradeOffChart} title=${t("tradeoff")} help=${t("sweep_help")} points=${tradeOffPoints(rows)} onPick=${pick} />` : null}
    <ul>${entry.runs.map((r) => html`<li><a href="#" onClick=${(e) => { e.preventDefault(); onRun(`${entry.name}/${r.name}`); }}>${r.name}</a>${r.finished ? "" : ` (${t("running")})`}</li>`)}</ul>
  </div>`;
}

export function ResultsView() {
  const [entries, setEntries] = useState([]);
  const [chosen, setChosen] = useState(null);
  const [run, setRun] = useState(null);
  const [error, setError] = useState(null);
  const refresh = () => get("/api/results").then((r) => { setEntries(r.results); setError(null); }, (e) => setError(e.message));
  useEffect(() => { refresh(); }, []);
  const openRun = (path) => loadRun(path).then((r) => { setRun(r); setError(null); }, (e) => setError(e.message));
  return html`<div class="grid">
    <section class="panel" data-testid="results">
      <h2>${t("results_dir")} <button class="action secondary" onClick=${refresh}>${t("refresh")}</button></h2>
      <${ErrorBox} error=${error} />
      <table>
        <tr><th>${t("name")}</th><th>${t("kind")}</th><th>${t("status")}</th></tr>
        ${entries.map((entry) => html`<tr><td><a href="#" data-testid=${`result-${entry.name}`} onClick=${(e) => {
          e.preventDefault(); setChosen(entry); setRun(null); if (entry.kind === "run") openRun(entry.name);
        }}>${entry.name}</a></td><td>${entry.kind}</td><td>${entry.finished ? t("finished") : t("running")}</td></tr>`)}
      </table>
    </section>
    <section>
      ${chosen && chosen.kind === "comparison" ? html`<h2>${chosen.name}</h2><${ComparisonDetail} entry=${chosen} onRun=${openRun} />` : null}
      ${run ? html`<div data-testid="run-detail"><h2>${run.name}</h2><${CurvesByRun} runs=${[run]} /><${Spread} run=${run} /><${PageChoices} run=${run} /></div>` : null}
    </section>
  </div>`;
}
