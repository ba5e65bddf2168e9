// web_run_embedded: sibyl.run() with the embedded services, under Node.
// - the headline example through the API gives the same stream lines (as
//   chunk events and as the .jsonl) and the same sweep_output.json as
//   `sibyl pipeline run` (sibyl.wasm) with the same seed, inputs and start;
// - cancel mid-run keeps the chunks received and writes the partial result
//   with status cancelled;
// - invalid input gives diagnostics with line:col, misuse throws TypeError,
//   a throwing listener is reported and the run goes on.
//   node --no-warnings run-embedded.test.mjs WEB_BUILD_DIR SOURCE_DIR SIBYL_WASM
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceArg, wasmArg] = process.argv.slice(2);
const sourceDir = sourceArg && resolve(sourceArg);
const wasm = wasmArg && resolve(wasmArg);
if (!wasm) die('usage: run-embedded.test.mjs WEB_BUILD_DIR SOURCE_DIR SIBYL_WASM');
const dir = moduleDir(webDir, sourceDir);
if (!existsSync(wasm)) die(`${wasm} is missing: build the wasi preset: cmake --preset wasi && cmake --build --preset wasi`);
const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
const sibyl = await Sibyl.load();

const config = join(sourceDir, 'examples/companies/vertex_foundry/config');
const workspace = { file: 'workspace.yaml', text: readFileSync(join(config, 'workspace.yaml'), 'utf8') };
const pipelines = { file: 'pipelines.yaml', text: readFileSync(join(config, 'pipelines.yaml'), 'utf8') };
const START = '2024-03-01T08:00:00Z';
const base = { workspace, pipelines, pipeline: 'hyperparameter_sweep', seed: 3, startTime: START };

const tmp = mkdtempSync(join(tmpdir(), 'sibyl-web-run-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Collects every event of a run, in order.
function record(run) {
  const events = [];
  run.on('*', (e) => events.push(e));
  return events;
}

test('the headline example gives the CLI\'s stream and sweep_output.json', async () => {
  // the CLI in a folder of its own (its sandbox sees the current folder)
  writeFileSync(join(tmp, 'workspace.yaml'), workspace.text);
  writeFileSync(join(tmp, 'pipelines.yaml'), pipelines.text);
  const cli = spawnSync(process.execPath, ['--no-warnings', join(sourceDir, 'scripts/run-wasi.mjs'), wasm,
    'pipeline', 'run', 'hyperparameter_sweep', '--seed', '3',
    '--input', 'budget_usd=400', '--start-time', START, '--no-progress'],
  { cwd: tmp, encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const cliResult = readFileSync(join(tmp, 'sweep_output.json'), 'utf8');
  const cliStream = readFileSync(join(tmp, 'sweep_output_stream.jsonl'), 'utf8');

  const run = sibyl.run({ ...base, inputs: { budget_usd: 400 } });
  const events = record(run);
  const r = await run.done;
  assert.equal(r.status, 'succeeded');
  assert.equal(r.exit_code, 0);
  // byte for byte, and as values
  assert.equal(r.files['sweep_output.json'], cliResult);
  assert.equal(r.files['sweep_output_stream.jsonl'], cliStream);
  assert.deepEqual(r.outputs['sweep_output.json'], JSON.parse(cliResult));
  const lines = cliStream.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(lines.length > 5, `${lines.length} chunks`);
  assert.deepEqual(events.filter((e) => e.type === 'chunk').map((e) => e.chunk), lines);
  assert.deepEqual(r.stream, lines);

  // Events: in time order, done last and once, each type in its shape.
  assert.equal(events.at(-1).type, 'done');
  assert.equal(events.filter((e) => e.type === 'done').length, 1);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].time_ms >= events[i - 1].time_ms, `event ${i} goes back in time`);
  assert.equal(events[0].time_ms, Date.parse(START));
  const progress = events.filter((e) => e.type === 'progress');
  const last = progress.at(-1);
  assert.equal(last.done, last.completed + last.failed + last.cancelled);
  assert.equal(last.budget_usd, 400);
  // the burn-down a page draws: spent plus committed never above the budget,
  // money committed while jobs run, none left at the end
  for (const p of progress) assert.ok(p.spent_usd + p.committed_usd <= 400 + 1e-9, JSON.stringify(p));
  assert.ok(progress.some((p) => p.running > 0 && p.committed_usd > 0));
  assert.equal(last.committed_usd, 0);
  assert.ok(events.some((e) => e.type === 'step' && e.name === 'monitor_jobs' && e.status === 'succeeded'));
  assert.ok(events.some((e) => e.type === 'poll' && typeof e.message === 'string' && e.counts));
  assert.ok(events.some((e) => e.type === 'log' && e.level === 'SUCCESS'));
  // The CLI's log lines are the log events (less the DEBUG ones it hides).
  const cliLog = cli.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^\[[^\]]+\] /, ''));
  const webLog = events.filter((e) => e.type === 'log' && e.level !== 'DEBUG').map((e) => `${e.level}: ${e.message}`);
  assert.deepEqual(webLog, cliLog.filter((l) => !l.startsWith('INFO: Poll ')));
});

test('the same seed gives the same run; the default start is now, in whole seconds', async () => {
  const a = await sibyl.run(base).done, b = await sibyl.run(base).done;
  assert.equal(a.files['sweep_output.json'], b.files['sweep_output.json']);
  const run = sibyl.run({ ...base, startTime: undefined });
  const events = record(run);
  const before = Date.now();
  await run.done;
  assert.equal(events[0].time_ms % 1000, 0);
  assert.ok(Math.abs(events[0].time_ms - before) < 5000);
});

test('cancel mid-run keeps the chunks received and writes the partial result', async () => {
  const run = sibyl.run(base);
  const chunks = [];
  run.on('chunk', (e) => {
    chunks.push(e.chunk);
    if (chunks.length === 3) run.cancel('enough for today');
  });
  const r = await run.done;
  assert.equal(r.status, 'cancelled');
  assert.equal(r.exit_code, 3);
  assert.match(r.error, /enough for today/);
  assert.ok(chunks.length >= 3);
  assert.deepEqual(r.stream, chunks);
  const out = r.outputs['sweep_output.json'];
  assert.equal(out.status, 'cancelled');
  assert.equal(r.files['sweep_output_stream.jsonl'].split('\n').filter(Boolean).length, chunks.length);
  run.cancel(); // after the end: nothing happens
});

test('cancel before the first slice', async () => {
  const run = sibyl.run(base);
  run.cancel();
  const r = await run.done;
  assert.equal(r.status, 'cancelled');
  assert.equal(r.outputs['sweep_output.json'].status, 'cancelled');
});

test('invalid YAML: diagnostics with line:col, from validate() and run()', async () => {
  const bad = { file: 'bad.yaml', text: 'version: 1\npipelines:\n  p: [\n' };
  const v = sibyl.validate({ workspace, pipelines: bad });
  assert.equal(v.ok, false);
  assert.deepEqual(v.pipelines, []);
  assert.equal(v.diagnostics.length, 1);
  const d = v.diagnostics[0];
  assert.equal(d.file, 'bad.yaml');
  assert.equal(d.line, 4);
  assert.equal(d.col, 1);
  assert.equal(d.text, `bad.yaml:4:1: error: ${d.message}`);

  const run = sibyl.run({ ...base, pipelines: bad });
  const events = record(run);
  const r = await run.done;
  assert.equal(r.status, 'failed');
  assert.equal(r.exit_code, 1);
  assert.deepEqual(r.diagnostics, v.diagnostics);
  assert.equal(r.error, d.text);
  assert.deepEqual(events.map((e) => e.type), ['log', 'done']);
  assert.equal(events[0].message, d.text);

  // a schema problem in the workspace and an unknown pipeline
  const ws2 = { file: 'ws.yaml', text: workspace.text.replace(/^polling:\n  initial_delay_ms: 2000/m, 'polling:\n  initial_delay_ms: soon') };
  const v2 = sibyl.validate({ workspace: ws2, pipelines });
  assert.equal(v2.ok, false);
  assert.ok(v2.diagnostics.some((x) => x.file === 'ws.yaml' && x.line > 1 && x.col > 1), JSON.stringify(v2.diagnostics));
  const r3 = await sibyl.run({ ...base, pipeline: 'nope' }).done;
  assert.equal(r3.status, 'failed');
  assert.match(r3.error, /nope/);
  // an input the pipeline refuses
  const r4 = await sibyl.run({ ...base, inputs: { budget_usd: 'lots' } }).done;
  assert.equal(r4.exit_code, 1);
  assert.match(r4.error, /budget_usd/);
});

test('validate() lists the pipelines, their inputs and steps', () => {
  const v = sibyl.validate({ workspace, pipelines });
  assert.equal(v.ok, true);
  assert.deepEqual(v.diagnostics, []);
  const p = v.pipelines.find((x) => x.name === 'hyperparameter_sweep');
  assert.ok(p);
  assert.deepEqual(p.inputs.find((i) => i.name === 'budget_usd'),
    { name: 'budget_usd', type: 'number', default: 500, description: 'Hard cap on total spend, in USD.', minimum: 1 });
  assert.deepEqual(p.steps.find((s) => s.name === 'monitor_jobs').needs, ['submit_jobs']);
  assert.equal(p.steps.find((s) => s.name === 'monitor_jobs').kind, 'poll');
  assert.equal(p.steps.find((s) => s.name === 'plan_search_grid').kind, 'call');
  assert.equal(p.steps.find((s) => s.name === 'suggest_trials').on, 'monitor_jobs.job_finished');
});

test('misuse throws TypeError', () => {
  const bad = [
    () => sibyl.run(),
    () => sibyl.run('x'),
    () => sibyl.run({ ...base, workspace: 'text' }),
    () => sibyl.run({ ...base, pipelines: { text: 3 } }),
    () => sibyl.run({ ...base, pipeline: undefined }),
    () => sibyl.run({ ...base, inputs: [1] }),
    () => sibyl.run({ ...base, inputs: { budget_usd: 10n } }),
    () => sibyl.run({ ...base, seed: -1 }),
    () => sibyl.run({ ...base, seed: 1.5 }),
    () => sibyl.run({ ...base, seed: 2 ** 60 }),
    () => sibyl.run({ ...base, mode: 'cloud' }),
    () => sibyl.run({ ...base, clock: 'fast' }),
    () => sibyl.run({ ...base, mode: 'servers', clock: 'virtual' }),
    () => sibyl.run({ ...base, servers: { conductor: 8080 } }),
    () => sibyl.run({ ...base, headers: 'Authorization: x' }),
    () => sibyl.run({ ...base, timeScale: 10 }), // needs clock 'real'
    () => sibyl.run({ ...base, startTime: 'yesterday' }),
    () => sibyl.validate({ workspace }),
    () => sibyl.watchHandle({ workspace }),
  ];
  for (const f of bad) assert.throws(f, TypeError, f.toString());
  const run = sibyl.run(base);
  assert.throws(() => run.on('chunks', () => {}), TypeError);
  assert.throws(() => run.on('chunk', 'f'), TypeError);
  assert.throws(() => run.cancel(42), TypeError);
  return run.done;
});

test('seeds as bigint and digits reach the run', async () => {
  const r = await sibyl.run({ ...base, seed: 18446744073709551615n }).done;
  assert.equal(r.seed, '18446744073709551615');
  assert.equal(r.outputs['sweep_output.json'].seed, 18446744073709551615);
  const r2 = await sibyl.run({ ...base, seed: '18446744073709551616' }).done; // 2^64: C refuses
  assert.equal(r2.exit_code, 2);
  assert.match(r2.error, /seed/);
});

test('a throwing listener is reported and the run goes on', async () => {
  const good = await sibyl.run(base).done;
  const run = sibyl.run(base);
  let after = 0;
  run.on('chunk', () => { throw new Error('listener bug'); });
  run.on('chunk', () => after++); // the next listener still runs
  const reports = [];
  run.on('log', (e) => { if (e.level === 'ERROR') reports.push(e.message); });
  const unsubscribed = [];
  const off = run.on('progress', (e) => { unsubscribed.push(e); off(); });
  const r = await run.done;
  assert.equal(r.status, 'succeeded');
  assert.equal(after, r.stream.length);
  assert.equal(reports.length, r.stream.length);
  assert.match(reports[0], /an event listener for 'chunk' threw: listener bug/);
  assert.equal(r.files['sweep_output.json'], good.files['sweep_output.json']);
  assert.equal(unsubscribed.length, 1);
});

test('mode embedded runs an http workspace in-module; mode servers needs URLs', async () => {
  const http = { file: 'workspace.http.yaml', text: readFileSync(join(config, 'workspace.http.yaml'), 'utf8') };
  const a = await sibyl.run({ ...base, workspace: http, mode: 'embedded' }).done;
  const b = await sibyl.run(base).done;
  assert.equal(a.status, 'succeeded');
  assert.deepEqual(a.stream, b.stream);
  const c = await sibyl.run({ ...base, mode: 'servers', startTime: undefined }).done;
  assert.equal(c.exit_code, 2);
  assert.match(c.error, /servers\.solver: mode 'servers' needs a URL/);
  const d = await sibyl.run({ ...base, workspace: http, clock: 'virtual', startTime: undefined }).done;
  assert.equal(d.exit_code, 2);
  assert.match(d.error, /clock 'virtual' cannot be used with HTTP servers/);
});

test('a real clock, scaled, with the embedded services', async () => {
  // grid search, 1 trial: a few simulated hours at 1e6 simulated seconds per second
  const run = sibyl.run({ ...base, clock: 'real', timeScale: 1e6, startTime: undefined,
    inputs: { budget_usd: 30, search: 'grid', param_space: { learning_rate: [0.001], batch_size: [64], dropout: [0.3] } } });
  const r = await run.done;
  assert.equal(r.status, 'succeeded', r.error);
  assert.equal(r.stream.length >= 1, true);
});
