// What is decided before any request goes out, and the ./sibyl launcher:
//   node cli.mjs wasm-refuses  sibyl.wasm with an HTTP workspace, and `mcp call`:
//                              one line naming the native binary, exit 1,
//                              nothing submitted, no result file
//   node cli.mjs usage         --clock virtual / --time-scale with an HTTP server:
//                              exit 2 saying why; bearer_token_env on an
//                              embedded server: exit 1 with file:line:col
//   node cli.mjs launcher      ./sibyl runs the native binary for an HTTP
//                              workspace and sibyl.wasm otherwise
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { check, env, faultServer, finish, getJson, main, requireNative, run, sibyl, sibylWasm, tmpdir } from './lib.mjs';

const part = process.argv[2];
const PIPELINES = `version: 1
pipelines:
  p:
    steps:
      hello:
        call: svc.echo
        with: {x: 1}
    outputs:
      x: "{{ steps.hello.output.x }}"
`;
function setup(url, extraServer = '') {
  const dir = tmpdir(part);
  fs.writeFileSync(path.join(dir, 'workspace.yaml'), `version: 1
servers:
  svc:
    transport: http
    url: ${url}
${extraServer}outputs: {result_file: result.json}
`);
  fs.writeFileSync(path.join(dir, 'pipelines.yaml'), PIPELINES);
  return dir;
}

const parts = {
  async 'wasm-refuses'() {
    if (!fs.existsSync(env.wasm)) { check(false, `sibyl.wasm (${env.wasm}) is not built`); return; }
    const srv = await faultServer('none');
    const dir = setup(srv.url);
    const r = await sibylWasm(['pipeline', 'run', 'p', '--config', 'pipelines.yaml'], { cwd: dir });
    const lines = r.stderr.trim().split('\n');
    check(r.code === 1, `pipeline run: exit ${r.code}`);
    check(lines.length === 1 && /server 'svc' uses transport http: .*need the native binary/.test(lines[0]), `pipeline run: ${r.stderr}`);
    check(!fs.existsSync(path.join(dir, 'result.json')), 'a result file was written');
    const stats = await getJson(`${srv.base}/stats`);
    check(stats.initializes === 0 && stats.calls === 0, 'the server was contacted');
    const c = await sibylWasm(['mcp', 'call', srv.url, 'echo']);
    check(c.code === 1 && c.stderr.trim().split('\n').length === 1 && /need the native binary/.test(c.stderr), `mcp call: exit ${c.code}: ${c.stderr}`);
  },
  async usage() {
    const srv = await faultServer('none');
    const dir = setup(srv.url);
    let r = await sibyl(['pipeline', 'run', 'p', '--config', 'pipelines.yaml', '--clock', 'virtual'], { cwd: dir });
    check(r.code === 2 && /--clock virtual cannot be used with HTTP servers \(server 'svc'\): a remote server runs on the real clock/.test(r.stderr), `--clock virtual: exit ${r.code}: ${r.stderr}`);
    r = await sibyl(['pipeline', 'run', 'p', '--config', 'pipelines.yaml', '--clock', 'real', '--time-scale', '10'], { cwd: dir });
    check(r.code === 2 && /--time-scale cannot be used with HTTP servers/.test(r.stderr), `--time-scale: exit ${r.code}: ${r.stderr}`);
    const stats = await getJson(`${srv.base}/stats`);
    check(stats.initializes === 0, 'the server was contacted');
    // --clock real is what the run uses anyway.
    r = await sibyl(['pipeline', 'run', 'p', '--config', 'pipelines.yaml', '--clock', 'real'], { cwd: dir });
    check(r.code === 0 && JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')).x === 1, `--clock real: exit ${r.code}: ${r.stdout}`);
    // bearer_token_env belongs to HTTP servers.
    fs.writeFileSync(path.join(dir, 'ws2.yaml'), `version: 1
servers:
  svc:
    transport: embedded
    service: solver
    bearer_token_env: TOKEN
`);
    r = await sibyl(['workspace', 'validate', 'ws2.yaml'], { cwd: dir });
    check(r.code === 1 && /ws2\.yaml:6:23: error: servers\.svc\.bearer_token_env: only used with transport http/.test(r.stderr), `bearer_token_env on embedded: exit ${r.code}: ${r.stderr}`);
  },
  // SIGTERM (and Ctrl-C) cancel the run and keep talking to the servers so
  // cancel_jobs goes out; the token and the headers went with every request.
  async sigterm() {
    const srv = await faultServer('none', ['--pending']);
    const dir = tmpdir('sigterm');
    fs.writeFileSync(path.join(dir, 'workspace.yaml'), `version: 1
servers:
  svc:
    transport: http
    url: ${srv.url}
    bearer_token_env: SIBYL_TEST_TOKEN
    headers: {X-Test: sigterm}
streaming: {file: stream.jsonl}
outputs: {result_file: result.json}
`);
    fs.writeFileSync(path.join(dir, 'pipelines.yaml'), `version: 1
pipelines:
  p:
    steps:
      submit:
        call: svc.submit_jobs
        with:
          idempotency_key: "{{ run.id + '-submit' }}"
          jobs: [{hyperparameters: {lr: 0}}, {hyperparameters: {lr: 1}}]
        handle: {id: "{{ result.handle_id }}", jobs: "{{ result.job_ids }}"}
      monitor:
        needs: [submit]
        poll: "{{ steps.submit.handle }}"
        status_tool: svc.get_jobs_status
        polling: {initial_delay_ms: 50, max_delay_ms: 50, max_attempts: 100000}
`);
    const proc = spawn(env.native, ['pipeline', 'run', 'p', '--config', 'pipelines.yaml', '--no-progress'],
      { cwd: dir, env: { ...process.env, SIBYL_TEST_TOKEN: 'tok-sigterm' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c) => { out += c; });
    proc.stderr.on('data', (c) => { out += c; });
    const exited = new Promise((res) => proc.on('exit', (code) => res(code)));
    // Signalled once the server has seen a few polls (not after a sleep).
    for (let i = 0; i < 400 && (await getJson(`${srv.base}/stats`)).statuses < 3; i++)
      await new Promise((res) => setTimeout(res, 25));
    proc.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise((res) => setTimeout(() => res('hung'), 20000))]);
    if (code === 'hung') proc.kill('SIGKILL');
    const stats = await getJson(`${srv.base}/stats`);
    check(code === 3, `exit ${code}`);
    check(/terminated \(SIGTERM\)/.test(out), 'the log does not say SIGTERM');
    check(stats.cancels === 1, `cancel_jobs calls: ${stats.cancels}`);
    const res = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));
    check(res.status === 'cancelled', `result status ${res.status}`);
    check(stats.auth.every((a) => a === 'Bearer tok-sigterm'), `Authorization headers: ${[...new Set(stats.auth)]}`);
    check(stats.x_test.every((a) => a === 'sigterm'), `X-Test headers: ${[...new Set(stats.x_test)]}`);
    check(!out.includes('tok-sigterm'), 'the token was printed');

  },
  async launcher() {
    const srv = await faultServer('none');
    const dir = setup(srv.url);
    const launcher = path.join(env.repo, 'sibyl');
    // An HTTP workspace: the native binary runs (sibyl.wasm would refuse).
    let r = await run(launcher, ['pipeline', 'run', 'p', '--config', 'pipelines.yaml'], { cwd: dir, extraEnv: { SIBYL_NATIVE: env.native } });
    check(r.code === 0 && fs.existsSync(path.join(dir, 'result.json')), `http workspace: exit ${r.code}: ${r.stderr}`);
    r = await run(launcher, ['mcp', 'call', srv.url, 'echo', '--args', '{"y":2}'], { extraEnv: { SIBYL_NATIVE: env.native } });
    check(r.code === 0 && JSON.parse(r.stdout).y === 2, `mcp call: exit ${r.code}: ${r.stderr}`);
    // An embedded workspace (its comment naming http does not count): sibyl.wasm,
    // here a module that does not exist, so the launcher says so.
    const emb = path.join(dir, 'emb');
    fs.mkdirSync(emb);
    fs.writeFileSync(path.join(emb, 'workspace.yaml'), 'version: 1\nservers:\n  s:\n    # transport: http\n    transport: embedded\n    service: solver\n');
    fs.writeFileSync(path.join(emb, 'pipelines.yaml'), PIPELINES);
    r = await run(launcher, ['pipeline', 'run', 'p', '--config', 'emb/pipelines.yaml'], { cwd: dir, extraEnv: { SIBYL_NATIVE: env.native, SIBYL_WASM: '/nonexistent/sibyl.wasm' } });
    check(r.code === 2 && /nonexistent\/sibyl\.wasm is not built/.test(r.stderr), `embedded workspace: exit ${r.code}: ${r.stderr}`);
    // --workspace names the HTTP one.
    r = await run(launcher, ['pipeline', 'run', 'p', '--config', 'emb/pipelines.yaml', '--workspace', 'workspace.yaml'], { cwd: dir, extraEnv: { SIBYL_NATIVE: env.native, SIBYL_WASM: '/nonexistent/sibyl.wasm' } });
    check(r.code === 0, `--workspace: exit ${r.code}: ${r.stderr}`);
  },
};

main(`cli ${part}`, async () => {
  requireNative();
  if (!parts[part]) throw new Error(`unknown part ${part}`);
  await parts[part]();
  await finish(`cli ${part}`);
});
