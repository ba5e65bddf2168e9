// web_node_load: the Emscripten module loads under Node through the JS API
// (host-web/sibyl-api.mjs) and gives the core's answers: values, positioned
// diagnostics, workspace validation; and it frees what it allocates.
//   node --no-warnings load.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir, projectVersion] = process.argv.slice(2);
if (!projectVersion) die('usage: load.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION');
const dir = moduleDir(webDir, sourceDir);
const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
const sibyl = await Sibyl.load();

test('version() is the project version', () => {
  assert.equal(sibyl.version(), projectVersion);
});

test('loadYaml returns the parsed value of a good document', () => {
  const text = [
    'name: vertex_foundry',
    'budget_usd: 500',
    'ratio: 1.5',
    'enabled: true',
    'nothing: ~',
    'answer: yes            # a string in YAML 1.2',
    'quoted: "42"',
    'grid:',
    '  learning_rate: [0.1, 0.01, 0.001]',
    '  batch_size: [32, 64, 128]',
    'unicode: "ünïcødé ✓"',
    '',
  ].join('\n');
  const r = sibyl.loadYaml('workspace.yaml', text);
  assert.deepEqual(r, {
    ok: true,
    diagnostics: [],
    value: {
      name: 'vertex_foundry',
      budget_usd: 500,
      ratio: 1.5,
      enabled: true,
      nothing: null,
      answer: 'yes',
      quoted: '42',
      grid: { learning_rate: [0.1, 0.01, 0.001], batch_size: [32, 64, 128] },
      unicode: 'ünïcødé ✓',
    },
  });
  // Key order is the document's.
  assert.deepEqual(Object.keys(r.value).slice(0, 3), ['name', 'budget_usd', 'ratio']);
});

test('an empty document is null, not an error', () => {
  assert.deepEqual(sibyl.loadYaml('empty.yaml', ''), { ok: true, value: null, diagnostics: [] });
});

test('a document that reads {"diagnostics": ...} is still a value', () => {
  const r = sibyl.loadYaml('tricky.yaml', 'diagnostics: [a]\n');
  assert.deepEqual(r, { ok: true, value: { diagnostics: ['a'] }, diagnostics: [] });
});

test('loadYaml reports positioned diagnostics for a bad document, sorted', () => {
  // A duplicate key (line 3) and an unclosed flow sequence (from line 4).
  const r = sibyl.loadYaml('bad.yaml', 'a: 1\nb: 2\na: 3\nc: [1, 2\n');
  assert.equal(r.ok, false);
  assert.equal(r.value, null);
  assert.ok(r.diagnostics.length >= 2, JSON.stringify(r.diagnostics));
  const dup = r.diagnostics[0];
  assert.equal(dup.file, 'bad.yaml');
  assert.equal(dup.line, 3);
  assert.equal(dup.col, 1);
  assert.match(dup.message, /duplicate key 'a'/);
  for (const d of r.diagnostics) {
    assert.ok(d.line >= 1 && d.col >= 1, `unpositioned: ${JSON.stringify(d)}`);
    // text is the CLI's line: FILE:LINE:COL: error: MESSAGE
    assert.equal(d.text, `${d.file}:${d.line}:${d.col}: error: ${d.message}`);
  }
  assert.ok(r.diagnostics[1].line >= 4, JSON.stringify(r.diagnostics));
  const pos = r.diagnostics.map((d) => d.line * 1e6 + d.col);
  assert.deepEqual(pos, [...pos].sort((x, y) => x - y));
});

test('the file name reaches the diagnostics unchanged (UTF-8)', () => {
  const r = sibyl.loadYaml('dossier/été.yaml', 'x: [\n');
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0].file, 'dossier/été.yaml');
  assert.ok(r.diagnostics[0].text.startsWith('dossier/été.yaml:'));
});

test('a NUL inside the text is reported, not silently cut off', () => {
  // With strlen() on the C side this would parse as the valid "a: 1".
  const r = sibyl.loadYaml('nul.yaml', 'a: 1\0b: [\n');
  assert.equal(r.ok, false, JSON.stringify(r));
});

test('limits of the core apply (nesting deeper than SB_YAML_MAX_DEPTH)', () => {
  const r = sibyl.loadYaml('deep.yaml', '['.repeat(200) + ']'.repeat(200));
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.every((d) => d.line >= 1), JSON.stringify(r.diagnostics));
});

test('validateWorkspace accepts the example workspace', () => {
  const file = 'examples/companies/vertex_foundry/config/workspace.yaml';
  const r = sibyl.validateWorkspace(file, readFileSync(join(sourceDir, file), 'utf8'));
  assert.equal(r.ok, true, JSON.stringify(r.diagnostics));
  assert.equal(typeof r.value, 'object');
  assert.ok(r.value.servers, 'the workspace tree comes back');
});

test('validateWorkspace checks the schema, loadYaml does not', () => {
  const text = 'version: 1\nservres: {}\n';
  assert.equal(sibyl.loadYaml('ws.yaml', text).ok, true);
  const r = sibyl.validateWorkspace('ws.yaml', text);
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.line === 2 && d.col === 1 && /servres/.test(d.message)), JSON.stringify(r.diagnostics));
  for (const d of r.diagnostics) assert.equal(d.text, `${d.file}:${d.line}:${d.col}: error: ${d.message}`);
});

test('misuse throws a JS TypeError before reaching C, and the module keeps working', () => {
  assert.throws(() => sibyl.loadYaml('x.yaml', 42), TypeError);
  assert.throws(() => sibyl.loadYaml(undefined, 'a: 1'), TypeError);
  assert.throws(() => sibyl.validateWorkspace('w.yaml', null), TypeError);
  assert.equal(sibyl.loadYaml('x.yaml', 'a: 1').value.a, 1);
});

test('memory is released: many calls do not grow the heap', async () => {
  // A second instance whose heap we can watch (the API hides its module).
  const { default: createSibylModule } = await import(pathToFileURL(join(dir, 'sibyl.mjs')).href);
  const m = await createSibylModule();
  const big = 'k: [' + Array.from({ length: 2000 }, (_, i) => `item${i}`).join(', ') + ']\n';
  const one = () => {
    const len = m.lengthBytesUTF8(big);
    const t = m._sb_web_alloc(len + 1);
    m.stringToUTF8(big, t, len + 1);
    const f = m._sb_web_alloc(8);
    m.stringToUTF8('m.yaml', f, 8);
    const out = m._sb_web_yaml_to_json(f, t, len);
    assert.ok(out);
    m._sb_web_free(out);
    m._sb_web_free(t);
    m._sb_web_free(f);
  };
  for (let i = 0; i < 20; i++) one();
  const before = m.HEAPU8.length;
  for (let i = 0; i < 500; i++) one(); // ~25 MB through the allocator
  assert.equal(m.HEAPU8.length, before, 'heap grew: something is not freed');
});

test('Sibyl.load passes options to the factory (wasmBinary from the embedder)', async () => {
  const { readFile } = await import('node:fs/promises');
  const s = await Sibyl.load({ wasmBinary: await readFile(join(dir, 'sibyl.wasm')) });
  assert.equal(s.version(), projectVersion);
});
