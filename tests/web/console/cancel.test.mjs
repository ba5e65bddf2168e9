// web_console_cancel (issue 12, 4d): Cancel in the middle of a run keeps
// the rows received. The example runs embedded on the real clock at 3600
// simulated seconds per second (a trial takes about two seconds), so a few
// rows arrive before the test presses Cancel. Checked: the run ends
// "cancelled"; every row seen before Cancel is still in the table, in the
// same order; the downloaded stream (.jsonl) holds exactly the table's rows;
// the partial result (cost breakdown) is shown; Run is enabled again. The
// page runs with prefers-reduced-motion: reduce, so the running step in the
// graph does not pulse. Then Run again on the same page: a fresh table.
//   node cancel.test.mjs SIBYL SOLVER CONDUCTOR
import { readFileSync } from 'node:fs';
import { check, launch, log, main, openPage, requireBuilt, screenshot, startConsole, waitDone } from './lib.mjs';

const ids = (page) => page.$$eval('#results-table tbody tr[data-job]', (trs) => trs.map((t) => t.dataset.job));

await main('web_console_cancel', async () => {
  requireBuilt();
  const url = await startConsole();
  const browser = await launch();
  const page = await openPage(browser, url, { reducedMotion: 'reduce' });
  await page.fill('#seed', '1');
  await page.selectOption('#clock', 'real');
  await page.fill('#time-scale', '3600');
  await page.click('#run');
  await page.waitForFunction(() => document.querySelectorAll('#results-table tbody tr[data-job]').length >= 3,
    null, { timeout: 60000, polling: 50 });
  // While jobs run, the burn-down's text names the money committed to them.
  await page.waitForFunction(() => /^spent \$[\d,.]+ \+ \$[\d,.]+ committed of \$500\.00$/.test(document.getElementById('burn-text').textContent),
    null, { timeout: 10000 });
  log(`burn-down: ${await page.textContent('#burn-text')}`);
  // prefers-reduced-motion: a running step does not pulse.
  const anim = await page.$eval('#dag g.running rect', (r) => getComputedStyle(r).animationName).catch(() => 'no running step');
  check(anim === 'none', `a running step's animation with reduced motion: ${anim}`);
  const before = await ids(page);   // the rows shown just before Cancel (the cancelled jobs' rows follow)
  await page.click('#cancel');
  log(`rows at cancel: ${before.join(' ')}`);
  check(await waitDone(page, 60000) === 'cancelled', `status: ${await page.textContent('#summary')}`);
  const after = await ids(page);
  check(before.every((id, i) => after[i] === id), `rows kept: before ${before}, after ${after}`);
  check(after.length < 19, `the run went on to the end (${after.length} rows)`);
  const states = await page.$$eval('#results-table tbody tr[data-job]', (trs) => trs.map((t) => t.cells[1].textContent));
  check(states.includes('cancelled'), `the jobs running at the cancel are listed as cancelled: ${states}`);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-jsonl')]);
  const stream = readFileSync(await dl.path(), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).job_id);
  check(JSON.stringify(stream) === JSON.stringify(after), `stream ${stream} vs table ${after}`);
  check(/^Cancelled: /.test(await page.textContent('#summary')), 'summary says cancelled');
  const cost = await page.$$eval('#cost th', (ths) => ths.map((t) => t.textContent));
  check(cost.includes('total') && cost.includes('budget'), `partial cost breakdown: ${cost}`);
  check(!(await page.isDisabled('#run')) && await page.isDisabled('#cancel'), 'Run enabled, Cancel disabled after the end');
  log(`${after.length} rows after the cancel; ${await page.textContent('#summary')}`);
  await screenshot(page, 'cancel.png');

  // Run again on the same page (virtual clock): the views start afresh.
  await page.selectOption('#clock', 'virtual');
  await page.click('#run');
  await page.waitForFunction(() => ['running', 'succeeded'].includes(document.getElementById('summary').dataset.status),
    null, { polling: 10 });
  check(await waitDone(page, 60000) === 'succeeded', `second run: ${await page.textContent('#summary')}`);
  const again = Number(await page.getAttribute('#results-table', 'aria-rowcount')) - 1;
  check(again === 19, `second run: ${again} rows (the example with seed 1 has 19)`);
});
