// web_console_large (issue 12, 4e): a sweep of more than 10,000 trials runs
// embedded in the console without freezing the page. The benchmark's
// pipeline and workspace (bench/sweep/, 1000 simulated GPUs) are pasted with
// a $280,000 budget. During the run (from the click on Run to the result
// shown):
//   - a PerformanceObserver for 'longtask', installed before the page's own
//     scripts, records every main-thread task over 50 ms: the longest must
//     stay under 200 ms;
//   - a Chromium trace of the same run gives each main-thread task's CPU
//     time (thread time): the longest must stay under 200 ms too.
// Wall time includes time the thread waited for a CPU, so on a machine
// busy with other work a task that costs 30 ms of CPU can last 200 ms: when
// only the wall-clock check fails, the run is repeated (3 attempts at most),
// and each attempt is printed with the machine's load. If every attempt
// failed only that check, while the load average stayed above twice the
// number of CPUs, the long tasks could not be measured: the test says so and
// reports itself skipped (exit 77), unless another check failed. Also checked: the
// table holds every row (aria-rowcount) with only a window of them in the
// DOM, scrolling to the end shows the last row, sorting 10,000 rows puts the
// best first. The trace is kept in build/web-console/large-trace.json.
//   node large.test.mjs SIBYL SOLVER CONDUCTOR
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { artefacts, check, launch, log, main, openPage, repo, requireBuilt, screenshot, skip, startConsole, waitDone } from './lib.mjs';

const LIMIT_MS = 200;
const ATTEMPTS = 3;

// The longest main-thread task of the page's renderer, in thread (CPU) ms.
function cpuWorst(trace) {
  const ev = JSON.parse(trace).traceEvents;
  const main = new Set(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
    .map((e) => `${e.pid}:${e.tid}`));
  const tasks = ev.filter((e) => e.ph === 'X' && e.name === 'RunTask' && main.has(`${e.pid}:${e.tid}`));
  return { tasks: tasks.length, worst: Math.round(Math.max(0, ...tasks.map((e) => e.tdur ?? 0)) / 1000) };
}

async function attempt(browser, url, n) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1400 } });
  await context.addInitScript(() => {
    window.__longTasks = [];
    window.__loadTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        (window.__runStart !== undefined && e.startTime >= window.__runStart ? window.__longTasks : window.__loadTasks)
          .push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: true });
  });
  const page = await openPage(context, url);
  await page.check('input[name=source][value=paste]');
  await page.fill('#ws-text', readFileSync(join(repo, 'bench/sweep/workspace.yaml'), 'utf8'));
  await page.fill('#pl-text', readFileSync(join(repo, 'bench/sweep/pipelines.yaml'), 'utf8'));
  await page.click('#validate');
  await page.waitForFunction(() => document.getElementById('pipeline').value === 'bench_sweep'
    && document.getElementById('in-budget_usd'));
  await page.fill('#in-budget_usd', '280000');
  await page.fill('#seed', '1');
  const load0 = loadavg()[0];
  await browser.startTracing(page, { categories: ['disabled-by-default-devtools.timeline'] });
  const t0 = Date.now();
  await page.evaluate(() => { window.__runStart = performance.now(); });
  await page.click('#run');
  await page.waitForFunction(() => document.querySelectorAll('#results-table tbody tr[data-job]').length > 0,
    null, { timeout: 60000 });
  const during = Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1;
  const status = await waitDone(page, 200000);
  const seconds = (Date.now() - t0) / 1000;
  const trace = (await browser.stopTracing()).toString();
  mkdirSync(artefacts, { recursive: true });
  writeFileSync(join(artefacts, 'large-trace.json'), trace);
  const cpu = cpuWorst(trace);
  const long = await page.evaluate(() => window.__longTasks);
  const wall = Math.max(0, ...long);
  // The console's own measures (web/main.mjs: timed), the slowest of each.
  const measures = await page.evaluate(() => {
    const worst = {};
    for (const m of performance.getEntriesByType('measure'))
      if (m.name.startsWith('console:')) worst[m.name.slice(8)] = Math.max(worst[m.name.slice(8)] ?? 0, Math.round(m.duration));
    return worst;
  });
  log(`attempt ${n}: ${status} in ${seconds.toFixed(1)} s; ${long.length} long tasks, the longest ${wall} ms wall; ` +
    `the longest of ${cpu.tasks} tasks ${cpu.worst} ms CPU; load ${load0.toFixed(1)} -> ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`);
  log(`  slowest step of each view (ms): ${JSON.stringify(measures)}; long tasks before the run (not checked): ${
    await page.evaluate(() => window.__loadTasks)}`);
  return { page, context, status, during, wall, long, cpu, load: Math.min(load0, loadavg()[0]) };
}

await main('web_console_large', async () => {
  requireBuilt();
  const url = await startConsole();
  const browser = await launch();
  let a;
  for (let n = 1; n <= ATTEMPTS; n++) {
    if (a) await a.context.close();
    a = await attempt(browser, url, n);
    if (a.status !== 'succeeded' || a.cpu.worst >= LIMIT_MS || a.wall < LIMIT_MS) break;
  }
  const { page } = a;
  check(a.status === 'succeeded', `status: ${await page.textContent('#summary')}`);
  check(a.cpu.worst < LIMIT_MS, `a main-thread task of ${a.cpu.worst} ms CPU`);
  if (a.wall >= LIMIT_MS && a.cpu.worst < LIMIT_MS && a.load > 2 * cpus().length)
    skip(`the machine was too busy to measure long tasks (load ${a.load.toFixed(1)} on ${cpus().length} CPUs): ` +
      `a task of ${a.wall} ms wall, but at most ${a.cpu.worst} ms of CPU`);
  else check(a.wall < LIMIT_MS, `a long task of ${a.wall} ms (all: ${a.long.join(', ')})`);

  const rows = Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1;
  const inDom = await page.$$eval('#results-table tbody tr[data-job]', (t) => t.length);
  check(rows >= 10000, `${rows} rows`);
  check(a.during < rows, `rows arrived while running (${a.during} seen before the end of ${rows})`);
  check(inDom > 0 && inDom < 150, `${inDom} rows in the DOM (the table is virtualised)`);
  await page.$eval('#table-scroll', (s) => { s.scrollTop = s.scrollHeight; });
  await page.waitForFunction((n) => [...document.querySelectorAll('#results-table tbody tr[data-job]')].pop()
    ?.getAttribute('aria-rowindex') === String(n + 1), rows);
  await page.click('th[data-key="m.val_acc"] button');
  await page.click('th[data-key="m.val_acc"] button');
  await page.$eval('#table-scroll', (s) => { s.scrollTop = 0; });
  await page.waitForFunction(() => document.querySelector('#results-table tbody tr[data-job]')?.getAttribute('aria-rowindex') === '2');
  const first = await page.$eval('#results-table tbody tr[data-job]', (t) => t.dataset.job);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
  const out = JSON.parse(readFileSync(await dl.path(), 'utf8'));
  check(first === out.top_3[0].job_id, `first row sorted by val_acc ${first}, best ${out.top_3[0].job_id}`);
  log(`${rows} trials; best ${first}`);
  await screenshot(page, 'large.png');
});
