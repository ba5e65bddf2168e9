// ExternalHandles on the reference servers (issue 13):
//   node handles.mjs follow SOLVER_BIN CONDUCTOR_BIN
//       The headline sweep (grid search, the example's workspace.http.yaml on
//       free ports) is started, its CLI killed (SIGKILL) as soon as it printed
//       its handle; convnet_sweep_follow takes that handle as input and
//       finishes the sweep. Its all_results equal those of an uninterrupted
//       run with the same seeds on a second, fresh Conductor; the Conductor's
//       log shows one submit_jobs for the sweep and one per retry (no job
//       submitted twice); the ledger says what was adopted and what was
//       spent. An unknown handle or server is refused naming both, and
//       nothing is submitted.
//   node handles.mjs watch-cancel SOLVER_BIN CONDUCTOR_BIN
//       `sibyl handle watch` on a running handle streams every job (the same
//       chunks as a run, to the stream file and as STREAM lines) and ends
//       when all finished; `sibyl handle cancel` on another stops its
//       unfinished jobs and reports their partial costs; `handle status`
//       shows them cancelled. sibyl.wasm and embedded servers refuse, saying why.
//   node handles.mjs sdk-task SOLVER_BIN CONDUCTOR_BIN
//       The official TypeScript SDK's client starts the Conductor's wait_jobs
//       as an MCP task; `sibyl handle status` sees it working and `sibyl
//       handle watch` follows it (tasks/get at its pollInterval) and reads
//       its result, in the SDK client's session (the reference servers bind
//       tasks to the session that created it); an unknown task is refused.
//       Skipped (77) without tests/interop/node_modules.
// Servers start on ports the OS picks, are waited for on /health and stopped
// when the test ends (also when it fails).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  check, env, finish, getJson, interopModules, main, onExit, requireInterop, requireNative, sibyl, sibylWasm, tmpdir,
} from './lib.mjs';

const [part, solverBin, conductorBin] = process.argv.slice(2);
const EX = 'examples/companies/vertex_foundry/config';
const exDir = () => path.join(env.repo, EX);

// A reference server: "NAME listening on URL" on stderr, then /health.
async function server(bin, args) {
  const proc = spawn(bin, ['--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (c) => { log += c; });
  const url = await new Promise((resolve, reject) => {
    proc.stderr.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`${bin} exited (${code}) before listening: ${log}`)));
  });
  onExit(() => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
  }));
  await getJson(url.replace(/\/mcp$/, '/health'));
  return { url, log: () => log };
}

async function servers(dir, timeScale, name = 'ws.yaml') {
  const cond = await server(conductorBin, ['--workspace', path.join(exDir(), 'workspace.yaml'), '--time-scale', String(timeScale)]);
  const solv = await server(solverBin, []);
  const ws = path.join(dir, name);
  fs.writeFileSync(ws, fs.readFileSync(path.join(exDir(), 'workspace.http.yaml'), 'utf8')
    .replace('http://127.0.0.1:8080/mcp', cond.url).replace('http://127.0.0.1:8081/mcp', solv.url));
  return { cond, solv, ws };
}

const submits = (log) => (log.match(/ tools\/call submit_jobs 200 /g) || []).length;
const sweepArgs = (ws, out) => ['pipeline', 'run', 'hyperparameter_sweep', '--workspace', ws,
  '--config', path.join(exDir(), 'pipelines.yaml'), '--input', 'search=grid', '--output-dir', out];

// Starts the sweep and SIGKILLs it once it printed its handle; the handle text.
function submitAndKill(ws, out) {
  return new Promise((resolve, reject) => {
    const p = spawn(env.native, sweepArgs(ws, out), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    p.stdout.on('data', (c) => {
      stdout += c;
      const m = /INFO: Handle (\S+:conductor_handle:\S+) /.exec(stdout);
      if (m && p.exitCode === null) {
        p.kill('SIGKILL');
        resolve({ handle: m[1], stdout });
      }
    });
    p.on('exit', (code, signal) => { if (signal !== 'SIGKILL') reject(new Error(`the sweep ended (${code}) before printing its handle:\n${stdout}`)); });
  });
}

const resultKey = (r) => JSON.stringify([r.job_id, r.hyperparameters, r.metrics, r.cost_usd]);
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));

const parts = {
  async follow() {
    const dir = tmpdir('handles-follow');
    // Two fresh Conductors with the same seed: one for the uninterrupted
    // run, one for the run that is killed and followed. Both go at once.
    const a = await servers(dir, 3600, 'ws-a.yaml');
    const b = await servers(dir, 3600, 'ws-b.yaml');
    const reference = sibyl(sweepArgs(a.ws, path.join(dir, 'a')), { limitMs: 120000 });

    const killed = await submitAndKill(b.ws, path.join(dir, 'b'));
    check(/^conductor:conductor_handle:h_\d+$/.test(killed.handle), `handle text ${killed.handle}`);
    // The jobs outlive the killed CLI.
    const st = await sibyl(['handle', 'status', killed.handle, '--workspace', b.ws]);
    let status = null;
    try { status = JSON.parse(st.stdout); } catch { /* checked */ }
    check(st.code === 0 && status && status.done === false && status.counts.total === 18,
      `handle status after the kill: exit ${st.code}: ${st.stdout}${st.stderr}`);
    const submitsAtKill = submits(b.cond.log());
    check(submitsAtKill === 1, `${submitsAtKill} submit_jobs before the kill, expected 1`);

    // Invalid or unknown handles: refused naming the server and the id, nothing submitted.
    const follow = (handle, out) => sibyl(['pipeline', 'run', 'convnet_sweep_follow', '--workspace', b.ws,
      '--config', path.join(exDir(), 'pipelines.yaml'), '--input', `handle=${handle}`, '--output-dir', out, '--stream'],
    { limitMs: 120000 });
    const unknown = await follow('conductor:conductor_handle:h_9999', path.join(dir, 'unknown'));
    check(unknown.code === 3 && /handle h_9999 on server conductor: .*unknown handle_id 'h_9999'/.test(unknown.stdout),
      `unknown handle: exit ${unknown.code}: ${unknown.stdout.split('\n').filter((l) => /ERROR/.test(l)).join('\n')}${unknown.stderr}`);
    const badServer = await follow('cluster9:conductor_handle:h_0001', path.join(dir, 'bad'));
    check(badServer.code === 1 && /input 'handle': unknown server 'cluster9' for conductor_handle h_0001/.test(badServer.stderr),
      `unknown server: exit ${badServer.code}: ${badServer.stderr}`);
    const badText = await follow('conductor:conductor-handle:h_0001', path.join(dir, 'bad2'));
    check(badText.code === 1 && /column 11: unknown handle kind 'conductor-handle'/.test(badText.stderr),
      `bad handle text: exit ${badText.code}: ${badText.stderr}`);
    check(submits(b.cond.log()) === submitsAtKill, 'a refused handle submitted something');

    // The follow run finishes the sweep.
    const f = await follow(killed.handle, path.join(dir, 'b'));
    check(f.code === 0, `follow: exit ${f.code ?? f.signal}: ${f.stdout.slice(-2000)}${f.stderr}`);
    check(/INFO: Following handle h_\d+ on conductor/.test(f.stdout), 'no "Following handle" line');
    const ref = await reference;
    check(ref.code === 0, `reference run: exit ${ref.code}: ${ref.stdout.slice(-1500)}${ref.stderr}`);
    if (ref.code !== 0 || f.code !== 0) return;
    const ra = readJson(path.join(dir, 'a', 'sweep_output.json'));
    const rb = readJson(path.join(dir, 'b', 'sweep_output.json'));
    const ka = ra.all_results.map(resultKey).sort(), kb = rb.all_results.map(resultKey).sort();
    check(ka.length >= 17 && JSON.stringify(ka) === JSON.stringify(kb),
      `all_results differ:\nuninterrupted ${ka.join('\n')}\nfollowed ${kb.join('\n')}`);
    check(JSON.stringify(ra.best_hyperparameters) === JSON.stringify(rb.best_hyperparameters), 'best_hyperparameters differ');

    // No job submitted twice: the sweep once, then one submit_jobs per retry.
    const chunks = lines(path.join(dir, 'b', 'sweep_output_stream.jsonl'));
    const retries = chunks.filter((c) => c.retry_of);
    const ids = chunks.map((c) => c.job_id);
    check(new Set(ids).size === ids.length, `a job streamed twice: ${ids}`);
    check(submits(b.cond.log()) === 1 + retries.length && submits(a.cond.log()) === submits(b.cond.log()),
      `submit_jobs: ${submits(b.cond.log())} (followed) and ${submits(a.cond.log())} (uninterrupted), retries ${retries.length}`);
    check(chunks.filter((c) => !c.retry_of).length === 18, `${chunks.length} chunks for the 18 trials and their retries`);

    // The ledger: the 18 adopted jobs apart from what this run spent (its retries).
    const cb = rb.cost_breakdown;
    const retryCost = Math.round(retries.reduce((s, c) => s + c.cost_usd, 0) * 100) / 100;
    check(cb.adopted && cb.adopted.jobs === 18 && Math.abs(cb.spent_usd - retryCost) < 0.011 &&
      Math.abs(cb.spent_usd + cb.adopted.cost_usd - cb.total_usd) < 0.011 && cb.total_usd === ra.cost_breakdown.total_usd,
    `cost_breakdown ${JSON.stringify(cb)} (retries cost ${retryCost}); uninterrupted total ${ra.cost_breakdown.total_usd}`);
    check(ra.cost_breakdown.adopted === undefined && ra.cost_breakdown.spent_usd === undefined,
      'the uninterrupted run reports adopted jobs');
    check(ra.steps.submit_jobs.handle?.$type === 'ExternalHandle' && ra.steps.submit_jobs.handle.kind === 'conductor_handle',
      `steps.submit_jobs.handle in the result: ${JSON.stringify(ra.steps.submit_jobs)}`);
  },

  async 'watch-cancel'() {
    const dir = tmpdir('handles-watch');
    const { cond, ws } = await servers(dir, 3600);
    const { handle } = await submitAndKill(ws, path.join(dir, 'run'));
    const out = path.join(dir, 'watch');
    const w = await sibyl(['handle', 'watch', handle, '--workspace', ws, '--stream', '--output-dir', out], { limitMs: 120000 });
    check(w.code === 0, `watch: exit ${w.code ?? w.signal}: ${w.stdout.slice(-1500)}${w.stderr}`);
    const streamLines = w.stdout.split('\n').filter((l) => / STREAM: /.test(l)).map((l) => JSON.parse(l.replace(/^.*? STREAM: /, '')));
    const file = fs.existsSync(path.join(out, 'sweep_output_stream.jsonl')) ? lines(path.join(out, 'sweep_output_stream.jsonl')) : [];
    check(file.length === 18 && JSON.stringify(streamLines) === JSON.stringify(file),
      `${file.length} lines in the stream file, ${streamLines.length} STREAM lines, expected the 18 jobs`);
    check(file.every((c) => ['job_completed', 'job_failed'].includes(c.type) && c.hyperparameters && c.cost_usd > 0 &&
      (c.type === 'job_completed' ? c.metrics.val_acc > 0 : c.error && c.error_type)), 'a chunk out of format');
    check(/INFO: Poll #1 - Jobs status \(delay: 0ms\): running \d+, queued \d+/.test(w.stdout), 'no first poll line');
    check(/SUCCESS: Handle \S+: all 18 jobs finished: \d+ completed, \d+ failed, 0 cancelled; their cost \$\d+\.\d\d$/m.test(w.stdout),
      `watch: last line ${w.stdout.trim().split('\n').pop()}`);
    check(submits(cond.log()) === 1, 'watch submitted something');

    // Cancel a second sweep while it runs: partial costs reported.
    const second = await submitAndKill(ws, path.join(dir, 'run2'));
    await new Promise((r) => setTimeout(r, 1500)); // jobs run for a while first (about 1.5 simulated hours)
    const c = await sibyl(['handle', 'cancel', second.handle, '--workspace', ws]);
    check(c.code === 0, `cancel: exit ${c.code}: ${c.stdout}${c.stderr}`);
    const partial = [...c.stdout.matchAll(/WARN: Job (\S+) cancelled after ([\d.]+)s: partial cost \$([\d.]+)/g)];
    const m = /Cancelled (\d+) unfinished jobs? of handle/.exec(c.stdout);
    check(m && Number(m[1]) >= 10 && partial.length === Number(m[1]), `cancel output:\n${c.stdout}`);
    check(partial.some((p) => Number(p[3]) > 0 && Number(p[2]) > 0), 'no cancelled job was charged a partial cost');
    const sum = partial.reduce((s, p) => s + Number(p[3]), 0);
    const end = /SUCCESS: Handle \S+ cancelled: (\d+) jobs? stopped, their partial costs \$([\d.]+)/.exec(c.stdout);
    check(end && Number(end[1]) === partial.length && Math.abs(Number(end[2]) - sum) < 0.011 * partial.length, `last line: ${c.stdout}`);
    const st = await sibyl(['handle', 'status', second.handle, '--workspace', ws]);
    let s = null;
    try { s = JSON.parse(st.stdout); } catch { /* checked */ }
    check(s && s.done === true && s.counts.cancelled === partial.length && s.counts.running === 0 && s.counts.queued === 0,
      `status after cancel: ${st.stdout}${st.stderr}`);

    // Refusals, natively and by sibyl.wasm (run in the folder: WASI sees '.').
    fs.copyFileSync(path.join(exDir(), 'workspace.yaml'), path.join(dir, 'embedded.yaml'));
    for (const [who, r] of [['native', await sibyl(['handle', 'watch', handle, '--workspace', 'embedded.yaml'], { cwd: dir })],
      ['wasm', await sibylWasm(['handle', 'watch', handle, '--workspace', 'embedded.yaml'], { cwd: dir })]]) {
      check(r.code === 1 && /server 'conductor' is an embedded service: a handle of an embedded service lives only in the process that made it/.test(r.stderr),
        `${who}, embedded workspace: exit ${r.code}: ${r.stderr}`);
    }
    const wr = await sibylWasm(['handle', 'status', handle, '--workspace', 'ws.yaml'], { cwd: dir });
    check(wr.code === 1 && /server 'conductor' uses transport http: .*native/.test(wr.stderr), `wasm, http workspace: exit ${wr.code}: ${wr.stderr}`);
    const unknown = await sibyl(['handle', 'status', 'conductor:conductor_handle:h_0404', '--workspace', ws]);
    check(unknown.code === 1 && /handle 'conductor:conductor_handle:h_0404' on server conductor: .*unknown handle_id 'h_0404'/.test(unknown.stderr),
      `unknown handle: exit ${unknown.code}: ${unknown.stderr}`);
    const usage = await sibyl(['handle', 'watch']);
    check(usage.code === 2 && /which handle\?/.test(usage.stderr), `no handle: exit ${usage.code}: ${usage.stderr}`);
    check(submits(cond.log()) === 2, `${submits(cond.log())} submit_jobs: only the two sweeps`);
  },
};

parts['sdk-task'] = async () => {
  const dir = tmpdir('handles-task');
  const { cond, ws } = await servers(dir, 3600);
  const sdk = path.join(interopModules(), '@modelcontextprotocol/sdk/dist/esm');
  const { Client } = await import(`${sdk}/client/index.js`);
  const { StreamableHTTPClientTransport } = await import(`${sdk}/client/streamableHttp.js`);
  const { CreateTaskResultSchema } = await import(`${sdk}/types.js`);
  const client = new Client({ name: 'sdk-task-starter', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(cond.url));
  await client.connect(transport);
  onExit(() => client.close());
  const jobs = Array.from({ length: 3 }, (_, i) => ({ hyperparameters: { learning_rate: 0.001, batch_size: 64, dropout: 0.1 * (i + 3) } }));
  const s = await client.callTool({ name: 'submit_jobs', arguments: { jobs } });
  const handleId = s.structuredContent.handle_id;
  // The task is started and left to run: the SDK client only creates it.
  const created = await client.request({ method: 'tools/call',
    params: { name: 'wait_jobs', arguments: { handle_id: handleId }, task: { ttl: 60000 } } }, CreateTaskResultSchema);
  const taskId = created.task.taskId;
  check(typeof taskId === 'string' && created.task.status === 'working', `task created: ${JSON.stringify(created)}`);
  const handle = JSON.stringify({ $type: 'ExternalHandle', server: 'conductor', kind: 'mcp_task', id: taskId,
    session: transport.sessionId });
  const st = await sibyl(['handle', 'status', handle, '--workspace', ws]);
  let task = null;
  try { task = JSON.parse(st.stdout); } catch { /* checked */ }
  check(st.code === 0 && task && task.taskId === taskId && ['working', 'completed'].includes(task.status),
    `handle status of the task: exit ${st.code}: ${st.stdout}${st.stderr}`);
  const w = await sibyl(['handle', 'watch', handle, '--workspace', ws], { limitMs: 60000 });
  const m = /SUCCESS: Task \S+ completed; its result: (\{.*\})$/m.exec(w.stdout);
  let result = null;
  try { result = m && JSON.parse(m[1]); } catch { /* checked */ }
  check(w.code === 0 && result && result.done === true && result.handle_id === handleId && result.counts.total === 3 &&
    result.counts.completed + result.counts.failed === 3, `handle watch of the task: exit ${w.code}: ${w.stdout}${w.stderr}`);
  check(/INFO: Watching task \{.*\} \(tasks\/get at the server's pollInterval, then tasks\/result\)/.test(w.stdout),
    `no Watching line: ${w.stdout}`);
  const gets = (cond.log().match(/ tasks\/get 200 /g) || []).length;
  check(gets >= 2, `${gets} tasks/get: the watch polled while the task worked`);
  // The SDK client's session was borrowed, not ended: it still works.
  const again = await client.callTool({ name: 'get_jobs_status', arguments: { handle_id: handleId } });
  check(again.structuredContent?.done === true, 'the SDK client\'s session survived the watch');
  const unknown = await sibyl(['handle', 'watch', 'conductor:mcp_task:task-404', '--workspace', ws]);
  check(unknown.code === 1 && /handle 'conductor:mcp_task:task-404' on server conductor: server 'conductor': task task-404: tasks\/get: JSON-RPC error/.test(unknown.stderr),
    `unknown task: exit ${unknown.code}: ${unknown.stderr}`);
};

if (!parts[part] || !solverBin || !conductorBin) {
  process.stderr.write(`usage: handles.mjs ${Object.keys(parts).join('|')} SOLVER_BIN CONDUCTOR_BIN\n`);
  process.exit(2);
}
if (part === 'sdk-task') requireInterop();
requireNative();
main(`http handles ${part}`, async () => { await parts[part](); await finish(`http handles ${part}`); });
