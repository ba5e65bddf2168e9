// Helpers of the slurm tests: the cluster (scripts/slurm-up.sh, or a SKIP line
// and exit 77 where it cannot start), sibyl-conductor --backend slurm on a
// free port with `squeue` wrapped through PATH so every call is counted, a
// small MCP client, and polling with a deadline (no sleeps as
// synchronisation: each wait is for an observed state).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { startServer } from '../servers/server.mjs';

export const SKIP = 77;
export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');

const failures = [];
export function check(cond, what) {
  if (!cond) failures.push(what);
  console.log(`${cond ? 'ok' : 'FAIL'} - ${what}`);
  return !!cond;
}
const cleanups = [];
export function onExit(fn) { cleanups.push(fn); }
export async function finish(name) {
  while (cleanups.length) { try { await cleanups.pop()(); } catch (e) { console.log(`cleanup: ${e}`); } }
  if (failures.length) {
    for (const f of failures) process.stderr.write(`FAIL: ${f}\n`);
    process.stderr.write(`${name}: ${failures.length} check(s) failed\n`);
    process.exit(1);
  }
  console.log(`${name}: ok`);
  process.exit(0);
}
export function main(name, fn) {
  fn().then(() => finish(name), async (e) => { failures.push(`exception: ${e.stack || e}`); await finish(name); });
}

// The cluster: up (started by scripts/slurm-up.sh if it is not), or SKIP.
// SLURM_UP_STARTED (set by tests.cmake) names the marker the cleanup fixture
// reads to stop only a cluster the tests started.
export function requireSlurm() {
  const r = spawnSync('bash', [path.join(repo, 'scripts/slurm-up.sh')], { encoding: 'utf8', timeout: 180000 });
  if (r.status !== 0) {
    const lines = `${r.stderr || ''}${r.error || ''}`.trim().split('\n');
    const why = lines.filter((l) => l.includes('cannot start the cluster:')).pop() || lines.slice(-3).join(' | ');
    console.log(`SKIP: Slurm cannot start here: ${why || `slurm-up.sh exited ${r.status}`}`);
    process.exit(SKIP);
  }
}

export function tempDir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `sibyl-slurm-${tag}-`));
  onExit(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// A PATH folder whose `squeue` appends one line per call to squeue.log, then
// runs the real one: the count of status queries the Conductor made.
export function squeueCounter(dir) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const real = spawnSync('bash', ['-c', 'command -v squeue'], { encoding: 'utf8' }).stdout.trim();
  const log = path.join(dir, 'squeue.log');
  fs.writeFileSync(path.join(bin, 'squeue'), `#!/bin/sh\necho "$*" >>'${log}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  return {
    path: bin,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []),
  };
}

// A workspace for the Conductor: the cost model prices 1 host second as
// `scale` GPU-seconds; the slurm backend runs `command`.
export function writeWorkspace(dir, { command, maxConcurrent = 5, baseHours = 0.01, extra = "" }) {
  const ws = path.join(dir, 'workspace.yaml');
  const words = command.map((w) => `      - ${JSON.stringify(w)}`).join('\n');
  fs.writeFileSync(ws, `version: 1
servers:
  conductor: {transport: http, url: "http://127.0.0.1:1/mcp"}
cost_model:
  gpu_hour_usd: 3600
  gpus_per_trial: 1
  base_hours: ${baseHours}
backends:
  slurm:
    command:
${words}
    max_concurrent: ${maxConcurrent}
    work_dir: ${JSON.stringify(dir)}
${extra}`);
  return ws;
}

export async function startConductor(ws, { pathPrefix, args = [] } = {}) {
  const bin = path.join(repo, 'build/native/servers/sibyl-conductor');
  const oldPath = process.env.PATH;
  if (pathPrefix) process.env.PATH = `${pathPrefix}:${oldPath}`;
  let s;
  try {
    s = await startServer(bin, ['--backend', 'slurm', '--workspace', ws, '--log-level', 'debug', ...args]);
  } finally {
    process.env.PATH = oldPath;
  }
  // SIGTERM; it must exit 0 with no sanitizer report (the native build runs
  // under ASan + UBSan, so a leak or a bad access shows here)
  let stopped = null;
  const stop = async () => {
    if (!stopped) {
      stopped = s.stop();
      const r = await stopped;
      check(r.code === 0 && !/Sanitizer|runtime error:/.test(r.stderr),
        `the Conductor exits 0 on SIGTERM, sanitizer-clean (${r.code ?? r.signal})`);
    }
    return stopped;
  };
  onExit(stop);
  return { ...s, stop, client: await mcp(s.url) };
}

// A minimal MCP Streamable HTTP client: initialize, then tools/call answered
// as JSON (no progress tokens, no deferred tools).
export async function mcp(url) {
  let id = 0, session = null;
  async function rpc(method, params, notify = false) {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25' };
    if (session) headers['mcp-session-id'] = session;
    const body = notify ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id: ++id, method, params };
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!session) session = r.headers.get('mcp-session-id');
    if (notify) return null;
    const text = await r.text();
    const json = JSON.parse(r.headers.get('content-type')?.includes('event-stream')
      ? text.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).pop().slice(6) : text);
    if (json.error) throw new Error(`${method}: ${JSON.stringify(json.error)}`);
    return json.result;
  }
  await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slurm-test', version: '1' } });
  await rpc('notifications/initialized', {}, true);
  return {
    async call(name, args) {
      const r = await rpc('tools/call', { name, arguments: args });
      if (r.isError) throw new Error(`${name}: ${r.content?.[0]?.text}`);
      return r.structuredContent;
    },
  };
}

// Polls get_jobs_status every 250 ms until done(answer) holds or the
// deadline passes (then throws, with the last answer).
export async function pollUntil(client, handle, done, { timeoutMs = 90000, each } = {}) {
  const end = Date.now() + timeoutMs;
  let st;
  for (;;) {
    st = await client.call('get_jobs_status', { handle_id: handle });
    if (each) each(st);
    if (done(st)) return st;
    if (Date.now() > end) throw new Error(`timed out; last status: ${JSON.stringify(st)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// Slurm's own view of jobs (for checks independent of the Conductor).
export function squeueStates(ids) {
  if (!ids.length) return [];
  const r = spawnSync('timeout', ['10', 'squeue', '-h', '-t', 'all', '-j', ids.join(','), '-O', 'JobID:|,State:|'],
    { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).map((l) => { const [id, state] = l.split('|'); return { id, state }; });
}

// Slurm ids the Conductor logged for its jobs: "slurm: h_0001/job_001 submitted as Slurm job 42".
export function slurmIds(log) {
  const m = new Map();
  for (const x of log.matchAll(/slurm: (\S+) submitted as Slurm job (\d+)/g)) m.set(x[1], x[2]);
  return m;
}

// From the Conductor's debug log: its status calls and, between one and the
// next, how many squeue commands it ran. {calls, squeue, most}: most is the
// largest number of squeue runs for one status call (and any squeue before
// the first status call counts as a call of its own, so it shows).
export function squeuePerStatusCall(log) {
  let calls = 0, squeue = 0, most = 0, cur = 0;
  for (const line of log.split('\n')) {
    if (/slurm: status call:/.test(line)) { calls++; cur = 0; } else if (/slurm: squeue /.test(line)) {
      squeue++;
      cur++;
      if (calls === 0) cur = 99;
      most = Math.max(most, cur);
    }
  }
  return { calls, squeue, most };
}

// Runs a command to its end without blocking the event loop (the
// Conductor's log keeps flowing meanwhile); {status, stdout, stderr}.
export function runAsync(bin, args, { cwd, env, timeoutMs = 240000 } = {}) {
  return new Promise((resolve) => {
    const p = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code, signal) => { clearTimeout(t); resolve({ status: code, signal, stdout, stderr }); });
  });
}
