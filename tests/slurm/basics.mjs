// sibyl-conductor --backend slurm on a real single-node cluster: a job that
// completes (metrics from its last JSON line of stdout, and one from its
// metrics file), one that exits 1 (failed, its stderr tail in the error,
// classified permanent by the workspace's rules), one that fails with NaN
// loss (transient), one cancelled while running (scancel: Slurm says
// CANCELLED), hyperparameter text with shell syntax passed verbatim, and ONE
// squeue per status call whatever the number of jobs (squeue is wrapped
// through PATH and counted); the workspace's partition, cpus_per_task, mem and
// extra_args reach sbatch; a job still running when the Conductor stops is
// cancelled in Slurm.
import fs from 'node:fs';
import path from 'node:path';
import {
  check, here, main, pollUntil, requireSlurm, slurmIds, squeueCounter, squeuePerStatusCall, squeueStates, startConductor,
  tempDir,
  writeWorkspace,
} from './lib.mjs';

main('slurm.basics', async () => {
  requireSlurm();
  const dir = tempDir('basics');
  const counter = squeueCounter(dir);
  const ws = writeWorkspace(dir, {
    command: [path.join(here, 'job.sh'), '{{ hyperparameters.mode }}', '{{ hyperparameters.seconds }}',
      '{{ hyperparameters.learning_rate }}', '{{ hyperparameters.note }}'],
    extra: '    partition: debug\n    cpus_per_task: 1\n    mem: 100M\n    extra_args: ["--comment=sibyl test"]\n',
  });
  const c = await startConductor(ws, { pathPrefix: counter.path });
  const note = "it's $(touch pwned) `id` a;b";
  const sub = await c.client.call('submit_jobs', {
    jobs: [
      { job_id: 'ok', hyperparameters: { mode: 'ok', seconds: 1, learning_rate: 0.05, note } },
      { job_id: 'bad', hyperparameters: { mode: 'fail', seconds: 1, learning_rate: 0.05, note } },
      { job_id: 'long', hyperparameters: { mode: 'ok', seconds: 120, learning_rate: 0.05, note } },
      { job_id: 'file', hyperparameters: { mode: 'file', seconds: 1, learning_rate: 0.05, note } },
      { job_id: 'nan', hyperparameters: { mode: 'nan', seconds: 1, learning_rate: 0.05, note } },
    ],
  });
  const h = sub.handle_id;
  check(sub.job_ids.length === 5, 'five jobs accepted');

  // the long job runs: cancel it
  let before = counter.calls().length, polls = 0;
  await pollUntil(c.client, h, (st) => st.jobs.find((j) => j.job_id === 'long').status === 'running',
    { each: () => { polls++; } });
  check(counter.calls().length - before === polls, `one squeue per status call (${polls} calls, ${counter.calls().length - before} squeue)`);
  const cancel = await c.client.call('cancel_jobs', { handle_id: h, job_ids: ['long'] });
  check(cancel.cancelled.length === 1 && cancel.cancelled[0] === 'long', 'cancel_jobs cancels the running job');

  before = counter.calls().length;
  polls = 0;
  const st = await pollUntil(c.client, h, (s) => s.done, { each: () => { polls++; } });
  check(counter.calls().length - before <= polls, `at most one squeue per status call (${polls} calls, ${counter.calls().length - before} squeue)`);
  const q = squeuePerStatusCall(c.log());
  check(q.most === 1 && q.squeue === counter.calls().length, `one squeue per status call in the log: ${JSON.stringify(q)}`);
  for (const line of counter.calls()) check(/^-h -t all -j [\d,]+ -O /.test(line), `squeue asked for all jobs at once: ${line}`);

  const by = Object.fromEntries(st.jobs.map((j) => [j.job_id, j]));
  check(by.ok.status === 'completed', `completed: ${JSON.stringify(by.ok)}`);
  check(by.ok.metrics?.val_acc === 85 && by.ok.metrics?.train_loss === 0.25, 'metrics from the last JSON line of stdout');
  check(by.ok.duration_seconds >= 1 && by.ok.cost_usd > 0, 'duration and cost measured');
  check(by.file.status === 'completed' && by.file.metrics?.val_acc === 77.5, 'metrics from $SIBYL_METRICS_FILE');
  check(by.bad.status === 'failed' && /exit status 1: invalid config: this job always fails/.test(by.bad.error),
    `exit 1 -> failed with the stderr tail: ${by.bad.error}`);
  check(by.bad.error_type === 'permanent', 'classified permanent by the workspace\'s errors (no pattern matches)');
  check(by.nan.status === 'failed' && /NaN loss detected at epoch 3/.test(by.nan.error) && by.nan.error_type === 'transient',
    `NaN loss -> transient: ${JSON.stringify(by.nan)}`);
  check(by.long.status === 'cancelled', 'the cancelled job is cancelled');

  const sbatch = c.log().split('\n').filter((l) => /slurm: sbatch /.test(l));
  check(sbatch.length === 5 && sbatch.every((l) => ['--partition=debug', '--cpus-per-task=1', '--mem=100M',
    '--comment=sibyl test', '--time='].every((o) => l.includes(` ${o}`))), `sbatch got the workspace's options: ${sbatch[0]}`);
  const ids = slurmIds(c.log());
  check(ids.size === 5, 'each job was one sbatch');
  const slurm = squeueStates([...ids.values()]);
  const state = (job) => slurm.find((r) => r.id === ids.get(`${h}/${job}`))?.state;
  check(state('long') === 'CANCELLED', `Slurm says CANCELLED (${state('long')})`);
  check(state('ok') === 'COMPLETED' && state('bad') === 'FAILED', 'Slurm says COMPLETED and FAILED');

  // the note reached the job as one word, not run by a shell
  const runDir = fs.readdirSync(dir).find((n) => n.startsWith('sibyl-slurm-'));
  const script = fs.readFileSync(path.join(dir, runDir, h, 'ok', 'job.sh'), 'utf8');
  check(script.includes("'it'\\''s $(touch pwned) `id` a;b'"), 'the hyperparameter is one quoted word in the script');
  check(!fs.existsSync(path.join(dir, runDir, h, 'ok', 'pwned')), 'nothing in the hyperparameter ran');
  // a job still running when the Conductor stops is cancelled in Slurm
  const left = await c.client.call('submit_jobs', {
    handle_id: h, jobs: [{ job_id: 'left', hyperparameters: { mode: 'ok', seconds: 120, learning_rate: 0.05, note } }],
  });
  check(left.job_ids[0] === 'left', 'a job added to the handle');
  await pollUntil(c.client, h, (s) => s.jobs.find((j) => j.job_id === 'left')?.status === 'running');
  const stop = await c.stop();
  check(stop.code === 0, 'the Conductor exits 0 on SIGTERM');
  const leftId = slurmIds(c.log()).get(`${h}/left`);
  check(/cancelling 1 job\(s\) in flight/.test(c.log()), 'the Conductor cancels what it has in Slurm when it stops');
  const gone = squeueStates([leftId])[0];
  check(gone && ['CANCELLED', 'COMPLETING'].includes(gone.state), `Slurm job ${leftId} cancelled at the stop (${gone && gone.state})`);
});
