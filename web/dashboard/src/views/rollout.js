// Roll-out: the live federation. Sites and what each did, the open round and its deadline, the
// four streams, fairness across sites, PAGE's weights, and the operator's controls.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox, StatusText, duration, timeOfDay } from "../ui.js";
import { ControlHistory, RunControlsPanel } from "./controls.js";
import { Fairness, FourStreams, PageChoices, Spread } from "./run_charts.js";

function useNow(period = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), period);
    return () => clearInterval(timer);
  }, []);
  return now;
}

// What a site is doing in the open round. Updates are reported when the round closes (in client
// order, so that every observer sees the same record), so a sampled site is "training" until then,
// and "straggling" once the round's deadline has passed without its update.
function siteStatus(site, run, now) {
  if (!run || !run.participants.includes(site.id)) return "idle";
  if (run.received.includes(site.id)) return "answered";
  if (run.refused.some((r) => r.client === site.id)) return "refused";
  if (!run.roundStartedAt) return "straggling";  // the round closed without it
  const deadline = Number((run.settings || {})["deploy.round_deadline_s"]);
  return Number.isFinite(deadline) && now - run.roundStartedAt > deadline * 1000 ? "straggling" : "training";
}

// Connected: sampled in the open round (the server samples only connected sites), or heard from
// within the server's client timeout.
function connected(site, run, now, timeoutSeconds) {
  if (run && run.roundStartedAt && run.participants.includes(site.id)) return true;
  return site.lastSeen !== null && now - site.lastSeen < timeoutSeconds * 1000;
}

function SitesTable({ state, deployment, run }) {
  const now = useNow();
  const ids = new Set(Object.keys(state.sites).map(Number));
  (deployment.sites || []).forEach((_, i) => ids.add(i));
  const names = deployment.sites || [];
  const timeout = deployment.client_timeout_s || 30;
  const rows = [...ids].sort((a, b) => a - b).map((id) => state.sites[id] || { id, sampled: 0, answered: 0, refused: 0, missed: 0, reason: "", lastSeen: null });
  return html`<section class="panel" data-testid="sites">
    <h2>${t("sites_table")}</h2>
    <table>
      <tr><th>${t("site")}</th><th title=${t("connected_help")}>${t("connected")}</th><th>${t("status")}</th><th>${t("sampled")}</th><th>${t("answered")}</th>
        <th>${t("straggled")}</th><th>${t("refused")}</th><th>${t("last_seen")}</th><th title=${t("p2l_help")}>P→L</th><th>${t("reason")}</th></tr>
      ${rows.map((site) => html`<tr data-testid=${`site-${site.id}`}>
        <td>${site.id}${names[site.id] ? ` (${names[site.id]})` : ""}</td><td>${connected(site, run, now, timeout) ? t("yes") : t("no")}</td>
        <td><${StatusText} status=${siteStatus(site, run, now)} /></td>
        <td>${site.sampled}</td><td data-testid="answered">${site.answered}</td><td>${site.missed}</td><td>${site.refused}</td><td>${timeOfDay(site.lastSeen)}</td>
        <td>${site.p2l === null || site.p2l === undefined ? "–" : `${(100 * site.p2l).toFixed(1)} %`}</td><td>${site.reason}</td></tr>`)}
    </table>
  </section>`;
}

function OpenRound({ run }) {
  const now = useNow();
  if (!run) return null;
  const deadline = Number((run.settings || {})["deploy.round_deadline_s"]);
  const open = run.roundStartedAt !== null && run.status !== "finished" && run.status !== "stopped";
  const left = open && Number.isFinite(deadline) ? deadline - (now - run.roundStartedAt) / 1000 : null;
  return html`<section class="panel" data-testid="open-round">
    <h2>${t("open_round")}: ${t("round")} <span data-testid="open-round-number">${run.round || "–"}</span> / ${run.total || "–"} — <${StatusText} status=${run.status} /></h2>
    ${open ? html`<p>${run.received.length} / ${run.participants.length} ${t("answered")}${left !== null ? html` · ${t("deadline_left")} <strong data-testid="deadline-left">${duration(left)}</strong>` : null}</p>` : null}
    <details><summary>${t("settings_in_force")}</summary><table>
      ${Object.entries(run.settings || {}).map(([key, value]) => html`<tr><td>${key}</td><td data-testid=${`setting-${key}`}>${value}</td></tr>`)}
    </table></details>
  </section>`;
}

export function RolloutView({ state, session }) {
  const [deployment, setDeployment] = useState({});
  const [error, setError] = useState(null);
  useEffect(() => { get("/api/deployment").then(setDeployment, (e) => setError(e.message)); }, []);
  const run = state.runs[state.current];
  return html`<div>
    <${ErrorBox} error=${error} />
    <${OpenRound} run=${run} />
    <section><${RunControlsPanel} run=${run} operator=${session.role === "operator"} /></section>
    <${SitesTable} state=${state} deployment=${deployment} run=${run} />
    ${run ? html`<div class="grid"><${FourStreams} run=${run} /><${Spread} run=${run} /></div><${Fairness} run=${run} /><${PageChoices} run=${run} />` : null}
    <${ControlHistory} controls=${state.controls} />
  </div>`;
}
