// A transient failure retried through Slurm: `sibyl pipeline run` (native)
// with a small pipeline (submit two jobs, poll, retry a transient failure
// with the learning rate halved, as the example does) against
// sibyl-conductor --backend slurm. The test job fails with "NaN loss" at
// learning rate 0.01 (the workspace's errors make it transient) and trains at
// 0.005: the retry joins the same handle as a new Slurm job and completes.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {
  check, here, main, repo, requireSlurm, runAsync, slurmIds, squeueCounter, squeuePerStatusCall, squeueStates, startConductor,
  tempDir, writeWorkspace,
} from './lib.mjs';

const PIPELINE = `version: 1
pipelines:
  retry_sweep:
    steps:
      submit:
        call: conductor.submit_jobs
        with:
          jobs:
            - {job_id: steady, hyperparameters: {learning_rate: 0.001}}
            - {job_id: diverges, hyperparameters: {learning_rate: 0.01}}
        handle:
          id: "{{ result.handle_id }}"
          jobs: "{{ result.job_ids }}"
      monitor:
        needs: [submit]
        poll: "{{ steps.submit.handle }}"
        status_tool: conductor.get_jobs_status
        stream: true
        polling: {initial_delay_ms: 500, max_delay_ms: 1000, multiplier: 1.5, max_attempts: 200}
      retry_failed:
        on: monitor.job_failed
        retry:
          max_attempts: 1
          when: "{{ error.type == 'transient' }}"
          backoff: {initial_delay_ms: 100, multiplier: 2.0}
          modify:
            learning_rate: "{{ job.hyperparameters.learning_rate * 0.5 }}"
    outputs:
      results: "{{ steps.monitor.output.results }}"
`;

main('slurm.retry', async () => {
  requireSlurm();
  const dir = tempDir('retry');
  const counter = squeueCounter(dir);
  const ws = writeWorkspace(dir, {
    command: [path.join(here, 'job.sh'), 'nan', '1', '{{ hyperparameters.learning_rate }}'],
    extra: 'expressions: {mixed_numeric: true}\n',
  });
  const c = await startConductor(ws, { pathPrefix: counter.path });
  fs.writeFileSync(ws, fs.readFileSync(ws, 'utf8').replace('http://127.0.0.1:1/mcp', c.url));
  const pipes = path.join(dir, 'pipelines.yaml');
  fs.writeFileSync(pipes, PIPELINE);
  const native = process.env.SIBYL_NATIVE || path.join(repo, 'build/native/host-wasi/sibyl');
  const r = await runAsync(native, ['pipeline', 'run', 'retry_sweep', '--workspace', ws, '--config', pipes, '--clock', 'real'],
    { cwd: dir, timeoutMs: 120000 });
  check(r.status === 0, `sibyl exits 0 (${r.status}): ${r.stderr}\n${r.stdout.slice(-2000)}`);
  const stream = fs.readFileSync(path.join(dir, 'sweep_output_stream.jsonl'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l));
  const failed = stream.find((s) => s.job_id === 'diverges');
  check(failed && failed.type === 'job_failed' && failed.error_type === 'transient' && /NaN loss/.test(failed.error),
    `the job failed transiently: ${JSON.stringify(failed)}`);
  const retry = stream.find((s) => s.retry_of === 'diverges');
  check(retry && retry.type === 'job_completed' && retry.hyperparameters.learning_rate === 0.005,
    `its retry ran at the halved rate and completed: ${JSON.stringify(retry)}`);
  check(stream.find((s) => s.job_id === 'steady')?.type === 'job_completed', 'the other job completed');
  const ids = slurmIds(c.log());
  check(ids.size === 3, `three Slurm jobs (the retry is a new one): ${[...ids.keys()]}`);
  check(squeueStates([...ids.values()]).filter((s) => s.state === 'COMPLETED').length === 2, 'Slurm: two COMPLETED');
  const q = squeuePerStatusCall(c.log());
  check(q.most === 1 && q.squeue === counter.calls().length && q.squeue <= q.calls,
    `at most one squeue per status call: ${JSON.stringify(q)}, ${counter.calls().length} seen by the wrapper`);
});
