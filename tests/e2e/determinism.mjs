// Reproducibility of the headline sweep through sibyl.wasm.
//   node determinism.mjs same-seed    the same seed twice: byte-identical output files, and
//                                     byte-identical logs when --start-time is fixed
//   node determinism.mjs other-seed   another --seed: different numbers, the same invariants
//                                     (18 trials, total <= $500, best in the best region)
//   node determinism.mjs native       the native build writes the same files (and log) as sibyl.wasm
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, checkSweep, finish, headlineArgs, parseLog, planLine, readStream, requireBuilt, run, tempDir,
} from './lib.mjs';

const part = process.argv[2];
const FILES = ['sweep_output.json', 'sweep_output_stream.jsonl'];
const START = ['--start-time', '2026-05-04T12:00:00Z'];
const PARAMS = ['learning_rate', 'batch_size', 'dropout'];

function sweep(tag, extra = [], native = false) {
  const dir = tempDir(tag);
  const r = run({ args: [...headlineArgs(), ...extra], cwd: dir, native });
  check(r.code === 0, `${tag}: exit ${r.code} (stderr: ${r.stderr.trim()})`);
  r.dir = dir;
  r.file = (f) => fs.readFileSync(path.join(dir, f));
  return r;
}

function sameBytes(a, b, what) {
  for (const f of FILES) {
    const x = a.file(f), y = b.file(f);
    check(x.length > 0, `${what}: ${f} is empty`);
    check(x.equals(y), `${what}: ${f} differs (${x.length} vs ${y.length} bytes)`);
  }
}

switch (part) {
  case 'same-seed': {
    requireBuilt();
    // Twice with the workspace's seed and the clock left at "now": the files do not depend on the wall clock.
    const a = sweep('seed-a'), b = sweep('seed-b');
    sameBytes(a, b, 'same seed');
    // With the start time fixed, the log is the same too, byte for byte.
    const c = sweep('seed-c', START), d = sweep('seed-d', START);
    sameBytes(c, d, 'same seed and start time');
    check(c.stdout === d.stdout && c.stdout.length > 1000, 'same seed and start time: the logs differ');
    check(c.stderr === '' && d.stderr === '', 'stderr not empty');
    sameBytes(a, c, 'another start time');
    // An explicit --seed equal to the workspace's (7) is the same run.
    const e = sweep('seed-e', ['--seed', '7', ...START]);
    sameBytes(c, e, '--seed 7 vs simulation.seed 7');
    check(c.stdout === e.stdout, '--seed 7 vs simulation.seed 7: the logs differ');
    break;
  }
  case 'other-seed': {
    requireBuilt();
    const base = sweep('seed-7', START);
    const other = sweep('seed-1234', ['--seed', '1234', ...START]);
    const s7 = readStream(path.join(base.dir, FILES[1])), s1234 = readStream(path.join(other.dir, FILES[1]));
    // Different numbers: metrics, durations and costs of the same planned jobs.
    const key = (c) => `${c.job_id} ${JSON.stringify(c.metrics)} ${c.duration_seconds} ${c.cost_usd}`;
    const common = s7.map(key).filter((k) => s1234.map(key).includes(k));
    check(common.length < s7.length / 2, `${common.length} of ${s7.length} chunks are identical under seeds 7 and 1234`);
    check(!base.file(FILES[0]).equals(other.file(FILES[0])), 'seeds 7 and 1234 give the same result file');
    const { result } = checkSweep(other.dir, { budget: 500, trials: 18, params: PARAMS, balanced: false });
    const log = parseLog(other.stdout);
    const p = planLine(log);
    check(p && p.trials === 18, `seed 1234 planned ${p?.trials} trials`);
    check(log[0]?.msg.includes('seed 1234'), `first line does not name the seed: ${log[0]?.text}`);
    if (result) {
      check(result.seed === 1234, `result seed ${result.seed}`);
      check(JSON.stringify(result.best_hyperparameters) === JSON.stringify({ learning_rate: 0.001, batch_size: 64, dropout: 0.3 }),
        `seed 1234 best ${JSON.stringify(result.best_hyperparameters)}, outside the best region`);
    }
    break;
  }
  case 'native': {
    requireBuilt({ native: true });
    for (const seed of [[], ['--seed', '99']]) {
      const w = sweep('wasm', [...START, ...seed]);
      const n = sweep('native', [...START, ...seed], true);
      sameBytes(w, n, `native vs wasm ${seed.join(' ') || '(workspace seed)'}`);
      check(w.stdout === n.stdout, `native vs wasm ${seed.join(' ')}: the logs differ`);
      check(n.stderr === '', `native stderr: ${n.stderr}`);
    }
    break;
  }
  default:
    process.stderr.write('usage: determinism.mjs same-seed|other-seed|native\n');
    process.exit(2);
}
finish(`determinism ${part}`);
