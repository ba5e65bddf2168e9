#!/usr/bin/env node
// Runs a test that reads the shared folder kept beside the repository (the
// cel-spec conformance cases, SIBYL_SHARED_DIR), or reports it skipped
// (exit 77, ctest SKIP_RETURN_CODE) with the reason when that folder is
// absent, as on a plain clone of the repository. The test's own exit code
// and output pass through.
//   node needs-shared.mjs SHARED_DIR -- COMMAND ARGS...
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

const [dir, sep, cmd, ...args] = process.argv.slice(2);
if (!dir || sep !== '--' || !cmd) {
  process.stderr.write('usage: needs-shared.mjs SHARED_DIR -- COMMAND ARGS...\n');
  process.exit(2);
}
if (!existsSync(dir)) {
  process.stdout.write(`skipped: ${dir} does not exist; this test needs the shared folder beside the repository `
    + '(configure with -DSIBYL_SHARED_DIR=PATH to point at one)\n');
  process.exit(77);
}
const r = spawnSync(cmd, args, { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`needs-shared.mjs: cannot run ${cmd}: ${r.error.message}\n`);
  process.exit(1);
}
process.exit(r.status ?? 1);
