// web_console_live: per-epoch progress and early stopping in the console's
// model (web/model.mjs, export.mjs, table.mjs's state text), under Node. A
// job's job_progress chunks keep one live row (running, its epoch, its latest
// metrics) that its final chunk replaces in place; live metrics never make
// the best, the history or the target metric; job_stopped rows say where
// they stopped and are counted apart; the CSV has one line per job; the
// stream keeps every chunk as streamed.
//   node --no-warnings live.test.mjs SOURCE_DIR
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

const src = process.argv[2];
if (!src) { process.stderr.write('usage: live.test.mjs SOURCE_DIR\n'); process.exit(2); }
const load = (f) => import(pathToFileURL(join(src, 'web', f)).href);
const { RunModel } = await load('model.mjs');
const { toCsv, runFiles } = await load('export.mjs');
const { stateText, stoppedTitle } = await load('table.mjs');

const ev = (c) => ({ type: 'chunk', time_ms: 1000, chunk: c });
const hp = (lr) => ({ learning_rate: lr, batch_size: 64 });
const progress = (id, step, acc) => ev({ type: 'job_progress', job_id: id, step, epochs: 10,
  metrics: { val_acc: acc, train_loss: (100 - acc) / 100, epoch_seconds: 30 } });
const completed = (id, lr, acc, extra = {}) => ev({ type: 'job_completed', job_id: id, hyperparameters: hp(lr),
  metrics: { val_acc: acc, train_loss: (100 - acc) / 100 }, duration_seconds: 3600, cost_usd: 10, ...extra });
const failed = (id, lr) => ev({ type: 'job_failed', job_id: id, hyperparameters: hp(lr), error: 'NaN loss detected',
  error_type: 'transient', duration_seconds: 600, cost_usd: 2 });
const stopped = (id, lr, acc) => ev({ type: 'job_stopped', job_id: id, hyperparameters: hp(lr), reason: 'early_stopping',
  step: 3, epochs: 10, rung: 3, bar: 65.1, metrics: { val_acc: acc, train_loss: 0.61 }, duration_seconds: 1080, cost_usd: 3 });

// job_001 runs 3 epochs and completes; job_002 and job_003 interleave;
// job_002 is stopped early at rung 3 with a better live value than the
// final best; job_003 fails and is retried; the retry reports epochs and
// completes; job_005 reports one epoch and never ends (the run is cancelled).
const SWEEP = [
  progress('job_001', 1, 50), progress('job_002', 1, 40), progress('job_001', 2, 60), progress('job_003', 1, 45),
  progress('job_002', 2, 99), progress('job_001', 3, 70), completed('job_001', 0.01, 80),
  progress('job_002', 3, 61.2), stopped('job_002', 0.1, 61.2), failed('job_003', 0.001),
  progress('job_003_retry_1', 1, 55), completed('job_003_retry_1', 0.001, 85, { retry_of: 'job_003' }),
  progress('job_005', 1, 98),
];

test('one row per job, in first-arrival order; a final chunk replaces the live row in place', () => {
  const m = new RunModel({ metric: 'val_acc' });
  const c = m.applyAll(SWEEP.slice(0, 6));
  assert.equal(c.rows, true);   // three live rows appeared
  assert.deepEqual(m.rows.map((r) => [r.n, r.id, r.status, r.live, r.step, r.epochs]), [
    [1, 'job_001', 'running', true, 3, 10], [2, 'job_002', 'running', true, 2, 10], [3, 'job_003', 'running', true, 1, 10]]);
  assert.deepEqual(m.rows[0].metrics, { val_acc: 70, train_loss: 0.3, epoch_seconds: 30 });
  assert.deepEqual(m.rows[0].hp, {});
  assert.equal(m.live, 3);
  // An epoch of a job that has its row already: only `live` (no re-sort, no re-filter).
  const d = m.applyAll([progress('job_002', 2, 99)]);
  assert.deepEqual([d.rows, d.live], [false, true]);

  m.applyAll(SWEEP.slice(6));
  assert.deepEqual(m.rows.map((r) => [r.n, r.id, r.status]), [
    [1, 'job_001', 'completed'], [2, 'job_002', 'stopped'], [3, 'job_003', 'failed'],
    [4, 'job_003_retry_1', 'completed'], [5, 'job_005', 'running']]);
  const first = m.rows[0];
  assert.equal(m.byId.get('job_001'), first);
  assert.deepEqual([first.live, first.hp, first.metrics, first.cost], [false, hp(0.01), { val_acc: 80, train_loss: 0.2 }, 10]);
  assert.equal(m.rows[2].retried, true);
  assert.equal(m.rows[3].retryOf, 'job_003');
  assert.equal(m.live, 1);
});

test('counts, the best, the history and the metric list ignore live values', () => {
  const m = new RunModel();   // no target metric: the first final chunk's first metric
  m.applyAll(SWEEP);
  assert.deepEqual(m.counts, { completed: 2, failed: 1, retries: 1, stopped: 1 });
  assert.equal(m.metric, 'val_acc');
  assert.deepEqual(m.metrics, ['val_acc', 'train_loss']);
  assert.deepEqual(m.liveMetrics, ['epoch_seconds']);   // shown for live rows, never a target
  assert.equal(m.best.id, 'job_003_retry_1');           // not job_002 (99 live, stopped) nor job_005 (98 live)
  assert.deepEqual(m.history, { x: [1, 2], y: [80, 85], best: [80, 85] });
  assert.deepEqual(m.params, ['learning_rate', 'batch_size']);
  // A run whose first chunks are all progress picks no target from them.
  const n = new RunModel();
  n.applyAll([progress('job_001', 1, 50)]);
  assert.deepEqual([n.metric, n.metrics, n.best], [null, [], null]);
});

test('filters: running, stopped early, failed', () => {
  const m = new RunModel({ metric: 'val_acc' });
  m.applyAll(SWEEP);
  const ids = (f) => m.filtered(f).map((r) => r.id);
  assert.deepEqual(ids('running'), ['job_005']);
  assert.deepEqual(ids('stopped'), ['job_002']);
  assert.deepEqual(ids('failed'), ['job_003']);
  assert.deepEqual(ids('completed'), ['job_001', 'job_003_retry_1']);
  assert.deepEqual(ids('retried'), ['job_003', 'job_003_retry_1']);
});

test('stopped rows say where; live rows their epoch', () => {
  const m = new RunModel({ metric: 'val_acc' });
  m.applyAll(SWEEP);
  const s = m.byId.get('job_002');
  assert.deepEqual([s.step, s.epochs, s.rung, s.bar, s.reason], [3, 10, 3, 65.1, 'early_stopping']);
  assert.equal(stateText(s), 'stopped early at epoch 3 (bar 65.1)');
  assert.equal(stoppedTitle(s), 'stopped by early_stopping, rung 3, epoch 3 of 10, bar 65.1');
  assert.equal(stateText(m.byId.get('job_005')), 'running, epoch 1/10');
  assert.equal(stateText(m.byId.get('job_001')), 'completed');
});

test('a run that ends before a job\'s final chunk: the row ends unfinished, counts unchanged', () => {
  const m = new RunModel({ metric: 'val_acc' });
  m.applyAll(SWEEP);
  const c = m.applyAll([{ type: 'done', time_ms: 2000, status: 'cancelled' }]);
  assert.equal(c.rows, true);
  const r = m.byId.get('job_005');
  assert.deepEqual([r.status, r.live, r.step, r.metrics.val_acc], ['unfinished', false, 1, 98]);
  assert.equal(stateText(r), 'unfinished, epoch 1/10');
  assert.equal(m.live, 0);
  assert.deepEqual(m.counts, { completed: 2, failed: 1, retries: 1, stopped: 1 });
  assert.equal(m.best.id, 'job_003_retry_1');
  assert.deepEqual(m.filtered('running'), []);
  assert.equal(m.end('cancelled'), false);   // nothing left to end
});

test('CSV: one line per job in its last state, with where it got to', () => {
  const m = new RunModel({ metric: 'val_acc' });
  m.applyAll(SWEEP);
  assert.equal(toCsv(m),
    'job_id,status,retry_of,learning_rate,batch_size,val_acc,train_loss,epoch_seconds,cost_usd,duration_seconds,' +
    'error_type,error,step,epochs,rung,bar\r\n' +
    'job_001,completed,,0.01,64,80,0.2,,10,3600,,,,,,\r\n' +
    'job_002,stopped,,0.1,64,61.2,0.61,,3,1080,,,3,10,3,65.1\r\n' +
    'job_003,failed,,0.001,64,,,,2,600,transient,NaN loss detected,,,,\r\n' +
    'job_003_retry_1,completed,job_003,0.001,64,85,0.15,,10,3600,,,,,,\r\n' +
    'job_005,running,,,,98,0.02,30,,,,,1,10,,\r\n');
  // Without progress or stops the columns are as before.
  const plain = new RunModel({ metric: 'val_acc' });
  plain.applyAll([completed('job_001', 0.01, 80)]);
  assert.equal(toCsv(plain).split('\r\n')[0],
    'job_id,status,retry_of,learning_rate,batch_size,val_acc,train_loss,cost_usd,duration_seconds,error_type,error');
});

test('the stream keeps every chunk, progress chunks included; the log a STREAM line each', () => {
  const m = new RunModel({ metric: 'val_acc' });
  const c = m.applyAll(SWEEP);
  assert.deepEqual(m.chunks, SWEEP.map((e) => e.chunk));
  assert.equal(c.log.filter((l) => l.level === 'STREAM').length, SWEEP.length);
  assert.deepEqual(c.log.map((l) => l.message), SWEEP.map((e) => JSON.stringify(e.chunk)));
  // A run that ended before writing its files: the stream is rebuilt from every chunk.
  const f = runFiles({ files: {}, outputs: {} }, m);
  assert.equal(f.jsonl, SWEEP.map((e) => `${JSON.stringify(e.chunk)}\n`).join(''));
  // The run's own file wins when there is one.
  assert.equal(runFiles({ files: { 'out/sweep_output_stream.jsonl': 'as written\n' } }, m).jsonl, 'as written\n');
});
