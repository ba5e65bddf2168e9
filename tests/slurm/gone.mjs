// Jobs that left squeue (past MinJobAge) are read from their own result
// file: a squeue wrapper on the Conductor's PATH hides every finished job
// (and says "Invalid job id specified", exit 1, as squeue does when it knows
// none of the ids). A job that completed is still completed with its metrics,
// one that exited 1 still failed with its exit status and stderr. Then a job
// Slurm reports as NODE_FAIL is transient; where accounting exists, sacct
// tells how a job that left no result ended; and a job with an invalid
// partition fails at sbatch with sbatch's message.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  check, here, main, pollUntil, requireSlurm, slurmIds, squeueStates, startConductor, tempDir, writeWorkspace,
} from './lib.mjs';

main('slurm.gone', async () => {
  requireSlurm();
  const dir = tempDir('gone');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const real = spawnSync('bash', ['-c', 'command -v squeue'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(path.join(bin, 'squeue'), `#!/bin/sh
out=$('${real}' "$@" | grep -v -e '|COMPLETED|' -e '|FAILED|')
if [ -z "$out" ]; then echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1; fi
printf '%s\\n' "$out"
`, { mode: 0o755 });
  const ws = writeWorkspace(dir, {
    command: [path.join(here, 'job.sh'), '{{ hyperparameters.mode }}', '1', '0.001'],
  });
  const c = await startConductor(ws, { pathPrefix: bin });
  const h = (await c.client.call('submit_jobs', {
    jobs: [{ job_id: 'ok', hyperparameters: { mode: 'ok' } }, { job_id: 'bad', hyperparameters: { mode: 'fail' } }],
  })).handle_id;
  const st = await pollUntil(c.client, h, (s) => s.done);
  const by = Object.fromEntries(st.jobs.map((j) => [j.job_id, j]));
  check(by.ok.status === 'completed' && by.ok.metrics?.val_acc === 80.1, `completed from its result file: ${JSON.stringify(by.ok)}`);
  check(by.bad.status === 'failed' && /^exit status 1: invalid config/.test(by.bad.error) && by.bad.error_type === 'permanent',
    `failed from its result file: ${JSON.stringify(by.bad)}`);
  const ids = slurmIds(c.log());
  check(squeueStates([...ids.values()]).every((s) => ['COMPLETED', 'FAILED'].includes(s.state)), 'Slurm saw both end');
  check(!/squeue failed/.test(c.log()), 'an "Invalid job id" answer is not a failed query');
  await c.stop();

  // a job Slurm ends for the cluster's reasons (squeue's FAILED rewritten as
  // NODE_FAIL by a wrapper): failed, transient whatever the message says
  const bin2 = path.join(dir, 'bin2');
  fs.mkdirSync(bin2);
  fs.writeFileSync(path.join(bin2, 'squeue'), `#!/bin/sh
'${real}' "$@" | sed 's/|FAILED|/|NODE_FAIL|/'
`, { mode: 0o755 });
  const c3 = await startConductor(ws, { pathPrefix: bin2 });
  const h3 = (await c3.client.call('submit_jobs', {
    jobs: [{ job_id: 'node', hyperparameters: { mode: 'fail' } }],
  })).handle_id;
  const st3 = await pollUntil(c3.client, h3, (s) => s.done);
  const n = st3.jobs[0];
  check(n.status === 'failed' && /^Slurm NODE_FAIL: the node running the job failed: invalid config/.test(n.error) &&
    n.error_type === 'transient', `NODE_FAIL: failed, transient: ${JSON.stringify(n)}`);
  await c3.stop();

  // where the cluster keeps accounting (scontrol says so through a wrapper),
  // a job gone from squeue without a result file is read with one sacct
  // (a wrapper answering TIMEOUT): it fails with Slurm's word for its end
  const bin3 = path.join(dir, 'bin3');
  fs.mkdirSync(bin3);
  const sacctLog = path.join(dir, 'sacct.log');
  fs.writeFileSync(path.join(bin3, 'squeue'), '#!/bin/sh\necho "slurm_load_jobs error: Invalid job id specified" >&2\nexit 1\n',
    { mode: 0o755 });
  fs.writeFileSync(path.join(bin3, 'scontrol'), '#!/bin/sh\necho "AccountingStorageType   = accounting_storage/slurmdbd"\n',
    { mode: 0o755 });
  fs.writeFileSync(path.join(bin3, 'sacct'), `#!/bin/sh
echo "$*" >>'${sacctLog}'
while [ $# -gt 0 ]; do [ "$1" = -j ] && ids=$2; shift; done
for id in $(echo "$ids" | tr , ' '); do echo "$id|TIMEOUT|0:15"; done
`, { mode: 0o755 });
  const c4 = await startConductor(ws, { pathPrefix: bin3 });
  const h4 = (await c4.client.call('submit_jobs', { jobs: [{ job_id: 'late', hyperparameters: { mode: 'ok' } }] })).handle_id;
  const st4 = await pollUntil(c4.client, h4, (s) => s.done, { timeoutMs: 20000 });
  const late = st4.jobs[0];
  check(late.status === 'failed' && /^Slurm TIMEOUT: the job reached its Slurm time limit/.test(late.error),
    `gone without a result: sacct's state: ${JSON.stringify(late)}`);
  const sacctCalls = fs.readFileSync(sacctLog, 'utf8').split('\n').filter(Boolean);
  check(sacctCalls.length === 1 && /^-X -n -P -j \d+ -o JobIDRaw,State,ExitCode$/.test(sacctCalls[0]),
    `one sacct: ${sacctCalls}`);
  await c4.stop();

  // sbatch refuses the job: its message is the job's error
  const ws2 = writeWorkspace(dir, { command: ['/bin/true'] });
  fs.writeFileSync(ws2, fs.readFileSync(ws2, 'utf8').replace('    max_concurrent: 5\n', '    max_concurrent: 5\n    partition: nope\n'));
  const c2 = await startConductor(ws2);
  const h2 = (await c2.client.call('submit_jobs', { jobs: [{ job_id: 'refused', hyperparameters: {} }] })).handle_id;
  const st2 = await pollUntil(c2.client, h2, (s) => s.done, { timeoutMs: 20000 });
  const j = st2.jobs[0];
  check(j.status === 'failed' && /^sbatch failed \(exit 1\): sbatch: error: .*[Pp]artition/.test(j.error) && j.error_type === 'permanent',
    `sbatch's refusal is the error: ${JSON.stringify(j)}`);
});
