// The headline sweep on real servers, exactly as README.md's section "The
// headline sweep on real servers" writes it (issue 9, acceptance 1):
//   node headline.mjs SOLVER_BIN CONDUCTOR_BIN
// The README's commands are read from README.md and must be the ones below
// (so the section cannot drift from what is tested); workspace.http.yaml is
// valid for sibyl.wasm (through ./sibyl) and the native binary; then, in a temporary
// folder laid out like the repository (examples/... and ./sibyl):
//   - both servers start with the README's command lines, `--port 0` for the
//     documented port (the Conductor with the example workspace, --time-scale
//     3600: the sweep takes about 30 s of real time);
//   - the README's `curl .../health` lines run against the ports they got;
//   - workspace.http.yaml is written with those ports and is otherwise the
//     example's (which equals workspace.yaml apart from `servers:`);
//   - the README's `./sibyl pipeline run ...` line runs through the launcher,
//     which must pick the native binary (sibyl.wasm would refuse HTTP);
//   - the README's jq lines read the result.
// The run is checked for the invariants of the embedded headline run
// (tests/e2e/headline.mjs) that do not depend on timing: jobs finish on the
// servers' scaled clock, so ids, counts of suggestions and times vary.
// Both servers are stopped with SIGTERM (also when a check fails) and must
// exit 0.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, checkMoney, checkSweep, env, exampleDir, finish, parseLog, planLine, polls, readJson, readStream,
  SPACE_3x3x3, STEPS, stepLines, tail, tempDir,
} from '../e2e/lib.mjs';

const [solverBin, conductorBin] = process.argv.slice(2).map((p) => path.resolve(p));
if (!solverBin || !conductorBin) {
  process.stderr.write('usage: headline.mjs SOLVER_BIN CONDUCTOR_BIN\n');
  process.exit(2);
}
for (const [what, p] of [['sibyl-solver', solverBin], ['sibyl-conductor', conductorBin], ['the native sibyl', env.native],
  ['sibyl.wasm', env.wasm]]) {
  if (!p || !fs.existsSync(p)) {
    process.stderr.write(`FAIL: ${what} (${p}) is not built\n`);
    process.exit(1);
  }
}

const EX = 'examples/companies/vertex_foundry/config';
const COMMANDS = [
  'bash scripts/build-all.sh native',
  `build/native/servers/sibyl-conductor --port 8080 --workspace ${EX}/workspace.yaml --time-scale 3600`,
  'build/native/servers/sibyl-solver --port 8081',
  'curl http://localhost:8080/health',
  'curl http://localhost:8081/health',
  `./sibyl pipeline run hyperparameter_sweep --workspace ${EX}/workspace.http.yaml --config ${EX}/pipelines.yaml ` +
    `--input budget_usd=500 --input param_space='${SPACE_3x3x3}' --input target_metric="val_acc" --stream`,
  "jq '.best_hyperparameters' sweep_output.json",
  "jq '.total_cost' sweep_output.json",
];

// The first ```sh block of the README section.
function readmeCommands() {
  const text = fs.readFileSync(path.join(env.repo, 'README.md'), 'utf8');
  const at = text.indexOf('\n## The headline sweep on real servers\n');
  if (!check(at >= 0, 'README.md has no section "The headline sweep on real servers"')) return [];
  const m = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  if (!check(m, 'the README section has no ```sh block')) return [];
  return m[1].split('\n').filter((l) => l.trim() !== '');
}

// `workspace.http.yaml` apart from `servers:` (up to the next top-level key).
const withoutServers = (text) => text.replace(/^servers:\n(?:[ #].*\n|\n)*/m, '');

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

// Runs one README line with bash in `cwd`, as a user would type it.
function shell(line, cwd, extraEnv = {}) {
  const p = spawn('bash', ['-c', `exec ${line}`], { cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(p);
  const out = { stdout: '', stderr: '' };
  p.stdout.on('data', (c) => { out.stdout += c; });
  p.stderr.on('data', (c) => { out.stderr += c; });
  out.exited = new Promise((resolve) => p.on('exit', (code, signal) => { live.delete(p); resolve({ code, signal }); }));
  out.proc = p;
  return out;
}
async function shellDone(line, cwd, extraEnv) {
  const s = shell(line, cwd, extraEnv);
  const e = await s.exited;
  return { ...e, stdout: s.stdout, stderr: s.stderr };
}

// A server from its README line: the build's binary, --port 0; resolves once
// it prints "NAME listening on URL".
async function startServer(line, bin, docPort, cwd) {
  const cmd = line.replace(/^build\/native\/servers\/\S+/, bin).replace(`--port ${docPort}`, '--port 0');
  check(cmd !== line && cmd.includes('--port 0'), `cannot rewrite the server line: ${line}`);
  const s = shell(cmd, cwd);
  const url = await new Promise((resolve, reject) => {
    s.proc.stderr.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/.exec(s.stderr);
      if (m) resolve(m[1]);
    });
    s.exited.then((e) => reject(new Error(`${cmd}\nexited (${e.code ?? e.signal}) before listening:\n${s.stderr}`)));
  });
  return { ...s, url, port: Number(/:(\d+)\/mcp$/.exec(url)[1]), docPort, line: cmd };
}

const servers = [];
let res = null;
let dir = null;

async function main() {
  const cmds = readmeCommands();
  check(JSON.stringify(cmds) === JSON.stringify(COMMANDS),
    `README's commands differ from the tested ones:\n${cmds.join('\n')}\n--- tested ---\n${COMMANDS.join('\n')}`);
  const [, conductorLine, solverLine, curl8080, curl8081, runLine, jqBest, jqCost] = COMMANDS;

  // The example workspaces: the HTTP one is workspace.yaml with other servers.
  const wsText = fs.readFileSync(path.join(exampleDir(), 'workspace.yaml'), 'utf8');
  const httpText = fs.readFileSync(path.join(exampleDir(), 'workspace.http.yaml'), 'utf8');
  check(withoutServers(httpText) === withoutServers(wsText) && withoutServers(wsText) !== wsText,
    'workspace.http.yaml differs from workspace.yaml outside servers:');
  check(/^servers:\n/m.test(httpText) && (httpText.match(/^ {4}transport: http$/mg) || []).length === 2 &&
    httpText.includes('url: http://127.0.0.1:8080/mcp') && httpText.includes('url: http://127.0.0.1:8081/mcp'),
    'workspace.http.yaml does not put both servers on 127.0.0.1:8080/8081 over http');

  // Valid for both builds (./sibyl validates with sibyl.wasm).
  const vEnv = { SIBYL_NATIVE: env.native, SIBYL_WASM: env.wasm };
  for (const [line, want] of [
    [`./sibyl workspace validate ${EX}/workspace.http.yaml`, `${EX}/workspace.http.yaml: valid workspace (2 servers)`],
    [`${env.native} workspace validate ${EX}/workspace.http.yaml`, `${EX}/workspace.http.yaml: valid workspace (2 servers)`],
    [`./sibyl pipeline validate --config ${EX}/pipelines.yaml --workspace ${EX}/workspace.http.yaml`,
      `${EX}/pipelines.yaml: 2 valid pipelines: hyperparameter_sweep (11 steps), convnet_sweep_follow (5 steps)`],
  ]) {
    const v = await shellDone(line, env.repo, vEnv);
    check(v.code === 0 && v.stdout.trim() === want && v.stderr === '', `${line}: exit ${v.code}: ${v.stdout}${v.stderr}`);
  }

  // A folder laid out like the repository, outputs land in it.
  dir = tempDir('headline-http');
  const ex = path.join(dir, EX);
  fs.mkdirSync(ex, { recursive: true });
  for (const f of ['workspace.yaml', 'pipelines.yaml']) fs.copyFileSync(path.join(exampleDir(), f), path.join(ex, f));
  fs.symlinkSync(path.join(env.repo, 'sibyl'), path.join(dir, 'sibyl'));

  servers.push(await startServer(conductorLine, conductorBin, 8080, dir));
  servers.push(await startServer(solverLine, solverBin, 8081, dir));
  const [cond, solv] = servers;

  for (const [line, srv, name] of [[curl8080, cond, 'sibyl-conductor'], [curl8081, solv, 'sibyl-solver']]) {
    const r = await shellDone(line.replace(`localhost:${srv.docPort}`, `localhost:${srv.port}`), dir);
    let h = null;
    try { h = JSON.parse(r.stdout); } catch { /* checked below */ }
    check(r.code === 0 && h && h.status === 'ok' && h.name === name, `${line}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  }

  fs.writeFileSync(path.join(ex, 'workspace.http.yaml'), httpText
    .replace('http://127.0.0.1:8080/mcp', cond.url).replace('http://127.0.0.1:8081/mcp', solv.url));

  // The run, through the launcher. SIBYL_NATIVE and SIBYL_WASM name this
  // build's binaries; the launcher must choose the native one by itself.
  const streamFile = path.join(dir, 'sweep_output_stream.jsonl');
  const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').length - 1 : 0);
  const run = shell(runLine, dir, { SIBYL_NATIVE: env.native, SIBYL_WASM: env.wasm });
  // The stream file as the log reaches its first poll line: written
  // already, and not yet whole.
  let atPoll1 = null;
  run.proc.stdout.on('data', () => {
    const at = run.stdout.indexOf('] INFO: Poll #');
    if (atPoll1 === null && at >= 0)
      atPoll1 = { file: lines(streamFile), stdout: (run.stdout.slice(0, at).match(/\] STREAM: /g) || []).length };
  });
  const e = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r(null), 240000).unref())]);
  if (!check(e, 'the run did not end within 240 s')) { run.proc.kill('SIGKILL'); return; }
  res = { ...e, stdout: run.stdout, stderr: run.stderr };
  check(res.code === 0, `exit ${res.code ?? res.signal}, expected 0 (stderr: ${res.stderr.trim()})`);
  check(res.stderr === '', `unexpected stderr: ${res.stderr.trim()}`);
  checkRun(res, atPoll1);

  const r = readJson(path.join(dir, 'sweep_output.json'));
  for (const [line, want] of [[jqBest, r.best_hyperparameters], [jqCost, r.total_cost]]) {
    const j = await shellDone(line, dir);
    check(j.code === 0 && JSON.stringify(JSON.parse(j.stdout || 'null')) === JSON.stringify(want), `${line}: exit ${j.code}: ${j.stdout}`);
  }
}

function checkRun(r, atPoll1) {
  const log = parseLog(r.stdout);
  const find = (re) => log.find((l) => re.test(l.msg));
  const streamFile = path.join(dir, 'sweep_output_stream.jsonl');

  // Format and steps.
  check(log[0]?.msg.startsWith('Starting pipeline hyperparameter_sweep (11 steps, seed 7)'), `first line: ${log[0]?.text}`);
  check(!log.some((l) => l.level === 'ERROR'), 'an ERROR line in a successful run');
  check(!/[\x1b\r]/.test(r.stdout), 'control characters in stdout');
  for (let k = 1; k < log.length; k++) check(log[k].t >= log[k - 1].t, `time goes backwards at line ${log[k].n}`);
  const started = stepLines(log).filter((s) => !/^ (skipped|failed)/.test(s.rest));
  check(JSON.stringify(started.map((s) => s.i).sort((a, b) => a - b)) === '[1,2,3,4,5,6,7,8,9,10,11]',
    `step numbers ${started.map((s) => s.i)}`);
  started.forEach((s) => check(s.n === 11 && STEPS[s.i - 1] === s.name, `Step ${s.i}/${s.n} is ${s.name}`));

  // The plan: 18 of 27 under $500, for 5 at a time; a balanced start of 9.
  const p = planLine(log);
  if (p) {
    check(p.trials === 18 && p.grid === 27, `planned ${p.trials} of ${p.grid}, expected 18 of 27`);
    check(/\$500(\.00)?\b/.test(p.line.msg) && /\b5 at a time\b/.test(p.line.msg), `plan line: ${p.line.msg}`);
    checkMoney(p.line.msg);
  }
  const sub = find(/^Submitted \d+ jobs to conductor/);
  check(sub && /^Submitted 9 jobs to conductor \(handle \S+\)/.test(sub.msg), `first submission: ${sub?.msg}`);

  // Polls: backoff 2000, 3000, 4500, 6750, then 10000 ms; at most 5 running.
  // Without --verbose a poll is logged when a job changed state (at this
  // time scale, every one in practice).
  const ps = polls(log);
  check(ps.length >= 3 && ps[ps.length - 1].k >= 3,
    `${ps.length} poll lines: the sweep takes 8 simulated hours, at least 3 polls at --time-scale 3600`);
  const want = [2000, 3000, 4500, 6750];
  ps.forEach((x, i) => check((i === 0 || x.k > ps[i - 1].k) && x.delay === (want[x.k - 1] ?? 10000),
    `poll #${x.k} (line ${i + 1}): delay ${x.delay}ms, expected ${want[x.k - 1] ?? 10000}ms`));
  // A poll is not sent before its delay (log times are whole seconds).
  const monitor = find(/^Monitoring 9 jobs on handle/);
  let prev = { k: 0, t: monitor?.t };
  for (const x of ps) {
    if (x.k === prev.k + 1)
      check(prev.t !== undefined && x.t - prev.t >= x.delay - 1000, `poll #${x.k} came ${(x.t - prev.t) / 1000}s after the one before, its delay is ${x.delay}ms`);
    prev = x;
  }
  check(ps.every((x) => x.running <= 5) && ps.some((x) => x.running > 0), `running per poll: ${ps.map((x) => x.running)}`);
  const last = ps[ps.length - 1];
  check(last && last.running === 0 && last.queued === 0, `last poll still has work: ${JSON.stringify(last)}`);
  const all = find(/^All \d+ jobs on handle \S+ finished: \d+ completed, \d+ failed, \d+ cancelled \(\d+ polls\)/);
  check(all && all.msg.endsWith(`(${last?.k} polls)`), `"${all?.msg}" and the last poll line is #${last?.k}`);

  // Stream: one STREAM line per finished job, as in the .jsonl, each before
  // the poll that reports it; the file was written as jobs finished.
  const chunks = readStream(streamFile);
  const streamLines = log.filter((l) => l.level === 'STREAM');
  check(streamLines.length === chunks.length, `${streamLines.length} STREAM lines, ${chunks.length} lines in the .jsonl`);
  streamLines.forEach((l, i) => check(chunks[i] && JSON.stringify(JSON.parse(l.msg)) === JSON.stringify(chunks[i]),
    `STREAM line ${i + 1} differs from .jsonl line ${i + 1}`));
  check(chunks.length >= 19, `${chunks.length} chunks: 17 or more trials and a retry`);
  for (const x of ps) {
    const n = log.find((l) => l.msg.startsWith(`Poll #${x.k} `)).n;
    const before = streamLines.filter((l) => l.n < n).length;
    check(before === x.completed + x.failed, `poll #${x.k} reports ${x.completed + x.failed} finished, ${before} STREAM lines before it`);
  }
  if (check(atPoll1, 'poll #1 was never seen on stdout while the run went on')) {
    check(atPoll1.file >= atPoll1.stdout && atPoll1.stdout > 0,
      `when poll #1 was logged the stream file had ${atPoll1.file} lines, the log ${atPoll1.stdout} STREAM lines`);
    check(atPoll1.file < chunks.length, `the stream file had all ${chunks.length} lines at poll #1: not written as jobs finish`);
  }

  // The NaN-loss retry: learning rate halved, while polling goes on.
  const nan = chunks.filter((c) => c.type === 'job_failed' && /nan loss/i.test(c.error) && c.hyperparameters.learning_rate === 0.01);
  if (check(nan.length > 0, 'no NaN-loss failure of an lr=0.01 trial in the stream')) {
    for (const f of nan) {
      const id = `${f.job_id}_retry_1`;
      check(f.error_type === 'transient' && f.cost_usd > 0, `${f.job_id}: ${f.error_type}, partial cost ${f.cost_usd}`);
      const c = chunks.find((x) => x.job_id === id);
      if (check(c, `no chunk for ${id}`)) {
        check(c.retry_of === f.job_id && c.hyperparameters.learning_rate === 0.005 &&
          c.hyperparameters.batch_size === f.hyperparameters.batch_size && c.hyperparameters.dropout === f.hyperparameters.dropout,
        `${id}: retry_of ${c.retry_of}, ${JSON.stringify(c.hyperparameters)} for ${JSON.stringify(f.hyperparameters)}`);
        check(chunks.indexOf(c) > chunks.indexOf(f), `${id} streamed before the job it retries`);
      }
      check(log.some((l) => l.level === 'WARN' && l.msg.startsWith(`Job ${f.job_id} failed (transient): NaN loss`)), `no WARN line for ${f.job_id}`);
      const retry = find(new RegExp(`^Retrying job ${f.job_id} as ${id} `));
      check(retry && /learning_rate 0\.01 -> 0\.005/.test(retry.msg), `retry line: ${retry?.msg}`);
      const s = find(new RegExp(`^Submitted retry ${id} to handle`));
      check(s && ps.some((x) => log.find((l) => l.msg.startsWith(`Poll #${x.k} `)).n > s.n), `no poll after ${id} was submitted`);
    }
  }

  // Outputs: the invariants of every finished sweep; best and top 3.
  const { result } = checkSweep(dir, { budget: 500, params: ['learning_rate', 'batch_size', 'dropout'], balanced: false });
  if (result) {
    const originals = chunks.filter((c) => !c.retry_of).length;
    check(originals >= 17 && originals <= 18, `${originals} trials, expected 17 or 18 (the plan's 18 at most)`);
    check(JSON.stringify(result.best_hyperparameters) === '{"learning_rate":0.001,"batch_size":64,"dropout":0.3}',
      `best_hyperparameters ${JSON.stringify(result.best_hyperparameters)}`);
    check(result.best_score > 85 && result.best_score < 87, `best_score ${result.best_score}, expected near 86`);
    const best4 = ['64/0.3', '64/0.5', '32/0.3', '128/0.3'];
    for (const t of result.top_3 || [])
      check(t.hyperparameters.learning_rate === 0.001 && best4.includes(`${t.hyperparameters.batch_size}/${t.hyperparameters.dropout}`),
        `top 3 has ${JSON.stringify(t.hyperparameters)}`);
    check(result.total_cost <= 500 && result.cost_breakdown.retries_usd > 0, `total ${result.total_cost}, retries ${result.cost_breakdown.retries_usd}`);
    check(result.steps?.retry_failed_jobs?.status === 'succeeded', `retry_failed_jobs: ${JSON.stringify(result.steps?.retry_failed_jobs)}`);
  }
  const end = log[log.length - 1];
  check(end?.level === 'SUCCESS' && /^Pipeline hyperparameter_sweep completed in \d+h \d\dm \d\ds; results in sweep_output.json$/.test(end.msg),
    `last line: ${end?.text}`);
}

async function stopServers() {
  for (const s of servers) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    const e = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r(null), 10000).unref())]);
    check(e && e.code === 0, `${s.line}: ${e ? `exit ${e.code ?? e.signal}` : 'still running 10 s after SIGTERM'} on SIGTERM\n${tail(s.stderr, 5)}`);
  }
}

main()
  .catch((e) => check(false, `exception: ${e.stack || e}`))
  .then(stopServers)
  .then(() => finish('http headline', res && { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` }));
