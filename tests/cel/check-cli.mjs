#!/usr/bin/env node
// Checks `sibyl expr` from the outside: stdout, stderr and exit codes.
//   node check-cli.mjs BIN            (native)
//   node check-cli.mjs --wasm RUNNER WASM   (sibyl.wasm under node:wasi; exit 77 if not built)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

let cmd, prefix;
if (process.argv[2] === '--wasm') {
  const [runner, wasm] = process.argv.slice(3);
  if (!existsSync(wasm)) { console.log(`skipped: ${wasm} is not built`); process.exit(77); }
  cmd = process.execPath;
  prefix = ['--no-warnings', runner, wasm];
} else {
  cmd = process.argv[2];
  prefix = [];
}

const cases = [
  { args: ['1 + 2 * 3'], out: '7\n', rc: 0 },
  { args: ['a.b', '--vars', '{"a": {"b": [1, 2.5, "x", null, true]}}'], out: '[1,2.5,"x",null,true]\n', rc: 0 },
  { args: ["{'k': b'hi', 'n': 1.0/0.0, 't': int}"], out: '{"k":"aGk=","n":null,"t":"int"}\n', rc: 0 },
  { args: ['batch_size * 0.5', '--vars', '{"batch_size": 64}', '--mixed-numeric'], out: '32.0\n', rc: 0 },
  { args: ['batch_size * 0.5', '--vars', '{"batch_size": 64}'], rc: 1,
    err: "error: col 12: no matching overload for '*' applied to (int, double)\n  batch_size * 0.5\n             ^\n" },
  { args: ['1 +'], rc: 1, err: 'error: col 4: unexpected end of expression, expected an expression\n  1 +\n     ^\n' },
  { args: ["'é' + x.y", '--vars', '{"x": {}}'], rc: 1,
    err: "error: col 9: no such key: 'y' (the map is empty)\n  'é' + x.y\n          ^\n" },
  { args: ['foo(1)'], rc: 1, err: "error: col 1: unknown function 'foo'\n  foo(1)\n  ^\n" },
  { args: ['{{ 2 * 3 }}'], out: '6\n', rc: 0,
    err: 'note: evaluating a {{ }} template; `sibyl expr` also takes a bare expression: 2 * 3\n' },
  { args: ['lr={{ 0.5 * 2.0 }}'], out: '"lr=1"\n', rc: 0 },
  { args: ['{{ x }}'], rc: 1, errRe: /error: <expr>: in '\{\{ x \}\}': undeclared reference to 'x'/ },
  { args: ['x', '--vars', '[1]'], rc: 1, err: '--vars: error: variables must be a JSON object, got list\n' },
  { args: ['x', '--vars', '{'], rc: 1, errRe: /^--vars: error: line 1, column/ },
  { args: [], rc: 2, errRe: /^usage: sibyl expr/ },
  { args: ['1', '--bogus'], rc: 2, errRe: /unknown option '--bogus'/ },
  { args: ['1', '2'], rc: 2, errRe: /one expression expected/ },
  { args: ['-1'], out: '-1\n', rc: 0 },
  // timestamps and durations print as RFC 3339 / seconds text; zones come from the built-in table
  { args: ["[timestamp('2024-02-29T23:30:00.5+01:00'), duration('90m'), timestamp(0) - timestamp(1)]"],
    out: '["2024-02-29T22:30:00.5Z","5400s","-1s"]\n', rc: 0 },
  { args: ["duration('18446744073.9999999999s')"], rc: 1,
    err: "error: col 1: duration out of range (about 292 years either way)\n  duration('18446744073.9999999999s')\n  ^\n" },
  // optionals print as their value, none as null
  { args: ["[m.?acc, m.?loss, m.?loss.orValue(1.5)]", '--vars', '{"m": {"acc": 0.5}}'], out: '[0.5,null,1.5]\n', rc: 0 },
  { args: ["timestamp(t).getHours('Europe/Paris')", '--vars', '{"t": "2024-07-01T12:00:00Z"}'], out: '14\n', rc: 0 },
  { args: ["timestamp('9999-12-31T23:59:59Z') + duration('1s')"], rc: 1,
    err: "error: col 35: timestamp out of range (0001-01-01 to 9999-12-31)\n  timestamp('9999-12-31T23:59:59Z') + duration('1s')\n                                    ^\n" },
  { args: ['[1, 2, 3].map(x, x * x)', '--bench', '100'], rc: 0, outRe: /^\{"evals":100,"ms":[0-9.]+,"evals_per_sec":\d+,"errors":0\}\n$/ },
];

let failed = 0;
for (const c of cases) {
  const r = spawnSync(cmd, [...prefix, 'expr', ...c.args], { encoding: 'utf8' });
  const problems = [];
  if (r.status !== c.rc) problems.push(`exit ${r.status}, want ${c.rc}`);
  if (c.out !== undefined && r.stdout !== c.out) problems.push(`stdout ${JSON.stringify(r.stdout)}, want ${JSON.stringify(c.out)}`);
  if (c.outRe && !c.outRe.test(r.stdout)) problems.push(`stdout ${JSON.stringify(r.stdout)} does not match ${c.outRe}`);
  if (c.err !== undefined && r.stderr !== c.err) problems.push(`stderr ${JSON.stringify(r.stderr)}, want ${JSON.stringify(c.err)}`);
  if (c.errRe && !c.errRe.test(r.stderr)) problems.push(`stderr ${JSON.stringify(r.stderr)} does not match ${c.errRe}`);
  if (problems.length) {
    failed++;
    console.log(`FAIL sibyl expr ${c.args.map(a => JSON.stringify(a)).join(' ')}\n  ${problems.join('\n  ')}`);
  }
}
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
