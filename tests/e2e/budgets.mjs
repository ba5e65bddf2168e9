// Budgets and parameter spaces other than the headline's, through sibyl.wasm.
//   node budgets.mjs budget-200    fewer trials than at $500, total <= $200
//   node budgets.mjs space-4d      a 5x5x5x4 space (weight_decay added) keeps every invariant, and the
//                                  adaptive search never submits a combination twice
//   node budgets.mjs unreachable   $10 buys no trial: a clear error before anything is submitted,
//                                  exit 3, a result file with status failed
import path from 'node:path';
import process from 'node:process';
import {
  check, checkMoney, checkSweep, exampleConfig, finish, parseLog, planLine, readJson, readStream, requireBuilt, run,
  SPACE_3x3x3, tail, tempDir,
} from './lib.mjs';

requireBuilt();
const part = process.argv[2];
const base = (budget, space = SPACE_3x3x3) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', exampleConfig(),
  '--input', `budget_usd=${budget}`, '--input', 'target_metric=val_acc', '--input', `param_space=${space}`, '--stream'];
const dir = tempDir(part);
let res;

switch (part) {
  case 'budget-200': {
    res = run({ args: base(200), cwd: dir });
    check(res.code === 0, `exit ${res.code}`);
    const p = planLine(parseLog(res.stdout));
    if (p) {
      check(p.trials > 0 && p.trials < 18, `planned ${p.trials} trials at $200 (18 at $500)`);
      checkMoney(p.line.msg);
    }
    const { chunks } = checkSweep(dir, { budget: 200, trials: p?.trials, params: ['learning_rate', 'batch_size', 'dropout'] });
    check(chunks && chunks.length >= p?.trials, 'fewer chunks than trials');
    break;
  }
  case 'space-4d': {
    const space = JSON.stringify({
      learning_rate: [0.0001, 0.0003, 0.001, 0.003, 0.01], batch_size: [16, 32, 64, 128, 256],
      dropout: [0.1, 0.2, 0.3, 0.4, 0.5], weight_decay: [0, 0.0001, 0.001, 0.01],
    });
    res = run({ args: base(500, space), cwd: dir });
    check(res.code === 0, `exit ${res.code}`);
    const p = planLine(parseLog(res.stdout));
    if (p) {
      check(p.grid === 500, `grid of ${p.grid}, expected 5*5*5*4 = 500`);
      check(p.trials > 0 && p.trials < 500, `planned ${p.trials} trials`);
    }
    const params = ['learning_rate', 'batch_size', 'dropout', 'weight_decay'];
    // The example searches adaptively: a balanced start, then the Solver's
    // picks, as many as the money allows (not the plan's count, and not
    // balanced: the picks go where the results point).
    const { result, chunks } = checkSweep(dir, { budget: 500, params, balanced: false });
    // Every planned combination is distinct, and the best is at the surface's best learning rate.
    const originals = (chunks || []).filter((c) => !c.retry_of).map((c) => JSON.stringify(c.hyperparameters));
    check(new Set(originals).size === originals.length, 'the plan repeats a combination');
    if (result) check(result.best_hyperparameters?.learning_rate === 0.001, `best ${JSON.stringify(result.best_hyperparameters)}`);
    break;
  }
  case 'unreachable': {
    res = run({ args: base(10), cwd: dir });
    check(res.code === 3, `exit ${res.code}, expected 3 (the run failed)`);
    const log = parseLog(res.stdout);
    // Nothing is submitted: no call to submit_jobs, no job, no chunk.
    check(!log.some((l) => /Calling conductor\.submit_jobs|^Submitted|Monitoring|^Poll #|Retrying/.test(l.msg)),
      'something was submitted or polled');
    const subLines = log.filter((l) => l.msg.includes('submit_jobs'));
    check(subLines.every((l) => /not run/.test(l.msg)), `submit_jobs appears as more than "not run": ${subLines.map((l) => l.msg)}`);
    check(!log.some((l) => l.level === 'STREAM'), 'STREAM lines');
    const err = log.find((l) => l.level === 'ERROR' && /plan_search_grid failed: .*budget/.test(l.msg));
    if (check(err, 'no ERROR line saying the plan failed on the budget')) {
      check(/\$10\.00/.test(err.msg) && /cheapest trial/.test(err.msg), `the error does not explain the budget: ${err.msg}`);
      checkMoney(err.msg);
    }
    const last = log[log.length - 1];
    check(last?.level === 'ERROR' && /^Pipeline hyperparameter_sweep failed/.test(last.msg), `last line: ${last?.text}`);
    const r = readJson(path.join(dir, 'sweep_output.json'));
    check(r.status === 'failed', `result status ${r.status}`);
    check(/budget/.test(r.error || ''), `result error: ${r.error}`);
    check(r.steps?.submit_jobs?.status !== 'succeeded' && r.steps?.plan_search_grid?.status === 'failed',
      `steps: ${JSON.stringify(r.steps)}`);
    const b = r.cost_breakdown || {};
    check(b.total_usd === 0 && b.committed_usd === 0 && b.budget_usd === 10, `cost_breakdown ${JSON.stringify(b)}`);
    check(readStream(path.join(dir, 'sweep_output_stream.jsonl')).length === 0, 'the stream file has chunks');
    break;
  }
  default:
    process.stderr.write('usage: budgets.mjs budget-200|space-4d|unreachable\n');
    process.exit(2);
}
finish(`budgets ${part}`, res && { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` });
