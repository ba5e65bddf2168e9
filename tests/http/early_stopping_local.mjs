// Early stopping with real training (issue 16): sibyl-conductor --backend
// local runs examples/trainer/train.py per trial (10 epochs, a fraction of a
// second each), reads each trial's per-epoch JSON lines from its stdout at
// every status call and reports them as progress; the pipeline's poll step
// runs asha at rung 3 and stops the trial that learns far too slowly
// (learning rate 1e-5) through cancel_jobs. Checked: at least one trial
// stopped at a rung, with the reason in the log (the WARN line) and in the
// stream (job_stopped, its last real metrics), the Conductor's status for it
// (cancelled, error_type early_stopping), never ranked, within the budget.
//   node early_stopping_local.mjs CONDUCTOR_BIN
// The server is started on port 0 and stopped with SIGTERM (also when a
// check fails).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { check, env, finish, readJson, readStream, tempDir } from '../e2e/lib.mjs';

const conductorBin = path.resolve(process.argv[2] || '');
if (!fs.existsSync(conductorBin) || !env.native) {
  process.stderr.write(`FAIL: sibyl-conductor (${conductorBin}) or the native sibyl (${env.native}) is not built\n`);
  process.exit(1);
}

const dir = tempDir('early-stopping-local');
const trainer = path.join(env.repo, 'examples/trainer/train.py');
const workspace = (url) => `version: 1
servers:
  conductor: {transport: http, url: "${url}", timeout_ms: 30000}
polling: {initial_delay_ms: 200, max_delay_ms: 300, multiplier: 1.2, jitter: none, max_attempts: 200}
streaming: {enabled: true, file: stream.jsonl}
cost_model: {gpu_hour_usd: 12.60, gpus_per_trial: 1, base_hours: 2.0, cap_margin_fraction: 0.5}
errors: {transient_patterns: ["(?i)nan loss"], default: permanent}
expressions: {mixed_numeric: true}
backends:
  local:
    command: [/usr/bin/python3, "${trainer}", --learning-rate, "{{ hyperparameters.learning_rate }}",
              --epochs, "10", --epoch-seconds, "0.3", --seed, "1"]
    max_concurrent: 4
`;
const jobs = [0.01, 0.003, 0.00001, 0.005].map((lr) => `{hyperparameters: {learning_rate: ${lr}}, estimated_cost_usd: 10}`);
const pipelines = `version: 1
pipelines:
  es:
    budget_usd: 100
    steps:
      submit:
        call: conductor.submit_jobs
        with: {budget_usd: 100, jobs: [${jobs.join(', ')}]}
        handle: {id: "{{ result.handle_id }}", jobs: "{{ result.job_ids }}"}
      monitor:
        needs: [submit]
        poll: "{{ steps.submit.handle }}"
        early_stopping: {rule: asha, metric: val_acc, rungs: [3], reduction_factor: 2, grace: 3}
      rank:
        needs: [monitor]
        aggregate: {from: "{{ steps.monitor.output.results }}", metric: metrics.val_acc}
    outputs:
      ranked: "{{ steps.rank.output.ranked.map(r, r.job_id) }}"
      stopped: "{{ steps.monitor.output.stopped.map(c, c.job_id) }}"
      total_cost: "{{ ledger.total_usd }}"
`;

let server = null;
process.on('exit', () => { if (server) server.kill('SIGKILL'); });

async function main() {
  // --time-scale 300: each real second bills as five GPU-minutes.
  server = spawn(conductorBin, ['--backend', 'local', '--port', '0', '--workspace', path.join(dir, 'ws0.yaml'),
    '--work-dir', path.join(dir, 'jobs'), '--time-scale', '300'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  fs.writeFileSync(path.join(dir, 'ws0.yaml'), workspace('http://127.0.0.1:1/mcp'));
  const url = await new Promise((resolve, reject) => {
    server.stderr.on('data', (c) => {
      log += c;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`sibyl-conductor exited (${code}) before listening:\n${log}`)));
  });
  fs.writeFileSync(path.join(dir, 'workspace.yaml'), workspace(url));
  fs.writeFileSync(path.join(dir, 'pipelines.yaml'), pipelines);
  const r = spawnSync(env.native, ['pipeline', 'run', 'es', '--workspace', 'workspace.yaml', '--config', 'pipelines.yaml'],
    { cwd: dir, encoding: 'utf8', timeout: 120000 });
  check(r.status === 0, `exit ${r.status}: ${r.stderr.trim().slice(-500)}`);
  const out = r.stdout;
  const warn = out.split('\n').filter((l) => /WARN: Job job_\d+ stopped early at rung 3 \(early_stopping: val_acc /.test(l));
  check(warn.length >= 1, `no WARN line for a trial stopped at a rung:\n${out}`);
  check(/INFO: Stopping job job_003 at rung 3 \(step \d+\): val_acc [\d.]+ below the bar/.test(out),
    `the slow learner (job_003, learning rate 1e-5) was not stopped at rung 3:\n${out}`);
  const res = readJson(path.join(dir, 'sweep_output.json'));
  const stopped = readStream(path.join(dir, 'stream.jsonl')).filter((c) => c.type === 'job_stopped');
  check(stopped.some((c) => c.job_id === 'job_003' && c.reason === 'early_stopping' && c.rung === 3 && c.step >= 3 &&
    typeof c.metrics.val_acc === 'number' && typeof c.metrics.train_loss === 'number' && c.cost_usd > 0),
  `job_stopped chunks: ${JSON.stringify(stopped)}`);
  check(JSON.stringify(res.stopped) === JSON.stringify(stopped.map((c) => c.job_id)), `stopped ${JSON.stringify(res.stopped)}`);
  check(!res.ranked.some((id) => res.stopped.includes(id)) && res.ranked.length === 4 - res.stopped.length,
    `ranked ${JSON.stringify(res.ranked)}, stopped ${JSON.stringify(res.stopped)}`);
  check(res.total_cost <= 100, `total_cost ${res.total_cost}`);
  server.kill('SIGTERM');
  await new Promise((resolve) => server.on('exit', resolve));
  server = null;
  check(/tool cancel_jobs h_0001/.test(log), 'the Conductor got no cancel_jobs call');
  process.stdout.write(`${warn.join('\n')}\n`);
}

main().catch((e) => check(false, e.stack || String(e))).finally(() => finish('early-stopping local'));
