// Shared by the console's Chromium tests: the console's own server
// (scripts/console.mjs on a free port, waited for through /health), headless
// Chromium from Debian driven by playwright-core (never a downloaded
// browser), page errors collected, artefacts under build/, and clean-up on
// every way out.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const artefacts = join(repo, 'build', 'web-console');
export const CHROMIUM = process.env.SIBYL_CHROMIUM ?? '/usr/bin/chromium';

const cleanups = [];
let failed = false;
let skipped = null;

// Marks the test skipped (exit 77, ctest's SKIP_RETURN_CODE) unless a check failed.
export function skip(msg) {
  skipped = msg;
}

export function fail(msg) {
  failed = true;
  process.stderr.write(`FAIL ${msg}\n`);
}

export function check(ok, msg) {
  if (!ok) fail(msg);
  return ok;
}

export function log(msg) {
  process.stdout.write(`${msg}\n`);
}

// Runs body(); always cleans up; exit 0 only when no check failed.
export async function main(name, body) {
  const hard = setTimeout(() => { fail(`${name}: still running after 240 s`); finish(1); }, 240000);
  let code = 0;
  try {
    await body();
  } catch (e) {
    fail(`${name}: ${e.stack ?? e}`);
  }
  clearTimeout(hard);
  if (failed) code = 1;
  else if (skipped) code = 77;
  await finish(code);
  if (code === 77) log(`SKIPPED ${name}: ${skipped}`);
  else if (!code) log(`ok ${name}`);
  process.exit(code);
}

async function finish(code) {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* best effort */ }
  }
  if (code) process.exitCode = code;
}

// Needs: web/dist built (console_dist) and Chromium installed.
export function requireBuilt() {
  for (const f of ['sibyl-api.mjs', 'sibyl.mjs', 'sibyl.wasm', 'uPlot.iife.min.js', 'examples/vertex_foundry/pipelines.yaml'])
    if (!existsSync(join(repo, 'web', 'dist', f))) {
      fail(`web/dist/${f} is missing: run scripts/build-all.sh web (target console_dist)`);
      process.exit(1);
    }
  if (!existsSync(CHROMIUM)) {
    fail(`${CHROMIUM} is missing: apt-get install chromium (scripts/install-deps.sh)`);
    process.exit(1);
  }
}

// A child process whose stdout line matching `re` is awaited; killed at the end.
export function startProcess(cmd, args, re, what) {
  const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  cleanups.push(() => new Promise((res) => {
    if (p.exitCode !== null || p.signalCode !== null) return res();
    p.once('exit', res);
    p.kill('SIGTERM');
    setTimeout(() => { p.kill('SIGKILL'); res(); }, 3000).unref();
  }));
  return new Promise((res, rej) => {
    const look = () => {
      const m = re.exec(out) ?? re.exec(err);
      if (m) res({ proc: p, match: m });
    };
    p.stdout.on('data', (c) => { out += c; look(); });
    p.stderr.on('data', (c) => { err += c; look(); });
    p.on('exit', (code, sig) => rej(new Error(`${what} exited (${code ?? sig}) before it was ready:\n${out}${err}`)));
  });
}

async function waitHealth(url) {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(new URL('/health', url));
      if (r.ok) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${url}health never answered`);
}

// The console's server, as a user starts it; resolves with its URL.
export async function startConsole() {
  const { match } = await startProcess(process.execPath, [join(repo, 'scripts', 'console.mjs'), '--port', '0'],
    /sibyl console: (http:\/\/127\.0\.0\.1:\d+\/)/, 'scripts/console.mjs');
  const url = match[1];
  await waitHealth(url);
  return url;
}

// Headless Chromium with the flags this network needs (Playwright gives it a
// fresh temporary profile itself and adds --no-sandbox).
export async function launch() {
  const { chromium } = await import(join(repo, 'node_modules', 'playwright-core', 'index.mjs'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  return browser;
}

// A page (in a new context of `target`, a browser, or in `target`, a
// context) whose uncaught errors and console errors fail the test.
export async function openPage(target, url, { colorScheme = 'light', reducedMotion = 'no-preference', inPage = false } = {}) {
  const context = typeof target.newContext === 'function'
    ? await target.newContext({ viewport: { width: 1280, height: 1400 }, colorScheme, reducedMotion }) : target;
  const page = await context.newPage();
  // inPage: a browser without module workers (the console then runs the module in the page).
  if (inPage) await page.addInitScript(() => { window.Worker = function Worker() { throw new TypeError('no workers here'); }; });
  page.on('pageerror', (e) => fail(`page error: ${e.stack ?? e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') fail(`console error: ${m.text()}`); });
  await page.goto(url);
  await page.waitForFunction(() => /^(Ready|Running)/.test(document.getElementById('status').textContent)
    || document.getElementById('status').className === 'failed', null, { timeout: 30000 });
  const status = await page.textContent('#status');
  if (!/^(Ready|Running)/.test(status)) throw new Error(`the console did not start: ${status}`);
  // The run belongs in a Web Worker; the page says when it had to fall back.
  check(/in the page/.test(status) === inPage, `the module runs ${inPage ? 'in a worker' : 'in the page'}: ${status}`);
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(artefacts, { recursive: true });
  const file = join(artefacts, name);
  await page.screenshot({ path: file, fullPage: true });
  log(`screenshot: ${file}`);
  return file;
}

// Waits until the run is over; returns the summary's status.
export async function waitDone(page, timeout = 120000) {
  await page.waitForFunction(() => ['succeeded', 'failed', 'cancelled'].includes(document.getElementById('summary').dataset.status)
    && !document.getElementById('final').hidden, null, { timeout, polling: 100 });
  return page.$eval('#summary', (e) => e.dataset.status);
}

export function tempDir(name) {
  const d = mkdtempSync(join(tmpdir(), `sibyl-console-${name}-`));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

export const onCleanup = (fn) => cleanups.push(fn);
