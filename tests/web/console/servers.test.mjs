// web_console_servers (issue 12, 4b): the console in server mode against the
// reference servers, started here on free ports (sibyl-solver, and
// sibyl-conductor --backend sim with the example's workspace and a big time
// scale: a 2-hour trial takes about a second). The page is served from
// another origin than the servers, so every MCP request is a cross-origin
// fetch from the worker (CORS). Checked: rows stream into the table while the
// run goes on (a partial count is seen before the end), the run succeeds
// with one row per stream line, best and total within budget, and the
// servers' CORS answers reached the page; "Pause live updates" holds the
// table while the summary goes on. The pipelines file is the
// example's with shorter poll delays (pasted), so the test takes seconds.
//   node servers.test.mjs SIBYL SOLVER CONDUCTOR
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { check, launch, log, main, openPage, repo, requireBuilt, screenshot, startConsole, startProcess, waitDone } from './lib.mjs';

const [solverBin, conductorBin] = process.argv.slice(3).map((p) => resolve(p));
const EX = join(repo, 'examples/companies/vertex_foundry/config');

async function server(bin, args, name) {
  const { match } = await startProcess(bin, ['--port', '0', ...args], /listening on (http:\/\/127\.0\.0\.1:\d+\/mcp)/, name);
  const url = match[1];
  const health = await fetch(new URL('/health', url));
  if (!health.ok) throw new Error(`${name}: /health answered ${health.status}`);
  return url;
}

await main('web_console_servers', async () => {
  requireBuilt();
  const solver = await server(solverBin, [], 'sibyl-solver');
  const conductor = await server(conductorBin, ['--backend', 'sim', '--time-scale', '7200',
    '--workspace', join(EX, 'workspace.yaml')], 'sibyl-conductor');
  log(`solver ${solver}, conductor ${conductor}`);
  const url = await startConsole();
  const browser = await launch();
  const page = await openPage(browser, url);
  const cors = new Set();
  page.context().on('response', (r) => {
    if (r.url() === conductor || r.url() === solver) cors.add(`${r.url()} ${r.headers()['access-control-allow-origin']}`);
  });

  // Server mode: the example's HTTP workspace, URLs of the servers started here.
  await page.check('input[name=mode][value=servers]');
  await page.waitForFunction(() => document.getElementById('ws-file').value === 'workspace.http.yaml');
  const pipelines = readFileSync(join(EX, 'pipelines.yaml'), 'utf8')
    .replace(/initial_delay_ms: 2000/g, 'initial_delay_ms: 150').replace(/max_delay_ms: 10000/g, 'max_delay_ms: 400')
    .replace(/initial_delay_ms: 1000/g, 'initial_delay_ms: 100');
  await page.fill('#pl-text', pipelines);
  await page.fill('#conductor-url', conductor);
  await page.fill('#solver-url', solver);
  await page.click('#run');

  // Rows while the run goes on.
  const partial = await page.waitForFunction(() => {
    const n = Number(document.getElementById('results-table').getAttribute('aria-rowcount') ?? 1) - 1;
    return n > 0 && document.getElementById('summary').dataset.status === 'running' ? n : 0;
  }, null, { timeout: 60000, polling: 50 });
  log(`rows while running: ${await partial.jsonValue()}`);
  // "Pause live updates" holds the table while the summary goes on; unpaused, it catches up.
  await page.check('#pause');
  const held = Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1;
  const finished = () => Number(/^\w+: (\d+)/.exec(document.getElementById('summary').textContent)?.[1] ?? 0);
  await page.waitForFunction(`(${finished})() > ${held} || document.getElementById('summary').dataset.status !== 'running'`,
    null, { timeout: 60000, polling: 50 });
  if (await page.$eval('#summary', (e) => e.dataset.status) === 'running') {
    check(Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1 === held, 'the table changed while paused');
    await page.uncheck('#pause');
    await page.waitForFunction((n) => Number(document.getElementById('results-table').getAttribute('aria-rowcount')) - 1 > n, held);
  } else {
    log('the run ended before the pause could be seen; pause not checked');
    await page.uncheck('#pause');
  }
  check(await waitDone(page, 120000) === 'succeeded', `status: ${await page.textContent('#summary')}`);

  const rows = Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1;
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-jsonl')]);
  const stream = readFileSync(await dl.path(), 'utf8').trim().split('\n');
  check(rows === stream.length && rows >= 10, `${rows} rows, ${stream.length} stream lines`);
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
  const out = JSON.parse(readFileSync(await dl2.path(), 'utf8'));
  const total = Number((await page.textContent('#total-cost td')).replace(/[$,]/g, ''));
  check(total === out.total_cost && total > 0 && total <= 500, `total ${total} (file ${out.total_cost})`);
  check(out.top_3.length === 3 && typeof out.best_score === 'number', 'best and top 3');
  const best = await page.$$eval('#best tr td', (tds) => tds.map((t) => t.textContent));
  check(best.length === Object.keys(out.best_hyperparameters).length + 1, `best shown: ${best}`);
  log(`${rows} rows; best ${JSON.stringify(out.best_hyperparameters)} ${out.best_score}; total $${total}`);
  log(`CORS answers seen: ${[...cors].join(', ') || 'none reported by the browser'}`);
  const origin = new URL(url).origin;
  check([...cors].some((c) => c.startsWith(conductor) && c.endsWith(origin)), `the conductor's CORS answer (${[...cors]})`);
  await screenshot(page, 'servers.png');
});
