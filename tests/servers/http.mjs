// The servers' HTTP host on real sockets: what the endpoint's unit tests
// cannot see (libmicrohttpd in between): the command line, /health, a body
// over the limit refused before it is read, Host/Origin checks and CORS
// through real headers, SIGINT, and the Conductor's simulated clock.
//   node http.mjs SOLVER_BIN CONDUCTOR_BIN
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { startServer, check } from './server.mjs';

const [solverBin, conductorBin] = process.argv.slice(2);

// The command line.
for (const bin of [solverBin, conductorBin]) {
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  check(help.status === 0 && /--port N/.test(help.stdout) && /--allow-origin/.test(help.stdout), `${bin} --help`);
  const ver = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  check(ver.status === 0 && /^sibyl-(solver|conductor) \d+\.\d+\.\d+\n$/.test(ver.stdout), `--version: ${ver.stdout.trim()}`);
  const bad = spawnSync(bin, ['--port', 'x'], { encoding: 'utf8' });
  check(bad.status === 2 && /bad option or value: --port x/.test(bad.stderr), 'a bad --port: exit 2 with a message');
}
const solverOnly = spawnSync(solverBin, ['--time-scale', '2'], { encoding: 'utf8' });
check(solverOnly.status === 2, 'the Solver refuses the Conductor\'s options');
const backend = spawnSync(conductorBin, ['--backend', 'cloud'], { encoding: 'utf8' });
check(backend.status === 2 && /--backend: expected .*got 'cloud'/.test(backend.stderr), '--backend: an unknown backend is an error');
const ws = spawnSync(conductorBin, ['--workspace', '/nonexistent.yaml'], { encoding: 'utf8' });
check(ws.status === 2 && /cannot read/.test(ws.stderr), '--workspace: an unreadable file is an error');
const tmp = mkdtempSync(path.join(tmpdir(), 'sibyl-servers-'));
const badWs = path.join(tmp, 'workspace.yaml');
writeFileSync(badWs, 'version: 1\nsimulation:\n  max_concurrent: lots\n');
const bad = spawnSync(conductorBin, ['--workspace', badWs], { encoding: 'utf8' });
rmSync(tmp, { recursive: true });
check(bad.status === 2 && bad.stderr.includes(`${badWs}:3:`), `--workspace: an invalid file is an error at FILE:LINE:COL (${bad.stderr.trim().split('\n')[0]})`);

// Raw requests with headers fetch() would not let us set (Host).
function raw(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
const post = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

const srv = await startServer(solverBin, ['--max-body-bytes', '1000', '--allow-origin', 'https://console.example',
  '--log-level', 'info']);
try {
  check(srv.health.name === 'sibyl-solver' && srv.health.version, 'GET /health');
  const big = await raw(srv.url, { method: 'POST', headers: post, body: init + ' '.repeat(2000) });
  check(big.status === 413, `a body over --max-body-bytes: 413 (${big.status})`);
  const evil = await raw(srv.url, { method: 'POST', headers: { ...post, Host: 'evil.example.com' }, body: init });
  check(evil.status === 403, 'Host evil.example.com: 403');
  const evilOrigin = await raw(srv.url, { method: 'POST', headers: { ...post, Origin: 'http://evil.example.com' }, body: init });
  check(evilOrigin.status === 403, 'Origin evil.example.com: 403');
  const pre = await raw(srv.url, { method: 'OPTIONS', headers: { Origin: 'https://console.example',
    'Access-Control-Request-Method': 'POST' } });
  check(pre.status === 204 && pre.headers['access-control-allow-origin'] === 'https://console.example' &&
    /Mcp-Session-Id/.test(pre.headers['access-control-allow-headers']), 'CORS preflight for an allowed origin: 204');
  const ok = await raw(srv.url, { method: 'POST', headers: { ...post, Origin: 'http://localhost:5173' }, body: init });
  check(ok.status === 200 && ok.headers['mcp-session-id'] && ok.headers['access-control-expose-headers'] === 'Mcp-Session-Id',
    'initialize from a localhost origin: a session, exposed to the browser');
  const get = await raw(srv.url, { headers: { 'Mcp-Session-Id': ok.headers['mcp-session-id'], Accept: 'text/event-stream' } });
  check(get.status === 405, 'GET without Last-Event-ID: 405');
  check(/info POST \/mcp initialize 200 /.test(srv.log()), 'one log line per request');
} finally {
  srv.proc.kill('SIGINT');
  const e = await new Promise((resolve) => srv.proc.on('exit', (code) => resolve(code)));
  check(e === 0, 'SIGINT: exit status 0');
}

// The workspace's simulation settings, and the command line over them.
const wsFile = new URL('../../examples/companies/vertex_foundry/config/workspace.yaml', import.meta.url).pathname;
for (const [extra, want] of [[[], /seed 7, 5 running slots/], [['--seed', '9', '--max-concurrent', '3'], /seed 9, 3 running slots/]]) {
  const w = await startServer(conductorBin, ['--workspace', wsFile, ...extra]);
  const e = await w.stop();
  check(want.test(e.stderr), `--workspace ${extra.join(' ')}: ${want.source}`);
}

// The Conductor's clock: at 3600 simulated seconds per second a job of
// hours finishes within seconds of real time; wait_jobs says when.
const cond = await startServer(conductorBin, ['--time-scale', '3600', '--max-concurrent', '2', '--seed', '3',
  '--sse-retry-ms', '50']);
try {
  const r = await raw(cond.url, { method: 'POST', headers: post, body: init });
  const sid = r.headers['mcp-session-id'];
  const h = { ...post, 'Mcp-Session-Id': sid, 'MCP-Protocol-Version': '2025-11-25' };
  const call = (id, name, args) => raw(cond.url, { method: 'POST', headers: h,
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }) });
  const sub = JSON.parse((await call(2, 'submit_jobs', { jobs: [{ hyperparameters: { batch_size: 64 } }] })).text);
  const handle = sub.result.structuredContent.handle_id;
  // wait_jobs without a task: an SSE body that ends with retry, resumed by GET until the answer comes.
  let res = await call(3, 'wait_jobs', { handle_id: handle });
  check(res.headers['content-type'] === 'text/event-stream' && /^id: \S+\ndata: \n\n/.test(res.text),
    'plain wait_jobs: an SSE body opening with a priming event');
  let rounds = 0;
  while (!/"id":3,"result"/.test(res.text)) {
    if (!/retry: 50\n\n$/.test(res.text)) throw new Error(`round ${rounds}: neither the answer nor a retry:\n${res.text}`);
    const last = [...res.text.matchAll(/^id: (\S+)$/gm)].pop()[1];
    await new Promise((resolve) => setTimeout(resolve, 50)); // as the retry field asks
    res = await raw(cond.url, { headers: { ...h, 'Last-Event-ID': last, Accept: 'text/event-stream' } });
    if (++rounds > 2000) throw new Error('wait_jobs never answered');
  }
  check(rounds > 0, 'until the job ends, each resumption ends with retry');
  const done = JSON.parse(/data: (\{"jsonrpc":"2.0","id":3.*)$/m.exec(res.text)[1]);
  check(done.result.structuredContent.done === true && done.result.structuredContent.counts.total === 1,
    `wait_jobs answered after ${rounds} resumption(s)`);
} finally {
  const e = await cond.stop();
  check(e.code === 0 && /in-flight jobs at exit: 0 running, 0 queued/.test(e.stderr), 'the Conductor stops cleanly');
}
