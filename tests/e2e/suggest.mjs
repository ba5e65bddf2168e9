// The suggest step's edges, through the real CLI, as sibyl.wasm and natively:
//   node suggest.mjs guard       a Solver told of far more money than the budget has: the suggested
//                                trials that do not fit are skipped by the budget guard (WARN, and in
//                                cost_breakdown.skipped_retries), total_cost stays within $500
//   node suggest.mjs tool-error  a suggest step whose Solver refuses (a bad argument): a WARN per
//                                question, the sweep of the balanced start goes to its end
//   node suggest.mjs grid        --input search=grid: the fixed plan's 18, no suggestion
import path from 'node:path';
import process from 'node:process';
import {
  check, copyExample, finish, parseLog, readJson, readStream, requireBuilt, run, tail, tempDir,
} from './lib.mjs';

requireBuilt({ native: true });
const part = process.argv[2];
const SPACE = '{"learning_rate": [0.0001, 0.001, 0.01], "batch_size": [32, 64, 128], "dropout": [0.3, 0.5, 0.7]}';
let last = '';

for (const native of [false, true]) {
  const build = native ? 'native' : 'wasm';
  const dir = tempDir(`suggest-${part}-${build}`);
  let edits = {};
  if (part === 'guard')
    edits = { pipelines: [[/remaining_usd: "\{\{ ledger\.remaining_usd \}\}"/, 'remaining_usd: 1000000'],
      [/max_in_flight: "\{\{ inputs\.max_concurrent \}\}"/, 'max_in_flight: 100']] };
  else if (part === 'tool-error')
    edits = { pipelines: [[/direction: "\{\{ inputs\.target_metric == 'train_loss' \? 'min' : 'max' \}\}"\n( +)max_in_flight/,
      "direction: sideways\n$1max_in_flight"]] };
  const config = copyExample(dir, edits);
  const args = ['pipeline', 'run', 'hyperparameter_sweep', '--workspace', path.join(dir, 'workspace.yaml'),
    '--config', config, '--input', 'budget_usd=500', '--input', `param_space=${SPACE}`];
  if (part === 'grid') args.push('--input', 'search=grid');
  const res = run({ native, cwd: dir, args });
  last = res.stdout;
  check(res.code === 0, `${build}: exit ${res.code}: ${tail(res.stderr)}`);
  const log = parseLog(res.stdout, `${build} log`);
  const r = readJson(path.join(dir, 'sweep_output.json'));
  const chunks = readStream(path.join(dir, 'sweep_output_stream.jsonl'));
  check(r.total_cost <= 500, `${build}: total_cost ${r.total_cost}`);
  const ids = chunks.map((c) => c.job_id);
  check(new Set(ids).size === ids.length, `${build}: a job id twice in the stream`);
  const originals = chunks.filter((c) => !c.retry_of).map((c) => JSON.stringify(c.hyperparameters));
  check(new Set(originals).size === originals.length, `${build}: a configuration submitted twice: ${originals.sort().join(' ')}`);
  const skips = log.filter((l) => l.level === 'WARN' && /^Suggested trial job_\d+ skipped by the budget guard: its cost cap is \$[\d.]+ but only \$[\d.]+ of the budget is uncommitted$/.test(l.msg));
  const suggested = log.filter((l) => /^Submitted \d+ suggested trials? to handle /.test(l.msg));
  switch (part) {
    case 'guard': {
      check(skips.length > 0, `${build}: no suggested trial was skipped by the budget guard`);
      const recorded = r.cost_breakdown?.skipped_retries || [];
      check(recorded.length >= skips.length, `${build}: ${skips.length} skips logged, ${recorded.length} recorded`);
      // The first answer proposed every combination left; those that fit went in one submission.
      check(suggested.length > 0 && /^Submitted (\d+) suggested trials/.test(suggested[0].msg) &&
        +/^Submitted (\d+)/.exec(suggested[0].msg)[1] > 1, `${build}: first suggestion: ${suggested[0]?.msg}`);
      break;
    }
    case 'tool-error': {
      const warns = log.filter((l) => l.level === 'WARN' && /^Step suggest_trials: solver\.suggest_trials: direction: expected "max" or "min", got "sideways"; no trials suggested$/.test(l.msg));
      check(warns.length > 0, `${build}: no WARN for the Solver's refusal`);
      check(suggested.length === 0, `${build}: suggestions submitted despite the refusal`);
      check(originals.length === 9, `${build}: ${originals.length} original jobs, expected the start's 9`);
      check(r.status === 'succeeded', `${build}: status ${r.status}`);
      break;
    }
    case 'grid': {
      check(suggested.length === 0, `${build}: suggestions in a grid search`);
      check(log.some((l) => /^Step 7\/11: suggest_trials skipped/.test(l.msg)) || !log.some((l) => /suggest_trials \(triggered/.test(l.msg)),
        `${build}: the suggest step ran in a grid search`);
      check(originals.length === 18, `${build}: ${originals.length} original jobs, expected the plan's 18`);
      check(log.some((l) => /^Submitted 18 jobs to conductor/.test(l.msg)), `${build}: the plan's 18 were not submitted at once`);
      break;
    }
    default:
      process.stderr.write('usage: suggest.mjs guard|tool-error|grid\n');
      process.exit(2);
  }
}
finish(`suggest ${part}`, { label: 'stdout (tail)', text: tail(last, 30) });
