// Outcomes of a sweep that are not plain success, through the real CLI, as
// sibyl.wasm and natively (the same bytes of configuration for both).
//   node outcomes.mjs every-job-fails   every trial is an invalid config: the run goes to its end,
//                                       select over nothing succeeds, the report is skipped by its
//                                       when:, exit 3 with "no job completed (n failed); every result kept"
//   node outcomes.mjs no-budget         the example without budget_usd: "no budget" said, null figures
//                                       in the result, never the ledger's internal ceiling
import path from 'node:path';
import process from 'node:process';
import {
  check, copyExample, finish, parseLog, readJson, readStream, requireBuilt, run, tail, tempDir,
} from './lib.mjs';

requireBuilt({ native: true });
const part = process.argv[2];
let last = '';

for (const native of [false, true]) {
  const build = native ? 'native' : 'wasm';
  const dir = tempDir(`${part}-${build}`);
  switch (part) {
    case 'every-job-fails': {
      const config = copyExample(dir);
      const space = '{"learning_rate":[0.001,0.01],"batch_size":[32,64,128],"dropout":[1.5]}';
      const res = run({ native, cwd: dir, args: ['pipeline', 'run', 'hyperparameter_sweep', '--config', config,
        '--input', 'budget_usd=200', '--input', `param_space=${space}`] });
      last = res.stdout;
      check(res.code === 3, `${build}: exit ${res.code}, expected 3`);
      const log = parseLog(res.stdout, `${build} log`);
      const has = (level, re) => log.some((l) => l.level === level && re.test(l.msg));
      check(has('WARN', /^Step 8\/11: aggregate_results: nothing to rank \(best null, top \[\]\): no job completed \(6 failed\)$/),
        `${build}: no WARN for aggregate over nothing`);
      check(has('WARN', /^Step 9\/11: select_best: nothing to select \(output null\): no job completed \(6 failed\)$/),
        `${build}: no WARN for select over nothing`);
      check(has('INFO', /^Step 10\/11: generate_report skipped \(when is false: /), `${build}: the report is not skipped visibly`);
      check(has('INFO', /^Step 11\/11: calculate_cost$/), `${build}: calculate_cost did not run`);
      check(!log.some((l) => l.level === 'SUCCESS'), `${build}: a SUCCESS line`);
      const end = log[log.length - 1];
      check(end?.level === 'ERROR' && /^Pipeline hyperparameter_sweep failed after .*: no job completed \(6 failed\); every result kept in sweep_output\.json$/.test(end.msg),
        `${build}: last line ${end?.text}`);
      const r = readJson(path.join(dir, 'sweep_output.json'));
      check(r.status === 'failed' && r.error === 'no job completed (6 failed)', `${build}: result status ${r.status}, error ${r.error}`);
      check(r.steps?.select_best?.status === 'succeeded' && r.steps?.generate_report?.status === 'skipped' &&
        r.steps?.calculate_cost?.status === 'succeeded', `${build}: steps ${JSON.stringify(r.steps)}`);
      check(Array.isArray(r.all_results) && r.all_results.length === 0, `${build}: all_results ${JSON.stringify(r.all_results)}`);
      check(r.cost_breakdown?.jobs?.failed === 6 && r.cost_breakdown?.budget_usd === 200, `${build}: cost_breakdown ${JSON.stringify(r.cost_breakdown)}`);
      const chunks = readStream(path.join(dir, 'sweep_output_stream.jsonl'));
      check(chunks.length === 6 && chunks.every((c) => c.type === 'job_failed'), `${build}: ${chunks.length} chunks in the stream file`);
      break;
    }
    case 'no-budget': {
      const config = copyExample(dir, { pipelines: [[/^ {4}budget_usd: .*$/m, '']] });
      const res = run({ native, cwd: dir, args: ['pipeline', 'run', 'hyperparameter_sweep', '--config', config,
        '--input', 'budget_usd=500'] });
      last = res.stdout;
      check(res.code === 0, `${build}: exit ${res.code}: ${tail(res.stderr)}`);
      const log = parseLog(res.stdout, `${build} log`);
      check(log.some((l) => l.level === 'INFO' && /^Budget: no budget /.test(l.msg)), `${build}: no "no budget" line`);
      check(!/4611686018427/.test(res.stdout + res.stderr), `${build}: the ledger's ceiling shows`);
      const r = readJson(path.join(dir, 'sweep_output.json'));
      const b = r.cost_breakdown || {};
      check(b.budget_usd === null && b.remaining_usd === null && b.utilization === null,
        `${build}: cost_breakdown ${JSON.stringify(b)}`);
      check(!/4611686018427/.test(JSON.stringify(r)), `${build}: the ledger's ceiling is in the result`);
      break;
    }
    default:
      check(false, `unknown part ${part}`);
  }
}
finish(`outcomes (${part})`, { label: 'log of the last run (tail)', text: tail(last) });
