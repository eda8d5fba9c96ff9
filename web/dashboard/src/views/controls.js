// An operator's controls over the run in progress: pause, resume, stop, and the settings that may
// change between rounds. Each asks for confirmation; the server applies it from the next round,
// records it in the run's files (and a deployment's audit log), and the history below shows it.
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { post } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox, Help, confirmed, timeOfDay } from "../ui.js";

const send = (body) => post("/api/controls", body);

// The balance as a slider in plain words: each site's own model on the left, the company-wide
// model on the right.
export function BalanceSlider({ value, onInput, testId = "balance" }) {
  return html`<div>
    <div><${Help} text="balance" help="balance_help" /> <strong data-testid=${`${testId}-value`}>${Number(value).toFixed(2)}</strong></div>
    <input type="range" min="0" max="1" step="0.05" value=${value} data-testid=${testId}
      onInput=${(e) => onInput(Number(e.target.value))} aria-label=${t("balance")} />
    <div class="scale"><span>${t("balance_local")}</span><span>${t("balance_global")}</span></div>
  </div>`;
}

function SettingInput({ label, setting, current, step, min, max, disabled, onApply }) {
  const [value, setValue] = useState("");
  return html`<div class="row">
    <label>${t(label)} (${current ?? "–"})</label>
    <input type="number" step=${step} min=${min} max=${max} value=${value} data-testid=${`set-${setting}`}
      onInput=${(e) => setValue(e.target.value)} disabled=${disabled} />
    <button class="action secondary" disabled=${disabled || value === ""} data-testid=${`apply-${setting}`}
      onClick=${() => onApply(setting, Number(value), current)}>${t("apply")}</button>
  </div>`;
}

export function RunControlsPanel({ run, operator }) {
  const [error, setError] = useState(null);
  const [balance, setBalance] = useState(null);
  if (!run) return html`<p class="note">${t("no_run")}</p>`;
  const settings = run.settings || {};
  const can = (setting) => operator && settings[setting] !== undefined;
  const act = (question, body) =>
    confirmed(question, () => send(body)).then(() => setError(null), (e) => setError(e.message));
  const setTo = (setting, value, old) => act(`${setting}: ${old} → ${value}`, { action: "set", setting, value });
  const live = run.status === "running" || run.status === "paused";
  const shownBalance = balance ?? Number(settings["page.balance"] ?? 0.5);
  return html`<div class="panel" data-testid="controls">
    ${!operator ? html`<p class="note">${t("viewer_note")}</p>` : null}
    <div class="row">
      <button class="action" data-testid="pause" disabled=${!operator || !live} onClick=${() => act(t("pause"), { action: "pause" })}>${t("pause")}</button>
      <button class="action" data-testid="resume" disabled=${!operator || !live} onClick=${() => act(t("resume"), { action: "resume" })}>${t("resume")}</button>
      <button class="action secondary" data-testid="stop" disabled=${!operator || !live} onClick=${() => act(t("stop"), { action: "stop" })}>${t("stop")}</button>
    </div>
    <${SettingInput} label="participation" setting="algorithm.participation" current=${settings["algorithm.participation"]}
      step="0.05" min="0.01" max="1" disabled=${!can("algorithm.participation") || !live} onApply=${setTo} />
    ${settings["deploy.round_deadline_s"] !== undefined ? html`<${SettingInput} label="deadline" setting="deploy.round_deadline_s"
      current=${settings["deploy.round_deadline_s"]} step="1" min="1" disabled=${!can("deploy.round_deadline_s") || !live} onApply=${setTo} />` : null}
    ${settings["page.balance"] !== undefined ? html`<div class="row">
      <${BalanceSlider} value=${shownBalance} onInput=${setBalance} testId="live-balance" />
      <button class="action" data-testid="apply-balance" disabled=${!operator || !live || balance === null}
        onClick=${() => setTo("page.balance", shownBalance, settings["page.balance"]).then(() => setBalance(null))}>${t("apply")}</button>
    </div>` : null}
    <${ErrorBox} error=${error} />
  </div>`;
}

export function ControlHistory({ controls }) {
  if (!controls.length) return null;
  return html`<section data-testid="history"><h2>${t("history")}</h2><table>
    <tr><th>${t("round")}</th><th>${t("who")}</th><th>${t("setting")}</th><th>${t("old_value")}</th><th>${t("new_value")}</th><th></th></tr>
    ${controls.map((c) => html`<tr><td>${c.round}</td><td>${c.who}</td><td>${c.setting}</td><td>${c.old}</td><td>${c.new}</td><td>${timeOfDay(c.at)}</td></tr>`)}
  </table></section>`;
}
