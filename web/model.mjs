// The state of one run as the console sees it, built only from the API's
// events (no DOM here, so Node can test it): the trials in arrival order, the
// parameter and metric columns, the target metric's best-so-far history, the
// spend history for the burn-down, and each step's state. The views read it;
// `apply` reports what changed so they redraw only that.
//
// One row per job: a job's `job_progress` chunks (per-epoch results, no
// hyperparameters) keep a live row (status "running", its epoch and latest
// metrics) that its final chunk (completed, failed, stopped, ...) replaces in
// place. Live metrics never count for the best, the history or the choice of
// the target metric; `chunks` keeps every chunk as streamed.

// Metrics whose name says "lower is better"; everything else is maximised.
// (The example pipeline uses the same rule: train_loss min, val_acc max.)
const MINIMISED = /loss|error|err$|rmse|mae|mse|latency|time|cost/i;
export const directionOf = (metric) => (MINIMISED.test(metric) ? 'min' : 'max');

// Parameters whose space is log-spaced get log-scaled columns and axes: a
// range with scale "log", or a list of positive numbers spanning at least two
// decades (0.0001, 0.001, 0.01).
export function logParams(space) {
  const out = new Set();
  if (!space || typeof space !== 'object') return out;
  for (const [name, levels] of Object.entries(space)) {
    if (levels && !Array.isArray(levels) && typeof levels === 'object' && levels.scale === 'log') out.add(name);
    else if (Array.isArray(levels) && levels.length >= 2 && levels.every((v) => typeof v === 'number' && v > 0) &&
      Math.max(...levels) / Math.min(...levels) >= 100) out.add(name);
  }
  return out;
}

export class RunModel {
  constructor({ metric = null, budget = null, space = null } = {}) {
    this.metric = metric;            // target metric name; null: the first metric seen
    this.direction = metric ? directionOf(metric) : 'max';
    this.budget = typeof budget === 'number' ? budget : null;
    this.logParams = logParams(space);
    this.rows = [];                  // one per job, first-arrival order; row.n is 1-based
    this.byId = new Map();
    this.chunks = [];                // every chunk as streamed (progress chunks too)
    this.params = [];                // hyperparameter names, first-seen order
    this.metrics = [];               // metric names of final chunks, first-seen order
    this.liveMetrics = [];           // names only progress chunks have had so far
    this.live = 0;                   // rows waiting for their final chunk
    this.hasSteps = false;           // a chunk said where a job was (step, epochs): the CSV has those columns
    this.best = null;                // the best completed row
    this.history = { x: [], y: [], best: [] };   // per completed trial with the metric
    this.burn = { t: [], remaining: [], afterCommitted: [], spent: [] };  // hours since start, USD
    this.progress = null;            // the last progress event
    this.steps = new Map();          // step name -> { status, reason }
    this.t0 = null;                  // time_ms of the first event
    this.status = 'idle';            // idle | running | succeeded | failed | cancelled
    this.counts = { completed: 0, failed: 0, retries: 0, stopped: 0 };   // stopped: stopped early
  }

  // Applies events (in order); returns { rows, live, progress, steps, log }:
  // rows when a row was added or changed its state (the views re-sort and
  // re-filter), live when only live rows' epochs and metrics moved (their
  // place in an unsorted view stays); log holds the lines the terminal prints
  // for them with --stream (log events but DEBUG ones, polls that changed
  // something, a STREAM line per chunk, progress chunks included).
  applyAll(events) {
    const changed = { rows: false, live: false, progress: false, steps: false, log: [] };
    for (const ev of events) this.#apply(ev, changed);
    return changed;
  }

  #apply(ev, changed) {
    if (this.t0 === null && typeof ev.time_ms === 'number') this.t0 = ev.time_ms;
    switch (ev.type) {
      case 'chunk':
        this.#chunk(ev.chunk, changed);
        changed.log.push({ time_ms: ev.time_ms, level: 'STREAM', message: JSON.stringify(ev.chunk) });
        break;
      case 'poll':
        if (ev.changed > 0) changed.log.push({ time_ms: ev.time_ms, level: 'INFO', message: ev.message });
        break;
      case 'progress': this.#progress(ev); changed.progress = true; break;
      case 'step': this.steps.set(ev.name, { status: ev.status, reason: ev.reason ?? '' }); changed.steps = true; break;
      case 'log':
        if (ev.level !== 'DEBUG') changed.log.push(ev);
        break;
      case 'done':
        changed.progress = true;
        if (this.end(ev.status)) changed.rows = true;
        break;
      default: break;
    }
  }

  #chunk(c, changed) {
    if (!c || typeof c !== 'object') return;
    this.chunks.push(c);
    if (c.type === 'job_progress') this.#epoch(c, changed);
    else { this.#final(c); changed.rows = true; }
  }

  #newRow(id) {
    const row = {
      n: this.rows.length + 1, id, status: 'running', live: true, retryOf: null, retried: false, hp: {}, metrics: {},
      cost: null, duration: null, error: null, errorType: null, step: null, epochs: null, rung: null, bar: null,
      reason: null, chunk: null,
    };
    this.rows.push(row);
    this.byId.set(id, row);
    return row;
  }

  // A job_progress chunk: the job's live row, created on its first epoch.
  #epoch(c, changed) {
    const id = String(c.job_id ?? '');
    let row = this.byId.get(id);
    if (row && !row.live) return;        // a late epoch after the job's end: the end stands
    if (!row) {
      row = this.#newRow(id);
      this.live++;
      changed.rows = true;
    } else changed.live = true;
    if (typeof c.step === 'number') row.step = c.step;
    if (typeof c.epochs === 'number') row.epochs = c.epochs;
    if (c.metrics && typeof c.metrics === 'object') row.metrics = c.metrics;
    this.hasSteps = true;
    for (const k of Object.keys(row.metrics))
      if (!this.metrics.includes(k) && !this.liveMetrics.includes(k)) { this.liveMetrics.push(k); changed.rows = true; }
  }

  // A job's final chunk: a new row, or its live row replaced in place.
  #final(c) {
    const id = String(c.job_id ?? `#${this.rows.length + 1}`);
    const old = this.byId.get(id);
    const row = old?.live ? old : this.#newRow(id);
    if (old?.live) this.live--;
    Object.assign(row, {
      status: typeof c.type === 'string' ? c.type.replace(/^job_/, '') : 'unknown',
      live: false,
      retryOf: c.retry_of ?? null,
      hp: c.hyperparameters && typeof c.hyperparameters === 'object' ? c.hyperparameters : row.hp,
      metrics: c.metrics && typeof c.metrics === 'object' ? c.metrics : {},
      cost: typeof c.cost_usd === 'number' ? c.cost_usd : null,
      duration: typeof c.duration_seconds === 'number' ? c.duration_seconds : null,
      error: c.error ?? null,
      errorType: c.error_type ?? null,
      chunk: c,
    });
    // The final state is the final chunk's: a job_stopped chunk says where
    // the rule stopped it (`step` and `epochs` its last progress); the others
    // say nothing of epochs, and the live row's last epoch is not theirs.
    for (const k of ['step', 'epochs', 'rung', 'bar']) row[k] = typeof c[k] === 'number' ? c[k] : null;
    row.reason = typeof c.reason === 'string' ? c.reason : null;
    this.hasSteps ||= row.step !== null;
    for (const k of Object.keys(row.hp)) if (!this.params.includes(k)) this.params.push(k);
    for (const k of Object.keys(row.metrics)) if (!this.metrics.includes(k)) {
      this.metrics.push(k);
      const i = this.liveMetrics.indexOf(k);
      if (i >= 0) this.liveMetrics.splice(i, 1);
    }
    if (!this.metric && this.metrics.length) {
      this.metric = this.metrics[0];
      this.direction = directionOf(this.metric);
    }
    if (row.retryOf) {
      this.counts.retries++;
      const orig = this.byId.get(row.retryOf);
      if (orig) orig.retried = true;
    }
    if (row.status === 'completed') this.counts.completed++;
    else if (row.status === 'failed') this.counts.failed++;
    else if (row.status === 'stopped') this.counts.stopped++;
    const v = row.metrics[this.metric];
    if (row.status === 'completed' && typeof v === 'number' && Number.isFinite(v)) {
      if (!this.best || this.better(v, this.best.metrics[this.metric])) this.best = row;
      this.history.x.push(this.history.x.length + 1);
      this.history.y.push(v);
      this.history.best.push(this.best.metrics[this.metric]);
    }
  }

  // The run is over (status: succeeded | failed | cancelled): a live row
  // whose final chunk never came (the run ended first) is no longer running
  // and shows as "unfinished" with its last epoch. True when a row changed.
  end(status) {
    this.status = status;
    if (!this.live || status === 'running') return false;
    for (const r of this.rows) if (r.live) { r.live = false; r.status = 'unfinished'; }
    this.live = 0;
    return true;
  }

  #progress(ev) {
    this.progress = ev;
    if (typeof ev.budget_usd === 'number') this.budget = ev.budget_usd;
    if (this.budget === null || typeof ev.spent_usd !== 'number') return;
    const b = this.burn;
    const t = (ev.time_ms - this.t0) / 3.6e6;
    // committed_usd: money held for jobs submitted and not yet settled.
    const committed = typeof ev.committed_usd === 'number' ? ev.committed_usd : 0;
    // One point per instant: a later event at the same time replaces it.
    if (b.t.length && b.t[b.t.length - 1] === t) for (const k of Object.keys(b)) b[k].pop();
    b.t.push(t);
    b.spent.push(ev.spent_usd);
    b.remaining.push(this.budget - ev.spent_usd);
    b.afterCommitted.push(this.budget - ev.spent_usd - committed);
  }

  better(a, b) {
    return this.direction === 'min' ? a < b : a > b;
  }

  // The rows a filter keeps: all | completed | failed (ended without a
  // result: failed, cancelled, unstarted, unfinished; not stopped early, which
  // is not a failure) | stopped (early) | running (live) | retried (a retry,
  // or a job that was retried).
  filtered(filter) {
    switch (filter) {
      case 'completed': return this.rows.filter((r) => r.status === 'completed');
      case 'failed': return this.rows.filter((r) => r.status !== 'completed' && r.status !== 'stopped' && !r.live);
      case 'stopped': return this.rows.filter((r) => r.status === 'stopped');
      case 'running': return this.rows.filter((r) => r.live);
      case 'retried': return this.rows.filter((r) => r.retryOf || r.retried);
      default: return this.rows;
    }
  }
}
