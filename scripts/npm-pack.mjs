#!/usr/bin/env node
// Makes the npm package of the embedding API with `npm pack`:
//   node scripts/npm-pack.mjs --from build/web/host-web --version 0.1.0 --out DIR
// Prints the path of the tarball (DIR/sibyl-VERSION.tgz) as its last line.
//
// The one list of files is the web build's output folder (--from): every file
// at its top level ending in .mjs, .wasm, .d.ts or .d.mts goes in, so a file
// host-web adds to its output is packaged without a change here. Types found
// only in host-web/ (the sources) are taken from there. package.json is
// written here: `exports` points at the API module (and its types when there
// are any), the version is CMake's project version (--version), and there are
// no scripts of any kind, so installing runs nothing. docs/packaging.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function args(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) {
    const k = argv[i];
    if (!['--from', '--version', '--out'].includes(k) || argv[i + 1] === undefined) {
      process.stderr.write('usage: npm-pack.mjs --from WEB_BUILD/host-web --version X.Y.Z --out DIR\n');
      process.exit(2);
    }
    o[k.slice(2)] = argv[i + 1];
  }
  for (const k of ['from', 'version', 'out']) {
    if (!o[k]) {
      process.stderr.write(`npm-pack: --${k} is required\n`);
      process.exit(2);
    }
  }
  return o;
}

const PACKAGED = /\.(mjs|wasm|d\.ts|d\.mts)$/;
const API = 'sibyl-api.mjs';

export function packageFiles(from) {
  const files = readdirSync(from).filter((f) => PACKAGED.test(f) && statSync(join(from, f)).isFile());
  const sources = join(repo, 'host-web');
  const extraTypes = existsSync(sources)
    ? readdirSync(sources).filter((f) => /\.d\.m?ts$/.test(f) && !files.includes(f))
    : [];
  return { files: files.sort(), extraTypes: extraTypes.sort(), sources };
}

export function manifest(version, files) {
  const types = files.find((f) => f === 'sibyl-api.d.ts' || f === 'sibyl-api.d.mts');
  const root = types ? { types: `./${types}`, default: `./${API}` } : `./${API}`;
  const exports = { '.': root, './package.json': './package.json' };
  for (const f of files) if (f.endsWith('.wasm') || (f.endsWith('.mjs') && f !== API)) exports[`./${f}`] = `./${f}`;
  return {
    name: 'sibyl',
    version,
    description: 'sibyl\'s embedding API: the C core as WebAssembly (validate workspaces, load YAML) for browsers and Node',
    type: 'module',
    exports,
    ...(types ? { types: `./${types}` } : {}),
    files: [...files, 'README.md'],
    sideEffects: false,
    engines: { node: '>=20' },
  };
}

function main() {
  const o = args(process.argv.slice(2));
  const from = resolve(o.from);
  if (!existsSync(join(from, API)) || !existsSync(join(from, 'sibyl.wasm'))) {
    process.stderr.write(`npm-pack: ${from} has no ${API} or sibyl.wasm: build the web tree first (scripts/build-all.sh web)\n`);
    process.exit(1);
  }
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(o.version)) {
    process.stderr.write(`npm-pack: --version: expected X.Y.Z, got '${o.version}'\n`);
    process.exit(2);
  }
  const { files, extraTypes, sources } = packageFiles(from);
  const stage = mkdtempSync(join(tmpdir(), 'sibyl-npm-'));
  try {
    for (const f of files) copyFileSync(join(from, f), join(stage, f));
    for (const f of extraTypes) copyFileSync(join(sources, f), join(stage, f));
    copyFileSync(join(repo, 'host-web', 'README.md'), join(stage, 'README.md'));
    const pkg = manifest(o.version, [...files, ...extraTypes].sort());
    writeFileSync(join(stage, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
    const out = resolve(o.out);
    mkdirSync(out, { recursive: true });
    // A private cache: packing reads nothing from the network or the user's cache.
    const cache = join(stage, '.npm-cache');
    const json = execFileSync('npm', ['pack', '--json', '--offline', '--cache', cache, '--pack-destination', out],
      { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const [info] = JSON.parse(json);
    console.log(join(out, info.filename));
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
