// Argument errors of `sibyl pipeline run`, natively and through sibyl.wasm:
// each is a usage error (exit 2) with a one-line message naming the option
// and the value, and no run starts (nothing on stdout, no file written).
// Valid edge values are accepted and mean what they say.
// --input-file problems are invalid input (exit 1), with FILE:LINE:COL where
// there is one.
//   node cli-args.mjs start-time|seed|time-scale|values|input-file
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, exampleConfig, finish, parseLog, requireBuilt, run, tempDir } from './lib.mjs';

requireBuilt({ native: true });
const part = process.argv[2];
const cmd = (...more) => ['pipeline', 'run', 'hyperparameter_sweep', '--config', exampleConfig(),
  '--input', 'budget_usd=100', ...more];
const builds = [['native', true], ['wasm', false]];

function expectUsage(args, res, { code = 2, files = {} } = {}) {
  for (const [name, native] of builds) {
    const dir = tempDir(`args-${part}`);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    const r = run({ args: cmd(...args), cwd: dir, native });
    const what = `${name} ${JSON.stringify(args)}`;
    check(r.code === code, `${what}: exit ${r.code}, expected ${code} (stderr: ${r.stderr.trim()})`);
    for (const re of res) check(re.test(r.stderr), `${what}: stderr does not match ${re}: ${r.stderr.trim()}`);
    check((code !== 2 || /^sibyl: error: /.test(r.stderr)) && r.stderr.trim().split('\n').length === 1,
      `${what}: not one error line: ${r.stderr}`);
    check(r.stdout === '', `${what}: the run started: ${r.stdout.slice(0, 200)}`);
    check(fs.readdirSync(dir).length === Object.keys(files).length, `${what}: files written: ${fs.readdirSync(dir)}`);
  }
}

// The first log line's time, for a run that is accepted.
function expectStart(value, stamp) {
  for (const [name, native] of builds) {
    const r = run({ args: cmd('--start-time', value), cwd: tempDir(`args-${part}`), native });
    check(r.code === 0, `${name} --start-time ${value}: exit ${r.code} (stderr: ${r.stderr.trim()})`);
    const log = parseLog(r.stdout, `${name} --start-time ${value}`);
    check(log[0]?.text.startsWith(`[${stamp}]`), `${name} --start-time ${value}: first line ${log[0]?.text}`);
  }
}

const esc = (s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

if (part === 'start-time') {
  // Outside 1970..9999, impossible calendar fields, junk: refused, not wrapped or normalized.
  for (const v of ['-1', '253402300800', '99999999999999999999', '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z',
    '2026-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z', '2026-01-01T23:59:60Z', '2026-01-01T00:00:00Zjunk', '2026-01-01T00:00:00',
    '1969-12-31T23:59:59Z', '12abc', '1e9', ' 5', '+5', '2026-1-01T00:00:00Z'])
    expectUsage(['--start-time', v], [/--start-time/, esc(`'${v}'`), /1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z/]);
  expectStart('0', '1970-01-01 00:00:00');
  expectStart('2024-02-29T23:59:59Z', '2024-02-29 23:59:59');
  expectStart('2000-02-29T00:00:00Z', '2000-02-29 00:00:00');
  expectStart('951782400', '2000-02-29 00:00:00');
} else if (part === 'seed') {
  for (const v of ['-1', ' 5', '+5', '5x', '0x10', '18446744073709551616', '1e3'])
    expectUsage(['--seed', v], [/--seed/, esc(`'${v}'`)]);
  const r = run({ args: cmd('--seed', '18446744073709551615'), cwd: tempDir('args-seed'), native: true });
  check(r.code === 0 && /seed 18446744073709551615/.test(r.stdout), `--seed 2^64-1: exit ${r.code}, ${r.stderr}`);
} else if (part === 'time-scale') {
  for (const v of ['0', '-1', 'inf', 'nan', '0x10', ' 2', '2x', '1e-300', '1e10', '0.0001'])
    expectUsage(['--time-scale', v], [/--time-scale/, esc(`'${v}'`), /0\.001 to 1000000000/]);
  // A valid scale the virtual clock would silently ignore.
  expectUsage(['--time-scale', '60'], [/--time-scale needs --clock real/]);
  expectUsage(['--clock', 'virtual', '--time-scale', '60'], [/--time-scale needs --clock real/]);
} else if (part === 'values') {
  // A forgotten value: the next option or an empty string is not taken as one.
  for (const o of ['--config', '--workspace', '--input', '--input-file', '--seed', '--clock', '--time-scale',
    '--output-dir', '--start-time']) {
    expectUsage([o, '--stream'], [esc(o), /needs a value/, /'--stream'/]);
    expectUsage([o, ''], [esc(o), /needs a value/, /empty/]);
    expectUsage([o], [esc(o), /needs a value/]);
  }
  expectUsage(['--clock', 'Real'], [/--clock/, /'Real'/]);
  expectUsage(['--input', '=5'], [/--input/, /NAME=VALUE/]);
} else if (part === 'input-file') {
  const opt = { code: 1, files: { 'bad.json': '{"budget_usd": 5,\n  "x": }\n', 'list.json': '[1]' } };
  expectUsage(['--input-file', 'bad.json'], [/^bad\.json:2:8: error: /, /JSON/], opt);
  expectUsage(['--input-file', 'list.json'], [/^list\.json:1:1: error: /, /JSON object/, /list/], opt);
  expectUsage(['--input-file', 'missing.json'], [/^missing\.json: error: /, /No such file/], opt);
  expectUsage(['--input-file', '.'], [/^\.: error: cannot read: Is a directory$/m], opt);
} else {
  process.stderr.write('usage: cli-args.mjs start-time|seed|time-scale|values|input-file\n');
  process.exit(2);
}
finish(`cli args ${part}`);
