// Numbers that are not finite never reach a run: a JSON number beyond the
// double range (--input budget_usd=1e309, or inside --input-file), YAML .inf
// and .nan in an input default. Each is refused with a clear message (the
// YAML one with its line:column), exit 1, nothing run, native and wasm alike.
//   node nonfinite-input.mjs
import fs from 'node:fs';
import path from 'node:path';
import { check, copyExample, exampleConfig, finish, requireBuilt, run, tempDir } from './lib.mjs';

requireBuilt({ wasm: true, native: true });
const dir = tempDir('nonfinite');
const cmd = (config, ...more) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', config, ...more];

fs.writeFileSync(path.join(dir, 'inputs.json'), '{"param_space": {"learning_rate": [0.001, -1e400, 1e999]}}');
const exDir = path.join(dir, 'ex');
fs.mkdirSync(exDir);
const yamlFile = copyExample(exDir, { pipelines: [['default: 500\n', 'default: .inf\n']] });
const line = fs.readFileSync(yamlFile, 'utf8').split('\n').findIndex((l) => l.includes('default: .inf')) + 1;

const cases = [
  { what: '--input budget_usd=1e309', args: cmd(exampleConfig(), '--input', 'budget_usd=1e309'),
    err: /--input: error: input 'budget_usd': expected a finite number, found infinity/ },
  { what: '--input budget_usd=-1e309', args: cmd(exampleConfig(), '--input', 'budget_usd=-1e309'),
    err: /input 'budget_usd': expected a finite number, found minus infinity/ },
  { what: 'an infinite number inside --input-file', args: cmd(exampleConfig(), '--input-file', 'inputs.json'),
    err: /input 'param_space': numbers must be finite, found minus infinity/ },
  { what: 'YAML .inf as an input default', args: cmd(yamlFile),
    err: new RegExp(`pipelines\\.yaml:${line}:18: error: .*budget_usd.*must be a finite number, found infinity`) },
];
for (const native of [true, false]) {
  for (const c of cases) {
    const what = `${c.what} (${native ? 'native' : 'wasm'})`;
    const r = run({ args: c.args, cwd: dir, native });
    check(r.code === 1, `${what}: exit ${r.code}, expected 1 (stderr: ${r.stderr.trim()})`);
    check(c.err.test(r.stderr), `${what}: stderr does not match ${c.err}: ${r.stderr.trim()}`);
    check(r.stdout === '', `${what}: the run started: ${r.stdout.slice(0, 300)}`);
    check(!fs.existsSync(path.join(dir, 'sweep_output.json')), `${what}: a result file was written`);
  }
}
finish('non-finite input numbers');
