// web_dashboard: examples/dashboard/ in headless Chromium, the API in a
// browser module Web Worker, and a run from a page against the reference
// servers over fetch with CORS, in Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser download). The page
// loads the module over HTTP as any page would (streaming fetch of
// sibyl.wasm, MessageChannel yields), runs the bundled example embedded, and
// shows the streamed rows, the best configuration and the total, which must
// be the run's own (the same run made here under Node).
//   node --no-warnings dashboard.test.mjs WEB_BUILD_DIR SOURCE_DIR CONDUCTOR SOLVER
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { test, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';
import { startServer } from '../servers/server.mjs';

const CHROMIUM = process.env.SIBYL_CHROMIUM || '/usr/bin/chromium';
const [webDir, sourceArg, conductorBin, solverBin] = process.argv.slice(2);
if (!solverBin) die('usage: dashboard.test.mjs WEB_BUILD_DIR SOURCE_DIR CONDUCTOR SOLVER');
const sourceDir = resolve(sourceArg);
const dir = resolve(moduleDir(webDir, sourceDir));
if (!existsSync(CHROMIUM)) die(`${CHROMIUM} is missing: apt-get install chromium (scripts/install-deps.sh)`);
const { chromium } = await import('playwright-core');

// The repository, with the web build's module folder at /module/.
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript',
                 '.wasm': 'application/wasm', '.yaml': 'text/plain' };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  let file = path.startsWith('/module/') ? join(dir, path.slice(8)) : join(sourceDir, normalize(path));
  if (file.endsWith('/')) file += 'index.html';
  if (!file.startsWith(sourceDir) && !file.startsWith(dir)) file = '/nonexistent';
  try {
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  // a fresh profile: playwright makes one in a temporary folder itself
});
after(async () => {
  await browser.close();
  server.close();
});

test('the dashboard runs the example and shows its rows, best and total', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const url = `http://127.0.0.1:${server.address().port}/examples/dashboard/?module=/module/sibyl-api.mjs`;
  await page.goto(url);
  await page.waitForFunction(() => /loaded/.test(document.getElementById('status').textContent), null, { timeout: 30000 });
  await page.fill('#budget', '400');
  await page.fill('#seed', '2');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('summary').textContent !== '', null, { timeout: 60000 });
  const summary = await page.textContent('#summary');
  const rows = await page.$$eval('#rows tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert.deepEqual(errors, []);

  const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
  const config = join(sourceDir, 'examples/companies/vertex_foundry/config');
  const r = await (await Sibyl.load()).run({
    workspace: { file: 'workspace.yaml', text: readFileSync(join(config, 'workspace.yaml'), 'utf8') },
    pipelines: { file: 'pipelines.yaml', text: readFileSync(join(config, 'pipelines.yaml'), 'utf8') },
    pipeline: 'hyperparameter_sweep', seed: 2, inputs: { budget_usd: 400 },
  }).done;
  const out = r.outputs['sweep_output.json'];
  assert.deepEqual(rows, r.stream.map((c) => c.job_id));
  assert.ok(summary.startsWith('succeeded: '), summary);
  assert.ok(summary.includes(JSON.stringify(out.best_hyperparameters)), summary);
  assert.ok(summary.includes(`total $${out.total_cost.toFixed(2)}`), summary);
  assert.match(await page.textContent('#status'), /of \$400\.00/);
});

test('the dashboard keeps one row per job when a run streams per-epoch progress', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const fixture = 'tests/web/console/fixtures/early-stopping';
  await page.goto(`http://127.0.0.1:${server.address().port}/examples/dashboard/` +
                  `?module=/module/sibyl-api.mjs&config=/${fixture}/&pipeline=estop_sweep`);
  await page.waitForFunction(() => /loaded/.test(document.getElementById('status').textContent), null, { timeout: 30000 });
  await page.fill('#budget', '400');
  await page.fill('#seed', '1');
  await page.click('#run');
  await page.waitForFunction(() => document.getElementById('summary').textContent !== '', null, { timeout: 60000 });
  const rows = await page.$$eval('#rows tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]));
  assert.deepEqual(errors, []);

  // the same run under Node: each job's row holds its final chunk, in the
  // order the jobs first appeared in the stream (progress chunks included)
  const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
  const r = await (await Sibyl.load()).run({
    workspace: { file: 'workspace.yaml', text: readFileSync(join(sourceDir, fixture, 'workspace.yaml'), 'utf8') },
    pipelines: { file: 'pipelines.yaml', text: readFileSync(join(sourceDir, fixture, 'pipelines.yaml'), 'utf8') },
    pipeline: 'estop_sweep', seed: 1, inputs: { budget_usd: 400 },
  }).done;
  assert.equal(r.status, 'succeeded');
  const final = new Map();
  for (const c of r.stream) if (!final.has(c.job_id)) final.set(c.job_id, c.type);
  for (const c of r.stream) if (c.type !== 'job_progress') final.set(c.job_id, c.type);
  assert.ok(r.stream.filter((c) => c.type === 'job_progress').length > final.size, 'the fixture streams progress');
  assert.ok([...final.values()].includes('job_stopped'), 'the fixture stops jobs early');
  assert.deepEqual(rows, [...final]);
});

test('the API runs in a browser module Web Worker', async () => {
  const page = await browser.newPage();
  const origin = `http://127.0.0.1:${server.address().port}`;
  await page.goto(`${origin}/examples/dashboard/?module=/module/sibyl-api.mjs`);
  const got = await page.evaluate(async (origin) => {
    // a worker made from text, as a bundler-free page would: it imports the
    // API by URL and loads sibyl.wasm beside it
    const src = `import { Sibyl } from '${origin}/module/sibyl-api.mjs';
      const text = async (f) => (await fetch('${origin}/examples/companies/vertex_foundry/config/' + f)).text();
      try {
        const sibyl = await Sibyl.load();
        const run = sibyl.run({ workspace: { text: await text('workspace.yaml') },
          pipelines: { text: await text('pipelines.yaml') }, pipeline: 'hyperparameter_sweep', seed: 2,
          inputs: { budget_usd: 400 } });
        let chunks = 0;
        run.on('chunk', () => chunks++);
        const r = await run.done;
        postMessage({ status: r.status, chunks, stream: r.stream.length, worker: typeof window === 'undefined' });
      } catch (e) { postMessage({ error: String(e) }); }`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
    return new Promise((resolve) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => resolve({ error: e.message });
    });
  }, origin);
  assert.equal(got.error, undefined);
  assert.equal(got.status, 'succeeded');
  assert.equal(got.worker, true);
  assert.ok(got.chunks > 5 && got.chunks === got.stream, JSON.stringify(got));
});

test('a page runs against the reference servers over fetch (CORS)', async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const config = join(sourceDir, 'examples/companies/vertex_foundry/config');
  const conductor = await startServer(conductorBin, ['--backend', 'sim', '--time-scale', '100000',
    '--workspace', join(config, 'workspace.yaml'), '--allow-origin', origin]);
  const solver = await startServer(solverBin, ['--allow-origin', origin]);
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/examples/dashboard/?module=/module/sibyl-api.mjs`);
    const got = await page.evaluate(async ([origin, urls]) => {
      const { Sibyl } = await import(`${origin}/module/sibyl-api.mjs`);
      const sibyl = await Sibyl.load();
      // the example, polling faster (the real clock: seconds, not minutes)
      const text = async (f) => (await (await fetch(`${origin}/examples/companies/vertex_foundry/config/${f}`)).text())
        .replace(/initial_delay_ms: 2000/g, 'initial_delay_ms: 100').replace(/max_delay_ms: 10000/g, 'max_delay_ms: 300');
      const run = sibyl.run({ workspace: { text: await text('workspace.yaml') }, pipelines: { text: await text('pipelines.yaml') },
                              pipeline: 'hyperparameter_sweep', mode: 'servers', servers: urls, inputs: { budget_usd: 300 } });
      const types = [];
      run.on('*', (e) => types.push(e.type));
      const r = await run.done;
      const out = r.outputs['sweep_output.json'];
      return { status: r.status, error: r.error, chunks: r.stream.length, firstChunk: types.indexOf('chunk'),
               lastPoll: types.lastIndexOf('poll'), top: out.top_3.length, total: out.total_cost };
    }, [origin, { conductor: conductor.url, solver: solver.url }]);
    assert.equal(got.status, 'succeeded', got.error);
    assert.ok(got.chunks >= 3 && got.firstChunk < got.lastPoll, JSON.stringify(got));
    assert.equal(got.top, 3);
    assert.ok(got.total > 0 && got.total <= 300);
  } finally {
    await conductor.stop();
    await solver.stop();
  }
});
