// web_dashboard: examples/dashboard/ in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser download). The page
// loads the module over HTTP as any page would (streaming fetch of
// sibyl.wasm, MessageChannel yields), runs the bundled example embedded, and
// shows the streamed rows, the best configuration and the total, which must
// be the run's own (the same run made here under Node).
//   node --no-warnings dashboard.test.mjs WEB_BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { test, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const CHROMIUM = process.env.SIBYL_CHROMIUM || '/usr/bin/chromium';
const [webDir, sourceArg] = process.argv.slice(2);
if (!sourceArg) die('usage: dashboard.test.mjs WEB_BUILD_DIR SOURCE_DIR');
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
