// Helpers of the durable-run tests: a sweep config whose run takes a second
// or two, a reference Conductor on a free port, kill-and-resume.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, copyExample, env, run, SPACE_3x3x3 } from '../e2e/lib.mjs';

export const JOURNAL = 'sibyl.journal';
export const TOKEN = 'tok-3f9a1c77e2d54b0b';
export const HEADER_SECRET = 'hdr-8d2e61b4a0c9';
process.env.SIBYL_DURABLE_TOKEN = TOKEN;

export function checkNoSecrets(file, what) {
  const text = fs.readFileSync(file).toString('latin1');
  check(!text.includes(TOKEN) && !text.includes(HEADER_SECRET) && !/authorization/i.test(text),
    `${what}: the journal holds the bearer token or a header value`);
}

// The example as it is (embedded, virtual clock), or with the Conductor over
// HTTP at url and backoffs in tens of milliseconds (an HTTP run's clock is
// the real one).
export function sweepConfig(dir, url) {
  if (!url) return copyExample(dir);
  const fast = [[/initial_delay_ms: 2000/g, 'initial_delay_ms: 50'], [/max_delay_ms: 10000/g, 'max_delay_ms: 200']];
  const ws = [...fast];
  const pl = [...fast, [/initial_delay_ms: 1000/g, 'initial_delay_ms: 50']];
  // A bearer token and a header value that must never reach the journal (checkNoSecrets).
  ws.push(['transport: embedded\n    service: conductor_sim', `transport: http\n    url: ${url}\n` +
    `    bearer_token_env: SIBYL_DURABLE_TOKEN\n    headers: {X-Durable-Trace: ${HEADER_SECRET}}`]);
  copyExample(dir, { workspace: ws, pipelines: pl });
}

export const sweepArgs = (out, extra = []) => ['pipeline', 'run', 'hyperparameter_sweep', '--workspace', 'workspace.yaml',
  '--config', 'pipelines.yaml', '--input', 'budget_usd=500', '--input', `param_space=${SPACE_3x3x3}`,
  '--input', 'target_metric=val_acc', '--output-dir', out, '--no-progress', ...extra];

// The reference Conductor (native), started on a port the OS picks; resolves
// once it listens. stop() ends it with SIGTERM (also on exit).
const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });
export async function startConductor(bin, workspace, scale) {
  const p = spawn(bin, ['--port', '0', '--workspace', workspace, '--time-scale', String(scale)],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(p);
  let log = '';
  const url = await new Promise((resolve, reject) => {
    p.stderr.on('data', (c) => {
      log += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code) => reject(new Error(`the Conductor exited (${code}) before listening:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    stop: () => new Promise((resolve) => { p.on('exit', resolve); live.delete(p); p.kill('SIGTERM'); }),
  };
}

export const streamLines = (dir) => {
  const f = path.join(dir, 'sweep_output_stream.jsonl');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter((l) => l) : [];
};

// Stream lines unique, complete JSON, one per job the result knows.
export function checkStream(dir, what) {
  const lines = streamLines(dir);
  check(new Set(lines).size === lines.length, `${what}: a stream line written twice`);
  const ids = [];
  for (const l of lines) {
    try { ids.push(JSON.parse(l).job_id); } catch { check(false, `${what}: a stream line is not JSON: ${l}`); }
  }
  check(new Set(ids).size === ids.length, `${what}: a job's chunk streamed twice`);
  return ids;
}

export const countRecords = (file) => {
  const d = fs.readFileSync(file);
  let p = 12, n = 0;
  while (p + 9 <= d.length) { p += 9 + d.readUInt32LE(p); n++; }
  return n;
};

export { check, env, run };
