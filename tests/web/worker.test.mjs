// web_worker: the API runs off the main thread. A node:worker_threads
// worker imports sibyl-api.mjs, runs the headline example embedded and posts
// its events and result; the main thread keeps ticking meanwhile, and the
// result equals the same run made on the main thread.
//   node --no-warnings worker.test.mjs WEB_BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir] = process.argv.slice(2);
if (!sourceDir) die('usage: worker.test.mjs WEB_BUILD_DIR SOURCE_DIR');
const dir = moduleDir(webDir, sourceDir);
const apiUrl = pathToFileURL(join(dir, 'sibyl-api.mjs')).href;
const config = join(sourceDir, 'examples/companies/vertex_foundry/config');
const options = {
  workspace: { file: 'workspace.yaml', text: readFileSync(join(config, 'workspace.yaml'), 'utf8') },
  pipelines: { file: 'pipelines.yaml', text: readFileSync(join(config, 'pipelines.yaml'), 'utf8') },
  pipeline: 'hyperparameter_sweep', seed: 11, startTime: 1700000000000,
};

// The worker: what a page's Web Worker would do, with worker_threads'
// parentPort in place of self.postMessage.
const workerSource = `
import { parentPort, workerData, threadId, isMainThread } from 'node:worker_threads';
const { Sibyl } = await import(workerData.apiUrl);
const sibyl = await Sibyl.load();
const run = sibyl.run(workerData.options);
run.on('*', (e) => parentPort.postMessage({ event: e }));
const r = await run.done;
parentPort.postMessage({ result: { status: r.status, files: r.files, stream: r.stream }, threadId, isMainThread });
`;

test('a run in a worker thread streams events to the main thread and gives the same result', async () => {
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource)}`),
                            { workerData: { apiUrl, options } });
  const events = [];
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let got;
  try {
    got = await new Promise((resolve, reject) => {
      worker.on('message', (m) => (m.event ? events.push(m.event) : resolve(m)));
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new Error(`the worker exited (${code}) without a result`)));
    });
  } finally {
    clearInterval(timer);
    await worker.terminate();
  }
  assert.equal(got.isMainThread, false);
  assert.notEqual(got.threadId, 0);
  assert.equal(got.result.status, 'succeeded');
  assert.ok(ticks > 0, 'the main thread ran timers during the run');
  assert.equal(events.at(-1).type, 'done');
  assert.deepEqual(events.filter((e) => e.type === 'chunk').map((e) => e.chunk), got.result.stream);

  const { Sibyl } = await import(apiUrl);
  const here = await (await Sibyl.load()).run(options).done;
  assert.equal(got.result.files['sweep_output.json'], here.files['sweep_output.json']);
  assert.equal(got.result.files['sweep_output_stream.jsonl'], here.files['sweep_output_stream.jsonl']);
});
