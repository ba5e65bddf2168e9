#!/usr/bin/env node
// Runs the test tool cel_conformance (tests/cel/cel_conformance.c) on the
// visible cel-spec cases and checks:
//   - per-file passes are at least the committed floor (floor.json);
//   - at least 95% of the core files' cases and 80% of all cases pass;
//   - with --wasm: cel_conformance.wasm (under node:wasi) prints exactly what
//     the native build prints, for the normal and the --verbose run.
// Exit 77 (ctest: skipped) when --wasm names a file that was not built.
//   node check-conformance.mjs --native cel_conformance --cases FILE --floor FILE
//        [--wasm cel_conformance.wasm --runner run-wasi.mjs]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import process from 'node:process';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['native', 'cases', 'floor'])
  if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }

const CORE = ['basic', 'plumbing', 'logic', 'integer_math', 'fp_math', 'comparisons', 'lists', 'fields', 'macros',
  'string', 'conversions', 'parse'];

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 3) {
    console.error(`${cmd} ${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;
}

function summary(out) {
  const files = {};
  let total = null;
  for (const line of out.split('\n')) {
    let m = /^(\w+): (\d+) passed, (\d+) failed, (\d+) skipped$/.exec(line);
    if (m) files[m[1]] = { pass: +m[2], fail: +m[3], skip: +m[4] };
    m = /^(\d+) passed, (\d+) failed, (\d+) skipped$/.exec(line);
    if (m) total = { pass: +m[1], fail: +m[2], skip: +m[3] };
  }
  if (!total) { console.error('no summary line in the output'); process.exit(1); }
  return { files, total };
}

let problems = 0;
function check(label, out) {
  const { files, total } = summary(out);
  const floor = JSON.parse(readFileSync(args.floor, 'utf8'));
  for (const [file, min] of Object.entries(floor.files)) {
    const got = files[file] ? files[file].pass : 0;
    if (got < min) { console.error(`${label}: ${file}: ${got} passed, below the floor of ${min}`); problems++; }
  }
  let corePass = 0, coreAll = 0;
  for (const f of CORE) if (files[f]) { corePass += files[f].pass; coreAll += files[f].pass + files[f].fail + files[f].skip; }
  const all = total.pass + total.fail + total.skip;
  const coreRate = coreAll ? corePass / coreAll : 0, allRate = all ? total.pass / all : 0;
  console.log(`${label}: core files ${corePass}/${coreAll} (${(100 * coreRate).toFixed(1)}%), ` +
    `all ${total.pass}/${all} (${(100 * allRate).toFixed(1)}%)`);
  if (coreRate < 0.95) { console.error(`${label}: core pass rate below 95%`); problems++; }
  if (allRate < 0.80) { console.error(`${label}: overall pass rate below 80%`); problems++; }
  return total;
}

const native = run(args.native, [args.cases]);
const nativeVerbose = run(args.native, ['--verbose', args.cases]);
let total = check('native', native);

if (args.wasm) {
  if (!existsSync(args.wasm)) {
    console.log(`skipped: ${args.wasm} is not built (cmake --preset wasi && cmake --build build/wasi --target cel_conformance)`);
    process.exit(77);
  }
  const runner = [ '--no-warnings', args.runner, args.wasm ];
  const wasm = run(process.execPath, [...runner, args.cases]);
  const wasmVerbose = run(process.execPath, [...runner, '--verbose', args.cases]);
  for (const [a, b, what] of [[native, wasm, 'output'], [nativeVerbose, wasmVerbose, '--verbose output']]) {
    if (a !== b) {
      const la = a.split('\n'), lb = b.split('\n');
      const i = la.findIndex((l, k) => l !== lb[k]);
      console.error(`native and wasm ${what} differ at line ${i + 1}:\n  native: ${la[i]}\n  wasm:   ${lb[i]}`);
      problems++;
    }
  }
  total = check('wasm', wasm);
}
process.stdout.write(native.split('\n').filter(l => l.startsWith('FAIL')).join('\n'));
if (problems) { console.error(`${problems} problem(s)`); process.exit(1); }
console.log(`${total.pass} passed, ${total.fail} failed, ${total.skip} skipped`);
