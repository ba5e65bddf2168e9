// web_api_types: host-web/sibyl-api.d.ts declares exactly the methods the
// API has (Sibyl's static and instance methods, Run's and Watch's), and
// every event type run.on() accepts. A small check in place of tsc (which
// is not installed): it reads the declarations, not their types.
//   node --no-warnings api-types.test.mjs WEB_BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir] = process.argv.slice(2);
if (!sourceDir) die('usage: api-types.test.mjs WEB_BUILD_DIR SOURCE_DIR');
const dir = moduleDir(webDir, sourceDir);
const dts = readFileSync(join(sourceDir, 'host-web', 'sibyl-api.d.ts'), 'utf8');
const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
const sibyl = await Sibyl.load();

// The members declared in `class NAME {...}` or `interface NAME {...}`
// (top-level braces only): methods `name(` and read-only fields `readonly name:`.
function declared(kind, name) {
  const start = dts.indexOf(`${kind} ${name} `);
  assert.ok(start >= 0, `sibyl-api.d.ts declares ${kind} ${name}`);
  let depth = 0, i = dts.indexOf('{', start), body = '';
  for (; i < dts.length; i++) {
    if (dts[i] === '{' && depth++ === 0) continue;
    if (dts[i] === '}' && --depth === 0) break;
    if (depth === 1) body += dts[i];
  }
  const methods = [...body.matchAll(/^\s*(?:static\s+)?(?:private\s+)?([A-Za-z_]\w*)\s*(?:<[^>]*>)?\(/gm)].map((m) => m[1]);
  const statics = [...body.matchAll(/^\s*static\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1]);
  const fields = [...body.matchAll(/^\s*readonly\s+([A-Za-z_]\w*)\s*:/gm)].map((m) => m[1]);
  return { methods: methods.filter((m) => m !== 'constructor').sort(), statics: statics.sort(), fields: fields.sort() };
}

const protoMethods = (o) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((k) => k !== 'constructor').sort();
const ws = readFileSync(join(sourceDir, 'examples/companies/vertex_foundry/config/workspace.yaml'), 'utf8');
const pl = readFileSync(join(sourceDir, 'examples/companies/vertex_foundry/config/pipelines.yaml'), 'utf8');

test('class Sibyl: every method declared, nothing more', () => {
  const d = declared('class', 'Sibyl');
  const statics = Object.getOwnPropertyNames(Sibyl).filter((k) => typeof Sibyl[k] === 'function').sort();
  assert.deepEqual(d.statics, statics);
  assert.deepEqual(d.methods, [...statics, ...protoMethods(sibyl)].sort());
});

test('interface Run and interface Watch: methods and done', async () => {
  const run = sibyl.run({ workspace: { text: ws }, pipelines: { text: pl }, pipeline: 'hyperparameter_sweep', startTime: 0 });
  const r = declared('interface', 'Run');
  assert.deepEqual(r.methods, protoMethods(run));
  assert.deepEqual(r.fields, Object.keys(run).sort());
  const result = await run.done;
  assert.ok(dts.includes('export interface RunResult'));
  for (const k of Object.keys(result)) assert.match(dts.slice(dts.indexOf('interface RunResult')), new RegExp(`\\b${k}\\??:`), `RunResult.${k}`);
  const w = sibyl.watchHandle({ handle: '{}', workspace: { text: ws } });
  const wd = declared('interface', 'Watch');
  assert.deepEqual(wd.methods, protoMethods(w));
  assert.deepEqual(wd.fields, Object.keys(w).sort());
  await w.done;
});

test('EventMap names every event type run.on() accepts', () => {
  const body = dts.slice(dts.indexOf('export interface EventMap'), dts.indexOf('}', dts.indexOf('export interface EventMap')));
  const types = [...body.matchAll(/(?:^|[;{]\s*|\n\s*)('?\*'?|[a-z]+):/g)].map((m) => m[1].replace(/'/g, ''));
  const run = sibyl.run({ workspace: { text: ws }, pipelines: { text: pl }, pipeline: 'hyperparameter_sweep', startTime: 0 });
  for (const t of types) run.on(t, () => {});
  assert.deepEqual(types.sort(), ['*', 'chunk', 'done', 'log', 'poll', 'progress', 'step']);
  assert.throws(() => run.on('other', () => {}), TypeError);
  run.cancel();
  return run.done;
});
