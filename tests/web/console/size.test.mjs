// web_console_size (issue 12, acceptance): everything the console loads
// (web/index.html, its CSS and modules, and web/dist/: the sibyl module and
// its .wasm, the API, uPlot, the example's YAML), each file compressed with
// `gzip -9` as a server would send it, at most 400 KB (400,000 bytes) in
// total. Prints every file's size and the total.
//   node size.test.mjs
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import process from 'node:process';
import { repo } from './lib.mjs';

const LIMIT = 400000;
const web = join(repo, 'web');
// Source files in web/ that the page does not load.
const NOT_LOADED = new Set(['README.md', 'CMakeLists.txt']);

if (!existsSync(join(web, 'dist', 'sibyl.wasm')) || !existsSync(join(web, 'dist', 'uPlot.iife.min.js'))) {
  process.stderr.write('FAIL web/dist/ is not filled: run scripts/build-all.sh web (target console_dist)\n');
  process.exit(1);
}

function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return files(p);
    // Type declarations are copied into dist/ for embedders; the page loads none.
    return (NOT_LOADED.has(f) && dir === web) || f.endsWith('.d.ts') ? [] : [p];
  });
}

const gz = (f) => execFileSync('gzip', ['-9', '-c', f], { maxBuffer: 64 << 20 }).length;
const rows = files(web).map((f) => ({ f: relative(web, f), raw: statSync(f).size, gz: gz(f) })).sort((a, b) => b.gz - a.gz);
const total = rows.reduce((s, r) => s + r.gz, 0);
for (const r of rows) process.stdout.write(`${String(r.gz).padStart(8)} ${String(r.raw).padStart(8)}  ${r.f}\n`);
process.stdout.write(`${String(total).padStart(8)} gzip -9 bytes in ${rows.length} files (limit ${LIMIT})\n`);
if (!rows.some((r) => r.f === 'index.html') || !rows.some((r) => r.f === 'dist/sibyl.wasm')) {
  process.stderr.write('FAIL the page or the module is missing from the count\n');
  process.exit(1);
}
if (total > LIMIT) {
  process.stderr.write(`FAIL the console loads ${total} bytes gzipped, over ${LIMIT}\n`);
  process.exit(1);
}
process.stdout.write('ok web_console_size\n');
