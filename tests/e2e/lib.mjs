// Helpers for the end-to-end tests of `sibyl pipeline run` (tests/e2e/).
//
// Each test runs the real terminal front end, sibyl.wasm under node:wasi
// (scripts/run-wasi.mjs) unless it says otherwise, in a fresh temporary
// folder it creates and removes, and checks the log, the stream file and the
// result file. The build tells the scripts where things are through the
// environment (tests.cmake sets it):
//   SIBYL_WASM       build/.../host-wasi/sibyl.wasm
//   SIBYL_NODE_WASI  scripts/run-wasi.mjs
//   SIBYL_NATIVE     the native `sibyl` binary
//   SIBYL_REPO       the source tree (for examples/)
// SIBYL_E2E_KEEP=1 keeps the temporary folders (their paths are printed).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

export const SKIP = 77; // ctest SKIP_RETURN_CODE

export const env = {
  wasm: process.env.SIBYL_WASM,
  runner: process.env.SIBYL_NODE_WASI,
  native: process.env.SIBYL_NATIVE,
  repo: process.env.SIBYL_REPO,
};

export const exampleDir = () => path.join(env.repo, 'examples/companies/vertex_foundry/config');
export const exampleConfig = () => path.join(exampleDir(), 'pipelines.yaml');

// The headline command exactly as design.md section 8 writes it (with the
// example's workspace unless another pipelines file is given).
export const SPACE_3x3x3 = '{"learning_rate": [0.0001, 0.001, 0.01], "batch_size": [32, 64, 128], "dropout": [0.3, 0.5, 0.7]}';
export const exampleWorkspace = () => path.join(exampleDir(), 'workspace.yaml');
export const headlineArgs = (config = exampleConfig()) => [
  'pipeline', 'run', 'hyperparameter_sweep',
  ...(config === exampleConfig() ? ['--workspace', exampleWorkspace()] : []), '--config', config,
  '--input', 'budget_usd=500',
  '--input', `param_space=${SPACE_3x3x3}`,
  '--input', 'target_metric=val_acc', '--stream',
];

export const STEPS = ['plan_search_grid', 'validate_plan', 'initial_trials', 'submit_jobs', 'monitor_jobs',
  'retry_failed_jobs', 'suggest_trials', 'aggregate_results', 'select_best', 'generate_report', 'calculate_cost'];

// --- failures are collected, reported together, and set the exit code ---

const failures = [];
let context = '';
export function setContext(c) { context = c; }
export function check(cond, msg) {
  if (!cond) failures.push(context ? `${context}: ${msg}` : msg);
  return !!cond;
}
export function fail(msg) { return check(false, msg); }
export function failed() { return failures.length > 0; }

// Ends the test: prints the failures (and a hint of the output when given).
export function finish(name, extra) {
  if (failures.length) {
    for (const f of failures) process.stderr.write(`FAIL: ${f}\n`);
    if (extra) process.stderr.write(`--- ${extra.label || 'output'} ---\n${extra.text}\n`);
    process.stderr.write(`${name}: ${failures.length} check(s) failed\n`);
    process.exit(1);
  }
  process.stdout.write(`${name}: ok\n`);
  process.exit(0);
}

export function requireBuilt({ wasm = true, native = false } = {}) {
  const miss = [];
  if (wasm && !(env.wasm && fs.existsSync(env.wasm)))
    miss.push(`sibyl.wasm (${env.wasm}): build it with cmake --preset wasi && cmake --build --preset wasi`);
  if (wasm && !(env.runner && fs.existsSync(env.runner))) miss.push(`scripts/run-wasi.mjs (${env.runner})`);
  if (native && !(env.native && fs.existsSync(env.native))) miss.push(`the native sibyl (${env.native})`);
  if (!env.repo || !fs.existsSync(exampleConfig())) miss.push(`the example config (${env.repo})`);
  if (miss.length) {
    for (const m of miss) process.stderr.write(`FAIL: missing ${m}\n`);
    process.exit(1);
  }
}

// --- temporary folders ---

const temps = [];
export function tempDir(tag = 'run') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `sibyl-e2e-${tag}-`));
  temps.push(d);
  return d;
}
process.on('exit', () => {
  for (const d of temps) {
    if (process.env.SIBYL_E2E_KEEP) process.stderr.write(`kept ${d}\n`);
    else fs.rmSync(d, { recursive: true, force: true });
  }
});

// A copy of the example workspace + pipelines in DIR, with edits applied to
// the text of each file: edits = {workspace: [[from, to]...], pipelines: [...]}.
export function copyExample(dir, edits = {}) {
  for (const [name, file] of [['workspace', 'workspace.yaml'], ['pipelines', 'pipelines.yaml']]) {
    let text = fs.readFileSync(path.join(exampleDir(), file), 'utf8');
    for (const [from, to] of edits[name] || []) {
      const next = text.replace(from, to);
      if (next === text) throw new Error(`copyExample: ${file}: ${from} not found`);
      text = next;
    }
    fs.writeFileSync(path.join(dir, file), text);
  }
  return path.join(dir, 'pipelines.yaml');
}

// --- running sibyl ---

// run({args, cwd, native, env}) -> {code, signal, stdout, stderr}
export function run({ args, cwd, native = false, env: extraEnv = {}, timeoutMs = 300000 }) {
  const cmd = native ? env.native : process.execPath;
  const argv = native ? args : ['--no-warnings', env.runner, env.wasm, ...args];
  const childEnv = { ...process.env, ...extraEnv };
  for (const [k, v] of Object.entries(extraEnv)) if (v === undefined) delete childEnv[k];
  const r = spawnSync(cmd, argv, {
    cwd, env: childEnv, encoding: 'utf8', maxBuffer: 1 << 28, timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
export const exists = (p) => fs.existsSync(p);

// --- the log ---

export const LOG_LINE = /^\[(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\] (INFO|WARN|ERROR|SUCCESS|STREAM): (.+)$/;

// Every stdout line parsed; a line that is not a log line is a failure.
export function parseLog(stdout, what = 'log') {
  const lines = stdout.split('\n');
  check(lines.pop() === '', `${what}: stdout does not end with a newline`);
  const out = [];
  lines.forEach((text, i) => {
    const m = LOG_LINE.exec(text);
    if (!check(m, `${what} line ${i + 1} is not '[YYYY-MM-DD HH:MM:SS] LEVEL: message': ${JSON.stringify(text)}`))
      return;
    const [, y, mo, d, h, mi, s, level, msg] = m;
    out.push({ n: i + 1, text, level, msg, t: Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) });
  });
  return out;
}

// Poll lines: `Poll #k - Jobs status (delay: Dms): running R, queued Q, completed C, failed F`.
export const POLL = /^Poll #(\d+) - Jobs status \(delay: (\d+)ms\):? running (\d+), queued (\d+), completed (\d+), failed (\d+)/;
export function polls(log) {
  return log.filter((l) => l.level === 'INFO' && l.msg.startsWith('Poll #')).map((l) => {
    const m = POLL.exec(l.msg);
    check(m, `poll line not in the documented format: ${l.text}`);
    return m && { k: +m[1], delay: +m[2], running: +m[3], queued: +m[4], completed: +m[5], failed: +m[6], t: l.t };
  }).filter(Boolean);
}

// `Step i/N: name` lines (first word after the colon is the step name).
export function stepLines(log) {
  return log.map((l) => /^Step (\d+)\/(\d+): (\w+)(.*)$/.exec(l.msg)).filter(Boolean)
    .map((m) => ({ i: +m[1], n: +m[2], name: m[3], rest: m[4] }));
}

// --- the stream file ---

// Parses sweep_output_stream.jsonl: one JSON object per line, newline-ended.
export function readStream(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return [];
  check(text.endsWith('\n'), `${path.basename(file)}: does not end with a newline`);
  const chunks = [];
  text.replace(/\n$/, '').split('\n').forEach((line, i) => {
    try {
      const v = JSON.parse(line);
      if (check(v && typeof v === 'object' && !Array.isArray(v), `${path.basename(file)} line ${i + 1} is not a JSON object`))
        chunks.push(v);
    } catch (e) {
      fail(`${path.basename(file)} line ${i + 1} is not valid JSON (${e.message}): ${line.slice(0, 200)}`);
    }
  });
  return chunks;
}

const isNum = (x) => typeof x === 'number' && Number.isFinite(x);
const isObj = (x) => x && typeof x === 'object' && !Array.isArray(x);

// The shape of one chunk, as in the design (§5).
export function checkChunk(c, paramNames) {
  const id = c.job_id;
  check(c.type === 'job_completed' || c.type === 'job_failed', `chunk ${id}: type ${c.type}`);
  check(typeof id === 'string' && /^job_\d+(_retry_\d+)?$/.test(id), `chunk job_id ${JSON.stringify(id)}`);
  check(isObj(c.hyperparameters), `chunk ${id}: no hyperparameters object`);
  if (paramNames && isObj(c.hyperparameters))
    check(JSON.stringify(Object.keys(c.hyperparameters).sort()) === JSON.stringify([...paramNames].sort()),
      `chunk ${id}: hyperparameters ${JSON.stringify(c.hyperparameters)} do not name ${paramNames}`);
  check(Number.isInteger(c.duration_seconds) && c.duration_seconds > 0, `chunk ${id}: duration_seconds ${c.duration_seconds}`);
  check(isNum(c.cost_usd) && c.cost_usd > 0 && Math.abs(c.cost_usd * 100 - Math.round(c.cost_usd * 100)) < 1e-6,
    `chunk ${id}: cost_usd ${c.cost_usd} is not a positive amount in cents`);
  if (c.type === 'job_completed') {
    check(isObj(c.metrics) && isNum(c.metrics.val_acc) && isNum(c.metrics.train_loss),
      `chunk ${id}: metrics ${JSON.stringify(c.metrics)} lack val_acc/train_loss`);
  } else {
    check(typeof c.error === 'string' && c.error.length > 0, `failed chunk ${id}: no error message`);
    // "budget": the Conductor stopped the job at its cost cap (docs/budget.md).
    check(['transient', 'permanent', 'budget'].includes(c.error_type), `failed chunk ${id}: error_type ${c.error_type}`);
  }
  const retry = /^(job_\d+)(?:_retry_(\d+))?$/.exec(id || '');
  if (retry && retry[2]) {
    // retry_of names the job this one retries: job_004 for job_004_retry_1, job_004_retry_1 for job_004_retry_2.
    const n = Number(retry[2]);
    const prev = n === 1 ? retry[1] : `${retry[1]}_retry_${n - 1}`;
    check(c.retry_of === prev, `retry chunk ${id}: retry_of ${c.retry_of}, expected ${prev}`);
  } else {
    check(c.retry_of === undefined, `chunk ${id}: retry_of on a job that is no retry`);
  }
}

// --- the invariants every finished sweep keeps ---

const cents = (x) => Math.round(x * 100);

// Checks a succeeded sweep: stream file, result file and their agreement.
// Returns {chunks, result}. opts: {budget, trials, params, target, steps,
// balanced: the fixed plan spreads levels evenly (an adaptive search does not)}.
export function checkSweep(dir, { budget, trials, params, target = 'val_acc', steps = STEPS, balanced = true }) {
  const streamFile = path.join(dir, 'sweep_output_stream.jsonl');
  const resultFile = path.join(dir, 'sweep_output.json');
  if (!check(exists(streamFile), 'no sweep_output_stream.jsonl') | !check(exists(resultFile), 'no sweep_output.json'))
    return {};
  const chunks = readStream(streamFile);
  const r = readJson(resultFile);
  for (const c of chunks) checkChunk(c, params);
  const ids = chunks.map((c) => c.job_id);
  check(new Set(ids).size === ids.length, 'a job has more than one chunk in the stream file');

  check(r.status === 'succeeded', `result status ${r.status} (error: ${r.error})`);
  const completed = chunks.filter((c) => c.type === 'job_completed');
  const failedChunks = chunks.filter((c) => c.type === 'job_failed');
  const originals = chunks.filter((c) => !c.retry_of);
  if (trials !== undefined) check(originals.length === trials, `${originals.length} original jobs in the stream, expected ${trials}`);

  // Levels spread evenly: per parameter, level counts differ by at most one.
  if (balanced && params && originals.length) {
    for (const p of params) {
      const counts = {};
      for (const c of originals) counts[JSON.stringify(c.hyperparameters[p])] = (counts[JSON.stringify(c.hyperparameters[p])] || 0) + 1;
      const v = Object.values(counts);
      check(Math.max(...v) - Math.min(...v) <= 1, `level counts of ${p} are not balanced: ${JSON.stringify(counts)}`);
    }
  }

  // Cost ledger.
  const b = r.cost_breakdown;
  if (check(isObj(b), 'result has no cost_breakdown')) {
    for (const k of ['successful_usd', 'failed_partial_usd', 'retries_usd', 'total_usd', 'remaining_usd', 'utilization'])
      check(isNum(b[k]), `cost_breakdown.${k} is ${b[k]}`);
    check(cents(b.successful_usd) + cents(b.failed_partial_usd) + cents(b.retries_usd) === cents(b.total_usd),
      `cost_breakdown parts ${b.successful_usd} + ${b.failed_partial_usd} + ${b.retries_usd} != total ${b.total_usd}`);
    const streamed = chunks.reduce((s, c) => s + cents(c.cost_usd), 0);
    check(streamed === cents(b.total_usd), `stream chunks cost $${streamed / 100}, ledger total $${b.total_usd}`);
    const succ = completed.filter((c) => !c.retry_of).reduce((s, c) => s + cents(c.cost_usd), 0);
    check(succ === cents(b.successful_usd), `completed original jobs cost $${succ / 100}, successful_usd ${b.successful_usd}`);
    const retr = chunks.filter((c) => c.retry_of).reduce((s, c) => s + cents(c.cost_usd), 0);
    check(retr === cents(b.retries_usd), `retries cost $${retr / 100}, retries_usd ${b.retries_usd}`);
    check(b.total_usd <= budget, `total $${b.total_usd} is over the budget $${budget}`);
    check(b.budget_usd === budget, `cost_breakdown.budget_usd ${b.budget_usd}, expected ${budget}`);
    check(cents(b.remaining_usd) === cents(budget) - cents(b.total_usd), `remaining_usd ${b.remaining_usd} != ${budget} - ${b.total_usd}`);
    check(b.committed_usd === 0, `committed_usd ${b.committed_usd} after every job finished`);
    check(Math.abs(b.utilization - b.total_usd / budget) < 1e-9, `utilization ${b.utilization}`);
    if (check(isObj(b.jobs), 'cost_breakdown.jobs missing')) {
      check(b.jobs.completed === completed.length, `cost_breakdown.jobs.completed ${b.jobs.completed}, stream has ${completed.length}`);
      check(b.jobs.failed === failedChunks.length, `cost_breakdown.jobs.failed ${b.jobs.failed}, stream has ${failedChunks.length}`);
      check(chunks.length === b.jobs.completed + b.jobs.failed,
        `${chunks.length} stream lines, expected completed + failed = ${b.jobs.completed + b.jobs.failed}`);
      check(b.jobs.retries === chunks.filter((c) => c.retry_of).length, `cost_breakdown.jobs.retries ${b.jobs.retries}`);
      check(b.jobs.running_or_queued === 0, `running_or_queued ${b.jobs.running_or_queued} after the sweep`);
    }
  }
  check(isNum(r.total_cost) && cents(r.total_cost) === cents(b?.total_usd ?? NaN), `total_cost ${r.total_cost}`);
  check(r.total_cost <= budget, `total_cost ${r.total_cost} over budget ${budget}`);

  // all_results: every completed job, with its fields, as streamed.
  if (check(Array.isArray(r.all_results), 'all_results is not a list')) {
    check(r.all_results.length === completed.length, `all_results has ${r.all_results.length} jobs, ${completed.length} completed`);
    const byId = new Map(completed.map((c) => [c.job_id, c]));
    for (const x of r.all_results) {
      const c = byId.get(x.job_id);
      if (!check(c, `all_results has ${x.job_id}, which did not complete`)) continue;
      for (const k of ['hyperparameters', 'metrics', 'cost_usd'])
        check(JSON.stringify(x[k]) === JSON.stringify(c[k]), `all_results ${x.job_id}.${k} differs from its chunk`);
    }
  }

  // best and top 3: the argmax of all_results by the target metric.
  const ranked = [...(r.all_results || [])].sort((a, c) => c.metrics[target] - a.metrics[target]);
  if (check(ranked.length > 0, 'no completed job')) {
    check(r.best_score === ranked[0].metrics[target], `best_score ${r.best_score}, highest ${target} is ${ranked[0].metrics[target]}`);
    check(JSON.stringify(r.best_hyperparameters) === JSON.stringify(ranked[0].hyperparameters),
      `best_hyperparameters ${JSON.stringify(r.best_hyperparameters)}, best job has ${JSON.stringify(ranked[0].hyperparameters)}`);
    if (check(Array.isArray(r.top_3), 'top_3 is not a list')) {
      check(r.top_3.length === Math.min(3, ranked.length), `top_3 has ${r.top_3.length} entries`);
      r.top_3.forEach((x, i) => check(x.metrics?.[target] === ranked[i].metrics[target],
        `top_3[${i}] ${x.job_id} (${x.metrics?.[target]}) is not the #${i + 1} score ${ranked[i].metrics[target]}`));
    }
  }
  if (check(isObj(r.steps), 'result has no steps')) {
    check(JSON.stringify(Object.keys(r.steps)) === JSON.stringify(steps), `steps ${Object.keys(r.steps)}, expected ${steps}`);
    for (const s of steps) check(r.steps[s]?.status === 'succeeded', `step ${s}: ${JSON.stringify(r.steps[s])}`);
  }
  return { chunks, result: r };
}

// The plan line the Solver step logs: trial count, grid size, money.
export function planLine(log) {
  const l = log.find((x) => /^Planned \d+ of \d+ (trials|combinations)/.test(x.msg));
  if (!check(l, 'no "Planned N of M trials" line in the log')) return null;
  const m = /^Planned (\d+) of (\d+)/.exec(l.msg);
  return { trials: +m[1], grid: +m[2], line: l };
}

// Dollar amounts in a log message are written in cents ($453.60, not $453.59999999999997).
export function checkMoney(msg) {
  for (const m of msg.matchAll(/\$(\d+(?:\.(\d+))?)/g))
    check(!m[2] || m[2].length <= 2, `money not in dollars and cents: "${m[0]}" in: ${msg}`);
}

export function tail(text, n = 40) {
  const l = text.split('\n');
  return l.slice(Math.max(0, l.length - n)).join('\n');
}
