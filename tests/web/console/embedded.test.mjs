// web_console_embedded (issue 12, 4a): the console runs the bundled example
// embedded (virtual clock, seed 1) in headless Chromium, and what it shows
// equals the terminal's run of the command line the console itself offers
// ("copy as CLI command"): the best configuration, the best score, the total
// cost, one table row per stream line. Also: the table sorts (aria-sort), the
// filter keeps only failed jobs, every DAG step ends succeeded, the log
// (role=log) has the terminal's last line, the downloads are the run's files
// (sweep_output.json equal to the CLI's), the URL fragment reproduces the
// run, a dark colour scheme renders too, and a browser without module
// workers runs the same in the page. Screenshots go to
// build/web-console/.
//   node embedded.test.mjs SIBYL SOLVER CONDUCTOR
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { artefacts, check, launch, log, main, openPage, repo, requireBuilt, screenshot, startConsole, tempDir, waitDone } from './lib.mjs';

const sibyl = resolve(process.argv[2] ?? '');

// The console's best-configuration table as { name: text }.
const kv = (page, sel) => page.$$eval(`${sel} tr`, (trs) => Object.fromEntries(trs.map((tr) =>
  [tr.querySelector('th').textContent, tr.querySelector('td').textContent])));

await main('web_console_embedded', async () => {
  requireBuilt();
  const url = await startConsole();
  const browser = await launch();
  const page = await openPage(browser, url);

  // The form as a user fills it, from the keyboard: the seed, then Enter.
  await page.focus('#seed');
  await page.keyboard.type('1');
  await page.keyboard.press('Enter');
  check(await waitDone(page) === 'succeeded', `status: ${await page.textContent('#summary')}`);
  const cli = await page.textContent('#cli');
  log(`console's command: ${cli}`);
  check(cli.startsWith('sibyl pipeline run hyperparameter_sweep ') && cli.includes(' --seed 1 '), `CLI line: ${cli}`);

  // The same run in the terminal: the console's line, run by bash from the
  // repository's root with `sibyl` the native build, into a temporary folder.
  const dir = tempDir('embedded');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(sibyl, join(dir, 'bin', 'sibyl'));
  execFileSync('bash', ['-c', `${cli} --output-dir ${dir}/out --no-progress > ${dir}/log.txt`],
    { cwd: repo, env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'inherit'] });
  const cliOut = JSON.parse(readFileSync(join(dir, 'out', 'sweep_output.json'), 'utf8'));
  const stream = readFileSync(join(dir, 'out', 'sweep_output_stream.jsonl'), 'utf8').trim().split('\n');

  const best = await kv(page, '#best');
  const want = Object.fromEntries(Object.entries(cliOut.best_hyperparameters).map(([k, v]) => [k, JSON.stringify(v)]));
  want['best val_acc'] = String(cliOut.best_score);
  check(JSON.stringify(best) === JSON.stringify(want), `best configuration shown ${JSON.stringify(best)}, CLI ${JSON.stringify(want)}`);
  const total = await page.textContent('#total-cost td');
  check(Number(total.replace(/[$,]/g, '')) === cliOut.total_cost, `total shown ${total}, CLI ${cliOut.total_cost}`);
  const top3 = await page.$$eval('#top3 tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  check(JSON.stringify(top3) === JSON.stringify(cliOut.top_3.map((r) => r.job_id)), `top 3 ${top3}`);
  log(`best ${JSON.stringify(best)}, total ${total}, top 3 ${top3.join(' ')}`);

  // The table: one row per stream line (aria-rowcount counts the header).
  const rowcount = Number(await page.getAttribute('#results-table', 'aria-rowcount'));
  check(rowcount === stream.length + 1, `aria-rowcount ${rowcount}, stream lines ${stream.length}`);
  const ids = await page.$$eval('#results-table tbody tr[data-job]', (trs) => trs.map((t) => t.dataset.job));
  check(JSON.stringify(ids) === JSON.stringify(stream.map((l) => JSON.parse(l).job_id)), `table rows in arrival order: ${ids}`);
  // Sort by the metric, descending: the best first, and aria-sort says so.
  const th = 'th[data-key="m.val_acc"]';
  await page.focus(`${th} button`);      // headers are buttons: Enter sorts
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  check(await page.getAttribute(th, 'aria-sort') === 'descending', 'aria-sort after two clicks');
  check(await page.getAttribute('th[data-key="id"]', 'aria-sort') === 'none', 'other headers: aria-sort none');
  const first = await page.$eval('#results-table tbody tr[data-job]', (t) => t.dataset.job);
  check(first === cliOut.top_3[0].job_id, `first row after sorting: ${first}`);
  check(await page.textContent('th[data-key="hp.learning_rate"]') === 'learning_rate (log)', 'learning_rate is a log-scaled column');
  await page.selectOption('#filter', 'failed');
  const failed = await page.$$eval('#results-table tbody tr[data-job]', (trs) => trs.map((t) => t.cells[1].textContent));
  const wantFailed = stream.filter((l) => JSON.parse(l).type !== 'job_completed').length;
  check(failed.length === wantFailed && failed.every((s) => s === 'failed'), `failed filter: ${failed}`);
  await page.selectOption('#filter', 'all');

  // Steps, log, summary.
  const states = await page.$$eval('#dag g[data-step]', (gs) => gs.map((g) => `${g.dataset.step}=${g.dataset.status}`));
  check(states.length === Object.keys(cliOut.steps).length && states.every((s) => s.endsWith('=succeeded')), `DAG: ${states}`);
  const lastLog = await page.$eval('[role=log]', (l) => l.lastElementChild.textContent);
  const cliLast = readFileSync(join(dir, 'log.txt'), 'utf8').trim().split('\n').pop();
  // (the same but for the time and the output folder)
  const bare = (l) => l.replace(/^\[[^\]]*\] /, '').replace(/; results in .*/, '');
  check(bare(lastLog) === bare(cliLast) && /^SUCCESS: Pipeline .* completed/.test(bare(lastLog)), `last log line ${lastLog} vs CLI ${cliLast}`);
  check(/^Succeeded: .* best val_acc 86\.24/.test(await page.textContent('[role=status]#summary')), 'summary');

  // Downloads are the run's own files.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-json')]);
  const json = readFileSync(await dl.path(), 'utf8');
  check(JSON.stringify(JSON.parse(json)) === JSON.stringify(cliOut), 'downloaded sweep_output.json equals the CLI\'s');
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
  const csv = readFileSync(await dl2.path(), 'utf8').trim().split('\r\n');
  check(csv.length === stream.length + 1 && csv[0].startsWith('job_id,status,retry_of,learning_rate'), `CSV: ${csv[0]} (${csv.length} lines)`);
  // A colour-scheme change redraws the canvases (their data-scheme says for which).
  check(await page.getAttribute('#parcoords', 'data-scheme') === 'light', 'parallel coordinates drawn for light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => document.getElementById('parcoords').dataset.scheme === 'dark'
    && document.getElementById('history').dataset.scheme === 'dark' && document.getElementById('burn').dataset.scheme === 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => document.getElementById('parcoords').dataset.scheme === 'light');
  // The log download: the terminal's lines (times and the output folder aside).
  const [dl3] = await Promise.all([page.waitForEvent('download'), page.click('#dl-log')]);
  const logLines = readFileSync(await dl3.path(), 'utf8').trim().split('\n').map(bare);
  const cliLines = readFileSync(join(dir, 'log.txt'), 'utf8').trim().split('\n').map(bare);
  check(JSON.stringify(logLines) === JSON.stringify(cliLines),
    `downloaded log (${logLines.length} lines) differs from the terminal's (${cliLines.length}): ${logLines.find((l, i) => l !== cliLines[i])}`);
  await screenshot(page, 'embedded.png');
  // The run's part of the page alone (the picture in docs/console.png).
  await page.$eval('#table-scroll', (t) => { t.scrollTop = 0; });
  await page.locator('#live').screenshot({ path: join(artefacts, 'embedded-run.png') });

  // "Copy as CLI command" and "Copy link" put their text on the clipboard.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(url).origin });
  await page.click('#copy-cli');
  check(await page.evaluate(() => navigator.clipboard.readText()) === cli, 'the CLI line on the clipboard');
  await page.click('#copy-link');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  check(link.startsWith(url) && /[#&]run=1(&|$)/.test(link) && /[#&]seed=1(&|$)/.test(link), `the link: ${link}`);

  // The link reproduces the run: a fresh page opened with it starts by
  // itself and ends with the same best and total.
  const dark = await openPage(browser, link, { colorScheme: 'dark' });
  check(await waitDone(dark) === 'succeeded', 'the linked run');
  check(JSON.stringify(await kv(dark, '#best')) === JSON.stringify(want), 'the linked run: best');
  check(await dark.textContent('#total-cost td') === total, 'the linked run: total');
  const bg = await dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(bg === 'rgb(21, 23, 26)', `dark scheme background ${bg}`);
  await screenshot(dark, 'embedded-dark.png');

  // Without module workers the console runs the module in the page: same result.
  const noWorker = await openPage(browser, link, { inPage: true });
  check(await waitDone(noWorker) === 'succeeded', 'the run without a worker');
  check(JSON.stringify(await kv(noWorker, '#best')) === JSON.stringify(want), 'without a worker: best');
  check(await noWorker.textContent('#total-cost td') === total, 'without a worker: total');
});
