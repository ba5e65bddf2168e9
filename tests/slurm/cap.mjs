// The cost cap: a job priced at about 3 s of host time (its cap: the
// estimate + 10%) that would run 60 s is stopped at its cap by the
// Conductor itself (Slurm's --time, whole minutes checked every ~30 s, is
// only the backstop): failed with error_type budget, charged exactly its
// cap, gone from Slurm well before its --time. sbatch got --time=1: the
// smallest Slurm limit (whole minutes below the cap, at least one).
import path from 'node:path';
import {
  check, here, main, pollUntil, requireSlurm, slurmIds, squeueStates, startConductor, tempDir, writeWorkspace,
} from './lib.mjs';

main('slurm.cap', async () => {
  requireSlurm();
  const dir = tempDir('cap');
  // 3600 $/GPU-hour: a dollar per host second; base_hours 0.001 -> $3.60, cap $3.96
  const ws = writeWorkspace(dir, { command: [path.join(here, 'job.sh'), 'ok', '60', '0.001'], baseHours: 0.001 });
  const c = await startConductor(ws);
  const t0 = Date.now();
  const h = (await c.client.call('submit_jobs', { jobs: [{ job_id: 'capped', hyperparameters: {} }] })).handle_id;
  const st = await pollUntil(c.client, h, (s) => s.done, { timeoutMs: 50000 });
  const j = st.jobs[0];
  check(j.status === 'failed' && j.error_type === 'budget', `stopped at its cap: ${JSON.stringify(j)}`);
  check(/stopped at its cost cap of \$3\.96/.test(j.error), `the error says so: ${j.error}`);
  // charged what it ran, never more than its cap: at least the 3 whole
  // seconds the cap pays for (the stop point), at most $3.96
  check(j.cost_cap_usd === 3.96 && j.cost_usd >= 3 && j.cost_usd <= 3.96, `charged within its cap: $${j.cost_usd}`);
  check(Date.now() - t0 < 30000, `ended in ${Date.now() - t0} ms, long before the 60 s job would have`);
  check(/--time=1\b/.test(c.log()), 'sbatch --time=1 (whole minutes, the smallest limit)');
  const id = slurmIds(c.log()).get(`${h}/capped`);
  const s = squeueStates([id])[0];
  check(s && s.state === 'CANCELLED', `Slurm job ${id} was cancelled (${s && s.state})`);
  check(/stopped at its cost cap/.test(c.log()), 'the Conductor logged the stop');
});
