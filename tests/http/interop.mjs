// sibyl's client against a server built with the official TypeScript SDK
// (tests/interop/sdk-server.mjs: McpServer, StreamableHTTPServerTransport,
// sessions, a tool registered as a task, a tool that sends progress):
//   node interop.mjs pipeline   a pipeline run (native binary): a plain call, a
//                               call with progress: true (DEBUG lines with
//                               --verbose), a task-augmented call; bearer token
//                               from the environment, never in the log or outputs
//   node interop.mjs mcp-call   `sibyl mcp call`: result, --progress, --task, a
//                               tool error (exit 3), nothing listening (exit 4)
import fs from 'node:fs';
import path from 'node:path';
import { check, env, finish, getJson, main, requireInterop, sibyl, startServer, tmpdir } from './lib.mjs';

const part = process.argv[2];
const TOKEN = 'tok-3f9a-interop-secret';
const sdkServer = () => startServer(process.execPath,
  [path.join(env.repo, 'tests/interop/sdk-server.mjs')], { INTEROP_TOKEN: TOKEN });

const PIPELINES = `version: 1
pipelines:
  interop:
    steps:
      score:
        call: sdk.train
        with: {lr: 0.25}
      progress:
        call: sdk.progress_train
        with: {epochs: 3}
        progress: true
      long:
        call: sdk.slow_train
        with: {ms: 200}
        task: {ttl_ms: 60000}
      check:
        needs: [score, progress, long]
        assert:
          - that: "{{ steps.score.output.score == 0.75 }}"
            message: the plain call's result
          - that: "{{ steps.long.output.requested_ttl == 60000 }}"
            message: the call went out as a task
    outputs:
      score: "{{ steps.score.output.score }}"
      loss: "{{ steps.progress.output.loss }}"
      accuracy: "{{ steps.long.output.accuracy }}"
`;

async function pipeline() {
  const srv = await sdkServer();
  const dir = tmpdir('interop');
  fs.writeFileSync(path.join(dir, 'workspace.yaml'), `version: 1
servers:
  sdk:
    transport: http
    url: ${srv.url}
    timeout_ms: 10000
    bearer_token_env: SIBYL_INTEROP_TOKEN
    headers: {X-Test: interop}
streaming: {file: stream.jsonl}
outputs: {result_file: result.json}
`);
  fs.writeFileSync(path.join(dir, 'pipelines.yaml'), PIPELINES);
  const r = await sibyl(['pipeline', 'run', 'interop', '--config', 'pipelines.yaml', '--verbose', '--no-progress'],
    { cwd: dir, extraEnv: { SIBYL_INTEROP_TOKEN: TOKEN } });
  const log = r.stdout + r.stderr;
  check(r.code === 0, `pipeline run exited ${r.code}`);
  const res = fs.existsSync(path.join(dir, 'result.json')) ? JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')) : null;
  check(res !== null, 'no result.json');
  const outs = res || {};
  check(outs.score === 0.75, `outputs.score ${outs.score}`);
  check(outs.loss === 0.25, `outputs.loss ${outs.loss}`);
  check(outs.accuracy === 0.9, `outputs.accuracy ${outs.accuracy}`);
  for (let i = 1; i <= 3; i++)
    check(log.includes(`DEBUG: server 'sdk': progress ${i}/3: epoch ${i}`), `no DEBUG line for progress ${i}`);
  check(log.includes(`DEBUG: server 'sdk' (trainer) info: trained 3 epochs`), 'no DEBUG line for the server log message');
  // The token reached the server and nothing else.
  const health = await getJson(`${srv.base}/health`);
  check(health.auth_seen > 0, 'the server saw no valid Authorization header');
  check(!log.includes(TOKEN), 'the token appears in the log');
  for (const f of fs.readdirSync(dir))
    check(!fs.readFileSync(path.join(dir, f), 'utf8').includes(TOKEN), `the token appears in ${f}`);
  // Without the variable: a clear error before anything is sent, exit 1.
  const miss = await sibyl(['pipeline', 'run', 'interop', '--config', 'pipelines.yaml'], { cwd: dir, extraEnv: { SIBYL_INTEROP_TOKEN: '' } });
  check(miss.code === 1, `an empty token variable: exit ${miss.code}`);
  check(/workspace\.yaml:\d+:\d+: error: servers\.sdk\.bearer_token_env: the environment variable SIBYL_INTEROP_TOKEN is empty/.test(miss.stderr),
    `an empty token variable: ${miss.stderr}`);
  // A wrong token: the server says 401 and the run fails clearly.
  const bad = await sibyl(['pipeline', 'run', 'interop', '--config', 'pipelines.yaml'], { cwd: dir, extraEnv: { SIBYL_INTEROP_TOKEN: 'wrong' } });
  check(bad.code === 3 && /HTTP 401/.test(bad.stdout), `a wrong token: exit ${bad.code}, ${bad.stdout.slice(-300)}`);
  await finish('interop pipeline', log);
}

async function mcpCall() {
  const srv = await sdkServer();
  const auth = ['--bearer-token-env', 'SIBYL_INTEROP_TOKEN'];
  const e = { extraEnv: { SIBYL_INTEROP_TOKEN: TOKEN } };
  let r = await sibyl(['mcp', 'call', srv.url, 'train', '--args', '{"lr":0.5}', ...auth], e);
  check(r.code === 0 && JSON.parse(r.stdout).score === 0.5, `train: exit ${r.code}: ${r.stdout}${r.stderr}`);
  r = await sibyl(['mcp', 'call', srv.url, 'progress_train', '--progress', ...auth], e);
  check(r.code === 0 && /progress 2\/3: epoch 2/.test(r.stderr), `--progress: exit ${r.code}: ${r.stderr}`);
  r = await sibyl(['mcp', 'call', srv.url, 'slow_train', '--task', '--raw', '--args', '{"ms":100}', ...auth], e);
  const raw = r.code === 0 ? JSON.parse(r.stdout) : {};
  check(raw.structuredContent?.requested_ttl === 60000 && Array.isArray(raw.content), `--task --raw: exit ${r.code}: ${r.stdout}${r.stderr}`);
  r = await sibyl(['mcp', 'call', srv.url, 'no_such_tool', ...auth], e);
  check(r.code === 3 && /error/.test(r.stderr), `unknown tool: exit ${r.code}: ${r.stderr}`);
  r = await sibyl(['mcp', 'call', srv.url, 'train']);
  check(r.code === 4 && /HTTP 401/.test(r.stderr), `no token: exit ${r.code}: ${r.stderr}`);
  check(!(r.stdout + r.stderr).includes(TOKEN), 'the token was printed');
  r = await sibyl(['mcp', 'call', srv.url, 'train', '--args', '[1]']);
  check(r.code === 1 && /--args: expected a JSON object/.test(r.stderr), `--args [1]: exit ${r.code}: ${r.stderr}`);
  r = await sibyl(['mcp', 'call', '--help']);
  check(r.code === 0 && /usage: sibyl mcp call URL TOOL/.test(r.stdout), '--help');
  await finish('interop mcp-call');
}

main(`interop ${part}`, async () => {
  requireInterop();
  if (part === 'pipeline') await pipeline();
  else if (part === 'mcp-call') await mcpCall();
  else throw new Error(`unknown part ${part}`);
});
