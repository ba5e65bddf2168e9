// web_run_servers: sibyl.run() against the reference MCP servers over
// fetch() (sibyl-conductor --backend sim on a fast clock, sibyl-solver; both
// on free ports, started and stopped here), and watchHandle() following a
// handle on the same Conductor.
//   node --no-warnings run-servers.test.mjs WEB_BUILD_DIR SOURCE_DIR CONDUCTOR SOLVER
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test, before, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';
import { startServer } from '../servers/server.mjs';

const [webDir, sourceArg, conductorBin, solverBin] = process.argv.slice(2);
if (!solverBin) die('usage: run-servers.test.mjs WEB_BUILD_DIR SOURCE_DIR CONDUCTOR SOLVER');
const sourceDir = resolve(sourceArg);
const dir = moduleDir(webDir, sourceDir);
const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
const sibyl = await Sibyl.load();

const config = join(sourceDir, 'examples/companies/vertex_foundry/config');
// The example on the real clock: polls every 2 s growing to 10 s. Faster
// polls keep the test at a few seconds; nothing else changes.
const fast = (t) => t.replace(/initial_delay_ms: 2000/g, 'initial_delay_ms: 100').replace(/max_delay_ms: 10000/g, 'max_delay_ms: 300');
const workspace = { file: 'workspace.http.yaml', text: fast(readFileSync(join(config, 'workspace.http.yaml'), 'utf8')) };
const pipelines = { file: 'pipelines.yaml', text: fast(readFileSync(join(config, 'pipelines.yaml'), 'utf8')) };

let conductor, solver;
before(async () => {
  // 1e5 simulated seconds per second: a two-hour trial takes 70 ms.
  conductor = await startServer(conductorBin, ['--backend', 'sim', '--time-scale', '100000',
    '--workspace', join(config, 'workspace.yaml')]);
  solver = await startServer(solverBin);
});
after(async () => {
  await conductor?.stop();
  await solver?.stop();
});

const urls = () => ({ conductor: conductor.url, solver: solver.url });

test('a run through fetch streams chunks and ends with best, top 3 and a total within budget', async () => {
  const run = sibyl.run({ workspace, pipelines, pipeline: 'hyperparameter_sweep', seed: 5, servers: urls(),
                          inputs: { budget_usd: 300 } });
  const order = [];
  run.on('*', (e) => order.push(e.type));
  const r = await run.done;
  assert.equal(r.status, 'succeeded', r.error);
  const out = r.outputs['sweep_output.json'];
  assert.ok(r.stream.length >= 3, `${r.stream.length} chunks`);
  // chunks arrive while the run goes on, not all at the end
  assert.ok(order.indexOf('chunk') < order.lastIndexOf('poll'), 'a chunk before the last poll');
  assert.equal(order.at(-1), 'done');
  assert.ok(out.best_hyperparameters && typeof out.best_score === 'number');
  assert.equal(out.top_3.length, 3);
  assert.ok(out.top_3[0].metrics.val_acc >= out.top_3[2].metrics.val_acc);
  assert.ok(out.total_cost > 0 && out.total_cost <= 300, `total ${out.total_cost}`);
  assert.equal(r.files['sweep_output_stream.jsonl'].split('\n').filter(Boolean).length, r.stream.length);
});

test('cancel with servers: chunks kept, the jobs cancelled, partial result written', async () => {
  const run = sibyl.run({ workspace, pipelines, pipeline: 'hyperparameter_sweep', seed: 6, servers: urls() });
  const chunks = [];
  run.on('chunk', (e) => {
    chunks.push(e.chunk);
    if (chunks.length === 2) run.cancel();
  });
  const r = await run.done;
  assert.equal(r.status, 'cancelled');
  assert.ok(chunks.length >= 2);
  assert.deepEqual(r.stream, chunks);
  assert.equal(r.outputs['sweep_output.json'].status, 'cancelled');
});

test('a server that is not there: the run fails naming the URL', async () => {
  const r = await sibyl.run({ workspace, pipelines, pipeline: 'hyperparameter_sweep',
    servers: { conductor: conductor.url, solver: 'http://127.0.0.1:9/mcp' } }).done;
  assert.equal(r.status, 'failed');
  assert.match(JSON.stringify(r), /127\.0\.0\.1:9/);
});

test('watchHandle follows a handle another run submitted', async () => {
  // A pipeline that submits three jobs and hands the handle out.
  const submit = { file: 'submit.yaml', text: `version: 1
pipelines:
  submit_only:
    steps:
      submit:
        call: conductor.submit_jobs
        with:
          idempotency_key: "{{ run.id + '-submit' }}"
          jobs:
            - {hyperparameters: {learning_rate: 0.001, batch_size: 64, dropout: 0.3}, estimated_cost_usd: 30}
            - {hyperparameters: {learning_rate: 0.01, batch_size: 32, dropout: 0.5}, estimated_cost_usd: 30}
            - {hyperparameters: {learning_rate: 0.0001, batch_size: 128, dropout: 0.7}, estimated_cost_usd: 30}
        handle:
          id: "{{ result.handle_id }}"
          jobs: "{{ result.job_ids }}"
    outputs:
      handle: "{{ steps.submit.handle }}"
` };
  const s = await sibyl.run({ workspace, pipelines: submit, pipeline: 'submit_only', servers: urls() }).done;
  assert.equal(s.status, 'succeeded', s.error);
  const handle = s.outputs['sweep_output.json'].handle;
  assert.equal(handle.$type, 'PollableJobHandle');

  const w = sibyl.watchHandle({ handle, workspace, servers: { conductor: conductor.url } });
  const seen = [];
  w.on('*', (e) => seen.push(e));
  const r = await w.done;
  assert.equal(r.status, 'succeeded', r.error);
  const chunks = seen.filter((e) => e.type === 'chunk').map((e) => e.chunk);
  assert.deepEqual(chunks.map((c) => c.job_id).sort(), [...handle.job_ids].sort());
  assert.deepEqual(r.stream, chunks);
  const progress = seen.filter((e) => e.type === 'progress').at(-1);
  assert.equal(progress.done, 3);
  assert.equal(progress.total, 3);
  assert.equal(seen.at(-1).type, 'done');

  // the embedded example workspace: the handle's server gets the URL given,
  // the other servers stay as they are
  const embedded = { file: 'workspace.yaml', text: fast(readFileSync(join(config, 'workspace.yaml'), 'utf8')) };
  const again = await sibyl.watchHandle({ handle, workspace: embedded, servers: { conductor: conductor.url } }).done;
  assert.equal(again.status, 'succeeded', again.error);
  assert.equal(again.stream.length, 3);
  const noUrl = await sibyl.watchHandle({ handle, workspace: embedded }).done;
  assert.equal(noUrl.status, 'failed');
  assert.match(noUrl.error, /servers\.conductor: mode 'servers' needs a URL/);

  // stop() ends a watch at once; a handle that is not one is refused
  const w2 = sibyl.watchHandle({ handle: JSON.stringify(handle), workspace, servers: { conductor: conductor.url } });
  w2.stop();
  assert.equal((await w2.done).status, 'cancelled');
  const bad = await sibyl.watchHandle({ handle: { handle_id: 'x' }, workspace }).done;
  assert.equal(bad.status, 'failed');
  assert.match(bad.error, /PollableJobHandle/);
});
