// The console's wiring: reads the form, validates the YAML through the
// worker, starts and cancels runs, feeds the run's events into the model and
// has the views redrawn (frames.mjs says when), and keeps the settings in the
// URL fragment.
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
import { Frames, timed } from './frames.mjs';

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
let model = new RunModel();
let running = false;
let lastResult = null;

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

let validating = null;
async function validate(keep = {}) {
  const ws = { file: editors.ws.name, text: editors.ws.text };
  const pl = { file: editors.pl.name, text: editors.pl.text };
  // Validation checks both files as the terminal does and describes each
  // pipeline: inputs, and steps with their needs and `on:` triggers.
  const job = runner.validate({ workspace: ws, pipelines: pl }).then((v) => ({
    diags: v.diagnostics ?? [], list: v.pipelines ?? [],
  }));
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
    dag.show(p.steps);
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
  tableRows = true;
  charts.reset(metric);
  log.clear();
  dag.reset();
  ui.final.hidden = true;
  lastResult = null;
  frames.reset();
  lastSummary = 0;
  running = true;
  ui.run.disabled = true;
  ui.cancel.disabled = false;
  ui.summary.className = 'summary';
  ui.summary.textContent = `Running ${s.pipeline}…`;
  ui.summary.dataset.status = 'running';
  setStatus(`Running ${s.pipeline} (${s.mode === 'embedded' ? `embedded, ${s.clock} clock` : 'MCP servers'})${
    runner.inWorker ? '' : ' in the page (no worker)'}.`);
  parcoords.draw(model, []);
  runner.run(args);
}

// ---- drawing ----

const frames = new Frames({
  table: { minMs: 0, perRow: 0.01, draw: () => {
    // Rows added or ended: filter and sort again; only live rows' epochs
    // moved: the rows on screen (table.update).
    if (tableRows) table.render(); else table.update();
    tableRows = false;
    ui.rowCount.textContent = `${table.view.length} of ${model.rows.length} trials shown`;
  } },
  charts: { minMs: 250, perRow: 0.1, draw: () => charts.update(model) },
  parcoords: { minMs: 800, perRow: 0.15, draw: () => parcoords.draw(model, model.filtered(table.filter)) },
}, {
  cheap: drawCheap,
  rows: () => model.rows.length,
  idle: () => model.status !== 'running',
  paused: () => ui.pause.checked,
});
const SUMMARY_MS = 1000;   // the summary is a live region: at most one update a second
let lastSummary = 0;
const pending = { progress: false, steps: false, log: [] };
let tableRows = true;   // rows were added or changed state since the table's last draw

function onEvents(events) {
  const c = timed('events', () => model.applyAll(events));
  pending.progress ||= c.progress;
  pending.steps ||= c.steps;
  if (c.log.length) pending.log.push(...c.log);
  if (c.rows) { tableRows = true; frames.mark('table', 'charts', 'parcoords'); }
  else if (c.live || c.progress) {
    if (c.live) frames.mark('table');       // the charts and parcoords draw finished jobs only
    if (c.progress) frames.mark('charts');
  } else frames.schedule();
}

// Log, steps and summary: cheap, every frame. Returns the ms until the
// summary is due (Infinity when nothing waits).
function drawCheap(now, idle) {
  if (pending.log.length) { timed('log', () => log.append(pending.log)); pending.log = []; }
  if (pending.steps) { dag.update(model.steps); pending.steps = false; }
  if (!pending.progress) return Infinity;
  if (idle || now - lastSummary >= SUMMARY_MS) {
    summary();
    lastSummary = now;
    pending.progress = false;
    return Infinity;
  }
  return SUMMARY_MS - (now - lastSummary);
}

function summary() {
  const p = model.progress;
  const m = model.metric;
  const parts = [];
  if (p) {
    // The core counts a job stopped early as cancelled (the Conductor's
    // state); the console names them apart, from their job_stopped chunks.
    const stopped = model.counts.stopped;
    const cancelled = Math.max(0, (p.cancelled ?? 0) - stopped);
    parts.push(`${p.done ?? model.rows.length - model.live}${p.total ? ` of ${p.total}` : ''} trials finished (${
      p.completed ?? model.counts.completed} completed, ${p.failed ?? model.counts.failed} failed${
      stopped ? `, ${stopped} stopped early` : ''}${cancelled ? `, ${cancelled} cancelled` : ''}), ${
      p.running ?? model.live} running, ${p.queued ?? 0} queued`);
    ui.progress.max = Math.max(1, p.total ?? 0);
    ui.progress.value = p.done ?? 0;
  } else parts.push(`${model.rows.length - model.live} trials finished${
    model.counts.stopped ? ` (${model.counts.stopped} stopped early)` : ''}`);
  if (model.best) parts.push(`best ${m} ${fmtNum(model.best.metrics[m])} (${model.best.id})`);
  if (p && typeof p.spent_usd === 'number') {
    const c = p.committed_usd ?? 0;
    parts.push(`spent ${fmtUsd(p.spent_usd)}${c > 0 ? ` + ${fmtUsd(c)} committed` : ''}${
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
  model.end(result?.status ?? 'failed');   // rows still live end as unfinished
  tableRows = true;
  // Log, steps, the table and the summary at once (the table draws only the
  // rows on screen), so the page is consistent when it says the run is over;
  // the charts follow in the next frames.
  pending.progress = true;
  drawCheap(performance.now(), true);
  frames.now('table');
  frames.mark('charts', 'parcoords');
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
  dag.show(p.steps);
  showCli();
});
$('inputs').addEventListener('input', showCli);
for (const el of [ui.seed, ui.clock, ui.timeScale, ui.conductor, ui.solver]) el.addEventListener('input', showCli);
ui.clock.addEventListener('change', showMode);
ui.filter.addEventListener('change', () => {
  table.filter = ui.filter.value;
  tableRows = true;
  frames.now('table');                  // at once: the user is looking at it
  frames.views.parcoords.last = 0;
  frames.mark('parcoords');
});
ui.pause.addEventListener('change', () => { if (!ui.pause.checked) frames.mark('table', 'charts', 'parcoords'); });
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
$('dl-log').addEventListener('click', () => download('sweep.log', `${log.lines.join('\n')}\n`, 'text/plain'));
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
  if (!ready.api?.run || !ready.api?.validate)
    throw new Error('this sibyl module has no run() or validate(): rebuild web/dist');
  const s = fromFragment(location.hash);
  await applySettings(s);
  for (const b of [ui.validate]) b.disabled = false;
  setStatus(`Ready${runner.inWorker ? '' : ' (running in the page: this browser cannot start module workers)'}.`);
  if (s.run) start();
} catch (e) {
  setStatus(`Could not start the console: ${e.message}. Build web/dist with scripts/build-all.sh web and serve web/ ` +
    'with node scripts/console.mjs.', 'failed');
}
