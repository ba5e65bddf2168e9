// The headline sweep on Slurm with the real trainer, with the commands of
// README.md's section "The headline sweep on Slurm" (the test checks they
// are the ones below): sibyl-conductor --backend slurm with
// examples/.../workspace.slurm.yaml, sibyl-solver, and `./sibyl pipeline run`
// on a smaller budget and a space where one corner really diverges
// (learning rate 0.05 at batch 128: NaN loss, retried at 0.025). In a
// temporary folder laid out like the repository, on free ports. Checked: exit
// 0, every trial a Slurm job, real ranking (the best is a real accuracy, far
// from a diverged one), the NaN-loss failure and its retry with the halved
// rate in the stream, the cost report within the budget, and at most one
// squeue per status call (the Conductor's log and a PATH wrapper counting).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, main, onExit, repo, requireSlurm, slurmIds, squeueCounter, squeuePerStatusCall, squeueStates, tempDir,
} from './lib.mjs';

const EX = 'examples/companies/vertex_foundry/config';
const SPACE = '{"learning_rate": [0.003, 0.05], "batch_size": [64, 128], "dropout": [0.3, 0.5]}';
export const COMMANDS = [
  'sudo bash scripts/slurm-up.sh',
  'bash scripts/build-all.sh native',
  `build/native/servers/sibyl-conductor --port 8080 --backend slurm --workspace ${EX}/workspace.slurm.yaml --time-scale 300`,
  'build/native/servers/sibyl-solver --port 8081',
  `./sibyl pipeline run hyperparameter_sweep --workspace ${EX}/workspace.slurm.yaml --config ${EX}/pipelines.yaml ` +
    `--input budget_usd=250 --input param_space='${SPACE}' --input target_metric="val_acc" --stream`,
  "jq '.best_hyperparameters, .best_score' sweep_output.json",
  "jq '.cost_breakdown' sweep_output.json",
];

function readmeCommands() {
  const text = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const at = text.indexOf('\n## The headline sweep on Slurm\n');
  if (!check(at >= 0, 'README.md has a section "The headline sweep on Slurm"')) return [];
  const m = /```sh\n([\s\S]*?)```/.exec(text.slice(at));
  return m ? m[1].split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')) : [];
}

const live = new Set();
process.on('exit', () => { for (const p of live) p.kill('SIGKILL'); });

function shell(line, cwd, env = {}) {
  const p = spawn('bash', ['-c', `exec ${line}`], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(p);
  const out = { stdout: '', stderr: '', proc: p };
  p.stdout.on('data', (c) => { out.stdout += c; });
  p.stderr.on('data', (c) => { out.stderr += c; });
  out.exited = new Promise((resolve) => p.on('exit', (code, signal) => { live.delete(p); resolve({ code, signal }); }));
  return out;
}

async function server(line, bin, port, cwd, env) {
  const cmd = line.replace(/^build\/native\/servers\/\S+/, bin).replace(`--port ${port}`, '--port 0');
  const s = shell(cmd, cwd, env);
  s.url = await new Promise((resolve, reject) => {
    s.proc.stderr.on('data', () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(s.stderr);
      if (m) resolve(m[1]);
    });
    s.exited.then((e) => reject(new Error(`${cmd}: exited (${e.code ?? e.signal}) before listening:\n${s.stderr}`)));
  });
  onExit(async () => {
    s.proc.kill('SIGTERM');
    const e = await s.exited;
    check(e.code === 0 && !/Sanitizer|runtime error:/.test(s.stderr), `${path.basename(bin)} exits 0 on SIGTERM, sanitizer-clean`);
  });
  return s;
}

main('slurm.headline', async () => {
  const cmds = readmeCommands();
  check(JSON.stringify(cmds) === JSON.stringify(COMMANDS),
    `the README's commands are the tested ones:\n${cmds.join('\n')}\n--- tested ---\n${COMMANDS.join('\n')}`);
  requireSlurm();
  const [, , conductorLine, solverLine, runLine, jqBest, jqCost] = COMMANDS;
  const native = process.env.SIBYL_NATIVE || path.join(repo, 'build/native/host-wasi/sibyl');
  const bins = path.join(repo, 'build/native/servers');

  const dir = tempDir('headline');
  const ex = path.join(dir, EX);
  fs.mkdirSync(ex, { recursive: true });
  fs.copyFileSync(path.join(repo, EX, 'pipelines.yaml'), path.join(ex, 'pipelines.yaml'));
  fs.symlinkSync(path.join(repo, 'examples/trainer'), path.join(dir, 'examples/trainer'));
  fs.symlinkSync(path.join(repo, 'sibyl'), path.join(dir, 'sibyl'));
  const wsText = fs.readFileSync(path.join(repo, EX, 'workspace.slurm.yaml'), 'utf8');
  fs.writeFileSync(path.join(ex, 'workspace.slurm.yaml'), wsText);

  const counter = squeueCounter(dir);
  // --log-level debug: the Conductor logs each status call and each Slurm command
  const cond = await server(`${conductorLine} --log-level debug`, path.join(bins, 'sibyl-conductor'), 8080, dir,
    { PATH: `${counter.path}:${process.env.PATH}` });
  const solv = await server(solverLine, path.join(bins, 'sibyl-solver'), 8081, dir);
  fs.writeFileSync(path.join(ex, 'workspace.slurm.yaml'), wsText
    .replace('http://127.0.0.1:8080/mcp', cond.url).replace('http://127.0.0.1:8081/mcp', solv.url));

  const run = shell(runLine, dir, { SIBYL_NATIVE: native, SIBYL_WASM: process.env.SIBYL_WASM || '' });
  const e = await Promise.race([run.exited, new Promise((r) => setTimeout(() => r(null), 240000).unref())]);
  if (!check(e, 'the run ends within 240 s')) { run.proc.kill('SIGKILL'); return; }
  check(e.code === 0, `exit ${e.code ?? e.signal} (stderr: ${run.stderr.trim()})\n${run.stdout.slice(-3000)}`);
  if (process.env.SIBYL_SHOW_RUN) process.stdout.write(run.stdout); // to see the run (README's excerpt)

  const out = JSON.parse(fs.readFileSync(path.join(dir, 'sweep_output.json'), 'utf8'));
  const stream = fs.readFileSync(path.join(dir, 'sweep_output_stream.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l));
  const ids = slurmIds(cond.stderr);
  check(ids.size >= 4 && ids.size === stream.length, `every trial was a Slurm job (${ids.size} sbatch, ${stream.length} chunks)`);
  const states = squeueStates([...ids.values()]);
  check(states.length === ids.size && states.every((s) => ['COMPLETED', 'FAILED'].includes(s.state)),
    `Slurm ran them all to an end: ${JSON.stringify(states)}`);

  // real training: accuracies that differ, a best far above a diverged run
  const accs = out.all_results.map((r) => r.metrics.val_acc);
  check(out.best_score >= 90 && new Set(accs).size > 1, `real ranking: best ${out.best_score} of ${accs}`);
  check(out.best_hyperparameters.learning_rate === 0.003, `the best learning rate is 0.003 (${JSON.stringify(out.best_hyperparameters)})`);
  const nan = stream.find((c) => c.type === 'job_failed' && /NaN loss detected/.test(c.error));
  check(nan && nan.error_type === 'transient' && nan.hyperparameters.learning_rate === 0.05,
    `a real NaN-loss failure, transient: ${JSON.stringify(nan)}`);
  const retry = nan && stream.find((c) => c.retry_of === nan.job_id);
  check(retry && retry.hyperparameters.learning_rate === 0.025 && retry.type === 'job_completed',
    `retried with the halved learning rate: ${JSON.stringify(retry)}`);

  // the cost report
  const cb = out.cost_breakdown;
  check(out.total_cost > 0 && out.total_cost <= 250 && cb && typeof cb === "object",
    `cost within the budget: ${out.total_cost} (${JSON.stringify(cb)})`);
  for (const [line, want] of [[jqBest, `${JSON.stringify(out.best_hyperparameters, null, 2)}\n${out.best_score}`],
    [jqCost, JSON.stringify(cb, null, 2)]]) {
    const j = spawnSync('bash', ['-c', line], { cwd: dir, encoding: 'utf8' });
    check(j.status === 0 && j.stdout.trim() === want, `${line}: ${j.stdout}${j.stderr}`);
  }

  // one status query per poll: at most one squeue per status call, and no
  // more status calls than the CLI's polls (one per poll per handle) and
  // the settling calls after a retry or cancel
  const polls = (run.stdout.match(/\] INFO: Poll #\d+/g) || []).length;
  const q = squeuePerStatusCall(cond.stderr);
  check(q.most === 1 && q.squeue === counter.calls().length && q.squeue <= q.calls,
    `at most one squeue per status call: ${JSON.stringify(q)}, ${counter.calls().length} seen by the wrapper`);
  check(polls > 0 && q.calls <= polls + 2 * ids.size, `${q.calls} status calls for ${polls} polls`);
});
