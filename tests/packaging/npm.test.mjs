// The npm package of the embedding API: packed with scripts/npm-pack.mjs from
// the web build's output, checked (files, package.json: version, exports, no
// scripts), installed with `npm install <tarball>` into an empty folder
// (offline: it has no dependencies) and used from there under Node by a
// script that imports it by package name: load, version, validate the
// example workspace, and a broken one with its position.
//   node npm.test.mjs WEB_BUILD_DIR REPO_ROOT VERSION
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [webDir, repo, version] = process.argv.slice(2);
const from = join(webDir, 'host-web');
if (!existsSync(join(from, 'sibyl.wasm'))) {
  console.error(`FAIL: ${from}/sibyl.wasm is not built (scripts/build-all.sh web)`);
  process.exit(1);
}

let fails = 0;
function check(cond, what) {
  if (cond) console.log(`ok - ${what}`);
  else {
    console.error(`FAIL: ${what}`);
    fails++;
  }
}

const tmp = mkdtempSync(join(tmpdir(), 'sibyl-npm-test-'));
const npmEnv = { ...process.env, npm_config_cache: join(tmp, 'cache'), npm_config_update_notifier: 'false' };
try {
  const out = execFileSync(process.execPath, [join(repo, 'scripts/npm-pack.mjs'), '--from', from, '--version', version, '--out', join(tmp, 'out')],
    { encoding: 'utf8', env: npmEnv });
  const tarball = out.trim().split('\n').pop();
  check(tarball.endsWith(`/sibyl-${version}.tgz`) && existsSync(tarball), `npm pack wrote sibyl-${version}.tgz`);

  const listing = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  for (const f of ['package/package.json', 'package/README.md', 'package/sibyl-api.mjs', 'package/sibyl.mjs', 'package/sibyl.wasm'])
    check(listing.includes(f), `the tarball holds ${f}`);
  const pkg = JSON.parse(execFileSync('tar', ['xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  check(pkg.name === 'sibyl' && pkg.version === version, `package.json: sibyl ${pkg.version} (the CMake project version ${version})`);
  check(pkg.type === 'module', 'package.json: an ES module package');
  const root = pkg.exports?.['.'];
  const rootFile = typeof root === 'string' ? root : root?.default;
  check(rootFile === './sibyl-api.mjs', 'exports "." is the API module');
  check(pkg.exports['./sibyl.wasm'] === './sibyl.wasm', 'exports ./sibyl.wasm (for locateFile and bundlers)');
  const types = listing.filter((f) => /\.d\.m?ts$/.test(f));
  if (types.length) check(typeof root === 'object' && root.types && listing.includes(`package/${root.types.slice(2)}`), `exports "." has its types (${types.join(', ')})`);
  check(!('scripts' in pkg) && !('dependencies' in pkg) && !('gypfile' in pkg), 'no scripts and no dependencies: installing runs nothing');

  // An empty folder, the tarball installed by path, used by package name.
  const app = join(tmp, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'dashboard', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, env: npmEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  check(existsSync(join(app, 'node_modules/sibyl/sibyl.wasm')), 'npm install <tarball> into an empty folder (offline)');

  const ws = readFileSync(join(repo, 'examples/companies/vertex_foundry/config/workspace.yaml'), 'utf8');
  writeFileSync(join(app, 'workspace.yaml'), ws);
  writeFileSync(join(app, 'main.mjs'), `
import { readFileSync } from 'node:fs';
import { Sibyl } from 'sibyl';
const sibyl = await Sibyl.load();
const good = sibyl.validateWorkspace('workspace.yaml', readFileSync('workspace.yaml', 'utf8'));
const bad = sibyl.validateWorkspace('bad.yaml', 'version: 1\\nname: [\\n');
console.log(JSON.stringify({ version: sibyl.version(), good: good.ok, bad: bad.ok, diag: bad.diagnostics[0] }));
`);
  const r = JSON.parse(execFileSync(process.execPath, ['--no-warnings', 'main.mjs'], { cwd: app, encoding: 'utf8' }));
  check(r.version === version, `the installed package loads: version() is ${r.version}`);
  check(r.good === true, 'validateWorkspace accepts the example workspace');
  check(r.bad === false && r.diag?.file === 'bad.yaml' && r.diag.line > 0 && r.diag.col > 0,
    `validateWorkspace rejects a broken one with a position (${r.diag?.text})`);
} catch (e) {
  console.error(`FAIL: ${e.message}${e.stderr ? `\n${e.stderr}` : ''}`);
  fails++;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (fails) {
  console.error(`${fails} check(s) failed`);
  process.exit(1);
}
console.log('all npm package checks passed');
