// The throttle: with backends.slurm.max_concurrent 3, seven 3-second jobs
// never have more than 3 in Slurm at once (what squeue itself reports, asked
// independently of the Conductor at every poll), 3 do run together, and every
// job completes.
import path from 'node:path';
import {
  check, here, main, pollUntil, requireSlurm, slurmIds, squeueStates, startConductor, tempDir, writeWorkspace,
} from './lib.mjs';

main('slurm.throttle', async () => {
  requireSlurm();
  const dir = tempDir('throttle');
  const ws = writeWorkspace(dir, {
    command: [path.join(here, 'job.sh'), 'ok', '3', '{{ hyperparameters.learning_rate }}'], maxConcurrent: 3,
  });
  const c = await startConductor(ws);
  const jobs = Array.from({ length: 7 }, (_, i) => ({ hyperparameters: { learning_rate: 0.001 * (i + 1) } }));
  const h = (await c.client.call('submit_jobs', { jobs })).handle_id;
  let most = 0, mostRunning = 0, mostConductor = 0;
  const st = await pollUntil(c.client, h, (s) => s.done, {
    each: (s) => {
      mostConductor = Math.max(mostConductor, s.counts.running);
      const seen = squeueStates([...slurmIds(c.log()).values()]);
      const live = seen.filter((r) => ['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING'].includes(r.state));
      most = Math.max(most, live.length);
      mostRunning = Math.max(mostRunning, seen.filter((r) => r.state === 'RUNNING').length);
    },
  });
  check(most <= 3, `at most 3 jobs in Slurm at once (squeue showed ${most})`);
  check(mostRunning === 3, `3 jobs ran at once in squeue (${mostRunning})`);
  check(mostConductor <= 3, `at most 3 running in get_jobs_status (${mostConductor})`);
  check(st.counts.completed === 7, `all 7 completed (${JSON.stringify(st.counts)})`);
  check(slurmIds(c.log()).size === 7, 'one sbatch per job');
});
