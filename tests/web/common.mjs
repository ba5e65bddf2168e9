// Shared by the tests of the web build: finds the built module in the web
// build tree (SIBYL_WEB_DIR) and fails with what to build when it is missing
// or older than the sources it was copied from.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const BUILD_HINT = 'build the web preset: cmake --preset web && cmake --build --preset web (or scripts/build-all.sh)';

export function die(msg) {
  process.stderr.write(`FAIL ${msg}\n`);
  process.exit(1);
}

// Returns the folder holding sibyl.mjs, sibyl.wasm and sibyl-api.mjs.
export function moduleDir(webDir, sourceDir) {
  if (!webDir) die('usage: TEST.mjs WEB_BUILD_DIR SOURCE_DIR ...');
  const dir = join(webDir, 'host-web');
  for (const f of ['sibyl.mjs', 'sibyl.wasm', 'sibyl-api.mjs'])
    if (!existsSync(join(dir, f))) die(`${join(dir, f)} is missing: ${BUILD_HINT}`);
  // The API is copied at build time; a stale copy would test old code.
  if (sourceDir && !readFileSync(join(dir, 'sibyl-api.mjs')).equals(readFileSync(join(sourceDir, 'host-web', 'sibyl-api.mjs'))))
    die(`${join(dir, 'sibyl-api.mjs')} differs from host-web/sibyl-api.mjs: the web build is stale; ${BUILD_HINT}`);
  return dir;
}
