// Each fault class of the HTTP path, against tests/http/fault-server.mjs:
//   node faults.mjs refused|reset|timeout|5xx|malformed|session|sse-cut
// Each part runs `sibyl mcp call` (one clear line, exit 4, or the call
// recovers) and a pipeline run (native binary) that submits two jobs with an
// idempotency key and polls them, with the fault striking the submit or the
// status calls. Where the fault passes, the run succeeds with both results
// and the server created each job once; where it does not (refused, a fault
// that never ends), the run fails clearly, exit 3, with the result file and
// the steps' states written.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { check, faultServer, finish, getJson, main, requireNative, sibyl, tmpdir } from './lib.mjs';

const part = process.argv[2];

const PIPELINES = `version: 1
pipelines:
  f:
    steps:
      submit:
        call: svc.submit_jobs
        with:
          idempotency_key: "{{ run.id + '-submit' }}"
          jobs: [{hyperparameters: {lr: 0}}, {hyperparameters: {lr: 1}}]
        handle: {id: "{{ result.handle_id }}", jobs: "{{ result.job_ids }}"}
        call_retry: {max_attempts: 3, backoff: {initial_delay_ms: 50}}
      monitor:
        needs: [submit]
        poll: "{{ steps.submit.handle }}"
        status_tool: svc.get_jobs_status
        polling: {initial_delay_ms: 50, max_delay_ms: 100, multiplier: 1.5, max_attempts: 4}
    outputs:
      results: "{{ steps.monitor.output.results }}"
`;

function setup(url, timeoutMs = 2000) {
  const dir = tmpdir(part);
  fs.writeFileSync(path.join(dir, 'workspace.yaml'), `version: 1
servers:
  svc:
    transport: http
    url: ${url}
    timeout_ms: ${timeoutMs}
streaming: {file: stream.jsonl}
outputs: {result_file: result.json}
`);
  fs.writeFileSync(path.join(dir, 'pipelines.yaml'), PIPELINES);
  return dir;
}

async function runPipeline(dir) {
  const r = await sibyl(['pipeline', 'run', 'f', '--config', 'pipelines.yaml', '--no-progress'], { cwd: dir });
  const file = path.join(dir, 'result.json');
  const result = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : null;
  const stream = fs.existsSync(path.join(dir, 'stream.jsonl'))
    ? fs.readFileSync(path.join(dir, 'stream.jsonl'), 'utf8').split('\n').filter(Boolean) : null;
  return { ...r, result, stream, log: r.stdout + r.stderr };
}

// A run the fault did not stop: both results, each job created once.
async function expectRecovered(srv, dir, what) {
  const r = await runPipeline(dir);
  const stats = await getJson(`${srv.base}/stats`);
  check(r.code === 0, `${what}: the run exited ${r.code}`);
  check(r.result?.status === 'succeeded' && r.result?.results?.length === 2, `${what}: result file ${JSON.stringify(r.result)?.slice(0, 300)}`);
  check(r.stream?.length === 2, `${what}: ${r.stream?.length} stream lines`);
  check(stats.faults >= 1, `${what}: the server gave no fault`);
  check(stats.jobs_created === 2, `${what}: the server created ${stats.jobs_created} jobs (a job submitted twice?)`);
  return { r, stats };
}

// A run the fault stopped: a clear failure with everything written.
async function expectGaveUp(dir, what, re) {
  const r = await runPipeline(dir);
  check(r.code === 3, `${what}: the run exited ${r.code}`);
  check(re.test(r.log), `${what}: the log does not say ${re}`);
  check(r.result?.status === 'failed' && typeof r.result?.error === 'string', `${what}: result file ${JSON.stringify(r.result)?.slice(0, 300)}`);
  check(r.stream !== null, `${what}: no stream file`);
  return r;
}

async function mcpCall(url, args = [], extra = []) {
  return sibyl(['mcp', 'call', url, 'echo', '--args', '{"x":1}', ...args, ...extra]);
}

async function closedPort() {
  const s = net.createServer();
  await new Promise((res) => s.listen(0, '127.0.0.1', res));
  const port = s.address().port;
  await new Promise((res) => s.close(res));
  return port;
}

const parts = {
  async refused() {
    const url = `http://127.0.0.1:${await closedPort()}/mcp`;
    const c = await mcpCall(url);
    check(c.code === 4 && c.stderr.includes(url) && /Couldn't connect|Connection refused/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
    const r = await expectGaveUp(setup(url), 'refused', /attempt 2\/3 got no answer: .*Couldn't connect/);
    check(/gave up after 3 attempts/.test(r.result?.error || ''), `refused: error ${r.result?.error}`);
    check(r.result?.steps?.submit?.status === 'failed' && r.result?.steps?.monitor?.status !== 'succeeded', 'refused: step states');
  },
  async reset() {
    let srv = await faultServer('reset');
    const c = await mcpCall(srv.url);
    check(c.code === 4 && /transport error: .*(transfer closed|reset|Recv failure)/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
    // The submit's answer is lost after the server made the jobs: the repeat
    // carries the same idempotency key and gets the same handle.
    srv = await faultServer('reset', ['--tool', 'submit_jobs']);
    const { stats } = await expectRecovered(srv, setup(srv.url), 'reset');
    check(stats.submits === 1 && Object.values(stats.keys).every((n) => n === 1), `reset: ${JSON.stringify(stats)}`);
  },
  async timeout() {
    let srv = await faultServer('hang');
    const c = await mcpCall(srv.url, ['--timeout-ms', '300']);
    check(c.code === 4 && /timed out after 3\d\d milliseconds/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
    srv = await faultServer('hang', ['--tool', 'submit_jobs']);
    await expectRecovered(srv, setup(srv.url, 300), 'timeout');
  },
  async '5xx'() {
    let srv = await faultServer('5xx');
    const c = await mcpCall(srv.url);
    check(c.code === 4 && /HTTP 503/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
    // Status polls that fail are polled again at the next delay.
    srv = await faultServer('5xx', ['--tool', 'get_jobs_status', '--times', '2']);
    const { r } = await expectRecovered(srv, setup(srv.url), '5xx on polls');
    check(/Poll #1 of handle h1 failed: .*HTTP 503/.test(r.log), '5xx: no WARN for the failed poll');
    // A submit that keeps failing: three attempts, then a clear failure.
    srv = await faultServer('5xx', ['--tool', 'submit_jobs', '--times', '100']);
    await expectGaveUp(setup(srv.url), '5xx forever', /HTTP 503 \(gave up after 3 attempts\)/);
    // Polls that keep failing: the poll step stalls and fails, results kept.
    srv = await faultServer('5xx', ['--tool', 'get_jobs_status', '--times', '100']);
    const g = await expectGaveUp(setup(srv.url), '5xx polls forever', /stall|without progress/i);
    check(g.result?.steps?.submit?.status === 'succeeded', '5xx polls forever: the submit step');
  },
  async malformed() {
    let srv = await faultServer('malformed');
    const c = await mcpCall(srv.url);
    check(c.code === 4 && /invalid answer: not JSON/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
    srv = await faultServer('malformed', ['--tool', 'submit_jobs']);
    await expectRecovered(srv, setup(srv.url), 'malformed');
  },
  async session() {
    let srv = await faultServer('session');
    const c = await mcpCall(srv.url);
    let stats = await getJson(`${srv.base}/stats`);
    check(c.code === 0 && JSON.parse(c.stdout).x === 1 && stats.initializes === 2, `mcp call: exit ${c.code}: ${c.stderr} ${JSON.stringify(stats)}`);
    srv = await faultServer('session', ['--tool', 'get_jobs_status']);
    ({ stats } = await expectRecovered(srv, setup(srv.url), 'session'));
    check(stats.initializes === 2, `session: ${stats.initializes} initializes`);
  },
  async 'sse-cut'() {
    let srv = await faultServer('sse-cut');
    const c = await mcpCall(srv.url);
    let stats = await getJson(`${srv.base}/stats`);
    check(c.code === 0 && JSON.parse(c.stdout).x === 1, `mcp call: exit ${c.code}: ${c.stderr}`);
    check(stats.resumes.length === 1 && stats.resumes[0] === 'e1', `mcp call: resumes ${JSON.stringify(stats.resumes)}`);
    srv = await faultServer('sse-cut', ['--tool', 'submit_jobs']);
    ({ stats } = await expectRecovered(srv, setup(srv.url), 'sse-cut'));
    check(stats.resumes.length === 1 && /^e\d+$/.test(stats.resumes[0]) && stats.submits === 1, `sse-cut: ${JSON.stringify(stats)}`);
  },
};

main(`faults ${part}`, async () => {
  requireNative();
  if (!parts[part]) throw new Error(`unknown part ${part}`);
  await parts[part]();
  await finish(`faults ${part}`);
});
