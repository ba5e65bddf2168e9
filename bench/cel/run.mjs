#!/usr/bin/env node
// CEL evaluation benchmark (not a test): evaluations per second of typical
// pipeline expressions, for the native release build, sibyl.wasm under Node,
// and a JavaScript CEL implementation from npm in the same run.
//
//   cmake --preset release -B build/cel-release && cmake --build build/cel-release --target sibyl
//   cmake --preset wasi -B build/wasi && cmake --build build/wasi --target sibyl
//   npm ci            # installs @marcbachmann/cel-js (pinned in package.json)
//   node bench/cel/run.mjs [--native BIN] [--wasm FILE] [--seconds 0.5] [--repeat 3]
//                          [--expect-js 1]
//
// Exits 1 when a side gives another answer than cel-js for an expression (the
// figures would not compare like with like), or with --expect-js 1 when
// cel-js cannot be loaded; ctest runs a short version (cel_bench_short).
// Each figure is parse once + N evaluations, timed inside the evaluator's own
// process (sibyl expr --bench N), N chosen so a run lasts about --seconds.
// Each side then runs N evaluations --repeat times, the three sides taking
// turns, and keeps its best rate: other work on the machine only ever slows
// a run down, and taking turns spreads it over the sides.
// Every side first runs N/10 untimed evaluations, so V8 has compiled both the
// JavaScript and the wasm with its optimizing tier before the clock starts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const opt = { native: join(root, 'build/cel-release/host-wasi/sibyl'), wasm: null, seconds: 0.5, repeat: 3 };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opt.wasm)
  opt.wasm = [join(root, 'build/wasi/host-wasi/sibyl.wasm'), join(root, 'build/cel-wasi/host-wasi/sibyl.wasm')]
    .find(existsSync) || join(root, 'build/wasi/host-wasi/sibyl.wasm');
const runner = join(root, 'scripts/run-wasi.mjs');

// Variables: a job, its error, and 1000 results (deterministic values).
const results = [];
for (let i = 0; i < 1000; i++)
  results.push({ job_id: `job_${String(i).padStart(4, '0')}`, metrics: { val_acc: 60 + ((i * 37) % 400) / 10 + 0.5,
    train_loss: 0.25 }, hyperparameters: { learning_rate: 0.001 * (1 + (i % 3)), batch_size: 32 << (i % 3) } });
const vars = {
  jobs: { status: { failed_count: 2, completed_count: 16, running_count: 5 } },
  error: { type: 'transient', message: 'NaN loss at step 1200' },
  job: { name: 'job_008', hyperparameters: { learning_rate: 0.01, batch_size: 128, dropout: 0.3 } },
  results,
};
const cases = [
  { name: 'int comparison', expr: 'jobs.status.failed_count > 0' },
  { name: 'string equality', expr: "error.type == 'transient'" },
  { name: 'double arithmetic', expr: 'job.hyperparameters.learning_rate * 0.5' },
  { name: 'filter+map, 1000 results', expr: 'results.filter(r, r.metrics.val_acc > 80.0).map(r, r.job_id)' },
  { name: 'string building', expr: "job.name + ': lr=' + string(job.hyperparameters.learning_rate) + ', ' + string(size(results)) + ' results'" },
  { name: 'format()', expr: "'%s: lr=%.4f, %d results'.format([dyn(job.name), dyn(job.hyperparameters.learning_rate), dyn(size(results))])" },
];

const dir = mkdtempSync(join(tmpdir(), 'sibyl-bench-'));
const varsFile = join(dir, 'vars.json');
writeFileSync(varsFile, JSON.stringify(vars));

function sibyl(kind, expr, n) {
  const argv = ['expr', expr, '--vars-file', varsFile, ...(n ? ['--bench', String(n)] : [])];
  const r = kind === 'native'
    ? spawnSync(opt.native, argv, { encoding: 'utf8' })
    : spawnSync(process.execPath, ['--no-warnings', runner, opt.wasm, ...argv], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${kind}: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout);
}

// The count of evaluations that lasts about --seconds.
function calibrate(fn) {
  let n = 10;
  for (;;) {
    const { ms } = fn(n);
    if (ms >= opt.seconds * 1000 * 0.8 || n >= 1e9) return n;
    n = Math.ceil(n * Math.min(100, Math.max(2, (opt.seconds * 1000) / Math.max(ms, 0.01))));
  }
}

// Best evaluations per second of each side, the sides taking turns.
function bestRates(sides) {
  for (const s of sides) s.n = calibrate(s.time);
  for (let r = 0; r < Number(opt.repeat); r++)
    for (const s of sides) {
      const { ms } = s.time(s.n);
      s.best = Math.max(s.best || 0, (s.n / ms) * 1000);
    }
}

let js = null, jsName = '@marcbachmann/cel-js', jsVersion = null;
try {
  js = await import('@marcbachmann/cel-js');
  const { readFileSync } = await import('node:fs');
  jsVersion = JSON.parse(readFileSync(join(root, 'node_modules/@marcbachmann/cel-js/package.json'), 'utf8')).version;
} catch (e) {
  js = null;
  jsName = `${jsName} (${e.message.split('\n')[0]})`;
}

// The results as JSON text, so a figure is only compared with a figure for
// the same answer (CEL ints come back from cel-js as BigInt).
const asJson = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x));

function jsRun(expr) {
  let prog, result;
  try {
    prog = js.parse(expr);
    result = prog(vars);
  } catch (e) {
    return { error: e.message.split('\n')[0] };
  }
  return { result: asJson(result), time: (n) => {
    for (let i = 0; i < n / 10; i++) prog(vars);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) prog(vars);
    return { ms: performance.now() - t0 };
  } };
}

const haveNative = existsSync(opt.native), haveWasm = existsSync(opt.wasm);
if (!js && opt['expect-js']) {
  console.error(`cel-js: ${jsName}`);
  process.exit(1);
}
const fmt = (x) => (x == null ? 'n/a' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0));
const ratio = (a, b) => (a == null || b == null ? 'n/a' : `${(a / b).toFixed(2)}x`);
console.log(`CEL evaluations per second (parse once, evaluate many; best of ${opt.repeat} runs of ~${opt.seconds}s, the sides taking turns)`);
console.log(`native: ${haveNative ? opt.native : 'not built'}\nwasm:   ${haveWasm ? opt.wasm : 'not built'} (node ${process.version})`);
console.log(`js:     ${js ? `${jsName}@${jsVersion}` : `not available: ${jsName}; run npm ci`}\n`);
const rows = [['expression', 'native', 'wasm', 'cel-js', 'native/js', 'wasm/js', 'native/wasm']];
const notes = [];
for (const c of cases) {
  const j = js ? jsRun(c.expr) : { error: 'not installed' };
  if (j.error) notes.push(`cel-js cannot run "${c.name}": ${j.error}`);
  const nat = { time: (n) => sibyl('native', c.expr, n) }, was = { time: (n) => sibyl('wasm', c.expr, n) };
  bestRates([...(haveNative ? [nat] : []), ...(haveWasm ? [was] : []), ...(j.time ? [j] : [])]);
  for (const [kind, have] of [['native', haveNative], ['wasm', haveWasm]]) {
    const mine = have ? asJson(sibyl(kind, c.expr, 0)) : null;
    if (mine != null && j.result != null && mine !== j.result) {
      notes.push(`"${c.name}": ${kind} gives ${mine.slice(0, 80)}, cel-js ${j.result.slice(0, 80)}: not comparable`);
      process.exitCode = 1;
    }
  }
  const [rn, rw, rj] = [nat.best, was.best, j.best];
  rows.push([c.name, fmt(rn), fmt(rw), fmt(rj), ratio(rn, rj), ratio(rw, rj), ratio(rn, rw)]);
}
const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
for (const r of rows) console.log(r.map((x, k) => (k ? x.padStart(widths[k]) : x.padEnd(widths[k]))).join('  '));
for (const n of notes) console.log(`note: ${n}`);
rmSync(dir, { recursive: true, force: true });
