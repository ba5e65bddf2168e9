// sibyl-conductor --backend local on real processes (docs/backends.md):
//   node local.mjs CONDUCTOR_BIN [case]
// (cases: config complete failures cancel cap concurrency argv missing stop)
// Each case starts its own Conductor on a free port with a workspace written
// for it, talks MCP to it, and stops it with SIGTERM (also when a check
// fails). Trials are tiny /bin/sh or python3 programs; nothing waits on a
// timer alone: every wait polls get_jobs_status (or a file) until a
// condition holds, with a generous bound that only a broken build reaches.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { startServer, check } from './server.mjs';

const [bin, only] = process.argv.slice(2);
const PY = '/usr/bin/python3';

// --- a minimal MCP client (JSON or SSE answers) ---
async function mcp(url) {
  let sid = null, id = 0;
  async function rpc(method, params) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': '2025-11-25' };
    if (sid) headers['Mcp-Session-Id'] = sid;
    const body = { jsonrpc: '2.0', method, params };
    if (!method.startsWith('notifications/')) body.id = ++id;
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    sid = r.headers.get('mcp-session-id') || sid;
    const text = await r.text();
    if (!body.id) return null;
    const json = (r.headers.get('content-type') || '').includes('text/event-stream')
      ? JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).pop())
      : JSON.parse(text);
    if (json.error) throw new Error(`${method}: ${JSON.stringify(json.error)}`);
    return json.result;
  }
  await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'local-test', version: '0' } });
  await rpc('notifications/initialized', {});
  return async (tool, args) => {
    const r = await rpc('tools/call', { name: tool, arguments: args });
    if (r.isError) throw new Error(`${tool}: ${r.content[0].text}`);
    return r.structuredContent;
  };
}

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sibyl-local-'));
let failed = false;

// A workspace with backends.local as given (YAML text of the map's body).
function workspace(dir, local, extra = '') {
  const file = path.join(dir, 'workspace.yaml');
  fs.writeFileSync(file, `version: 1
servers:
  conductor: {transport: http, url: http://127.0.0.1:1/mcp}
cost_model:
  gpu_hour_usd: 3600   # a dollar a second: caps read as seconds
  base_hours: 0.01
${extra}backends:
  local:
${local.split('\n').map((l) => `    ${l}`).join('\n')}
`);
  return file;
}

const yamlList = (items) => `[${items.map((s) => JSON.stringify(s)).join(', ')}]`;

async function withConductor(name, local, body, { extraArgs = [], extraYaml = '' } = {}) {
  if (only && only !== name) return;
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${name}-`));
  const ws = workspace(dir, local, extraYaml);
  const work = path.join(dir, 'jobs');
  const srv = await startServer(bin, ['--backend', 'local', '--workspace', ws, '--work-dir', work, ...extraArgs]);
  try {
    const call = await mcp(srv.url);
    await body({ call, dir, work, srv });
  } catch (e) {
    failed = true;
    console.log(`not ok - ${name}: ${e.stack || e}\n--- server log ---\n${srv.log()}`);
  } finally {
    const end = await srv.stop();
    if (end.code !== 0) {
      failed = true;
      console.log(`not ok - ${name}: the server exited ${end.code ?? end.signal}`);
    }
  }
}

// Polls the handle until pred(status) holds (a bound only a hang reaches).
async function until(call, handle, pred, what) {
  for (let i = 0; i < 3000; i++) {
    const st = await call('get_jobs_status', { handle_id: handle });
    if (pred(st)) return st;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
const done = (st) => st.done;
const job = (st, id) => st.jobs.find((j) => j.job_id === id);

async function waitFile(file) {
  for (let i = 0; i < 3000; i++) {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim()) return fs.readFileSync(file, 'utf8').trim();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${file}`);
}

// A process is gone when signal 0 cannot reach it or it is a zombie.
function gone(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
async function waitGone(pid) {
  for (let i = 0; i < 3000 && !gone(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return gone(pid);
}

// --- the cases ---

// Bad setups: a clear message and exit 2.
if (!only || only === 'config') {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'config-'));
  const noLocal = path.join(dir, 'plain.yaml');
  fs.writeFileSync(noLocal, 'version: 1\nservers:\n  c: {transport: http, url: http://127.0.0.1:1/mcp}\n');
  const r1 = spawnSync(bin, ['--backend', 'local', '--workspace', noLocal], { encoding: 'utf8' });
  check(r1.status === 2 && /--backend local needs --workspace FILE with backends.local.command/.test(r1.stderr),
    `--backend local without backends.local: exit 2 (${r1.stderr.trim()})`);
  const badTmpl = workspace(dir, `command: [${JSON.stringify(PY)}, "{{ hyperparameters. }}"]`);
  const r2 = spawnSync(bin, ['--backend', 'local', '--workspace', badTmpl], { encoding: 'utf8' });
  check(r2.status === 2 && r2.stderr.includes(`${badTmpl}:`) && /:\d+:\d+:/.test(r2.stderr),
    `a bad command template: exit 2 at FILE:LINE:COL (${r2.stderr.trim().split('\n')[0]})`);
  const badKey = workspace(dir, 'command: [/bin/true]\nmax_concurrent: none');
  const r3 = spawnSync(bin, ['--backend', 'local', '--workspace', badKey], { encoding: 'utf8' });
  check(r3.status === 2 && r3.stderr.includes(`${badKey}:`) && /max_concurrent/.test(r3.stderr),
    `a bad backends.local key: exit 2 with its position (${r3.stderr.trim().split('\n')[0]})`);
}

// Completion: metrics from the last JSON line on stdout (no metrics file);
// the hyperparameters reach the argv; cost from the measured time.
await withConductor('complete', `command: [${JSON.stringify(PY)}, "-c", "import sys, json; print('starting'); print(json.dumps({'val_acc': float(sys.argv[1]) * 10, 'train_loss': 0.5}))", "{{ hyperparameters.learning_rate }}"]`,
  async ({ call, work }) => {
    const sub = await call('submit_jobs', { jobs: [{ hyperparameters: { learning_rate: 9.25 }, cost_cap_usd: 60 }] });
    const st = await until(call, sub.handle_id, done, 'the job to finish');
    const j = job(st, 'job_001');
    check(j.status === 'completed' && j.metrics.val_acc === 92.5 && j.metrics.train_loss === 0.5,
      `completed with the metrics of its last stdout line (${JSON.stringify(j.metrics)})`);
    check(Number.isInteger(j.duration_seconds) && j.duration_seconds >= 1 && j.cost_usd === j.duration_seconds,
      `charged the measured time in whole seconds at a dollar a second (${j.duration_seconds} s, $${j.cost_usd})`);
    check(fs.readFileSync(path.join(work, 'h_0001', 'job_001', 'stdout.txt'), 'utf8').startsWith('starting\n'),
      'stdout kept in the job\'s folder');
  });

// Exit 1: the stderr tail is the error; permanent by the workspace's rules.
// A transient failure (the workspace's "out of memory" pattern) retried with
// a smaller batch through retry_of completes on the same handle.
await withConductor('failures', `command: ["/bin/sh", "-c", "if [ \\"$1\\" = crash ]; then echo 'some context' >&2; echo 'unknown flag --frob' >&2; exit 1; fi; if [ \\"$2\\" -gt 64 ]; then echo 'RuntimeError: CUDA out of memory' >&2; exit 2; fi; echo '{\\"val_acc\\": 80}'", "trial", "{{ hyperparameters.mode }}", "{{ hyperparameters.batch_size }}"]`,
  async ({ call }) => {
    const sub = await call('submit_jobs', { jobs: [
      { hyperparameters: { mode: 'crash', batch_size: 32 }, cost_cap_usd: 60 },
      { hyperparameters: { mode: 'train', batch_size: 128 }, cost_cap_usd: 60 }] });
    let st = await until(call, sub.handle_id, done, 'both jobs to end');
    const a = job(st, 'job_001'), b = job(st, 'job_002');
    check(a.status === 'failed' && a.error === 'exit status 1: unknown flag --frob' && a.error_type === 'permanent',
      `exit 1: failed, permanent, the stderr tail as the error (${a.error}, ${a.error_type})`);
    check(b.status === 'failed' && /CUDA out of memory/.test(b.error) && b.error_type === 'transient',
      `out of memory: transient by the workspace's patterns (${b.error}, ${b.error_type})`);
    await call('submit_jobs', { handle_id: sub.handle_id, jobs: [
      { job_id: 'job_002_retry_1', retry_of: 'job_002', hyperparameters: { mode: 'train', batch_size: 64 }, cost_cap_usd: 60 }] });
    st = await until(call, sub.handle_id, done, 'the retry to end');
    const r = job(st, 'job_002_retry_1');
    check(r.status === 'completed' && r.retry_of === 'job_002' && r.metrics.val_acc === 80,
      'the transient failure retried with a smaller batch completes on the same handle');
  });

// Cancel: the job's whole process group goes (the trial and the grandchild
// it started); a queued job is cancelled without running; the slot comes
// back once the processes are gone.
await withConductor('cancel', `command: ["/bin/sh", "-c", "sleep 300 & echo $! > grandchild.pid; echo $$ > child.pid; wait", "{{ job_id }}"]\nmax_concurrent: 1\nkill_grace_s: 5`,
  async ({ call, work }) => {
    const sub = await call('submit_jobs', { jobs: [
      { hyperparameters: {}, cost_cap_usd: 600 }, { hyperparameters: {}, cost_cap_usd: 600 },
      { hyperparameters: {}, cost_cap_usd: 600 }] });
    const d1 = path.join(work, 'h_0001', 'job_001');
    const child = Number(await waitFile(path.join(d1, 'child.pid')));
    const grandchild = Number(await waitFile(path.join(d1, 'grandchild.pid')));
    check(!gone(child) && !gone(grandchild), `the trial (${child}) and its grandchild (${grandchild}) run`);
    let st = await call('get_jobs_status', { handle_id: sub.handle_id });
    check(job(st, 'job_001').status === 'running' && job(st, 'job_002').status === 'queued', 'one slot: one runs, the others queue');
    const c = await call('cancel_jobs', { handle_id: sub.handle_id, job_ids: ['job_001', 'job_002'] });
    check(c.cancelled.length === 2, 'cancel_jobs cancels the running and a queued job');
    check(await waitGone(child) && await waitGone(grandchild), 'both the trial and its grandchild are gone');
    st = await until(call, sub.handle_id, (s) => job(s, 'job_003').status === 'running', 'job_003 to take the slot');
    check(job(st, 'job_001').status === 'cancelled' && job(st, 'job_002').status === 'cancelled' &&
      job(st, 'job_002').cost_usd === undefined && !fs.existsSync(path.join(work, 'h_0001', 'job_002')),
    'the queued job never ran');
    await call('cancel_jobs', { handle_id: sub.handle_id });
    st = await until(call, sub.handle_id, done, 'everything to end');
    check(st.counts.cancelled === 3, 'all three cancelled');
  });

// The cost cap: at a dollar a second a $1 cap stops a trial after about a
// second; one that ignores SIGTERM is killed after the grace. Failed with
// error_type budget, charged its cap exactly.
await withConductor('cap', `command: ["/bin/sh", "-c", "trap '' TERM; echo $$ > child.pid; while :; do sleep 0.05; done", "{{ job_id }}"]\nkill_grace_s: 0.3`,
  async ({ call, work }) => {
    const sub = await call('submit_jobs', { budget_usd: 5, jobs: [{ hyperparameters: {}, cost_cap_usd: 1 }] });
    const pid = Number(await waitFile(path.join(work, 'h_0001', 'job_001', 'child.pid')));
    const st = await until(call, sub.handle_id, done, 'the cap to stop it');
    const j = job(st, 'job_001');
    check(j.status === 'failed' && j.error_type === 'budget' && j.error === 'stopped at its cost cap of $1.00' && j.cost_usd === 1,
      `stopped at its cap: failed, budget, charged $1 (${j.error}, $${j.cost_usd})`);
    check(await waitGone(pid), 'the trial that ignored SIGTERM is gone (SIGKILL after the grace)');
    check(st.budget.spent_usd === 1 && st.budget.spent_usd <= st.budget.budget_usd, 'the handle spent exactly the cap');
  });

// At most max_concurrent at once: each trial appends "S" when it starts and
// "E" just before it ends to one file (O_APPEND), so the file's order shows
// how many ever ran together; every poll's count agrees.
await withConductor('concurrency', `command: ["/bin/sh", "-c", "echo S >> ../../ledger; sleep 0.2; echo E >> ../../ledger; echo {}", "{{ job_id }}"]\nmax_concurrent: 2`,
  async ({ call, work }) => {
    const sub = await call('submit_jobs', { jobs: Array.from({ length: 6 }, () => ({ hyperparameters: {}, cost_cap_usd: 600 })) });
    let maxRunning = 0;
    const st = await until(call, sub.handle_id, (s) => { maxRunning = Math.max(maxRunning, s.counts.running); return s.done; }, 'all six');
    check(st.counts.completed === 6, `six trials completed (${JSON.stringify(st.counts)} ${st.jobs.map((j) => j.error).join(' / ')})`);
    let now = 0, peak = 0;
    for (const c of fs.readFileSync(path.join(work, 'ledger'), 'utf8').split('\n').filter(Boolean)) {
      now += c === 'S' ? 1 : -1;
      peak = Math.max(peak, now);
    }
    check(peak <= 2 && maxRunning <= 2 && peak >= 1, `never more than 2 at once (peak ${peak} in the ledger, ${maxRunning} in the polls)`);
  });

// The argv reaches the trial exactly as written: spaces, quotes, $, * and
// an empty string, no shell in between; numbers as JSON writes them.
await withConductor('argv', `command: [${JSON.stringify(PY)}, "-c", "import sys, json; print(json.dumps({'argv': sys.argv[1:]}))", "a b", "it's \\"quoted\\"", "$HOME", "*", "", "--lr={{ hyperparameters.lr }}", "{{ hyperparameters.lr }}", "{{ hyperparameters.name }}"]`,
  async ({ call }) => {
    const sub = await call('submit_jobs', { jobs: [{ hyperparameters: { lr: 0.005, name: 'x; rm -rf /' }, cost_cap_usd: 60 }] });
    const st = await until(call, sub.handle_id, done, 'the job');
    const want = ['a b', 'it\'s "quoted"', '$HOME', '*', '', '--lr=0.005', '0.005', 'x; rm -rf /'];
    const got = job(st, 'job_001').metrics?.argv;
    check(JSON.stringify(got) === JSON.stringify(want), `argv verbatim: ${JSON.stringify(got)}`);
  });

// A missing executable, a hyperparameter the command needs but the job
// lacks, and a trial that ends well without metrics: each a clear,
// permanent failure; the next job still runs.
await withConductor('missing', `command: ["{{ hyperparameters.exe }}", "{{ hyperparameters.arg }}"]`,
  async ({ call }) => {
    const sub = await call('submit_jobs', { jobs: [
      { hyperparameters: { exe: '/nonexistent/train', arg: 1 }, cost_cap_usd: 60 },
      { hyperparameters: { exe: '/bin/true' }, cost_cap_usd: 60 },
      { hyperparameters: { exe: '/bin/true', arg: 'x' }, cost_cap_usd: 60 }] });
    const st = await until(call, sub.handle_id, done, 'the jobs');
    const [a, b, c] = ['job_001', 'job_002', 'job_003'].map((id) => job(st, id));
    check(a.status === 'failed' && a.error === "cannot run '/nonexistent/train': No such file or directory" && a.error_type === 'permanent',
      `a missing executable: ${a.error} (${a.error_type})`);
    check(b.status === 'failed' && /the command cannot be built: .*arg/.test(b.error) && b.error_type === 'permanent',
      `a missing hyperparameter: ${b.error}`);
    check(c.status === 'failed' && /exited 0 without metrics/.test(c.error) && c.error_type === 'permanent',
      `no metrics: ${c.error}`);
  });

// The server stops (SIGTERM): its trials' process groups go with it, and it
// exits 0 once they are gone.
if (!only || only === 'stop') {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 'stop-'));
  const ws = workspace(dir, 'command: ["/bin/sh", "-c", "sleep 300 & echo $! > grandchild.pid; echo $$ > child.pid; wait", "{{ job_id }}"]\nkill_grace_s: 2');
  const work = path.join(dir, 'jobs');
  const srv = await startServer(bin, ['--backend', 'local', '--workspace', ws, '--work-dir', work]);
  let pids = [];
  try {
    const call = await mcp(srv.url);
    await call('submit_jobs', { jobs: [{ hyperparameters: {}, cost_cap_usd: 600 }, { hyperparameters: {}, cost_cap_usd: 600 }] });
    for (const j of ['job_001', 'job_002'])
      for (const f of ['child.pid', 'grandchild.pid']) pids.push(Number(await waitFile(path.join(work, 'h_0001', j, f))));
  } finally {
    const end = await srv.stop();
    check(end.code === 0 && /stopped 2 trial process\(es\)/.test(end.stderr), `SIGTERM: exit ${end.code ?? end.signal}, the trials stopped`);
  }
  let all = pids.length === 4;
  for (const p of pids) all = (await waitGone(p)) && all;
  check(all, `every trial process and grandchild is gone (${pids.join(' ')})`);
}

fs.rmSync(tmpRoot, { recursive: true, force: true });
if (failed) process.exit(1);
