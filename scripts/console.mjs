#!/usr/bin/env node
// Serves the browser console (web/) on 127.0.0.1 and prints its URL:
//   node scripts/console.mjs [--port N] [--host ADDR] [--dist DIR]
// --port 0 (or none) asks the OS for a free port; the first line on stdout is
// always "sibyl console: http://HOST:PORT/" so scripts and tests can read it.
// GET /health answers "ok" (tests wait for it). --dist serves /dist/ from DIR
// instead of web/dist/ (a stand-in module during development).
//
// Only GET and HEAD of files under web/ (web/dist/ included) are served, with
// the MIME types browsers insist on: module scripts as JavaScript and .wasm as
// application/wasm (streaming compilation refuses anything else). Paths that
// leave the root are refused. Nothing is cached, so a rebuild shows at reload.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.yaml': 'text/yaml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.md': 'text/markdown; charset=utf-8',
};

function usage(msg) {
  if (msg) process.stderr.write(`console: ${msg}\n`);
  process.stderr.write('usage: node scripts/console.mjs [--port N] [--host ADDR] [--dist DIR]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { port: 0, host: '127.0.0.1', dist: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
    if (flag === '--port') {
      const v = value();
      o.port = Number(v);
      if (!/^\d+$/.test(v) || o.port > 65535) usage(`--port ${v}: not a port number (0..65535)`);
    } else if (flag === '--host') o.host = value();
    else if (flag === '--dist') o.dist = resolve(value());
    else if (flag === '--help' || flag === '-h') usage();
    else usage(`unknown option ${argv[i]}`);
  }
  return o;
}

// The file a URL path names, or null when it is outside the root or absent.
function fileFor(root, dist, urlPath) {
  let p;
  try { p = decodeURIComponent(urlPath.split('?')[0]); } catch { return null; }
  if (p.includes('\0')) return null;
  let base = root;
  if (dist && (p === '/dist' || p.startsWith('/dist/'))) { base = dist; p = p.slice(5); }
  const f = normalize(join(base, p));
  if (f !== base && !f.startsWith(base + sep)) return null;
  if (!existsSync(f)) return null;
  const st = statSync(f);
  if (st.isDirectory()) return existsSync(join(f, 'index.html')) ? join(f, 'index.html') : null;
  return st.isFile() ? f : null;
}

const opts = parseArgs(process.argv.slice(2));
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'web');

const server = createServer((req, res) => {
  const headers = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD' }).end();
    return;
  }
  if (req.url === '/health') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/plain' }).end('ok\n');
    return;
  }
  const f = fileFor(root, opts.dist, req.url);
  if (!f) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(f)] ?? 'application/octet-stream' });
  if (req.method === 'HEAD') res.end();
  else createReadStream(f).pipe(res);
});

server.on('error', (e) => {
  process.stderr.write(`console: cannot listen on ${opts.host}:${opts.port}: ${e.message}\n`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(`sibyl console: http://${host}:${port}/\n`);
  if (!existsSync(join(opts.dist ?? join(root, 'dist'), 'sibyl-api.mjs')))
    process.stderr.write('console: web/dist/ is not built yet: run scripts/build-all.sh web\n');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
