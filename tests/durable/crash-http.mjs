// Kill -9 the native CLI at many points of the headline sweep against the
// reference Conductor (which goes on running the jobs), resume, and compare
// with an uninterrupted run (issue 14, acceptance 1):
//   node crash-http.mjs CONDUCTOR_BIN [kills|retry|cancel]
// kills: a kill after every journal write of the sweep, and of some resumes (>= 50 points, each
//   its own output folder; three Conductors in parallel lanes, each with its
//   own uninterrupted run); each resumed run must succeed with the same best
//   configuration and all_results (jobs, metrics, costs), unique and complete stream
//   lines, exactly the jobs on the Conductor that the stream holds (a job
//   submitted twice would be an extra one there), within budget.
// retry: jobs fail often (transient errors), so retries are submitted; kills
//   at every fifth write from a third of the run on. Which jobs fail depends
//   on the order the Conductor makes them in, which the downtime shifts, so
//   the configurations and the best are not compared here; the rest is.
// cancel: SIGINT, then a kill at the cancel record and after it; the resume
//   finishes the cancel (exit 3) and no job is left running on the Conductor.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { spawn } from 'node:child_process';
import { finish, readJson, requireBuilt, tempDir } from '../e2e/lib.mjs';
import { check, checkNoSecrets, checkStream, countRecords, env, JOURNAL, startConductor, sweepArgs, sweepConfig } from './lib.mjs';

const [conductorBin, mode = 'kills'] = process.argv.slice(2);
requireBuilt({ wasm: false, native: true });
const SCALE = 20000; // a 2-hour trial takes 0.36 s

const sibyl = (dir, args, extraEnv = {}) => new Promise((resolve) => {
  const p = spawn(env.native, args, { cwd: dir, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  p.stdout.on('data', (c) => { out += c; });
  p.stderr.on('data', (c) => { err += c; });
  p.on('exit', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
});

async function handleJobs(dir, result) {
  const h = result.steps?.submit_jobs?.handle;
  const r = await sibyl(dir, ['handle', 'status', `conductor:conductor_handle:${h?.id}`, '--workspace', 'workspace.yaml']);
  try { return JSON.parse(r.stdout).counts; } catch { return null; }
}

let retriedAfterResume = 0, resentRuns = 0;
async function checkResumed(dir, out, base, what, strict) {
  const res = path.join(dir, out, 'sweep_output.json');
  if (!check(fs.existsSync(res), `${what}: no result file`)) return;
  const r = readJson(res);
  check(r.status === 'succeeded', `${what}: status ${r.status}`);
  if (strict) {
    check(JSON.stringify(r.best_hyperparameters) === JSON.stringify(base.best_hyperparameters),
      `${what}: best ${JSON.stringify(r.best_hyperparameters)}, uninterrupted ${JSON.stringify(base.best_hyperparameters)}`);
    check(jobsOf(r) === jobsOf(base), `${what}: all_results differ from the uninterrupted run's:\n${jobsOf(r)}\n${jobsOf(base)}`);
  }
  check(r.total_cost <= 500, `${what}: total ${r.total_cost} over the budget`);
  const ids = checkStream(path.join(dir, out), what);
  checkNoSecrets(path.join(dir, out, JOURNAL), what);
  if (ids.some((id) => /_retry_/.test(id))) retriedAfterResume++;
  for (const x of r.all_results) check(ids.includes(x.job_id), `${what}: ${x.job_id} missing from the stream`);
  const counts = await handleJobs(dir, r);
  check(counts && counts.total === ids.length && counts.running === 0 && counts.queued === 0,
    `${what}: the Conductor has ${JSON.stringify(counts)} for ${ids.length} streamed jobs`);
}

// What an uninterrupted run and a resumed one must agree on: the
// configurations tried. Jobs go on while the CLI is down, so which job id
// (and the simulation's noise drawn for it) a suggested configuration gets
// may shift; embedded runs (crash-embedded.mjs) compare every byte.
const jobsOf = (r) => JSON.stringify(r.all_results.map((x) => JSON.stringify(x.hyperparameters)).sort());

// One lane: kills at the given points, each against a fresh Conductor (same
// seed: an uninterrupted run on a fresh Conductor always makes the same jobs)
// so that the resumed run can be compared with the uninterrupted one.
async function lane(points, conductorWs, checkBase = () => {}, strict = true) {
  const dir = tempDir('crash');
  const ws0 = path.join(env.repo, 'examples/companies/vertex_foundry/config/workspace.yaml');
  const wsFile = conductorWs ? conductorWs(dir, ws0) : ws0;
  const withConductor = async (fn) => {
    const c = await startConductor(conductorBin, wsFile, SCALE);
    try {
      sweepConfig(dir, c.url);
      return await fn();
    } finally {
      await c.stop();
    }
  };
  const b = await withConductor(() => sibyl(dir, sweepArgs('base')));
  if (!check(b.code === 0, `uninterrupted run exit ${b.code}: ${b.stderr}`)) return 0;
  const base = readJson(path.join(dir, 'base/sweep_output.json'));
  checkBase(base);
  const total = countRecords(path.join(dir, 'base', JOURNAL));
  let n = 0;
  for (const k of points(total)) {
    await withConductor(async () => {
      const out = `k${k}`;
      const killed = await sibyl(dir, sweepArgs(out), { SIBYL_JOURNAL_KILL_AT: String(k) });
      if (killed.signal !== 'SIGKILL') return; // this run needed fewer writes
      n++;
      if (k % 4 === 0) { // a crash of the resume too: its journal is appended to, then resumed again
        const twice = await sibyl(dir, ['pipeline', 'resume', '--output-dir', out], { SIBYL_JOURNAL_KILL_AT: '2' });
        if (twice.signal === 'SIGKILL') n++;
      }
      const r = await sibyl(dir, ['pipeline', 'resume', '--output-dir', out, '--no-progress']);
      if (!check(r.code === 0, `kill at write ${k}: resume exit ${r.code}: ${r.stderr.slice(-800)}`)) return;
      // (a kill right after the last record, END, leaves a finished run)
      const m = /(\d+) requests? in flight sent again/.exec(r.stderr);
      check(m || /already finished/.test(r.stdout),
        `kill at write ${k}: the resume did not say what it sent again: ${r.stderr.slice(-300)}`);
      if (m && Number(m[1]) > 0) resentRuns++;
      await checkResumed(dir, out, base, `kill at write ${k}`, strict);
      const again = await sibyl(dir, ['pipeline', 'resume', '--output-dir', out]);
      check(again.code === 0 && /already finished/.test(again.stdout), `kill at write ${k}: a second resume: ${again.stdout}`);
    });
  }
  return n;
}

async function main() {
  if (mode === 'kills') {
    // Three lanes, every third write each: together every write of the run.
    const counts = await Promise.all([0, 1, 2].map((l) => lane((t) => {
      const v = [];
      for (let k = 1 + l; k <= t + 3; k += 3) v.push(k);
      return v;
    })));
    const n = counts.reduce((a, b) => a + b, 0);
    check(n >= 50, `only ${n} kill points (the sweep made fewer journal writes than expected)`);
    process.stdout.write(`${n} kill points, ${resentRuns} resumes sent requests in flight again\n`);
  } else if (mode === 'retry') {
    // Transient failures at a high rate: retry submissions happen; kill at every write after the first half.
    const flaky = (dir, ws0) => {
      const f = path.join(dir, 'conductor-ws.yaml');
      fs.writeFileSync(f, fs.readFileSync(ws0, 'utf8').replace('infra_failure_rate: 0.03', 'infra_failure_rate: 0.3'));
      return f;
    };
    const n = await lane((t) => { const v = []; for (let k = Math.floor(t / 3); k <= t; k += 5) v.push(k); return v; }, flaky,
      (base) => check(base.all_results.some((x) => /_retry_/.test(x.job_id)), 'the uninterrupted run retried no job'),
      false);
    check(retriedAfterResume >= n / 2, `only ${retriedAfterResume} of ${n} resumed runs retried a job`);
    // Retries are submitted while polls go on, so some kills find a submit in
    // flight: sent again with its idempotency key, it must make no new job
    // (checked above: the Conductor holds exactly the streamed jobs).
    check(resentRuns > 0, 'no resume had a request in flight to send again');
    process.stdout.write(`${n} kill points, ${resentRuns} resumes sent requests in flight again\n`);
    check(n >= 5, `only ${n} kill points`);
  } else if (mode === 'cancel') {
    const dir = tempDir('cancel');
    const ws0 = path.join(env.repo, 'examples/companies/vertex_foundry/config/workspace.yaml');
    const c = await startConductor(conductorBin, ws0, 3000); // slow jobs: the cancel finds some running
    try {
      sweepConfig(dir, c.url);
      // SIGINT once the first job streamed; the kill hook fires at the cancel's journal write (+0) or after it (+1, +2).
      for (const extra of [0, 1, 2]) {
        const out = `c${extra}`;
        const p = spawn(env.native, sweepArgs(out), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, SIBYL_JOURNAL_KILL_AT: 'cancel+' + extra } });
        let log = '';
        p.stdout.on('data', (ch) => {
          log += ch;
          if (/job_\d+.*completed|Poll #/.test(log) && !p.sent) { p.sent = true; p.kill('SIGINT'); }
        });
        const e = await new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
        check(e.signal === 'SIGKILL', `cancel+${extra}: the run ended with ${e.code ?? e.signal}, not the kill`);
        const r = await sibyl(dir, ['pipeline', 'resume', '--output-dir', out, '--no-progress']);
        check(r.code === 3, `cancel+${extra}: resume exit ${r.code} (3: cancelled): ${r.stderr.slice(-600)}`);
        const res = readJson(path.join(dir, out, 'sweep_output.json'));
        check(res.status === 'cancelled', `cancel+${extra}: status ${res.status}`);
        checkStream(path.join(dir, out), `cancel+${extra}`);
        const counts = await handleJobs(dir, res);
        check(counts && counts.running === 0 && counts.queued === 0, `cancel+${extra}: jobs left on the Conductor: ${JSON.stringify(counts)}`);
      }
    } finally {
      await c.stop();
    }
  }
  finish(`durable crash-http ${mode}`);
}

main().catch((e) => { check(false, e.stack); finish(`durable crash-http ${mode}`); });
