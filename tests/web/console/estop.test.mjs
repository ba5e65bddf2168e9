// web_console_estop: a sweep with early stopping and per-epoch progress
// (fixtures/early-stopping: a 3x3 grid on the simulated Conductor's learning
// curves, asha at rungs 3 and 6, `stream_progress: true`) pasted into the
// console and run embedded (virtual clock, seed 1). Checked against the
// terminal's run of the console's own CLI line on the same files: the table
// has one row per job (not one per chunk), in first-arrival order; the
// stopped jobs' rows say "stopped early at epoch N (bar B)" with the rung in
// their tooltip, and a filter shows them alone; the summary and the cost
// breakdown count them as stopped early; the downloaded .jsonl is
// byte-equal to the terminal's stream file (progress chunks included), the
// log has a STREAM line for every chunk (the terminal's lines), the CSV one
// line per job. Then the same sweep on the real clock (time scale 3600, a
// few seconds): while it runs a job's live row shows "running, epoch N/10",
// and the table never has more rows than jobs.
//   node estop.test.mjs SIBYL SOLVER CONDUCTOR
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { artefacts, check, launch, log, main, openPage, repo, requireBuilt, screenshot, startConsole, tempDir, waitDone } from './lib.mjs';

const sibyl = resolve(process.argv[2] ?? '');
const FIX = join(repo, 'tests/web/console/fixtures/early-stopping');
const ws = readFileSync(join(FIX, 'workspace.yaml'), 'utf8');
const pl = readFileSync(join(FIX, 'pipelines.yaml'), 'utf8');

const rows = (page) => page.$$eval('#results-table tbody tr[data-job]', (trs) => trs.map((t) =>
  ({ id: t.dataset.job, cls: t.className, state: t.cells[1].textContent, title: t.cells[1].title })));

await main('web_console_estop', async () => {
  requireBuilt();
  const url = await startConsole();
  const browser = await launch();
  const page = await openPage(browser, url);

  // Pasted, as a user does; the pipeline list follows the validation.
  await page.check('input[name=source][value=paste]');
  await page.fill('#ws-text', ws);
  await page.fill('#pl-text', pl);
  await page.click('#validate');
  await page.waitForFunction(() => [...document.getElementById('pipeline').options].some((o) => o.value === 'estop_sweep'));
  await page.selectOption('#pipeline', 'estop_sweep');
  await page.fill('#seed', '1');
  await page.click('#run');
  check(await waitDone(page) === 'succeeded', `status: ${await page.textContent('#summary')}`);
  const cli = await page.textContent('#cli');
  log(`console's command: ${cli}`);
  check(cli.startsWith('sibyl pipeline run estop_sweep --workspace workspace.yaml --config pipelines.yaml '), `CLI line: ${cli}`);

  // The terminal's run of that line beside the same two files.
  const dir = tempDir('estop');
  mkdirSync(join(dir, 'bin'));
  symlinkSync(sibyl, join(dir, 'bin', 'sibyl'));
  for (const f of ['workspace.yaml', 'pipelines.yaml']) copyFileSync(join(FIX, f), join(dir, f));
  execFileSync('bash', ['-c', `${cli} --output-dir out --no-progress > log.txt`],
    { cwd: dir, env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` }, stdio: ['ignore', 'ignore', 'inherit'] });
  const cliOut = JSON.parse(readFileSync(join(dir, 'out', 'sweep_output.json'), 'utf8'));
  const streamText = readFileSync(join(dir, 'out', 'sweep_output_stream.jsonl'), 'utf8');
  const chunks = streamText.trim().split('\n').map((l) => JSON.parse(l));
  const jobs = [...new Set(chunks.map((c) => c.job_id))];
  const stopped = chunks.filter((c) => c.type === 'job_stopped');
  const progress = chunks.filter((c) => c.type === 'job_progress').length;
  const completed = chunks.filter((c) => c.type === 'job_completed').length;
  log(`terminal: ${chunks.length} chunks (${progress} job_progress), ${jobs.length} jobs, ${stopped.length} stopped early`);
  // The fixture is meant to exercise all of it.
  check(progress > jobs.length && stopped.length > 0 && completed > 0, 'the fixture streams progress and stops jobs');

  // One row per job, in first-arrival order.
  const rowcount = Number(await page.getAttribute('#results-table', 'aria-rowcount'));
  check(rowcount === jobs.length + 1, `aria-rowcount ${rowcount}, jobs ${jobs.length} (chunks ${chunks.length})`);
  const shown = await rows(page);
  check(JSON.stringify(shown.map((r) => r.id)) === JSON.stringify(jobs), `rows ${shown.map((r) => r.id)} vs jobs ${jobs}`);
  check(await page.textContent('#row-count') === `${jobs.length} of ${jobs.length} trials shown`, 'row count');
  for (const c of stopped) {
    const r = shown.find((x) => x.id === c.job_id);
    check(r?.state === `stopped early at epoch ${c.step} (bar ${c.bar})` && r.cls === 'stopped'
      && r.title.includes(`rung ${c.rung}`), `${c.job_id}'s row: ${JSON.stringify(r)}`);
  }
  check(shown.filter((r) => r.state === 'completed').length === completed, `completed rows: ${shown.map((r) => r.state)}`);
  check(!shown.some((r) => /running|unfinished/.test(r.state)), 'no row still running at the end');
  await page.selectOption('#filter', 'stopped');
  const only = await rows(page);
  check(JSON.stringify(only.map((r) => r.id)) === JSON.stringify(stopped.map((c) => c.job_id).sort((a, b) => jobs.indexOf(a) - jobs.indexOf(b))),
    `stopped filter: ${only.map((r) => r.id)}`);
  await page.selectOption('#filter', 'all');

  // Counted as stopped early: in the summary and the cost breakdown.
  const summary = await page.textContent('#summary');
  log(`summary: ${summary}`);
  check(summary.includes(`${jobs.length} of ${jobs.length} trials finished (${completed} completed, 0 failed, ${stopped.length} stopped early)`)
    && !summary.includes('cancelled'), `summary: ${summary}`);
  check(summary.includes(`best val_acc ${cliOut.best_score}`), `summary's best: ${summary}`);
  const se = cliOut.cost_breakdown.stopped_early;
  const seText = await page.textContent('#stopped-early-cost td');
  check(se.jobs === stopped.length && seText === `${se.jobs} jobs, $${se.cost_usd.toFixed(2)}`, `stopped early in the cost breakdown: ${seText}`);

  // The stream as the terminal wrote it, byte for byte; the log with every chunk.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-jsonl')]);
  const jsonl = readFileSync(await dl.path(), 'utf8');
  check(jsonl === streamText, `downloaded .jsonl (${jsonl.length} bytes) differs from the terminal's stream file (${streamText.length})`);
  const bare = (l) => l.replace(/^\[[^\]]*\] /, '').replace(/; results in .*/, '');
  const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#dl-log')]);
  const logLines = readFileSync(await dl2.path(), 'utf8').trim().split('\n').map(bare);
  const cliLines = readFileSync(join(dir, 'log.txt'), 'utf8').trim().split('\n').map(bare);
  check(logLines.filter((l) => l.startsWith('STREAM: ')).length === chunks.length, 'a STREAM line per chunk in the log');
  check(JSON.stringify(logLines) === JSON.stringify(cliLines),
    `downloaded log (${logLines.length} lines) differs from the terminal's (${cliLines.length}): ${logLines.find((l, i) => l !== cliLines[i])}`);
  const [dl3] = await Promise.all([page.waitForEvent('download'), page.click('#dl-csv')]);
  const csv = readFileSync(await dl3.path(), 'utf8').trim().split('\r\n');
  check(csv.length === jobs.length + 1 && csv[0].endsWith(',step,epochs,rung,bar'), `CSV: ${csv[0]} (${csv.length} lines)`);
  check(csv.filter((l) => l.includes(',stopped,')).length === stopped.length, 'CSV: the stopped jobs');
  await screenshot(page, 'estop.png');

  // Live rows on the real clock: a job's row shows its epoch while it runs.
  await page.selectOption('#clock', 'real');
  await page.fill('#time-scale', '3600');
  await page.click('#run');
  const maxRows = jobs.length + 1;
  const live = await page.waitForFunction((max) => {
    const t = document.getElementById('results-table');
    if (Number(t.getAttribute('aria-rowcount')) > max) return `too many rows: ${t.getAttribute('aria-rowcount')}`;
    const tr = [...t.querySelectorAll('tbody tr[data-job]')].find((r) => /^running, epoch \d+\/10$/.test(r.cells[1].textContent));
    return tr ? `${tr.dataset.job}: ${tr.cells[1].textContent} (${tr.className})` : false;
  }, maxRows, { timeout: 60000, polling: 50 }).then((h) => h.jsonValue());
  log(`while running: ${live}`);
  await page.locator('#table-scroll').screenshot({ path: join(artefacts, 'estop-live.png') });
  check(/^job_\d+: running, epoch \d+\/10 \(live\)$/.test(live), `a live row: ${live}`);
  check(await waitDone(page, 60000) === 'succeeded', `real-clock run: ${await page.textContent('#summary')}`);
  const end = await rows(page);
  check(end.length === jobs.length && !end.some((r) => /running/.test(r.state)), `real-clock run: rows ${JSON.stringify(end)}`);
});
