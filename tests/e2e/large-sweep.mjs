// A sweep of about 18,000 trials through sibyl.wasm under node:wasi, as
// ./sibyl runs it: it must end with exit 0 and complete, consistent output
// files, like the small one. Uses the benchmark's pipeline and workspace
// (bench/sweep/: 1000 simulated GPUs) with a $500,000 budget.
import fs from 'node:fs';
import path from 'node:path';
import { check, checkSweep, env, finish, parseLog, planLine, requireBuilt, run, tail, tempDir } from './lib.mjs';

requireBuilt();
const config = path.join(env.repo, 'bench/sweep/pipelines.yaml');
check(fs.existsSync(config), `${config} is missing`);
const dir = tempDir('large');
const budget = 500000;
const res = run({
  args: ['pipeline', 'run', 'bench_sweep', '--config', config, '--input', `budget_usd=${budget}`, '--start-time', '2026-01-01T00:00:00Z'],
  cwd: dir,
});
check(res.signal === null && res.code !== null && res.code < 128,
  `sibyl.wasm under node died (exit ${res.code}, signal ${res.signal}) after ${res.stdout.split('\n').length - 1} log lines`);
check(res.code === 0, `exit ${res.code} (stderr: ${res.stderr.trim().slice(0, 500)})`);
const log = parseLog(res.stdout);
const p = planLine(log);
check(p && p.trials > 10000, `planned ${p?.trials} trials`);
check(log[log.length - 1]?.level === 'SUCCESS', `last line: ${log[log.length - 1]?.text}`);
checkSweep(dir, {
  budget, trials: p?.trials, params: ['learning_rate', 'batch_size', 'dropout', 'weight_decay', 'warmup_steps'],
  steps: ['plan_search_grid', 'validate_plan', 'submit_jobs', 'monitor_jobs', 'retry_failed_jobs', 'aggregate_results',
    'select_best', 'calculate_cost'],
});
finish('large sweep (wasm)', { label: 'stdout (tail)', text: `${tail(res.stdout, 10)}\n--- stderr ---\n${res.stderr}` });
