// Small pieces every view uses: labels with a plain-language explanation on hover, error boxes,
// confirmed actions and number formatting.
import { html } from "htm/preact";
import { t } from "./i18n.js";

// A label whose explanation shows on hover (the `title` tooltip) and to screen readers.
export function Help({ text, help }) {
  return html`<span title=${t(help)} aria-description=${t(help)}>${t(text)} <span class="hint">?</span></span>`;
}

export function ErrorBox({ error }) {
  return error ? html`<div class="error" role="alert">${t("error")}: ${error}</div>` : null;
}

export const percent = (value) => (value === null || value === undefined || Number.isNaN(value) ? "–" : `${(100 * value).toFixed(2)} %`);

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const timeOfDay = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "–");

export function ProgressBar({ done, total }) {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  return html`<div class="bar" role="progressbar" aria-valuenow=${done} aria-valuemax=${total}><div style=${`width:${100 * share}%`}></div></div>`;
}

export function StatusText({ status }) {
  return html`<span class=${`status-${status}`}>${t(status)}</span>`;
}

// Asks before a change is sent; resolves the action's promise either way so callers show errors.
export async function confirmed(question, action) {
  if (!window.confirm(`${t("confirm")}\n\n${question}`)) return false;
  await action();
  return true;
}
