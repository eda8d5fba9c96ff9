// A deployment's audit log: who sent what update when, the models sent out, and the operators'
// changes; searchable by site, round and status, with full hashes.
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { get } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox } from "../ui.js";

export function AuditView() {
  const [query, setQuery] = useState({ kind: "updates", site: "", round: "", status: "" });
  const [table, setTable] = useState(null);
  const [error, setError] = useState(null);
  const search = () => {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== ""));
    get(`/api/audit?${params}`).then((result) => { setTable(result); setError(null); }, (e) => setError(e.message));
  };
  useEffect(search, [query.kind]);
  const set = (key) => (e) => setQuery({ ...query, [key]: e.target.value });
  return html`<section class="panel" data-testid="audit">
    <div class="row">
      <select value=${query.kind} onChange=${set("kind")} data-testid="audit-kind">
        <option value="updates">${t("updates")}</option><option value="models">${t("models")}</option><option value="events">${t("events")}</option>
      </select>
      <label>${t("site")} <input type="text" size="6" value=${query.site} onInput=${set("site")} data-testid="audit-site" /></label>
      <label>${t("round")} <input type="number" min="0" value=${query.round} onInput=${set("round")} data-testid="audit-round" /></label>
      <label>${t("status")} <input type="text" size="10" value=${query.status} onInput=${set("status")} data-testid="audit-status" /></label>
      <button class="action" onClick=${search} data-testid="audit-search">${t("search")}</button>
    </div>
    <${ErrorBox} error=${error} />
    ${table ? html`<table data-testid="audit-table">
      <tr>${table.columns.map((c) => html`<th>${c}</th>`)}</tr>
      ${table.rows.map((row) => html`<tr>${row.map((cell, i) => html`<td class=${/hash|sha/.test(table.columns[i]) ? "hash" : ""}>${cell}</td>`)}</tr>`)}
    </table><p class="note">${table.rows.length} (≤ ${table.limit})</p>` : null}
  </section>`;
}
