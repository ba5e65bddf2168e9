// web_cli_agree: the page and the terminal never disagree. For each case,
// Sibyl.validateWorkspace (web build) and `sibyl workspace validate` (the
// WASI build, through scripts/run-wasi.mjs) must both accept it, or both
// reject it with the same FILE:LINE:COL lines in the same order.
//   node --no-warnings cli-agree.test.mjs WEB_BUILD_DIR SOURCE_DIR SIBYL_WASM
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test, after } from 'node:test';
import { pathToFileURL } from 'node:url';
import { moduleDir, die } from './common.mjs';

const [webDir, sourceDir, wasmArg] = process.argv.slice(2);
const wasm = wasmArg && resolve(wasmArg);
if (!wasm) die('usage: cli-agree.test.mjs WEB_BUILD_DIR SOURCE_DIR SIBYL_WASM');
const dir = moduleDir(webDir, sourceDir);
if (!existsSync(wasm)) die(`${wasm} is missing: build the wasi preset: cmake --preset wasi && cmake --build --preset wasi`);
const { Sibyl } = await import(pathToFileURL(join(dir, 'sibyl-api.mjs')).href);
const sibyl = await Sibyl.load();

const example = readFileSync(join(sourceDir, 'examples/companies/vertex_foundry/config/workspace.yaml'), 'utf8');
const cases = {
  example_is_valid: example,
  syntax_error: 'version: 1\nservers: [\n',
  duplicate_key: 'version: 1\nversion: 2\n',
  anchors: 'version: 1\nservers: &s {}\nother: *s\n',
  top_level_list: '- version\n- servers\n',
  unknown_keys_and_types: 'version: "1"\nservres: {}\npolling: {initial_delay_ms: fast}\n',
  example_with_typo: example.replace(/^polling:/m, 'poling:'),
  empty: '',
  unicode_and_nul: 'version: 1\nname: "ünï\0"\n',
};

const tmp = mkdtempSync(join(tmpdir(), 'sibyl-agree-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const [name, text] of Object.entries(cases)) {
  test(name, () => {
    const file = `${name}.yaml`;
    writeFileSync(join(tmp, file), text);
    const cli = spawnSync(process.execPath, ['--no-warnings', join(sourceDir, 'scripts/run-wasi.mjs'), wasm, 'workspace', 'validate', file],
      { cwd: tmp, encoding: 'utf8' });
    assert.ok(cli.status === 0 || cli.status === 1, `CLI exit ${cli.status}: ${cli.stderr}`);
    const web = sibyl.validateWorkspace(file, text);
    assert.equal(web.ok, cli.status === 0, `web ok=${web.ok}, CLI exit ${cli.status}: ${cli.stderr}`);
    const cliLines = cli.stderr.split('\n').filter(Boolean);
    assert.deepEqual(web.diagnostics.map((d) => d.text), cliLines);
  });
}

test('the cases cover both answers', () => {
  const rejected = Object.values(cases).filter((t) => !sibyl.validateWorkspace('x.yaml', t).ok);
  assert.equal(rejected.length, Object.keys(cases).length - 1, 'all but example_is_valid are rejected');
});
