// Ctrl-C during the headline sweep (native build only: WASI preview 1 has no
// signals). The native sibyl runs on the real clock at 600x; once the first
// job has finished (about 10 s in) it gets SIGINT.
//   node sigint.mjs basic    the run stops, exit 3, sweep_output.json has status cancelled and the
//                            cost ledger, the .jsonl keeps every chunk written so far
//   node sigint.mjs ledger   the ledger written after the cancel accounts for the cancelled jobs:
//                            nothing left running or queued or committed, their charge counted
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, env, finish, headlineArgs, parseLog, readJson, readStream, requireBuilt, tail, tempDir } from './lib.mjs';

requireBuilt({ native: true });
const part = process.argv[2];
if (!['basic', 'ledger'].includes(part)) {
  process.stderr.write('usage: sigint.mjs basic|ledger\n');
  process.exit(2);
}
const dir = tempDir(`sigint-${part}`);
const streamFile = path.join(dir, 'sweep_output_stream.jsonl');
const resultFile = path.join(dir, 'sweep_output.json');
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

const child = spawn(env.native, [...headlineArgs(), '--clock', 'real', '--time-scale', '600'], {
  cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
});
let stdout = '', stderr = '';
child.stdout.on('data', (d) => { stdout += d; });
child.stderr.on('data', (d) => { stderr += d; });
const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));

// Wait (at least 2 s) for the first finished job, at most 60 s.
const t0 = Date.now();
let linesBefore = 0;
while (Date.now() - t0 < 60000) {
  await sleep(100);
  if (child.exitCode !== null) break;
  const n = fs.existsSync(streamFile) ? fs.readFileSync(streamFile, 'utf8').split('\n').filter(Boolean).length : 0;
  if (n >= 1 && Date.now() - t0 >= 2000) {
    linesBefore = n;
    break;
  }
}
check(child.exitCode === null, `sibyl exited on its own (${child.exitCode}) before the interrupt`);
check(linesBefore >= 1, 'no job finished within 60 s at --time-scale 600');
const tSig = Date.now();
child.kill('SIGINT');
const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
const { code, signal } = await exited;
clearTimeout(timer);
const stopMs = Date.now() - tSig;

check(signal === null, `sibyl was killed by ${signal}`);
check(code === 3, `exit ${code}, expected 3 (run cancelled)`);
check(stopMs < 5000, `sibyl took ${stopMs} ms to stop after SIGINT`);
const log = parseLog(stdout);
const r = fs.existsSync(resultFile) ? readJson(resultFile) : null;
const chunks = fs.existsSync(streamFile) ? readStream(streamFile) : [];
const b = r?.cost_breakdown || {};
const cents = (x) => Math.round(x * 100);

if (part === 'basic') {
  check(log.some((l) => l.level === 'WARN' && /^Cancelling: interrupted/.test(l.msg)), 'no "Cancelling: interrupted" WARN line');
  const last = log[log.length - 1];
  check(last?.level === 'ERROR' && /^Pipeline hyperparameter_sweep cancelled after \d+h \d\dm \d\ds: .*interrupt.*; partial results in sweep_output\.json$/.test(last.msg),
    `last line: ${last?.text}`);
  // The stream file keeps what was written, each line whole, as the STREAM lines showed.
  check(chunks.length >= linesBefore, `${chunks.length} chunks after the interrupt, ${linesBefore} before`);
  const streamed = log.filter((l) => l.level === 'STREAM').map((l) => l.msg);
  check(JSON.stringify(streamed) === JSON.stringify(chunks.map((c) => JSON.stringify(c))), 'the .jsonl and the STREAM lines differ');
  check(chunks.length < 21, `${chunks.length} chunks: the sweep ran to the end`);
  if (check(r, 'no sweep_output.json after the interrupt')) {
    check(r.status === 'cancelled', `status ${r.status}`);
    check(/interrupt/i.test(r.error || ''), `error: ${r.error}`);
    check(typeof b === 'object' && b.budget_usd === 500, `cost_breakdown: ${JSON.stringify(b)}`);
    for (const k of ['successful_usd', 'failed_partial_usd', 'retries_usd', 'total_usd', 'committed_usd', 'remaining_usd'])
      check(typeof b[k] === 'number', `cost_breakdown.${k} is ${b[k]}`);
    check(b.total_usd <= 500 && b.total_usd > 0, `total_usd ${b.total_usd}`);
    check(cents(r.total_cost) === cents(b.total_usd), `total_cost ${r.total_cost} vs ledger ${b.total_usd}`);
    check(b.jobs?.completed === chunks.filter((c) => c.type === 'job_completed').length,
      `jobs.completed ${b.jobs?.completed}, ${chunks.filter((c) => c.type === 'job_completed').length} completed chunks`);
    const settled = chunks.reduce((s, c) => s + cents(c.cost_usd), 0);
    check(settled === cents(b.total_usd), `the chunks cost $${settled / 100}, the ledger total is $${b.total_usd}`);
    check(r.steps?.monitor_jobs?.status !== 'succeeded', `monitor_jobs ${JSON.stringify(r.steps?.monitor_jobs)}`);
  }
} else if (check(r, 'no sweep_output.json after the interrupt')) {
  // The jobs still queued or running were cancelled (cancel_jobs); the ledger in the result must say so.
  const j = b.jobs || {};
  check(j.running_or_queued === 0, `cost_breakdown.jobs.running_or_queued = ${j.running_or_queued} after the cancel`);
  check(b.committed_usd === 0, `cost_breakdown.committed_usd = ${b.committed_usd} after the cancel (jobs that will never run)`);
  check(j.cancelled > 0, `cost_breakdown.jobs.cancelled = ${j.cancelled}, but the jobs still queued/running were cancelled`);
  // The sweep submits a balanced start, then the Solver's suggestions and retries as jobs finish.
  const submitted = [...stdout.matchAll(/Submitted (\d+) (?:jobs to conductor|suggested trials? to handle)/g)]
    .reduce((s, m) => s + +m[1], 0) + [...stdout.matchAll(/Submitted retry /g)].length;
  check(submitted >= 9, `${submitted} jobs submitted before the interrupt, expected the 9 of the start at least`);
  check(j.completed + j.failed + j.cancelled >= submitted, `jobs ${JSON.stringify(j)} do not account for the ${submitted} submitted`);
  // Five jobs were running when the interrupt came: the Conductor charged their partial time.
  check(b.failed_partial_usd > 0, `failed_partial_usd = ${b.failed_partial_usd}: the cancelled running jobs' charge is missing`);
}
finish(`sigint ${part}`, { label: 'stdout (tail)', text: `${tail(stdout, 25)}\n--- stderr ---\n${stderr}` });
