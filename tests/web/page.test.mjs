// web_page: the placeholder page (web/index.html + web/app.mjs) against the
// built module, in Node with a minimal stand-in for the DOM. It checks that
// the page and its script agree on element ids and that the script shows the
// version, validates a workspace into "valid" or the diagnostics, and explains a
// missing web/dist/. It does not exercise the browser's fetch() path for
// sibyl.wasm: that needs headless Chromium (not installed; see README).
//   node --no-warnings page.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir, projectVersion] = process.argv.slice(2);
if (!projectVersion) die('usage: page.test.mjs WEB_BUILD_DIR SOURCE_DIR PROJECT_VERSION');
const dir = moduleDir(webDir, sourceDir);
const html = readFileSync(join(sourceDir, 'web', 'index.html'), 'utf8');
const script = readFileSync(join(sourceDir, 'web', 'app.mjs'), 'utf8');

// The page as served: index.html, app.mjs and dist/ (as the web_dist target
// lays it out), in a temporary folder so the source tree's web/dist/ (which
// may be stale or absent) plays no part.
const tmp = mkdtempSync(join(tmpdir(), 'sibyl-page-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
function servedCopy(name, withDist) {
  const root = join(tmp, name);
  for (const f of ['index.html', 'app.mjs']) cpSync(join(sourceDir, 'web', f), join(root, f));
  if (withDist)
    for (const f of ['sibyl.mjs', 'sibyl.wasm', 'sibyl-api.mjs']) cpSync(join(dir, f), join(root, 'dist', f));
  return root;
}

// Just enough DOM for app.mjs: elements by id with the attributes it uses.
function fakeDocument() {
  const elements = new Map();
  for (const m of html.matchAll(/<(\w+)([^>]*)\sid="([^"]+)"([^>]*)>/g)) {
    const attrs = m[2] + m[4];
    const value = /\svalue="([^"]*)"/.exec(attrs);
    elements.set(m[3], {
      tag: m[1],
      textContent: '',
      className: '',
      value: value ? value[1] : '',
      disabled: /\sdisabled\b/.test(attrs),
      listeners: {},
      addEventListener(type, fn) {
        (this.listeners[type] ||= []).push(fn);
      },
      fire(type, ev = {}) {
        for (const fn of this.listeners[type] || []) fn({ preventDefault() {}, ...ev });
      },
    });
  }
  return { elements, getElementById: (id) => elements.get(id) || null };
}

async function loadPage(root) {
  const doc = fakeDocument();
  globalThis.document = doc;
  await import(pathToFileURL(join(root, 'app.mjs')).href); // top-level await: loaded when this resolves
  return doc.elements;
}

test('index.html loads app.mjs as a module and has every element app.mjs uses', () => {
  assert.match(html, /<script type="module" src="app.mjs"><\/script>/);
  const ids = new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  const used = [...script.matchAll(/\$\('([^']+)'\)/g)].map((m) => m[1]);
  assert.ok(used.length >= 5, `app.mjs uses ids: ${used}`);
  for (const id of used) assert.ok(ids.has(id), `app.mjs uses #${id}, missing from index.html`);
  assert.match(script, /import\('\.\/dist\/sibyl-api\.mjs'\)/);
});

test('the page shows the version and validates a workspace', async () => {
  const el = await loadPage(servedCopy('ok', true));
  assert.equal(el.get('version').textContent, projectVersion);
  assert.match(el.get('status').textContent, /^Ready/);
  assert.equal(el.get('validate').disabled, false);

  el.get('yaml').value = readFileSync(join(sourceDir, 'examples/companies/vertex_foundry/config/workspace.yaml'), 'utf8');
  el.get('validate').fire('click');
  assert.equal(el.get('result').textContent, 'valid');
  assert.equal(el.get('result').className, 'valid');

  el.get('yaml').value = 'a: 1\na: 2\n';
  el.get('validate').fire('click');
  assert.match(el.get('result').textContent, /^workspace\.yaml:2:1: error: duplicate key 'a'/);
  assert.equal(el.get('result').className, 'invalid');

  // Valid YAML but not a workspace: the schema is checked too.
  el.get('yaml').value = 'version: 1\nservres: {}\n';
  el.get('validate').fire('click');
  assert.match(el.get('result').textContent, /^workspace\.yaml:\d+:\d+: error: /m);
  assert.match(el.get('result').textContent, /servres/);

  // The file name field names the diagnostics; Ctrl+Enter validates too.
  el.get('file').value = 'mine.yaml';
  el.get('yaml').value = 'x: [\n';
  el.get('yaml').fire('keydown', { key: 'Enter', ctrlKey: true });
  const lines = el.get('result').textContent.split('\n');
  assert.ok(lines.length >= 1 && lines.every((l) => /^mine\.yaml:\d+:\d+: error: /.test(l)), lines.join('\n'));
});

test('without web/dist/ the page says how to build it', async () => {
  const el = await loadPage(servedCopy('nodist', false));
  assert.equal(el.get('status').className, 'failed');
  assert.match(el.get('status').textContent, /build-all\.sh/);
  assert.equal(el.get('validate').disabled, true);
});
