// The headline sweep with real training (issue 11, acceptance 1): README.md's
// section "The headline sweep on your own machine", its commands exactly:
//   node headline_local.mjs SOLVER_BIN CONDUCTOR_BIN
// In a temporary folder laid out like the repository (the example config,
// examples/trainer, ./sibyl), both servers start with the README's lines
// (--port 0 for the documented ports; the Conductor with --backend local,
// running examples/trainer/train.py per trial), workspace.local.yaml gets the
// ports they got, and the README's `./sibyl pipeline run` line runs. Checked:
//   - real ranking: every val_acc is the trainer's own (its metrics.json in
//     the job's folder), the best is a real score, far above a diverged or
//     dead trial's;
//   - a real NaN-loss failure (the trainer's message, transient by the
//     workspace's patterns) retried with the learning rate halved;
//   - the cost report and the stream file, total within the budget;
//   - one get_jobs_status call per poll per handle (the Conductor's log
//     against the CLI's poll lines).
// Both servers are stopped with SIGTERM (also when a check fails).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, checkSweep, env, exampleDir, finish, parseLog, polls, readJson, readStream, tail, tempDir } from '../e2e/lib.mjs';

const [solverBin, conductorBin] = process.argv.slice(2).map((p) => path.resolve(p));
for (const [what, p] of [['sibyl-solver', solverBin], ['sibyl-conductor', conductorBin], ['the native sibyl', env.native]]) {
  if (!p || !fs.existsSync(p)) {
    process.stderr.write(`FAIL: ${what} (${p}) is not built\n`);
    process.exit(1);
  }
}

const EX = 'examples/companies/vertex_foundry/config';
const SPACE = '{"learning_rate": [0.001, 0.003, 0.05], "batch_size": [64, 128], "dropout": [0.3, 0.5]}';
const BUDGET = 150;
const COMMANDS = [
  'bash scripts/build-all.sh native',
  `build/native/servers/sibyl-conductor --backend local --port 8080 --workspace ${EX}/workspace.local.yaml --time-scale 600`,
  'build/native/servers/sibyl-solver --port 8081',
  'curl http://localhost:8080/health',
  'curl http://localhost:8081/health',
  `./sibyl pipeline run hyperparameter_sweep --workspace ${EX}/workspace.local.yaml --config ${EX}/pipelines.yaml ` +
    `--input budget_usd=${BUDGET} --input param_space='${SPACE}' --input target_metric="val_acc" --stream`,
  "jq '.best_hyperparameters' sweep_output.json",
  "jq '.total_cost' sweep_output.json",
];

function readmeCommands() {
  const text = fs.readFileSync(path.join(env.repo, 'README.md'), 'utf8');
  const at = text.indexOf('\n## The headline sweep on your own machine\n');
  if (!check(at >= 0, 'README.md has no section "The headline sweep on your own machine"')) return [];
  const m = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  if (!check(m, 'the README section has no ```sh block')) return [];
  return m[1].split('\n').filter((l) => l.trim() !== '');
}

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

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
  return Object.assign(s, { url, port: Number(/:(\d+)\/mcp$/.exec(url)[1]), docPort, line: cmd }); /* stderr stays live */
}

const servers = [];
let res = null;
let dir = null;

async function main() {
  const cmds = readmeCommands();
  check(JSON.stringify(cmds) === JSON.stringify(COMMANDS),
    `README's commands differ from the tested ones:\n${cmds.join('\n')}\n--- tested ---\n${COMMANDS.join('\n')}`);
  const [, conductorLine, solverLine, curl8080, curl8081, runLine, jqBest, jqCost] = COMMANDS;

  const v = await shellDone(`${env.native} workspace validate ${EX}/workspace.local.yaml`, env.repo);
  check(v.code === 0 && v.stdout.trim() === `${EX}/workspace.local.yaml: valid workspace (2 servers)`,
    `workspace.local.yaml validates: ${v.stdout}${v.stderr}`);

  dir = tempDir('headline-local');
  const ex = path.join(dir, EX);
  fs.mkdirSync(ex, { recursive: true });
  fs.copyFileSync(path.join(exampleDir(), 'pipelines.yaml'), path.join(ex, 'pipelines.yaml'));
  fs.mkdirSync(path.join(dir, 'examples/trainer'), { recursive: true });
  fs.copyFileSync(path.join(env.repo, 'examples/trainer/train.py'), path.join(dir, 'examples/trainer/train.py'));
  fs.symlinkSync(path.join(env.repo, 'sibyl'), path.join(dir, 'sibyl'));
  const wsText = fs.readFileSync(path.join(exampleDir(), 'workspace.local.yaml'), 'utf8');
  fs.writeFileSync(path.join(ex, 'workspace.local.yaml'), wsText);

  servers.push(await startServer(conductorLine, conductorBin, 8080, dir));
  servers.push(await startServer(solverLine, solverBin, 8081, dir));
  const [cond, solv] = servers;
  for (const [line, srv, name] of [[curl8080, cond, 'sibyl-conductor'], [curl8081, solv, 'sibyl-solver']]) {
    const r = await shellDone(line.replace(`localhost:${srv.docPort}`, `localhost:${srv.port}`), dir);
    let h = null;
    try { h = JSON.parse(r.stdout); } catch { /* checked below */ }
    check(r.code === 0 && h && h.status === 'ok' && h.name === name, `${line}: exit ${r.code}: ${r.stdout} ${r.stderr}`);
  }
  fs.writeFileSync(path.join(ex, 'workspace.local.yaml'), wsText
    .replace('http://127.0.0.1:8080/mcp', cond.url).replace('http://127.0.0.1:8081/mcp', solv.url));

  const run = shell(runLine, dir, { SIBYL_NATIVE: env.native, SIBYL_WASM: env.wasm });
  const e = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r(null), 240000).unref())]);
  if (!check(e, 'the run did not end within 240 s')) { run.proc.kill('SIGKILL'); return; }
  res = { ...e, stdout: run.stdout, stderr: run.stderr };
  check(res.code === 0, `exit ${res.code ?? res.signal}, expected 0 (stderr: ${res.stderr.trim()})`);
  checkRun(res, cond);

  const r = readJson(path.join(dir, 'sweep_output.json'));
  for (const [line, want] of [[jqBest, r.best_hyperparameters], [jqCost, r.total_cost]]) {
    const j = await shellDone(line, dir);
    check(j.code === 0 && JSON.stringify(JSON.parse(j.stdout || 'null')) === JSON.stringify(want), `${line}: exit ${j.code}: ${j.stdout}`);
  }
}

function checkRun(r, cond) {
  const log = parseLog(r.stdout);
  const find = (re) => log.find((l) => re.test(l.msg));
  const streamFile = path.join(dir, 'sweep_output_stream.jsonl');
  const chunks = readStream(streamFile);
  const originals = chunks.filter((c) => !c.retry_of);
  // About 8-12 on an idle machine; fewer when trials are slow (a loaded
  // machine bills more per trial, so the budget buys fewer).
  check(originals.length >= 4 && originals.length <= 12, `${originals.length} trials (the space has 12)`);

  // Real training: each completed trial's metrics are its metrics.json.
  const jobsRoot = fs.readdirSync(dir).find((f) => f.startsWith('sibyl-jobs-'));
  if (check(jobsRoot, 'no sibyl-jobs-* folder in the Conductor\'s current folder')) {
    for (const c of chunks.filter((x) => x.type === 'job_completed')) {
      const handle = fs.readdirSync(path.join(dir, jobsRoot))[0];
      const m = readJson(path.join(dir, jobsRoot, handle, c.job_id, 'metrics.json'));
      check(JSON.stringify(m) === JSON.stringify(c.metrics), `${c.job_id}: streamed ${JSON.stringify(c.metrics)}, trainer wrote ${JSON.stringify(m)}`);
    }
  }

  // The NaN loss: a real divergence of the trainer, retried halved.
  const nan = chunks.filter((c) => c.type === 'job_failed' && /^exit status 3: NaN loss detected at epoch \d+/.test(c.error));
  if (check(nan.length > 0, `no NaN-loss failure in the stream: ${chunks.map((c) => c.error || c.type).join(' / ')}`)) {
    for (const f of nan) {
      check(f.error_type === 'transient' && f.cost_usd > 0 && f.hyperparameters.learning_rate === 0.05,
        `${f.job_id}: ${f.error_type}, lr ${f.hyperparameters.learning_rate}, partial cost ${f.cost_usd}`);
      const c = chunks.find((x) => x.job_id === `${f.job_id}_retry_1`);
      if (check(c, `no chunk for ${f.job_id}_retry_1`)) {
        check(c.retry_of === f.job_id && c.hyperparameters.learning_rate === 0.025 &&
          c.hyperparameters.batch_size === f.hyperparameters.batch_size, `${c.job_id}: ${JSON.stringify(c.hyperparameters)}`);
      }
      const retry = find(new RegExp(`^Retrying job ${f.job_id} as ${f.job_id}_retry_1 `));
      check(retry && /learning_rate 0\.05 -> 0\.025/.test(retry.msg), `retry line: ${retry?.msg}`);
    }
  }

  // Ranking: the best is a real score, far above what a bad rate gets.
  const { result } = checkSweep(dir, { budget: BUDGET, params: ['learning_rate', 'batch_size', 'dropout'], balanced: false });
  if (result) {
    const worst = Math.min(...chunks.filter((c) => c.type === 'job_completed').map((c) => c.metrics.val_acc));
    check(result.best_score > 90 && result.best_score <= 100 && result.best_score > worst + 30,
      `best val_acc ${result.best_score}, worst completed ${worst}`);
    check(result.best_hyperparameters.learning_rate !== 0.05, `best ${JSON.stringify(result.best_hyperparameters)}`);
    check(result.total_cost > 0 && result.total_cost <= BUDGET, `total_cost ${result.total_cost} of ${BUDGET}`);
  }
  check(find(/^Cost breakdown:$/) && find(/^ {2}budget utilization +\d/), 'the cost report');

  // One status call per poll per handle: the Conductor logs each tool call.
  const statusCalls = (cond.stderr.match(/^info tool get_jobs_status h_\d+$/mg) || []).length;
  const ps = polls(log);
  check(ps.length > 0 && statusCalls === ps[ps.length - 1].k,
    `${statusCalls} get_jobs_status calls on the Conductor, ${ps[ps.length - 1]?.k} polls by the CLI`);
  const end = log[log.length - 1];
  check(end?.level === 'SUCCESS', `last line: ${end?.text}`);
}

async function stopServers() {
  for (const s of servers) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGTERM');
    const e = await Promise.race([s.exited, new Promise((r) => setTimeout(() => r(null), 15000).unref())]);
    check(e && e.code === 0, `${s.line}: ${e ? `exit ${e.code ?? e.signal}` : 'still running 15 s after SIGTERM'} on SIGTERM\n${tail(s.stderr, 5)}`);
  }
}

main()
  .catch((e) => check(false, `exception: ${e.stack || e}`))
  .then(stopServers)
  .then(() => finish('headline local', res && { label: 'stdout (tail)', text: `${tail(res.stdout)}\n--- stderr ---\n${res.stderr}` }));
