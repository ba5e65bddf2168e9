// Pipelines of 10,000 steps through the real CLI (`pipeline validate` and
// `pipeline run`), as sibyl.wasm under node:wasi with its 1 MiB stack and as
// the native build: scheduling and the graph checks are loops, not
// recursions, and linear in the number of steps.
//   node many-steps.mjs independent   10,000 steps that need nothing
//   node many-steps.mjs chain         s<i> needs s<i-1>, written in order, in reverse and shuffled
// A chained step adds one to the output of the step it needs, so the last
// output is 10,000 only when every step ran after what it needs.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, finish, readJson, requireBuilt, run, tail, tempDir } from './lib.mjs';

requireBuilt({ native: true });
const N = 10000;
const part = process.argv[2];

const WORKSPACE = 'version: 1\nname: many_steps\nservers:\n  conductor:\n    transport: embedded\n    service: conductor_sim\n';

function pipeline(order, chain) {
  const lines = ['version: 1', 'pipelines:', '  many:', '    outputs:', `      last: "{{ steps.s${N - 1}.output.v }}"`,
    '    steps:'];
  for (const i of order) {
    if (chain && i > 0)
      lines.push(`      s${i}:`, `        needs: [s${i - 1}]`, `        compute: {v: "{{ steps.s${i - 1}.output.v + 1 }}"}`);
    else
      lines.push(`      s${i}:`, `        compute: {v: ${chain ? '1' : '"{{ 1 }}"'}}`);
  }
  return `${lines.join('\n')}\n`;
}

// A fixed shuffle (xorshift32), so a failure reproduces.
function shuffled(order) {
  const o = [...order];
  let x = 12345;
  for (let i = o.length - 1; i > 0; i--) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const j = x % (i + 1);
    [o[i], o[j]] = [o[j], o[i]];
  }
  return o;
}

let last = '';
function runCase(what, order, chain, want) {
  for (const native of [false, true]) {
    const build = native ? 'native' : 'wasm';
    const dir = tempDir(`many-${build}`);
    fs.writeFileSync(path.join(dir, 'workspace.yaml'), WORKSPACE);
    fs.writeFileSync(path.join(dir, 'pipelines.yaml'), pipeline(order, chain));
    const files = ['--workspace', 'workspace.yaml', '--config', 'pipelines.yaml'];
    const v = run({ args: ['pipeline', 'validate', ...files], cwd: dir, native });
    check(v.code === 0, `${what} (${build}): pipeline validate exits ${v.code}: ${tail(v.stderr)}`);
    const r = run({ args: ['pipeline', 'run', 'many', ...files], cwd: dir, native });
    last = `${r.stdout}\n--- stderr ---\n${r.stderr}`;
    if (!check(r.code === 0, `${what} (${build}): pipeline run exits ${r.code} (signal ${r.signal}): ${tail(r.stderr)}`))
      continue;
    const res = readJson(path.join(dir, 'sweep_output.json'));
    check(res.status === 'succeeded', `${what} (${build}): status ${res.status}`);
    check(res.last === want, `${what} (${build}): last output ${res.last}, expected ${want}`);
    check(Object.keys(res.steps || {}).length === N, `${what} (${build}): ${Object.keys(res.steps || {}).length} steps in the result`);
  }
}

const inOrder = Array.from({ length: N }, (_, i) => i);
switch (part) {
  case 'independent':
    runCase('independent steps', inOrder, false, 1);
    break;
  case 'chain':
    runCase('a chain in order', inOrder, true, N);
    runCase('a chain written in reverse', [...inOrder].reverse(), true, N);
    runCase('a shuffled chain', shuffled(inOrder), true, N);
    break;
  default:
    check(false, `unknown part ${part}`);
}
finish(`many steps (${part})`, { label: 'output of the last run (tail)', text: tail(last) });
