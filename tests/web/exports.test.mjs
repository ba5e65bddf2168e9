// web_exports: the built module exposes exactly what host-web/exports.txt
// lists (C functions as Module._name, runtime helpers by name), beside
// Emscripten's own fixed members, and sibyl.wasm exports nothing else.
//   node --no-warnings exports.test.mjs WEB_BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir] = process.argv.slice(2);
if (!sourceDir) die('usage: exports.test.mjs WEB_BUILD_DIR SOURCE_DIR');
const dir = moduleDir(webDir, sourceDir);

// Same reading rules as host-web/CMakeLists.txt.
const functions = [];
const runtime = [];
for (const line of readFileSync(join(sourceDir, 'host-web', 'exports.txt'), 'utf8').split('\n')) {
  let m;
  if (/^\s*(#.*)?$/.test(line)) continue;
  else if ((m = /^runtime +([A-Za-z_]\w*)$/.exec(line))) runtime.push(m[1]);
  else if ((m = /^([A-Za-z_]\w*)$/.exec(line))) functions.push(m[1]);
  else die(`exports.txt: cannot read line '${line}'`);
}

// What Emscripten 3.1.6 always puts on the module object (with MODULARIZE,
// INVOKE_RUN=0, under Node). If an Emscripten upgrade changes this set, this
// list is the one place to update.
const EMSCRIPTEN_FUNCTIONS = ['___wasm_call_ctors', 'run', 'inspect'];

const { default: createSibylModule } = await import(pathToFileURL(join(dir, 'sibyl.mjs')).href);
const m = await createSibylModule();

test('exports.txt lists sb_web_ functions and runtime helpers', () => {
  assert.ok(functions.length > 0 && runtime.length > 0);
  for (const f of functions) assert.match(f, /^sb_web_/, `${f}: the shim's exports use the sb_web_ prefix`);
});

test('the module object has exactly the listed functions', () => {
  const got = Object.keys(m).filter((k) => typeof m[k] === 'function').sort();
  const want = [...functions.map((f) => `_${f}`), ...runtime, ...EMSCRIPTEN_FUNCTIONS].sort();
  assert.deepEqual(got, want);
});

test('sibyl.wasm exports one function per listed C function, plus memory, table and constructors', () => {
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(dir, 'sibyl.wasm'))));
  const count = (kind) => exports.filter((e) => e.kind === kind).length;
  assert.equal(count('function'), functions.length + 1, JSON.stringify(exports)); // + __wasm_call_ctors
  assert.equal(count('memory'), 1);
  assert.equal(count('table'), 1);
  assert.equal(exports.length, functions.length + 3);
});
