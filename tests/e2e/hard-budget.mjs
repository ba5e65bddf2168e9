// The budget as a hard limit (issue 10, docs/budget.md), natively and as sibyl.wasm.
//   node hard-budget.mjs no-estimate   a $1 budget, jobs submitted without estimated_cost_usd: the
//                                      Conductor caps them with its own quote, none fits, every one
//                                      ends unstarted: total $0, WARN lines, outputs and stream say so
//   node hard-budget.mjs stopped       estimates far below the truth: every job is stopped at its cap
//                                      (estimate x 1.1), charged the cap; log, stream and outputs show it
//   node hard-budget.mjs headline-seeds  the scenario's command (dropout 0.3/0.5/0.7) at $500, $200 and
//                                      $100, over the seeds that ended above the budget before caps
//                                      ($500: 35 -> $503.08, 44, 97; $200: 94 -> $202.20; $100: 21 ->
//                                      $100.93) and a few others, natively and as sibyl.wasm: never above
//                                      the budget, every job accounted for
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, exampleConfig, exampleDir, finish, parseLog, readJson, readStream, requireBuilt, run, tail, tempDir,
} from './lib.mjs';

requireBuilt({ wasm: true, native: true });
const part = process.argv[2];
const cents = (x) => Math.round(x * 100);

// A pipeline without the Solver: four jobs submitted as written.
function directPipeline(dir, budget, estimate) {
  const est = estimate === undefined ? '' : `, estimated_cost_usd: ${estimate}`;
  const jobs = [[0.001, 64], [0.001, 32], [0.0001, 64], [0.001, 128]]
    .map(([lr, bs]) => `            - {hyperparameters: {learning_rate: ${lr}, batch_size: ${bs}, dropout: 0.3}${est}}`).join('\n');
  const text = `version: 1
pipelines:
  direct:
    budget_usd: ${budget}
    steps:
      submit_jobs:
        call: conductor.submit_jobs
        with:
          jobs:
${jobs}
        handle:
          id: "{{ result.handle_id }}"
          jobs: "{{ result.job_ids }}"
      monitor_jobs:
        needs: [submit_jobs]
        poll: "{{ steps.submit_jobs.handle }}"
        status_tool: conductor.get_jobs_status
        stream: true
    outputs:
      total_cost: "{{ ledger.total_usd }}"
      counts: "{{ steps.monitor_jobs.output.counts }}"
      cost_breakdown: "{{ ledger }}"
`;
  fs.copyFileSync(path.join(exampleDir(), 'workspace.yaml'), path.join(dir, 'workspace.yaml'));
  fs.writeFileSync(path.join(dir, 'pipelines.yaml'), text);
  return ['pipeline', 'run', 'direct', '--workspace', path.join(dir, 'workspace.yaml'),
    '--config', path.join(dir, 'pipelines.yaml'), '--stream'];
}

let res;
function both(tag, fn) {
  for (const native of [false, true]) {
    const dir = tempDir(`${part}-${native ? 'native' : 'wasm'}`);
    fn(dir, native, `${tag} (${native ? 'native' : 'sibyl.wasm'})`);
  }
}

switch (part) {
  case 'no-estimate':
    both('no-estimate', (dir, native, what) => {
      res = run({ args: directPipeline(dir, 1), cwd: dir, native });
      const log = parseLog(res.stdout);
      const r = readJson(path.join(dir, 'sweep_output.json'));
      const b = r.cost_breakdown || {};
      check(cents(r.total_cost) <= 100, `${what}: total_cost ${r.total_cost} above the $1 budget`);
      check(b.total_usd === 0, `${what}: spent ${b.total_usd}, expected 0 (no job fits $1)`);
      check(b.jobs?.unstarted === 4 && b.unstarted?.jobs === 4, `${what}: breakdown ${JSON.stringify(b)}`);
      check(r.counts?.unstarted === 4 && r.counts?.cancelled === 4, `${what}: counts ${JSON.stringify(r.counts)}`);
      const warns = log.filter((l) => l.level === 'WARN' && /left unstarted: its cost cap of \$[0-9.]+ does not fit/.test(l.msg));
      check(warns.length === 4, `${what}: ${warns.length} WARN lines for unstarted jobs, expected 4`);
      const chunks = readStream(path.join(dir, 'sweep_output_stream.jsonl'));
      check(chunks.length === 4 && chunks.every((c) => c.type === 'job_unstarted' && c.error_type === 'budget' && c.cost_usd === 0),
        `${what}: stream ${JSON.stringify(chunks)}`);
      check(log.filter((l) => l.level === 'STREAM').length === 4, `${what}: STREAM lines`);
      check(res.code === 3, `${what}: exit ${res.code}, expected 3 (no job completed)`);
    });
    break;
  case 'stopped':
    both('stopped', (dir, native, what) => {
      res = run({ args: directPipeline(dir, 100, 5), cwd: dir, native });
      check(res.code === 3, `${what}: exit ${res.code}, expected 3 (no job completed)`);
      const log = parseLog(res.stdout);
      const r = readJson(path.join(dir, 'sweep_output.json'));
      const b = r.cost_breakdown || {};
      check(b.jobs?.stopped_at_cap === 4 && b.stopped_at_cap?.jobs === 4, `${what}: breakdown ${JSON.stringify(b)}`);
      check(cents(b.stopped_at_cap?.cost_usd) === 4 * 550 && cents(r.total_cost) === 4 * 550,
        `${what}: stopped jobs cost ${b.stopped_at_cap?.cost_usd}, total ${r.total_cost}; expected 4 x $5.50`);
      check(r.counts?.stopped_at_cap === 4, `${what}: counts ${JSON.stringify(r.counts)}`);
      const warns = log.filter((l) => l.level === 'WARN' && /stopped at its cost cap: charged \$5\.50/.test(l.msg));
      check(warns.length === 4, `${what}: ${warns.length} WARN lines for stopped jobs, expected 4`);
      const chunks = readStream(path.join(dir, 'sweep_output_stream.jsonl'));
      check(chunks.length === 4 && chunks.every((c) => c.type === 'job_failed' && c.error_type === 'budget' &&
        c.cost_usd === 5.5 && /stopped at its cost cap of \$5\.50/.test(c.error)), `${what}: stream ${JSON.stringify(chunks)}`);
    });
    break;
  case 'headline-seeds': {
    const space = '{"learning_rate":[0.0001,0.001,0.01],"batch_size":[32,64,128],"dropout":[0.3,0.5,0.7]}';
    const args = (budget, seed) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', exampleConfig(),
      '--input', `budget_usd=${budget}`, '--input', `param_space=${space}`, '--input', 'target_metric=val_acc',
      '--seed', String(seed)];
    let runs = 0;
    const seeds = [21, 35, 44, 94, 97, 1, 2, 3];
    for (const budget of [500, 200, 100]) {
      for (const seed of seeds) {
        const native = seed !== 21 && seed !== 35 && seed !== 94;
        const dir = tempDir(`seeds-${budget}-${seed}`);
        res = run({ args: args(budget, seed), cwd: dir, native });
        const what = `$${budget} seed ${seed} (${native ? 'native' : 'sibyl.wasm'})`;
        runs++;
        if (!check(fs.existsSync(path.join(dir, 'sweep_output.json')), `${what}: no result file (exit ${res.code})`)) continue;
        const r = readJson(path.join(dir, 'sweep_output.json'));
        const b = r.cost_breakdown || {};
        check(cents(r.total_cost) <= budget * 100, `${what}: total_cost ${r.total_cost} above the budget`);
        check(cents(b.total_usd) <= budget * 100, `${what}: ledger total ${b.total_usd} above the budget`);
        const j = b.jobs || {};
        check(j.running_or_queued === 0, `${what}: ${j.running_or_queued} jobs never settled`);
      }
    }
    check(runs === 24, `${runs} runs`);
    break;
  }
  default:
    process.stderr.write('usage: hard-budget.mjs no-estimate|stopped|headline-seeds\n');
    process.exit(2);
}
finish(`hard-budget ${part}`, res && { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` });
