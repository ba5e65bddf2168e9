// web_size: prints the gzipped size (gzip -9) of what a page loads from the
// web build, sibyl.wasm + sibyl.mjs + sibyl-api.mjs (the names come from
// outputs.txt, host-web/CMakeLists.txt's one list; the .d.ts is not loaded),
// and holds it to the module's share of the console's 400 KB (gzipped)
// budget: 300 KB, leaving the page, its script and the chart library 100 KB.
//   node --no-warnings size.test.mjs WEB_BUILD_DIR SOURCE_DIR
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { moduleDir, die } from './common.mjs';

const MODULE_BUDGET = 300 * 1024;
const [webDir, sourceDir] = process.argv.slice(2);
if (!sourceDir) die('usage: size.test.mjs WEB_BUILD_DIR SOURCE_DIR');
const dir = moduleDir(webDir, sourceDir);

// As `gzip -9 | wc -c`; zlib's level 9 when gzip is not installed.
function gzipped(bytes) {
  const r = spawnSync('gzip', ['-9', '-n'], { input: bytes, maxBuffer: 64 << 20 });
  return r.status === 0 ? r.stdout.length : gzipSync(bytes, { level: 9 }).length;
}

test('the module a page loads stays within its share of the console budget', () => {
  const outputs = readFileSync(join(dir, 'outputs.txt'), 'utf8').split('\n').filter(Boolean);
  const loaded = outputs.filter((f) => !f.endsWith('.d.ts'));
  assert.deepEqual(loaded.sort(), ['sibyl-api.mjs', 'sibyl.mjs', 'sibyl.wasm']);
  let total = 0;
  for (const f of loaded) {
    const bytes = readFileSync(join(dir, f));
    const gz = gzipped(bytes);
    total += gz;
    console.log(`# ${f}: ${bytes.length} bytes, ${gz} gzipped`);
  }
  console.log(`# sibyl.wasm + sibyl.mjs + sibyl-api.mjs: ${total} bytes gzipped (${(total / 1024).toFixed(1)} KB; ` +
              `budget ${MODULE_BUDGET / 1024} KB of the console's 400 KB)`);
  assert.ok(total <= MODULE_BUDGET, `${total} > ${MODULE_BUDGET}`);
});
