// The charts of one run or of several side by side, drawn from the points state.js folds
// (live events) or results.js reads (a finished run's rounds.jsonl): the same pictures either way.
import { html } from "htm/preact";
import { LineChart } from "../charts.js";
import { t } from "../i18n.js";
import { Help, percent } from "../ui.js";

const pointsOf = (rounds, key) => rounds.filter((p) => p[key] !== undefined).map((p) => ({ x: p.round, y: p[key] }));

// G->S and P->L of each run, one line per run.
export function CurvesByRun({ runs }) {
  const withRounds = runs.filter((run) => run.rounds.length);
  if (!withRounds.length) return null;
  const series = (key) => withRounds.map((run) => ({ label: run.name, points: pointsOf(run.rounds, key) }));
  return html`<div class="grid">
    <${LineChart} title=${t("g2s")} help=${t("g2s_help")} yLabel="%" percent series=${series("g2s")} testId="g2s-chart" />
    <${LineChart} title=${t("p2l")} help=${t("p2l_help")} yLabel="%" percent series=${series("p2l")} testId="p2l-chart" />
  </div>`;
}

// The per-site spread of P->L: mean, 10th percentile and worst site.
export function Spread({ run }) {
  if (!run.rounds.some((p) => p.p2l !== undefined)) return null;
  const series = [
    { label: t("p2l"), points: pointsOf(run.rounds, "p2l") },
    { label: t("p2l_p10"), points: pointsOf(run.rounds, "p2lP10"), dash: [6, 4] },
    { label: t("p2l_worst"), points: pointsOf(run.rounds, "p2lWorst"), dash: [2, 3] },
  ];
  return html`<${LineChart} title=${`${t("spread")}: ${run.name}`} help=${t("spread_help")} yLabel="%" percent series=${series} testId="spread-chart" />`;
}

// G->S, G->L, P->L and P->S of one run: what headquarters and the sites each get.
export function FourStreams({ run }) {
  const keys = [["g2s", "G→S"], ["g2l", "G→L"], ["p2l", "P→L"], ["p2s", "P→S"]];
  const series = keys.filter(([key]) => run.rounds.some((p) => p[key] !== undefined)).map(([key, label]) => ({ label, points: pointsOf(run.rounds, key) }));
  if (!series.length) return null;
  return html`<${LineChart} title=${t("streams")} help=${`${t("g2s_help")}\n${t("p2l_help")}`} yLabel="%" percent series=${series} testId="streams-chart" />`;
}

// Worst site and 10th percentile now: the numbers a fairness review asks for.
export function Fairness({ run }) {
  const last = [...run.rounds].reverse().find((p) => p.p2l !== undefined);
  if (!last) return null;
  return html`<div class="panel" data-testid="fairness">
    <h2>${t("fairness")} (${t("round")} ${last.round})</h2>
    <div class="row">
      <div><${Help} text="p2l" help="p2l_help" /><div class="big">${percent(last.p2l)}</div></div>
      <div><${Help} text="p2l_p10" help="p2l_p10_help" /><div class="big">${percent(last.p2lP10)}</div></div>
      <div><${Help} text="p2l_worst" help="p2l_worst_help" /><div class="big">${percent(last.p2lWorst)}</div></div>
    </div>
  </div>`;
}

// PAGE's agents: the learning rates and epochs the sites chose, and the server's weights.
export function PageChoices({ run }) {
  if (!run.lr.length && !Object.keys(run.weights).length) return null;
  const toPoints = (values) => values.map((v) => ({ x: v.round, y: v.value }));
  const weights = Object.entries(run.weights).sort((a, b) => Number(a[0]) - Number(b[0]));
  const most = Math.max(1e-12, ...weights.map(([, w]) => w));
  return html`<section data-testid="page-choices">
    <h2 title=${t("page_choices_help")}>${t("page_choices")}: ${run.name} <span class="hint">?</span></h2>
    <div class="grid">
      <${LineChart} title=${t("lr")} series=${[{ label: t("lr"), points: toPoints(run.lr) }]} testId="lr-chart" />
      <${LineChart} title=${t("epochs")} series=${[{ label: t("epochs"), points: toPoints(run.epochs) }]} testId="epochs-chart" />
      ${weights.length ? html`<div class="panel"><h2>${t("weights")}</h2><table>
        <tr><th>${t("site")}</th><th>weight</th><th></th></tr>
        ${weights.map(([client, w]) => html`<tr><td>${client}</td><td>${w.toFixed(3)}</td><td><div class="bar"><div style=${`width:${(100 * w) / most}%`}></div></div></td></tr>`)}
      </table></div>` : null}
    </div>
  </section>`;
}
