// The dashboard's script: only the public API of sibyl's web module
// (host-web/sibyl-api.mjs). Text from the run is inserted as text, never HTML.
// The module's folder: ?module=URL, else the web build tree. The files run:
// ?config=FOLDER/ (its workspace.yaml and pipelines.yaml) and ?pipeline=NAME,
// else the bundled example's hyperparameter_sweep.
const params = new URLSearchParams(location.search);
const moduleUrl = params.get('module') ?? '../../build/web/host-web/sibyl-api.mjs';
const { Sibyl } = await import(new URL(moduleUrl, location.href).href);

const $ = (id) => document.getElementById(id);
const example = params.get('config') ?? '../companies/vertex_foundry/config/';
const pipelineName = params.get('pipeline') ?? 'hyperparameter_sweep';
const text = async (name) => {
  const r = await fetch(new URL(example + name, location.href));
  if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
  return r.text();
};

const sibyl = await Sibyl.load({ locateFile: (f) => new URL(f, new URL(moduleUrl, location.href)).href });
const workspace = { file: 'workspace.yaml', text: await text('workspace.yaml') };
const pipelines = { file: 'pipelines.yaml', text: await text('pipelines.yaml') };
$('status').textContent = `sibyl ${sibyl.version()} loaded.`;

function cell(row, value, cls) {
  const td = row.insertCell();
  td.textContent = value;
  if (cls) td.className = cls;
}

// One row per job: a run's chunk (design §5) or a watched job's record. With
// stream_progress, a job's job_progress chunks (one per epoch, no
// hyperparameters) update its row until its final chunk replaces them.
const rowOf = new Map();
function addRow(c) {
  let row = rowOf.get(c.job_id);
  if (row) {
    row.replaceChildren();
  } else {
    row = $('rows').insertRow();
    if (c.job_id != null) rowOf.set(c.job_id, row);
  }
  const failed = c.type === 'job_failed' || c.status === 'failed';
  row.className = failed ? 'failed' : '';
  const metric = c.metrics ? Object.entries(c.metrics)[0] : null;
  cell(row, c.job_id ?? '');
  cell(row, c.type === 'job_progress' ? `running, epoch ${c.step}/${c.epochs ?? '?'}` : c.type ?? c.status ?? '');
  cell(row, c.hyperparameters ? JSON.stringify(c.hyperparameters) : '');
  cell(row, metric ? `${metric[0]} ${metric[1]}` : (c.error ?? ''), 'num');
  cell(row, typeof c.cost_usd === 'number' ? c.cost_usd.toFixed(2) : '', 'num');
}

function showProgress(p) {
  $('progress').max = Math.max(1, p.total);
  $('progress').value = p.done;
  const money = typeof p.spent_usd === 'number'
    ? `, $${p.spent_usd.toFixed(2)}${typeof p.budget_usd === 'number' ? ` of $${p.budget_usd.toFixed(2)}` : ''}` : '';
  $('status').textContent = `${p.done}/${p.total} done (${p.failed} failed), ${p.running} running, ${p.queued} queued${money}`;
}

let current = null;
function begin(cancelButton, stop) {
  $('rows').replaceChildren();
  rowOf.clear();
  $('summary').textContent = '';
  $('run').disabled = $('watch').disabled = true;
  $(cancelButton).disabled = false;
  $(cancelButton).onclick = stop;
}
function end(cancelButton) {
  $('run').disabled = $('watch').disabled = false;
  $(cancelButton).disabled = true;
  current = null;
}

$('run-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (current) return;
  const run = sibyl.run({ workspace, pipelines, pipeline: pipelineName, seed: Number($('seed').value),
                          inputs: { budget_usd: Number($('budget').value) } });
  current = run;
  begin('cancel', () => run.cancel('cancelled from the dashboard'));
  run.on('chunk', (ev) => addRow(ev.chunk));
  run.on('progress', showProgress);
  run.on('log', (ev) => { if (ev.level === 'ERROR') $('status').textContent = ev.message; });
  const r = await run.done;
  end('cancel');
  const out = r.outputs['sweep_output.json'];
  if (!out) {
    $('summary').textContent = `${r.status}: ${r.error ?? ''}`;
    return;
  }
  const best = out.best_hyperparameters ? `best ${JSON.stringify(out.best_hyperparameters)} scoring ${out.best_score}` : 'no best yet';
  $('summary').textContent = `${r.status}: ${best}; total $${Number(out.total_cost ?? 0).toFixed(2)}` +
    (r.error ? ` (${r.error})` : '');
});

$('watch-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (current) return;
  let w;
  try {
    w = sibyl.watchHandle({ handle: $('watch-handle').value, workspace, servers: { conductor: $('watch-url').value } });
  } catch (err) {
    $('status').textContent = err.message;
    return;
  }
  current = w;
  begin('unwatch', () => w.stop());
  w.on('chunk', (ev) => addRow(ev.chunk));
  w.on('progress', showProgress);
  w.on('log', (ev) => { $('status').textContent = ev.message; });
  const r = await w.done;
  end('unwatch');
  $('summary').textContent = `${r.status}: ${r.stream.length} jobs finished${r.error ? ` (${r.error})` : ''}`;
});
