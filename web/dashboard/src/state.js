// The page's picture of what is happening, folded from the event stream one event at a time
// (the same events for a simulated and a deployed run: src/pagefl/dashboard/run_events.cpp).

export function emptyState() {
  return { comparison: null, runs: {}, order: [], current: null, controls: [], sites: {}, newestAt: 0 };
}

function mean(values) {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function newRun(name) {
  return {
    name, algorithm: "", total: 0, firstRound: 1, numClients: 0, settings: {}, status: "waiting",
    rounds: [], round: 0, roundStartedAt: null, participants: [], received: [], refused: [],
    lr: [], epochs: [], weights: {}, pendingLr: [], pendingEpochs: [], startedAt: null, secondsPerRound: null,
  };
}

function site(state, id) {
  if (!state.sites[id]) state.sites[id] = { id, sampled: 0, answered: 0, refused: 0, missed: 0, reason: "", lastSeen: null, p2l: null };
  return state.sites[id];
}

// One line of rounds.jsonl (or a round_closed event's line) as the numbers the charts draw.
export function roundPoint(line) {
  const point = { round: line.round };
  if (line.g2s) point.g2s = line.g2s.acc;
  if (line.p2l) Object.assign(point, { p2l: line.p2l.acc.mean, p2lWorst: line.p2l.acc.worst, p2lP10: line.p2l.acc.p10 });
  if (line.g2l) point.g2l = line.g2l.acc.mean;
  if (line.p2s) point.p2s = line.p2s.acc.mean;
  return point;
}

// The aggregation weights a round's server metrics hold ("weight/<client>"), by client.
export function weightsOf(line) {
  const weights = {};
  for (const [key, value] of Object.entries(line.server || {})) if (key.startsWith("weight/")) weights[key.slice(7)] = value;
  return weights;
}

// Returns the same state object, changed (the caller re-renders).
export function applyEvent(state, event) {
  state.newestAt = event.at;
  const type = event.type;
  if (type === "comparison_started") {
    state.comparison = { directory: event.directory, runs: [], status: "running", who: event.who };
    return state;
  }
  if (type === "comparison_planned") {
    if (!state.comparison) state.comparison = { directory: event.directory, status: "running" };
    state.comparison.runs = event.runs;
    for (const name of event.runs) if (!state.runs[name]) { state.runs[name] = newRun(name); state.order.push(name); }
    return state;
  }
  if (type === "comparison_finished" || type === "comparison_stopped" || type === "comparison_failed") {
    if (!state.comparison) state.comparison = { directory: event.directory, runs: [] };
    state.comparison.status = type.replace("comparison_", "");
    state.comparison.report = event.report;
    state.comparison.error = event.error;
    return state;
  }
  if (type === "run_reused") {
    if (state.runs[event.run]) state.runs[event.run].status = "finished";
    return state;
  }
  if (!event.run) return state;
  if (!state.runs[event.run]) { state.runs[event.run] = newRun(event.run); state.order.push(event.run); }
  const run = state.runs[event.run];
  switch (type) {
    case "run_started":
      Object.assign(run, {
        algorithm: event.algorithm, total: event.total_rounds, firstRound: event.first_round,
        numClients: event.num_clients, settings: event.settings || {}, status: "running", startedAt: event.at,
      });
      state.current = run.name;
      break;
    case "control_applied":
      state.controls.push({ run: run.name, round: event.round, who: event.who, setting: event.setting, old: event.old, new: event.new, at: event.at });
      if (event.setting === "run.state") run.status = event.new === "paused" ? "paused" : event.new === "stopped" ? "stopped" : "running";
      else run.settings[event.setting] = event.new;
      break;
    case "round_started":
      run.round = event.round;
      run.roundStartedAt = event.at;
      run.participants = event.participants;
      run.received = [];
      run.refused = [];
      run.pendingLr = [];
      run.pendingEpochs = [];
      if (event.settings) run.settings = event.settings;
      if (run.status === "paused") run.status = "running";
      for (const id of event.participants) site(state, id).sampled += 1;
      break;
    case "update_received": {
      const client = event.client;
      run.received.push(client.client);
      if (client.rl_lr !== undefined) run.pendingLr.push(client.rl_lr);
      if (client.rl_epochs !== undefined) run.pendingEpochs.push(client.rl_epochs);
      const s = site(state, client.client);
      s.answered += 1;
      s.lastSeen = event.at;
      if (client.p2l_acc !== undefined) s.p2l = client.p2l_acc;
      break;
    }
    case "update_refused": {
      run.refused.push({ client: event.client, reason: event.reason });
      const s = site(state, event.client);
      s.refused += 1;
      s.reason = event.reason;
      s.lastSeen = event.at;
      break;
    }
    case "round_discarded":
      run.discarded = { round: event.round, reason: event.reason };
      break;
    case "round_closed": {
      const line = event.line;
      if (line.evaluated) run.rounds.push(roundPoint(line));
      const lr = mean(run.pendingLr), epochs = mean(run.pendingEpochs);
      if (lr !== null) run.lr.push({ round: event.round, value: lr });
      if (epochs !== null) run.epochs.push({ round: event.round, value: epochs });
      const weights = weightsOf(line);
      if (Object.keys(weights).length) run.weights = weights;
      run.lastClosed = event.round;
      const done = event.round - run.firstRound + 1, elapsed = (event.at - run.startedAt) / 1000;
      run.secondsPerRound = done > 0 ? elapsed / done : null;
      run.roundStartedAt = null;
      // A participant that neither answered nor was refused missed the deadline: a straggler.
      for (const id of run.participants)
        if (!run.received.includes(id) && !run.refused.some((r) => r.client === id)) site(state, id).missed += 1;
      break;
    }
    case "run_ended":
      run.status = event.end;
      run.completed = event.completed;
      break;
  }
  return state;
}

// Seconds left in a comparison: the rounds still to run at the pace seen so far.
export function secondsLeft(state) {
  let pace = null, roundsLeft = 0;
  for (const name of state.order) {
    const run = state.runs[name];
    if (run.secondsPerRound) pace = run.secondsPerRound;
    if (run.status === "finished") continue;
    const total = run.total || (state.runs[state.current] || {}).total || 0;
    roundsLeft += Math.max(0, total - (run.lastClosed ? run.lastClosed - run.firstRound + 1 : 0));
  }
  return pace === null ? null : pace * roundsLeft;
}
