// web_browser_path: the module's browser code path, approximated in Node.
// With `process` removed and `window` defined, Emscripten's loader takes its
// web branch: sibyl.wasm is fetched (here by a stand-in fetch that reads the
// file) from the URL next to sibyl.mjs, and the Node fixes in
// node-env.extern-pre.js / wasm-load.pre.js must stay out of the way. Not a
// substitute for a real browser (headless Chromium is not installed here).
//   node --no-warnings browser-path.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir, projectVersion] = process.argv.slice(2);
if (!projectVersion) die('usage: browser-path.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION');
const dir = moduleDir(webDir, sourceDir);
const proc = process;

const fetched = [];
globalThis.fetch = async (url) => {
  fetched.push(String(url));
  return new Response(readFileSync(fileURLToPath(url)), { headers: { 'content-type': 'application/wasm' } });
};
globalThis.window = globalThis;
delete globalThis.process; // what makes the loader believe it is not in Node

try {
  assert.equal(typeof process, 'undefined');
  const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
  const sibyl = await Sibyl.load();
  assert.deepEqual(fetched, [pathToFileURL(join(dir, 'sibyl.wasm')).href], 'sibyl.wasm is fetched once, beside sibyl.mjs');
  assert.equal(sibyl.version(), projectVersion);
  assert.deepEqual(sibyl.loadYaml('w.yaml', 'a: [1, 2]\n'), { ok: true, value: { a: [1, 2] }, diagnostics: [] });
  assert.equal(sibyl.loadYaml('w.yaml', 'a: [\n').diagnostics[0].file, 'w.yaml');
  console.log('web_browser_path: loaded through fetch() as in a browser');
} catch (e) {
  proc.stderr.write(`FAIL ${e.stack || e}\n`);
  proc.exitCode = 1;
}
