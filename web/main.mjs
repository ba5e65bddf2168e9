// The console's wiring: reads the form, validates the YAML through the
// worker, starts and cancels runs, feeds the run's events into the model and
// redraws the views at most once per animation frame (the costlier views
// less often), and keeps the settings in the URL fragment.
import { Runner } from './runner.mjs';
import { RunModel } from './model.mjs';
import { Editor, showDiagnostics } from './editor.mjs';
import { InputsForm } from './form.mjs';
import { ResultsTable } from './table.mjs';
import { Charts } from './charts.mjs';
import { ParCoords } from './parcoords.mjs';
import { DagView } from './dag.mjs';
import { LogView } from './log.mjs';
import { showFinal } from './final.mjs';
import { download, runFiles, toCsv } from './export.mjs';
import { cliCommand, fromFragment, toFragment } from './state.mjs';
import { fmtNum, fmtUsd } from './format.mjs';
import { onSchemeChange } from './theme.mjs';

const $ = (id) => document.getElementById(id);
const EXAMPLE = 'dist/examples/vertex_foundry/';

const ui = {
  status: $('status'), form: $('form'), run: $('run'), cancel: $('cancel'), validate: $('validate'),
  pipeline: $('pipeline'), seed: $('seed'), clock: $('clock'), timeScale: $('time-scale'), conductor: $('conductor-url'), solver: $('solver-url'),
  auth: $('auth'), diagnostics: $('diagnostics'), cli: $('cli'), summary: $('summary'), progress: $('progress'),
  filter: $('filter'), pause: $('pause'), rowCount: $('row-count'), final: $('final'),
};
const editors = { ws: new Editor($('ws-text'), $('ws-file')), pl: new Editor($('pl-text'), $('pl-file')) };
const inputsForm = new InputsForm($('inputs'));
const table = new ResultsTable($('table-scroll'), $('results-table'));
const charts = new Charts($('history'), $('burn'));
const parcoords = new ParCoords($('parcoords'));
const dag = new DagView($('dag'));
const log = new LogView($('log'));
const runner = new Runner();

let example = null;           // { workspace, http, pipelines } texts of the bundled example
let pipelines = [];           // from the last validation
let triggers = new Map();     // step -> trigger step, per pipeline
let model = new RunModel();
let running = false;
let lastResult = null;
let runSettings = null;

const source = () => ui.form.elements.source.value;
const mode = () => ui.form.elements.mode.value;

function setStatus(text, cls = '') {
  ui.status.textContent = text;
  ui.status.className = cls;
}

// ---- settings, fragment, CLI line ----

function settings() {
  return {
    source: source(), wsFile: editors.ws.name, plFile: editors.pl.name, wsText: editors.ws.text,
    plText: editors.pl.text, pipeline: ui.pipeline.value, seed: ui.seed.value.trim(), mode: mode(),
    clock: ui.clock.value, timeScale: ui.timeScale.value.trim(), conductor: ui.conductor.value.trim(), solver: ui.solver.value.trim(),
    inputs: inputsForm.read().values ?? {},
  };
}

function showCli() {
  const s = settings();
  ui.cli.textContent = s.pipeline ? cliCommand(s) : '';
  history.replaceState(null, '', toFragment(s));
}

async function applySettings(s) {
  if (s.source) ui.form.elements.source.value = s.source === 'paste' ? 'paste' : 'example';
  if (s.source === 'paste') {
    if (s.wsFile) editors.ws.file.value = s.wsFile;
    if (s.plFile) editors.pl.file.value = s.plFile;
    editors.ws.text = s.wsText ?? '';
    editors.pl.text = s.plText ?? '';
  } else {
    await useExample();
  }
  if (s.seed !== undefined) ui.seed.value = s.seed;
  if (s.mode) ui.form.elements.mode.value = s.mode === 'servers' ? 'servers' : 'embedded';
  if (s.clock) ui.clock.value = s.clock === 'real' ? 'real' : 'virtual';
  if (s.timeScale) ui.timeScale.value = s.timeScale;
  if (s.conductor) ui.conductor.value = s.conductor;
  if (s.solver) ui.solver.value = s.solver;
  showMode();
  await validate({ pipeline: s.pipeline, inputs: s.inputs });
}

// ---- sources ----

async function useExample() {
  if (!example) {
    const get = async (f) => {
      const r = await fetch(EXAMPLE + f);
      if (!r.ok) throw new Error(`${EXAMPLE}${f}: HTTP ${r.status}`);
      return r.text();
    };
    example = { workspace: await get('workspace.yaml'), http: await get('workspace.http.yaml'),
      pipelines: await get('pipelines.yaml') };
  }
  editors.ws.file.value = mode() === 'servers' ? 'workspace.http.yaml' : 'workspace.yaml';
  editors.pl.file.value = 'pipelines.yaml';
  editors.ws.text = mode() === 'servers' ? example.http : example.workspace;
  editors.pl.text = example.pipelines;
}

async function upload(files) {
  for (const f of files) {
    const text = await f.text();
    const ed = /^pipelines\s*:/m.test(text) ? editors.pl : editors.ws;
    ed.file.value = f.name;
    ed.text = text;
  }
  ui.form.elements.source.value = 'paste';
  await validate();
}

// ---- validation ----

// Pipelines as validation describes them, from a loaded pipelines tree:
// { name, inputs: [{ name, type, default?, description? }], steps: [{ name, kind, needs }] }.
const KINDS = ['call', 'assert', 'poll', 'retry', 'suggest', 'aggregate', 'select', 'compute', 'handle'];
function describe(tree) {
  const out = [];
  const ps = tree?.pipelines && typeof tree.pipelines === 'object' ? tree.pipelines : {};
  for (const [name, p] of Object.entries(ps)) {
    const inputs = Object.entries(p?.inputs ?? {}).map(([n, d]) => ({ name: n, type: d?.type ?? 'string',
      ...(d && 'default' in d ? { default: d.default } : {}), ...(d?.description ? { description: d.description } : {}) }));
    const steps = Object.entries(p?.steps ?? {}).map(([n, s]) => ({ name: n, kind: KINDS.find((k) => s && k in s) ?? 'step',
      needs: Array.isArray(s?.needs) ? s.needs : [] }));
    out.push({ name, inputs, steps });
  }
  return out;
}

function stepTriggers(tree) {
  const map = new Map();
  for (const [name, p] of Object.entries(tree?.pipelines ?? {})) {
    const t = new Map();
    for (const [s, def] of Object.entries(p?.steps ?? {}))
      if (typeof def?.on === 'string') t.set(s, def.on.split('.')[0]);
    map.set(name, t);
  }
  return map;
}

let validating = null;
async function validate(keep = {}) {
  const ws = { file: editors.ws.name, text: editors.ws.text };
  const pl = { file: editors.pl.name, text: editors.pl.text };
  const job = (async () => {
    let diags = [], list = null;
    // validate() checks both files as the terminal does; the YAML tree of the
    // pipelines file also gives the `on:` triggers for the DAG.
    const tree = await runner.loadYaml(pl.file, pl.text);
    if (runner.api.validate) {
      const v = await runner.validate({ workspace: ws, pipelines: pl });
      diags = v.diagnostics ?? [];
      list = v.pipelines ?? null;
    } else {
      const w = await runner.validateWorkspace(ws.file, ws.text);
      diags = [...w.diagnostics, ...tree.diagnostics];
    }
    if (tree.ok) {
      list ??= describe(tree.value);
      triggers = stepTriggers(tree.value);
    }
    // Validation names each step's trigger (`on: STEP.event`) itself.
    for (const p of list ?? []) {
      if (!p.steps.some((st) => typeof st.on === 'string')) continue;
      triggers.set(p.name, new Map(p.steps.filter((st) => typeof st.on === 'string').map((st) => [st.name, st.on.split('.')[0]])));
    }
    return { diags, list: list ?? [] };
  })();
  validating = job;
  const { diags, list } = await job;
  if (validating !== job) return diags;   // a newer validation superseded this one
  markDiagnostics(diags);
  if (list.length) {
    const want = keep.pipeline ?? ui.pipeline.value;
    const before = pipelines.find((p) => p.name === ui.pipeline.value);
    pipelines = list;
    ui.pipeline.replaceChildren(...list.map((p) => new Option(p.name, p.name)));
    if (list.some((p) => p.name === want)) ui.pipeline.value = want;
    const p = currentPipeline();
    const sameInputs = before && JSON.stringify(before.inputs) === JSON.stringify(p.inputs) && before.name === p.name;
    if (keep.inputs || !sameInputs) inputsForm.show(p.inputs, keep.inputs ?? (sameInputs ? inputsForm.read().values : {}));
    dag.show(p.steps, triggers.get(p.name));
  }
  ui.run.disabled = running;
  showCli();
  return diags;
}

function markDiagnostics(diags) {
  const editorFor = (f) => (f === editors.ws.name ? editors.ws : f === editors.pl.name ? editors.pl : null);
  editors.ws.mark(diags.filter((d) => d.file === editors.ws.name));
  editors.pl.mark(diags.filter((d) => d.file === editors.pl.name));
  showDiagnostics(ui.diagnostics, diags, editorFor);
}

const currentPipeline = () => pipelines.find((p) => p.name === ui.pipeline.value) ?? pipelines[0];

let validateTimer = 0;
function validateSoon() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(() => validate(), 300);
}

// ---- runs ----

async function start() {
  if (running) return;
  const diags = await validate();
  if (diags.length) {
    setStatus(`Not started: ${diags.length} problem(s) in the YAML (listed under the editors).`, 'failed');
    ui.diagnostics.querySelector('button')?.focus();
    return;
  }
  if (!currentPipeline()) {
    setStatus('Not started: the pipelines file defines no pipeline.', 'failed');
    return;
  }
  const read = inputsForm.read();
  if (read.error) {
    setStatus(`Not started: ${read.error}`, 'failed');
    read.field.focus();
    return;
  }
  const s = settings();
  if (s.seed !== '' && !/^[0-9]+$/.test(s.seed)) {
    setStatus('Not started: the seed must be a whole number (0 or more).', 'failed');
    ui.seed.focus();
    return;
  }
  const args = {
    workspace: { file: s.wsFile, text: s.wsText }, pipelines: { file: s.plFile, text: s.plText },
    pipeline: s.pipeline, inputs: s.inputs, mode: s.mode,
  };
  if (s.seed !== '') args.seed = s.seed;
  if (s.mode === 'embedded') {
    args.clock = s.clock;
    if (s.clock === 'real' && s.timeScale !== '') {
      const ts = Number(s.timeScale);
      if (!(ts >= 1e-3 && ts <= 1e9)) {
        setStatus('Not started: the time scale is a number from 0.001 to 1e9.', 'failed');
        ui.timeScale.focus();
        return;
      }
      args.timeScale = ts;
    }
  } else {
    args.servers = {};
    if (s.conductor) args.servers.conductor = s.conductor;
    if (s.solver) args.servers.solver = s.solver;
    if (ui.auth.value.trim()) args.headers = { Authorization: ui.auth.value.trim() };
  }
  runSettings = s;
  history.replaceState(null, '', toFragment(s));
  ui.cli.textContent = cliCommand(s);

  const p = currentPipeline();
  const defaults = Object.fromEntries(p.inputs.filter((i) => 'default' in i).map((i) => [i.name, i.default]));
  const all = { ...defaults, ...s.inputs };
  const metric = typeof all.target_metric === 'string' ? all.target_metric
    : typeof all.metric === 'string' ? all.metric : null;
  model = new RunModel({ metric, budget: typeof all.budget_usd === 'number' ? all.budget_usd : null,
    space: all.param_space ?? all.parameter_space ?? null });
  model.status = 'running';
  table.setModel(model);
  charts.reset(metric);
  log.clear();
  dag.reset();
  ui.final.hidden = true;
  lastResult = null;
  resetDrawing();
  running = true;
  ui.run.disabled = true;
  ui.cancel.disabled = false;
  ui.summary.className = 'summary';
  ui.summary.textContent = `Running ${s.pipeline}…`;
  setStatus(`Running ${s.pipeline} (${s.mode === 'embedded' ? `embedded, ${s.clock} clock` : 'MCP servers'})${
    runner.inWorker ? '' : ' in the page (no worker)'}.`);
  parcoords.draw(model, []);
  runner.run(args);
}

// ---- drawing ----

// Views redraw from the model, never from events, and never all in one go:
// each animation frame runs the cheap updates (log, steps, summary) and at
// most one costly view (table, charts, parallel coordinates), the one waiting
// longest, so no frame's task grows with the sweep beyond one view's cost.
// A costly view also waits between redraws in proportion to the rows it
// draws (ms per row), so a 10,000-trial stream redraws each about once a second.
const VIEWS = {
  table: { minMs: 0, perRow: 0.01, draw: () => {
    table.render();
    ui.rowCount.textContent = `${table.view.length} of ${model.rows.length} trials shown`;
  } },
  charts: { minMs: 250, perRow: 0.1, draw: () => charts.update(model) },
  parcoords: { minMs: 800, perRow: 0.15, draw: () => parcoords.draw(model, model.filtered(table.filter)) },
};
const SUMMARY_MS = 1000;

// Runs fn as a User Timing measure named "console:NAME" (seen in a browser's
// performance tools, and read by the large-sweep test to say what was slow).
function timed(name, fn) {
  const start = performance.now();
  try {
    return fn();
  } finally {
    performance.measure(`console:${name}`, { start, end: performance.now() });
  }
}
let frame = 0;
let timer = 0;
let lastSummary = 0;
const dirty = { views: new Set(), progress: false, steps: false, log: [], at: new Map() };

function resetDrawing() {
  dirty.views.clear();
  dirty.at.clear();
  for (const v of Object.values(VIEWS)) v.last = 0;
  lastSummary = 0;
}

function markViews(...names) {
  for (const n of names) dirty.views.add(n);
  schedule();
}

function onEvents(events) {
  const c = timed('events', () => model.applyAll(events));
  if (c.rows) markViews('table', 'charts', 'parcoords');
  if (c.progress) markViews('charts');
  dirty.progress ||= c.progress;
  dirty.steps ||= c.steps;
  if (c.log.length) dirty.log.push(...c.log);
  schedule();
}

function schedule(delay = 0) {
  if (frame || (timer && delay)) return;
  if (delay) timer = setTimeout(() => { timer = 0; schedule(); }, delay);
  else frame = requestAnimationFrame(draw);
}

function draw(now = performance.now()) {
  frame = 0;
  const ending = model.status !== 'running';
  if (dirty.log.length) { timed('log', () => log.append(dirty.log)); dirty.log = []; }
  if (dirty.steps) { dag.update(model.steps); dirty.steps = false; }
  if (dirty.progress && (ending || now - lastSummary >= SUMMARY_MS)) {
    summary();
    lastSummary = now;
    dirty.progress = false;
  }
  let wait = dirty.progress ? SUMMARY_MS - (now - lastSummary) : Infinity;
  if (!ui.pause.checked || ending) {
    // The costly view whose redraw is most overdue.
    let pick = null, pickLate = -Infinity;
    for (const name of dirty.views) {
      const v = VIEWS[name];
      const interval = ending ? 0 : Math.max(v.minMs, v.perRow * model.rows.length);
      const late = now - (v.last ?? 0) - interval;
      if (late >= 0 && late > pickLate) { pick = name; pickLate = late; }
      else if (late < 0) wait = Math.min(wait, -late);
    }
    if (pick) {
      timed(pick, VIEWS[pick].draw);
      VIEWS[pick].last = now;
      dirty.views.delete(pick);
      if (dirty.views.size) wait = 0;
    }
  }
  if (wait === 0) schedule();
  else if (wait !== Infinity) schedule(Math.ceil(wait));
}

function summary() {
  const p = model.progress;
  const m = model.metric;
  const parts = [];
  if (p) {
    parts.push(`${p.done ?? model.rows.length}${p.total ? ` of ${p.total}` : ''} trials finished (${p.completed ?? model.counts.completed} completed, ${
      p.failed ?? model.counts.failed} failed${p.cancelled ? `, ${p.cancelled} cancelled` : ''}), ${p.running ?? 0} running, ${p.queued ?? 0} queued`);
    ui.progress.max = Math.max(1, p.total ?? 0);
    ui.progress.value = p.done ?? 0;
  } else parts.push(`${model.rows.length} trials finished`);
  if (model.best) parts.push(`best ${m} ${fmtNum(model.best.metrics[m])} (${model.best.id})`);
  if (p && typeof p.spent_usd === 'number') {
    const c = model.committed(p);
    parts.push(`spent ${fmtUsd(p.spent_usd)}${c.usd > 0 ? ` + ${c.estimated ? 'about ' : ''}${fmtUsd(c.usd)} committed` : ''}${
      model.budget !== null ? ` of ${fmtUsd(model.budget)}` : ''}`);
    $('burn-text').textContent = parts[parts.length - 1];
  }
  if (model.best) $('history-text').textContent = `${model.history.x.length} trials with ${m}; best ${fmtNum(model.best.metrics[m])} (${model.best.id}).`;
  const pc = parcoords.shown;
  $('parcoords-text').textContent = `${model.params.length} parameters and ${m ?? 'the metric'} over ${model.counts.completed} completed trials${
    pc && pc.lines < pc.of ? ` (lines drawn: the best 500 and an even sample, ${pc.lines} in all)` : ''}.`;
  const head = { running: 'Running', succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' }[model.status] ?? '';
  ui.summary.textContent = `${head}: ${parts.join(' · ')}`;
  ui.summary.dataset.status = model.status;
}

function onDone(result) {
  running = false;
  lastResult = result;
  model.status = result?.status ?? 'failed';
  dirty.progress = true;
  // The table at once (it draws only the rows on screen), so the rows and the
  // final summary show together; the charts follow in the next frames.
  timed('table', VIEWS.table.draw);
  VIEWS.table.last = performance.now();
  dirty.views.delete('table');
  markViews('charts', 'parcoords');
  summary();
  ui.summary.className = `summary ${model.status}`;
  if (result?.error) ui.summary.textContent += ` · ${result.error}`;
  const diags = result?.diagnostics ?? [];
  if (diags.length) markDiagnostics(diags);
  ui.run.disabled = false;
  ui.cancel.disabled = true;
  const name = Object.keys(result?.outputs ?? {}).find((f) => f.endsWith('sweep_output.json'))
    ?? Object.keys(result?.outputs ?? {})[0];
  const out = name ? result.outputs[name] : null;
  showFinal({ best: $('best'), top3: $('top3'), cost: $('cost') }, out, model.metric);
  ui.final.hidden = false;
  setStatus(`Run ${model.status} (exit ${result?.exit_code ?? '?'}).`, model.status === 'succeeded' ? '' : 'failed');
}

// ---- events ----

runner.onEvents = onEvents;
runner.onDone = (result) => timed('done', () => onDone(result));
runner.onError = (message, request) => {
  if (request === 'run') {
    onDone({ status: 'failed', exit_code: 1, error: message, outputs: {}, files: {}, stream: [] });
  }
  setStatus(`Error: ${message}`, 'failed');
};

ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); start(); });
ui.cancel.addEventListener('click', () => {
  if (!running) return;
  ui.cancel.disabled = true;
  setStatus('Cancelling: submitted jobs are being cancelled…');
  runner.cancel();
});
ui.validate.addEventListener('click', async () => {
  const d = await validate();
  setStatus(d.length ? `${d.length} problem(s) in the YAML.` : 'Valid.', d.length ? 'failed' : '');
});
for (const ed of Object.values(editors)) {
  ed.ta.addEventListener('input', () => { ui.form.elements.source.value = 'paste'; validateSoon(); });
  ed.file.addEventListener('change', () => validate());
  ed.ta.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); start(); }
  });
}
for (const r of ui.form.elements.source) r.addEventListener('change', async () => {
  if (source() === 'example') { await useExample(); await validate(); }
});
for (const r of ui.form.elements.mode) r.addEventListener('change', async () => {
  showMode();
  if (source() === 'example') { await useExample(); await validate(); } else showCli();
});
$('upload').addEventListener('change', (ev) => upload([...ev.target.files]));
ui.pipeline.addEventListener('change', () => {
  const p = currentPipeline();
  inputsForm.show(p.inputs);
  dag.show(p.steps, triggers.get(p.name));
  showCli();
});
$('inputs').addEventListener('input', showCli);
for (const el of [ui.seed, ui.clock, ui.timeScale, ui.conductor, ui.solver]) el.addEventListener('input', showCli);
ui.clock.addEventListener('change', showMode);
ui.filter.addEventListener('change', () => {
  table.filter = ui.filter.value;
  timed('table', VIEWS.table.draw);     // at once: the user is looking at it
  VIEWS.parcoords.last = 0;
  markViews('parcoords');
});
ui.pause.addEventListener('change', () => { if (!ui.pause.checked) markViews('table', 'charts', 'parcoords'); });
$('copy-cli').addEventListener('click', async () => {
  showCli();
  try { await navigator.clipboard.writeText(ui.cli.textContent); setStatus('Command copied.'); }
  catch { setStatus('Copy the command shown under the buttons.'); }
});
$('copy-link').addEventListener('click', async () => {
  const url = location.href.split('#')[0] + toFragment(settings(), { run: true });
  try { await navigator.clipboard.writeText(url); setStatus('Link copied: opening it runs the same sweep.'); }
  catch { setStatus(`Link: ${url}`); }
});
$('dl-json').addEventListener('click', () => {
  const f = runFiles(lastResult, model);
  if (f.json) download('sweep_output.json', f.json, 'application/json');
});
$('dl-jsonl').addEventListener('click', () => {
  const f = runFiles(lastResult, model);
  download(f.jsonlName, f.jsonl, 'application/x-ndjson');
});
$('dl-csv').addEventListener('click', () => download('sweep_trials.csv', toCsv(model), 'text/csv'));
onSchemeChange(() => { charts.rebuild(model); parcoords.draw(model, model.filtered(table.filter)); });

function showMode() {
  $('embedded-opts').hidden = mode() !== 'embedded';
  $('server-opts').hidden = mode() !== 'servers';
  $('time-scale-box').hidden = ui.clock.value !== 'real';
}

// ---- start ----

try {
  const ready = await runner.ready();
  runner.api = ready.api ?? {};
  $('version').textContent = ready.version;
  if (!ready.api?.run) throw new Error('this sibyl module cannot run pipelines (validation only): rebuild web/dist');
  const s = fromFragment(location.hash);
  await applySettings(s);
  for (const b of [ui.validate]) b.disabled = false;
  setStatus(`Ready${runner.inWorker ? '' : ' (running in the page: this browser cannot start module workers)'}.`);
  if (s.run) start();
} catch (e) {
  setStatus(`Could not start the console: ${e.message}. Build web/dist with scripts/build-all.sh web and serve web/ ` +
    'with node scripts/console.mjs.', 'failed');
}
