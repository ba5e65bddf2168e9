// Early stopping inside the budget (issue 16), on the headline command with
// the simulated Conductor's learning curves on (the example's workspace with
// `simulation.epochs: 10`), seeds 1..N, without and with `--input
// early_stopping=true`:
//   node early-stopping.mjs acceptance [N]   natively: with early stopping the expected best
//       (0.001, 64, 0.3) is found at least as often, and either <= 70% of the money is spent
//       or >= 1.4x as many trials run; every run within the $500; the figures are printed
//   node early-stopping.mjs wasm [N]         sibyl.wasm gives the native bytes (result and
//       stream) with early stopping on, and the stopped jobs are reported as the docs say:
//       a job_stopped chunk with reason and last metrics, a WARN line, never the best, counted
//       in the cost breakdown
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, copyExample, finish, headlineArgs, readJson, readStream, requireBuilt, run, tempDir,
} from './lib.mjs';

const BEST = JSON.stringify({ learning_rate: 0.001, batch_size: 64, dropout: 0.3 });
const part = process.argv[2];
const seeds = +(process.argv[3] || 10);
if (!['acceptance', 'wasm'].includes(part) || !(seeds > 0)) {
  process.stderr.write('usage: early-stopping.mjs acceptance|wasm [seeds]\n');
  process.exit(2);
}
requireBuilt({ wasm: part === 'wasm', native: true });

const dir = tempDir(`early-stopping-${part}`);
const config = copyExample(dir, { workspace: [[/^simulation:\n/m, 'simulation:\n  epochs: 10\n']] });
const args = (seed, on) => [...headlineArgs(config), '--workspace', path.join(dir, 'workspace.yaml'),
  '--input', `early_stopping=${on}`, '--seed', String(seed)];

function sweep(seed, on, native = true) {
  const res = run({ native, cwd: dir, args: args(seed, on) });
  if (!check(res.code === 0, `seed ${seed} early_stopping=${on}: exit ${res.code}: ${res.stderr.trim().slice(0, 300)}`))
    return null;
  const result = readJson(path.join(dir, 'sweep_output.json'));
  const stream = fs.readFileSync(path.join(dir, 'sweep_output_stream.jsonl'), 'utf8');
  const chunks = readStream(path.join(dir, 'sweep_output_stream.jsonl'));
  check(result.total_cost <= 500, `seed ${seed} early_stopping=${on}: total_cost ${result.total_cost} over the $500`);
  const trials = chunks.filter((c) => c.type !== 'job_progress').length;
  return { result, stream, chunks, log: res.stdout, trials, found: JSON.stringify(result.best_hyperparameters) === BEST };
}

// What the docs promise of a run with stopped jobs.
function checkStopped(seed, s) {
  const stopped = s.chunks.filter((c) => c.type === 'job_stopped');
  if (!check(stopped.length > 0, `seed ${seed}: no job_stopped chunk`)) return;
  for (const c of stopped) {
    check(c.reason === 'early_stopping' && Number.isInteger(c.rung) && c.step >= c.rung && c.epochs === 10,
      `seed ${seed}: job_stopped ${JSON.stringify(c)}`);
    check(typeof c.metrics?.val_acc === 'number' && c.cost_usd > 0, `seed ${seed}: ${c.job_id}: last metrics and cost`);
    check(s.log.includes(`WARN: Job ${c.job_id} stopped early at rung ${c.rung}`), `seed ${seed}: no WARN line for ${c.job_id}`);
    const ranked = [...s.result.top_3, ...s.result.all_results].map((r) => r.job_id);
    check(!ranked.includes(c.job_id), `seed ${seed}: stopped job ${c.job_id} ranked`);
  }
  const cb = s.result.cost_breakdown;
  const cost = stopped.reduce((a, c) => a + Math.round(c.cost_usd * 100), 0) / 100;
  check(cb.jobs.stopped_early === stopped.length && cb.stopped_early?.jobs === stopped.length &&
    Math.abs(cb.stopped_early.cost_usd - cost) < 0.005,
  `seed ${seed}: cost breakdown ${JSON.stringify(cb.stopped_early)} vs ${stopped.length} chunks costing ${cost}`);
}

if (part === 'acceptance') {
  const fig = { off: { found: 0, money: 0, trials: 0 }, on: { found: 0, money: 0, trials: 0 } };
  for (let seed = 1; seed <= seeds; seed++) {
    for (const on of [false, true]) {
      const s = sweep(seed, on);
      if (!s) continue;
      const f = fig[on ? 'on' : 'off'];
      f.found += s.found;
      f.money += s.result.total_cost;
      f.trials += s.trials;
      if (on) checkStopped(seed, s);
      else check(!s.chunks.some((c) => c.type === 'job_stopped'), `seed ${seed}: a job stopped with the rule off`);
    }
  }
  const moneyShare = fig.on.money / fig.off.money, trialRatio = fig.on.trials / fig.off.trials;
  process.stdout.write(
    `over ${seeds} seeds: expected best found ${fig.off.found} without, ${fig.on.found} with early stopping; ` +
    `money $${fig.off.money.toFixed(2)} vs $${fig.on.money.toFixed(2)} (${(100 * moneyShare).toFixed(1)}%); ` +
    `trials ${fig.off.trials} vs ${fig.on.trials} (${trialRatio.toFixed(2)}x)\n`);
  check(fig.on.found >= fig.off.found, 'early stopping finds the expected best less often');
  check(moneyShare <= 0.7 || trialRatio >= 1.4,
    `neither <= 70% of the money (${(100 * moneyShare).toFixed(1)}%) nor >= 1.4x the trials (${trialRatio.toFixed(2)}x)`);
} else {
  for (let seed = 1; seed <= seeds; seed++) {
    const n = sweep(seed, true, true);
    const w = sweep(seed, true, false);
    if (!n || !w) continue;
    checkStopped(seed, w);
    check(JSON.stringify(w.result) === JSON.stringify(n.result), `seed ${seed}: sibyl.wasm's result differs from native`);
    check(w.stream === n.stream, `seed ${seed}: sibyl.wasm's stream differs from native`);
  }
}
finish(`early-stopping ${part}`);
