// Load on one sibyl-conductor: CLIENTS concurrent clients, each with its own
// MCP session, submit JOBS jobs each and then poll get_jobs_status (with the
// cursor, as sibyl's poll steps do) as fast as answers come, for DURATION
// seconds. Prints requests/s, p50/p99 latency, errors and the server's RSS;
// stops the server with SIGTERM and checks it exits 0 with nothing from the
// sanitizers in its log (run it against the ASan build to check for leaks).
//
//   node bench/servers/run.mjs [--bin PATH] [--clients 64] [--jobs 1000] [--duration 60]
//   (default --bin: build/release/servers/sibyl-conductor, else build/native's)
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../tests/servers/server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const opt = { clients: 64, jobs: 1000, duration: 60, bin: null };
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const bin = opt.bin ?? [`${root}/build/release/servers/sibyl-conductor`, `${root}/build/native/servers/sibyl-conductor`]
  .find(existsSync);
const clients = +opt.clients, jobs = +opt.jobs, duration = +opt.duration;

const srv = await startServer(bin, ['--log-level', 'warn', '--time-scale', '60', '--max-concurrent', '1000',
  '--seed', '1', '--max-body-bytes', String(8 << 20)]);
const url = new URL(srv.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });

function post(body, session) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream',
        'Content-Length': Buffer.byteLength(data), ...(session && { 'Mcp-Session-Id': session,
          'MCP-Protocol-Version': '2025-11-25' }) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, session: res.headers['mcp-session-id'],
        text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function rss(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => +(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

// Server CPU seconds (user + system) from /proc/PID/stat, to tell whether the
// server or the single-threaded Node client is the limit.
function cpu(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (+f[11] + +f[12]) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

const lat = [];
let errors = 0, requests = 0, id = 10;
const rssBefore = rss(srv.proc.pid);

async function client(c) {
  const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: `bench-${c}`, version: '1' } } });
  const session = init.session;
  await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
  const list = Array.from({ length: jobs }, (_, j) => ({ hyperparameters: { lr: 0.001 * (1 + (j % 10)), bs: 32 << (j % 3), c } }));
  const sub = JSON.parse((await post({ jsonrpc: '2.0', id: 2, method: 'tools/call',
    params: { name: 'submit_jobs', arguments: { jobs: list, idempotency_key: `bench-${c}` } } }, session)).text);
  const handle = sub.result?.structuredContent?.handle_id;
  if (!handle) { errors++; return; }
  let cursor;
  const end = performance.now() + duration * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await post({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'get_jobs_status',
      arguments: { handle_id: handle, ...(cursor && { since_cursor: cursor }) } } }, session);
    lat.push(performance.now() - t0);
    requests++;
    const m = r.status === 200 ? JSON.parse(r.text) : null;
    const sc = m?.result?.structuredContent;
    if (!sc || m.result.isError) { errors++; continue; }
    cursor = sc.cursor;
  }
}

const cpu0 = cpu(srv.proc.pid);
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
const wall = (performance.now() - t0) / 1000;
const during = rss(srv.proc.pid);
const serverCpu = cpu(srv.proc.pid) - cpu0;
agent.destroy();
const stop = await srv.stop();
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
const sanitizer = /AddressSanitizer|LeakSanitizer|runtime error:/.test(stop.stderr);
console.log(`server: ${path.relative(root, bin)}`);
console.log(`${clients} clients x ${jobs} jobs, polling for ${duration} s (wall ${wall.toFixed(1)} s)`);
console.log(`requests: ${requests}, ${(requests / wall).toFixed(0)} requests/s, errors: ${errors}`);
console.log(`latency: p50 ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${lat.at(-1)?.toFixed(2)} ms`);
console.log(`server CPU: ${serverCpu.toFixed(1)} s in ${wall.toFixed(1)} s (${(100 * serverCpu / wall).toFixed(0)}% of one core; the rest of the time it waits for the clients)`);
console.log(`server RSS: ${rssBefore.rss.toFixed(0)} MiB idle, ${during.rss.toFixed(0)} MiB at the end, peak ${during.hwm.toFixed(0)} MiB`);
console.log(`stop: exit ${stop.code ?? stop.signal}, sanitizer reports: ${sanitizer ? 'YES' : 'none'}`);
if (errors || stop.code !== 0 || sanitizer) {
  console.error(stop.stderr.split('\n').slice(-40).join('\n'));
  process.exit(1);
}
