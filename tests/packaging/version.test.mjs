// One version, from one place: CMake's project version (CMakeLists.txt,
// `project(sibyl VERSION ...)`). Every place that shows a version must show
// that one: `sibyl --version` (native and sibyl.wasm), the servers'
// `--version`, their GET /health and MCP serverInfo, the web module's
// version(), the .deb (CPack's configuration) and the npm package.json.
//   node version.test.mjs REPO_ROOT VERSION NATIVE_SIBYL SIBYL_WASM SOLVER CONDUCTOR WEB_BUILD_DIR CPACK_CONFIG
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from '../servers/server.mjs';

const [repo, version, sibyl, wasm, solver, conductor, webDir, cpackConfig] = process.argv.slice(2);
let fails = 0;
function check(cond, what) {
  if (cond) console.log(`ok - ${what}`);
  else {
    console.error(`FAIL: ${what}`);
    fails++;
  }
}
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

// The one place.
const declared = /^project\(sibyl VERSION ([0-9.]+)/m.exec(readFileSync(join(repo, 'CMakeLists.txt'), 'utf8'))?.[1];
check(declared === version, `CMakeLists.txt declares ${declared}; this build was configured with ${version}`);

check(run(sibyl, ['--version']) === `sibyl ${version}`, 'sibyl --version (native)');
check(run(process.execPath, ['--no-warnings', join(repo, 'scripts/run-wasi.mjs'), wasm, '--version']) === `sibyl ${version}`,
  'sibyl --version (sibyl.wasm)');

// MCP initialize over Streamable HTTP; the answer is JSON or one SSE event.
async function serverInfo(url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'version-test', version } },
    }),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.startsWith('text/event-stream')
    ? text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n')
    : text;
  return JSON.parse(json).result?.serverInfo;
}

for (const [bin, name] of [[solver, 'sibyl-solver'], [conductor, 'sibyl-conductor']]) {
  check(run(bin, ['--version']) === `${name} ${version}`, `${name} --version`);
  const s = await startServer(bin);
  try {
    check(s.health.version === version, `${name} GET /health: version ${s.health.version}`);
    const info = await serverInfo(s.url);
    check(info?.name === name && info?.version === version, `${name} MCP serverInfo: ${JSON.stringify(info)}`);
  } finally {
    await s.stop();
  }
}

// The web module (when the web tree is built: the npm test needs it anyway).
const api = join(webDir, 'host-web', 'sibyl-api.mjs');
if (existsSync(api)) {
  const { Sibyl } = await import(pathToFileURL(api).href);
  const v = (await Sibyl.load()).version();
  check(v === version, `web module version(): ${v}`);
} else {
  check(false, `${api} is not built (scripts/build-all.sh web)`);
}

// The .deb's version is CPack's, set from the project version.
const cpack = /set\(CPACK_PACKAGE_VERSION "([^"]*)"\)/.exec(readFileSync(cpackConfig, 'utf8'))?.[1];
check(cpack === version, `.deb version (CPACK_PACKAGE_VERSION): ${cpack}`);

// The npm package.json is written by scripts/npm-pack.mjs from --version,
// which its callers take from CMake (the npm test packs with it).
const { manifest } = await import(pathToFileURL(join(repo, 'scripts/npm-pack.mjs')).href);
check(manifest(version, ['sibyl-api.mjs']).version === version, 'npm package.json version');

if (fails) {
  console.error(`${fails} check(s) failed`);
  process.exit(1);
}
console.log(`all versions agree: ${version}`);
