// web_console_units: the console's modules that need no DOM (web/model.mjs,
// state.mjs, export.mjs, format.mjs), under Node: how events become rows,
// best-so-far and burn-down points; the URL fragment round trip; the CLI
// line; the CSV.
//   node --no-warnings units.test.mjs SOURCE_DIR
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const src = process.argv[2];
if (!src) { process.stderr.write('usage: units.test.mjs SOURCE_DIR\n'); process.exit(2); }
const load = (f) => import(pathToFileURL(join(src, 'web', f)).href);
const { RunModel, logParams, directionOf } = await load('model.mjs');
const { toFragment, fromFragment, cliCommand, shq } = await load('state.mjs');
const { toCsv } = await load('export.mjs');
const { fmtNum } = await load('format.mjs');

const chunk = (c) => ({ type: 'chunk', time_ms: 1000, chunk: c });
const done = (id, lr, acc, cost) => chunk({ type: 'job_completed', job_id: id, hyperparameters: { learning_rate: lr, batch_size: 64 },
  metrics: { val_acc: acc, train_loss: (100 - acc) / 100 }, duration_seconds: 3600, cost_usd: cost });

test('rows, retries, best so far and filters', () => {
  const m = new RunModel({ metric: 'val_acc', budget: 100, space: { learning_rate: [0.0001, 0.001, 0.01], batch_size: [32, 64] } });
  const c = m.applyAll([
    done('job_001', 0.01, 80, 10),
    chunk({ type: 'job_failed', job_id: 'job_002', hyperparameters: { learning_rate: 0.01, batch_size: 128 },
      error: 'NaN loss detected', error_type: 'transient', duration_seconds: 10, cost_usd: 1 }),
    done('job_003', 0.001, 85, 10),
    { ...done('job_002_retry_1', 0.005, 82, 9), chunk: { ...done('job_002_retry_1', 0.005, 82, 9).chunk, retry_of: 'job_002' } },
    { type: 'log', time_ms: 1000, level: 'INFO', message: 'x' },
  ]);
  assert.deepEqual([c.rows, c.log.map((l) => l.level)], [true, ["STREAM", "STREAM", "STREAM", "STREAM", "INFO"]]);
  assert.deepEqual(m.rows.map((r) => [r.id, r.status]), [['job_001', 'completed'], ['job_002', 'failed'],
    ['job_003', 'completed'], ['job_002_retry_1', 'completed']]);
  assert.equal(m.byId.get('job_002').retried, true);
  assert.equal(m.best.id, 'job_003');
  assert.deepEqual(m.history, { x: [1, 2, 3], y: [80, 85, 82], best: [80, 85, 85] });
  assert.deepEqual(m.params, ['learning_rate', 'batch_size']);
  assert.deepEqual(m.metrics, ['val_acc', 'train_loss']);
  assert.deepEqual(m.filtered('failed').map((r) => r.id), ['job_002']);
  assert.deepEqual(m.filtered('retried').map((r) => r.id), ['job_002', 'job_002_retry_1']);
  assert.equal(m.filtered('completed').length, 3);
  assert.deepEqual([...m.logParams], ['learning_rate']);
});

test('the log: the terminal\'s lines with --stream', () => {
  const m = new RunModel();
  const c = m.applyAll([
    { type: 'log', time_ms: 0, level: 'DEBUG', message: 'server said' },
    { type: 'poll', time_ms: 0, changed: 0, message: 'Poll #2 - unchanged' },
    { type: 'poll', time_ms: 0, changed: 3, message: 'Poll #3 - Jobs status' },
    { type: 'log', time_ms: 0, level: 'WARN', message: 'w' },
  ]);
  assert.deepEqual(c.log.map((l) => `${l.level}: ${l.message}`), ['INFO: Poll #3 - Jobs status', 'WARN: w']);
});

test('a loss is minimised; without a target the first metric is used', () => {
  assert.equal(directionOf('train_loss'), 'min');
  assert.equal(directionOf('val_acc'), 'max');
  const m = new RunModel({ metric: 'train_loss' });
  m.applyAll([done('a', 0.1, 80, 1), done('b', 0.1, 90, 1)]);
  assert.equal(m.best.id, 'b');   // train_loss 0.1 < 0.2
  const n = new RunModel();
  n.applyAll([done('a', 0.1, 80, 1)]);
  assert.equal(n.metric, 'val_acc');
});

test('log-spaced parameters', () => {
  assert.deepEqual([...logParams({ a: { min: 1e-5, max: 1, scale: 'log', steps: 5 }, b: { min: 0, max: 1, steps: 3 },
    c: [16, 32, 64, 128], d: [0.001, 0.1], e: ['x', 'y'] })], ['a', 'd']);
});

test('burn-down: remaining, and after the money committed', () => {
  const m = new RunModel({ budget: 500 });
  const t0 = 1_000_000;
  m.applyAll([
    { type: 'progress', time_ms: t0, running: 4, queued: 0, spent_usd: 0, committed_usd: 100, budget_usd: 500 },
    { type: 'progress', time_ms: t0 + 3.6e6, running: 2, queued: 0, spent_usd: 60, committed_usd: 50, budget_usd: 500 },
    { type: 'progress', time_ms: t0 + 3.6e6, running: 1, queued: 0, spent_usd: 70, committed_usd: 25, budget_usd: 500 },
    { type: 'progress', time_ms: t0 + 7.2e6, running: 0, queued: 0, spent_usd: 90, budget_usd: 500 },
  ]);
  assert.deepEqual(m.burn.t, [0, 1, 2]);               // one point per instant: the last one wins
  assert.deepEqual(m.burn.remaining, [500, 430, 410]);
  assert.deepEqual(m.burn.afterCommitted, [400, 405, 410]);
});

const S = {
  source: 'example', wsFile: 'workspace.yaml', plFile: 'pipelines.yaml', wsText: '', plText: '',
  pipeline: 'hyperparameter_sweep', seed: '1', mode: 'embedded', clock: 'virtual', timeScale: '', conductor: '', solver: '',
  inputs: { budget_usd: 500, param_space: { learning_rate: [0.0001, 0.001, 0.01] }, target_metric: 'val_acc', note: '12' },
};

test('the CLI line', () => {
  assert.equal(cliCommand(S),
    'sibyl pipeline run hyperparameter_sweep --workspace examples/companies/vertex_foundry/config/workspace.yaml ' +
    '--config examples/companies/vertex_foundry/config/pipelines.yaml --input budget_usd=500 ' +
    `--input 'param_space={"learning_rate":[0.0001,0.001,0.01]}' --input target_metric=val_acc --input 'note="12"' --seed 1 --stream`);
  assert.equal(cliCommand({ ...S, mode: 'servers', seed: '', inputs: {} }),
    'sibyl pipeline run hyperparameter_sweep --workspace examples/companies/vertex_foundry/config/workspace.http.yaml ' +
    '--config examples/companies/vertex_foundry/config/pipelines.yaml --stream');
  assert.match(cliCommand({ ...S, clock: 'real', timeScale: '3600' }), / --seed 1 --clock real --time-scale 3600 --stream$/);
  assert.equal(cliCommand({ ...S, source: 'paste', wsFile: "my ws.yaml", plFile: 'p.yaml', inputs: {} }),
    "sibyl pipeline run hyperparameter_sweep --workspace 'my ws.yaml' --config p.yaml --seed 1 --stream");
  assert.equal(shq("it's"), `'it'\\''s'`);
});

test('the URL fragment round trip', () => {
  const pasted = { ...S, source: 'paste', wsText: 'a: 1\n# ü & = #', plText: 'pipelines: {}\n', clock: 'real', timeScale: '60' };
  const back = fromFragment(toFragment(pasted, { run: true }));
  for (const k of ['source', 'wsFile', 'plFile', 'wsText', 'plText', 'pipeline', 'seed', 'mode', 'clock', 'timeScale'])
    assert.equal(back[k], pasted[k], k);
  assert.deepEqual(back.inputs, pasted.inputs);
  assert.equal(back.run, true);
  const ex = fromFragment(toFragment(S));
  assert.equal(ex.wsText, undefined);   // the bundled example's text is not put in the link
  assert.equal(ex.run, false);
  assert.equal(fromFragment('#in=%7Bbad').inputs, undefined);
});

test('CSV: quoting and no formulas', () => {
  const m = new RunModel({ metric: 'val_acc' });
  m.applyAll([done('job_001', 0.01, 80, 10), chunk({ type: 'job_failed', job_id: 'job_002', hyperparameters: { learning_rate: 0.1 },
    error: '=HYPERLINK("x"), then "quoted"', error_type: 'permanent', cost_usd: 0.5 })]);
  assert.equal(toCsv(m),
    'job_id,status,retry_of,learning_rate,batch_size,val_acc,train_loss,cost_usd,duration_seconds,error_type,error\r\n' +
    'job_001,completed,,0.01,64,80,0.2,10,3600,,\r\n' +
    `job_002,failed,,0.1,,,,0.5,,permanent,"'=HYPERLINK(""x""), then ""quoted"""\r\n`);
});

test('numbers as the table shows them', () => {
  assert.deepEqual([0.0001, 0.001, 0.00015, 86.24, 0.1 + 0.2, 12345678, 0, 'x', undefined].map(fmtNum),
    ['1e-4', '0.001', '1.5e-4', '86.24', '0.3', '1.2345678e+7', '0', 'x', '']);
});
