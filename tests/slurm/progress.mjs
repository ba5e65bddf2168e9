// Intermediate results on Slurm (issue 16): sibyl-conductor --backend slurm
// reads a running job's per-epoch JSON lines from its stdout file at each
// status call and reports the latest as progress {step, epochs, metrics};
// a since-cursor answer lists the job again when its epoch advanced; a
// cancel with reason early_stopping stops it in Slurm and its status says so
// (cancelled, error_type early_stopping, charged what it ran).
import path from 'node:path';
import { check, here, main, pollUntil, requireSlurm, startConductor, tempDir, writeWorkspace } from './lib.mjs';

main('slurm.progress', async () => {
  requireSlurm();
  const dir = tempDir('progress');
  const ws = writeWorkspace(dir, {
    command: [path.join(here, 'job.sh'), '{{ hyperparameters.mode }}', '{{ hyperparameters.seconds }}', '0.01'],
    baseHours: 0.05,
  });
  const c = await startConductor(ws);
  const sub = await c.client.call('submit_jobs', { jobs: [{ job_id: 'e', hyperparameters: { mode: 'epochs', seconds: 1 } }] });
  const h = sub.handle_id;
  const at2 = await pollUntil(c.client, h, (st) => (st.jobs[0].progress?.step ?? 0) >= 2);
  const p = at2.jobs[0].progress;
  check(at2.jobs[0].status === 'running' && p.epochs === 10 && p.metrics.val_acc === 50 + p.step * 3 &&
    p.metrics.epoch === undefined, `progress from the job's stdout: ${JSON.stringify(at2.jobs[0])}`);
  // With the cursor: nothing new at once, the job again once its epoch advanced.
  const cursor = at2.cursor;
  const same = await c.client.call('get_jobs_status', { handle_id: h, since_cursor: cursor });
  check(same.jobs.length === 0 || same.jobs[0].progress.step > p.step, `since the cursor: ${JSON.stringify(same.jobs)}`);
  const moved = await (async () => {
    for (let i = 0; i < 40; i++) {
      const st = await c.client.call('get_jobs_status', { handle_id: h, since_cursor: cursor });
      if (st.jobs.length) return st;
      await new Promise((r) => setTimeout(r, 250));
    }
    return null;
  })();
  check(moved && moved.jobs[0].progress.step > p.step, `the job listed again when its epoch advanced: ${JSON.stringify(moved)}`);
  const cancel = await c.client.call('cancel_jobs', { handle_id: h, job_ids: ['e'], reason: 'early_stopping' });
  check(cancel.cancelled[0] === 'e', `cancelled: ${JSON.stringify(cancel)}`);
  const end = await pollUntil(c.client, h, (st) => st.done);
  const j = end.jobs[0];
  check(j.status === 'cancelled' && j.error_type === 'early_stopping' && j.cost_usd > 0 && j.progress === undefined,
    `stopped early: ${JSON.stringify(j)}`);
  await c.stop();
});
