// Bad input to `sibyl pipeline run` (through sibyl.wasm): a clear message on
// stderr, the exit code `sibyl --help` documents (1 invalid input, 2 usage),
// and no run started (no log line, no result file).
//   node bad-input.mjs unknown-input|wrong-type|missing-config|unknown-pipeline|usage
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, exampleConfig, finish, requireBuilt, run, tempDir } from './lib.mjs';

requireBuilt();
const part = process.argv[2];
const dir = tempDir(`bad-${part}`);
const cmd = (...more) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', exampleConfig(), ...more];

// The documented exit codes, read from `sibyl --help`.
const help = run({ args: ['--help'], cwd: dir });
check(help.code === 0, `sibyl --help: exit ${help.code}`);
check(/1 invalid input/.test(help.stdout) && /2 usage error/.test(help.stdout), `--help does not document exit codes 1 and 2:\n${help.stdout}`);

const cases = {
  'unknown-input': { args: cmd('--input', 'budget_usd=500', '--input', 'learning_rat=0.1'), code: 1,
    err: [/learning_rat/, /unknown input/i, /budget_usd/] },
  'wrong-type': { args: cmd('--input', 'budget_usd=abc'), code: 1, err: [/budget_usd/, /number/, /abc/] },
  'missing-config': { args: ['pipeline', 'run', 'hyperparameter_sweep', '--config', 'no/such/pipelines.yaml'], code: 1,
    err: [/no\/such\/pipelines\.yaml/, /cannot open|no such file/i] },
  'unknown-pipeline': { args: ['pipeline', 'run', 'hyperparamter_sweep', '--config', exampleConfig()], code: 1,
    err: [/hyperparamter_sweep/, /unknown pipeline/i, /hyperparameter_sweep/] },
  // Usage errors: an unknown option, a missing pipeline name, --seed without a number.
  usage: null,
};
if (!(part in cases)) {
  process.stderr.write(`usage: bad-input.mjs ${Object.keys(cases).join('|')}\n`);
  process.exit(2);
}

function expectFailure(c, what) {
  const r = run({ args: c.args, cwd: dir });
  check(r.code === c.code, `${what}: exit ${r.code}, expected ${c.code} (stderr: ${r.stderr.trim()})`);
  for (const re of c.err) check(re.test(r.stderr), `${what}: stderr does not match ${re}: ${r.stderr.trim()}`);
  check(r.stderr.trim().split('\n').length <= 3, `${what}: more than 3 lines on stderr: ${r.stderr}`);
  check(/error/.test(r.stderr), `${what}: stderr does not say error`);
  check(r.stdout === '', `${what}: the run started: ${r.stdout.slice(0, 300)}`);
  check(!fs.existsSync(path.join(dir, 'sweep_output.json')), `${what}: a result file was written`);
}

if (part === 'usage') {
  expectFailure({ args: cmd('--bogus'), code: 2, err: [/--bogus/, /unknown option/] }, 'unknown option');
  expectFailure({ args: ['pipeline', 'run', '--config', exampleConfig()], code: 2, err: [/which pipeline/] }, 'no pipeline name');
  expectFailure({ args: cmd('--seed', 'x'), code: 2, err: [/--seed/, /'x'/] }, '--seed x');
  expectFailure({ args: cmd('--input', 'budget_usd'), code: 2, err: [/NAME=VALUE/] }, '--input without =');
  expectFailure({ args: cmd('--clock', 'sundial'), code: 2, err: [/--clock/, /sundial/] }, '--clock sundial');
} else {
  expectFailure(cases[part], part);
}
finish(`bad input ${part}`);
