// The dashboard's shell: logs in when the server asks, follows the event stream into one state,
// and shows the views this process offers (the pilot, or a deployment's roll-out and audit log).
import { html, render } from "htm/preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import { ApiError, followEvents, get, post } from "./api.js";
import { currentLanguage, setLanguage, t } from "./i18n.js";
import { applyEvent, emptyState } from "./state.js";
import { ErrorBox } from "./ui.js";
import { AuditView } from "./views/audit.js";
import { PilotView } from "./views/pilot.js";
import { ResultsView } from "./views/results.js";
import { RolloutView } from "./views/rollout.js";

function Login({ onDone }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState(null);
  const submit = (e) => {
    e.preventDefault();
    post("/api/login", { token }).then(onDone, (err) => setError(err.message));
  };
  return html`<form class="panel login" onSubmit=${submit} data-testid="login">
    <h2>${t("login")}</h2>
    <p><input type="password" placeholder=${t("token")} value=${token} onInput=${(e) => setToken(e.target.value)} data-testid="token" size="36" /></p>
    <button class="action" type="submit" data-testid="login-button">${t("login")}</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

// Folds events into the state as they come and redraws at most once per animation frame, so a
// burst of updates costs one render.
function useEventState(active) {
  const state = useRef(emptyState());
  const [, redraw] = useReducer((n) => n + 1, 0);
  const [gap, setGap] = useState(false);
  useEffect(() => {
    if (!active) return;
    let pending = false;
    const source = followEvents((event) => {
      applyEvent(state.current, event);
      if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; redraw(); }); }
    }, () => setGap(true));
    return () => source.close();
  }, [active]);
  return [state.current, gap];
}

function App() {
  const [session, setSession] = useState(null);
  const [needsLogin, setNeedsLogin] = useState(false);
  const [error, setError] = useState(null);
  const [algorithms, setAlgorithms] = useState({});
  const [tab, setTab] = useState(null);
  const [, relabel] = useReducer((n) => n + 1, 0);
  const loadSession = () =>
    get("/api/session").then((s) => { setSession(s); setNeedsLogin(false); setTab(s.mode === "pilot" ? "pilot" : "rollout"); },
      (e) => (e instanceof ApiError && e.login ? setNeedsLogin(true) : setError(e.message)));
  useEffect(() => { document.documentElement.lang = currentLanguage(); loadSession(); }, []);
  useEffect(() => { if (session) get("/api/algorithms").then(setAlgorithms, (e) => setError(e.message)); }, [session]);
  const [state, gap] = useEventState(!!session);
  const switchLanguage = () => { setLanguage(currentLanguage() === "en" ? "ja" : "en"); relabel(); };

  const tabs = session ? (session.mode === "pilot" ? ["pilot", "results"] : ["rollout", "audit", "results"]) : [];
  return html`<div>
    <header>
      <h1>${t("title")}</h1>
      <nav>${tabs.map((name) => html`<button class=${tab === name ? "active" : ""} data-testid=${`tab-${name}`} onClick=${() => setTab(name)}>${t(`tab_${name}`)}</button>`)}</nav>
      <span class="who" data-testid="who">${session ? `${session.who} · ${t(`role_${session.role}`)}` : ""}</span>
      <button class="action secondary" data-testid="language" onClick=${switchLanguage}>${t("language")}</button>
    </header>
    <main>
      <${ErrorBox} error=${error} />
      ${gap ? html`<p class="note">${t("gap")}</p>` : null}
      ${needsLogin ? html`<${Login} onDone=${loadSession} />` : null}
      ${session && tab === "pilot" ? html`<${PilotView} state=${state} session=${session} algorithms=${algorithms} />` : null}
      ${session && tab === "rollout" ? html`<${RolloutView} state=${state} session=${session} />` : null}
      ${session && tab === "audit" ? html`<${AuditView} />` : null}
      ${session && tab === "results" ? html`<${ResultsView} />` : null}
    </main>
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
