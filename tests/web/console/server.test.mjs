// web_console_server: scripts/console.mjs, the one command that serves the
// console: it prints its URL first, answers /health, sends the MIME types
// browsers insist on (module scripts as JavaScript, .wasm as
// application/wasm), refuses paths outside web/ and methods other than GET
// and HEAD, and stops cleanly on SIGTERM.
//   node server.test.mjs
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import process from 'node:process';
import { repo } from './lib.mjs';

let failed = false;
const check = (ok, msg) => { if (!ok) { failed = true; process.stderr.write(`FAIL ${msg}\n`); } };

const p = spawn(process.execPath, [join(repo, 'scripts', 'console.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
const killer = setTimeout(() => p.kill('SIGKILL'), 20000);
const url = await new Promise((resolve, reject) => {
  let out = '';
  p.stdout.on('data', (c) => {
    out += c;
    const m = /^sibyl console: (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out);
    if (m) resolve(m[1]);
  });
  p.on('exit', (code) => reject(new Error(`exited ${code} before printing its URL: ${out}`)));
});

const get = async (path, init) => {
  const r = await fetch(new URL(path, url), init);
  await r.arrayBuffer();
  return r;
};
const health = await get('/health');
check(health.status === 200, `/health: ${health.status}`);
for (const [path, type] of [['/', 'text/html; charset=utf-8'], ['/main.mjs', 'text/javascript; charset=utf-8'],
  ['/console.css', 'text/css; charset=utf-8']]) {
  const r = await get(path);
  check(r.status === 200 && r.headers.get('content-type') === type, `${path}: ${r.status} ${r.headers.get('content-type')}`);
}
const wasm = await get('/dist/sibyl.wasm');
check(wasm.status === 404 || wasm.headers.get('content-type') === 'application/wasm',
  `/dist/sibyl.wasm: ${wasm.status} ${wasm.headers.get('content-type')}`);
// Paths sent as written (fetch() would resolve the dots itself): the
// repository's own README.md is one folder above web/.
const raw = (path) => new Promise((resolve, reject) => {
  const r = request(new URL(url), { path, method: 'GET' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  r.on('error', reject);
  r.end();
});
for (const path of ['/../README.md', '/%2e%2e/README.md', '/..%2fREADME.md', '/dist/../../README.md',
  '/dist/%2e%2e%2f%2e%2e%2fREADME.md', '/nothing.mjs', '/%00', '/%E0%A4%A'])
  check(await raw(path) === 404, `${path} is served (${await raw(path)})`);
check(await raw('/README.md') === 200, 'web/README.md itself is not served');
check((await get('/', { method: 'POST', body: 'x' })).status === 405, 'POST is accepted');

const exit = new Promise((resolve) => p.on('exit', (code, signal) => resolve(code ?? signal)));
p.kill('SIGTERM');
const code = await exit;
clearTimeout(killer);
check(code === 0, `exit after SIGTERM: ${code}`);
if (failed) process.exit(1);
process.stdout.write(`ok web_console_server (${url})\n`);
