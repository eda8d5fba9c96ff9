// The dashboard server's API (src/pagefl/dashboard/dashboard_server.cpp). Errors carry the
// server's message, which says what to fix.
export class ApiError extends Error {
  constructor(status, message, login) {
    super(message);
    this.status = status;
    this.login = login;
  }
}

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try {
    data = await response.json();
  } catch (_) {
    data = { error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) throw new ApiError(response.status, data.error || response.statusText, data.login);
  return data;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);

// Follows the event stream from the start; the browser reconnects on its own after a drop and
// resumes after the last event it saw (Last-Event-ID).
export function followEvents(onEvent, onGap) {
  const source = new EventSource("/api/events?from=0");
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
  source.addEventListener("gap", () => onGap && onGap());
  return source;
}
