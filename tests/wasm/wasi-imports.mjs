// Checks that a WASI command imports nothing but wasi_snapshot_preview1, so
// `wasmtime sibyl.wasm` (or any preview 1 runtime) can run it with no extra
// host functions. Reads the import section with wabt's wasm-objdump.
//   node --no-warnings wasi-imports.mjs FILE.wasm   check FILE.wasm
//   node --no-warnings wasi-imports.mjs --self-test check this checker on
//                                                   hand-made modules
// Exit 0 when the check passes, 1 otherwise (with the reason on stderr).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const WASI = 'wasi_snapshot_preview1';

// Returns [{kind, module, field}] or throws with a message saying why.
function readImports(file) {
  if (!existsSync(file)) throw new Error(`${file} is missing (build the wasi preset: cmake --preset wasi && cmake --build --preset wasi)`);
  const r = spawnSync('wasm-objdump', ['-x', '-j', 'Import', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run wasm-objdump (install wabt): ${r.error.message}`);
  const out = r.stdout + r.stderr;
  // wasm-objdump exits 1 for "Section not found" as for a broken file.
  if (r.status !== 0 && !/Section not found: Import/.test(out))
    throw new Error(`wasm-objdump failed on ${file}:\n${out}`);
  const header = /^Import\[(\d+)\]:/m.exec(out);
  const imports = [];
  //  - func[0] sig=1 <wasi_snapshot_preview1.args_get> <- wasi_snapshot_preview1.args_get
  //  - memory[0] pages: initial=1 <- env.memory
  for (const m of out.matchAll(/^ - (\w+)\[\d+\].*<- (\S+)$/gm)) {
    const dot = m[2].indexOf('.');
    imports.push({ kind: m[1], module: m[2].slice(0, dot), field: m[2].slice(dot + 1) });
  }
  // Every line of the section must have been understood.
  const expected = header ? Number(header[1]) : 0;
  if (imports.length !== expected)
    throw new Error(`parsed ${imports.length} imports but wasm-objdump lists ${expected}:\n${out}`);
  return imports;
}

// Returns null when FILE passes, else the reason.
function check(file) {
  let imports;
  try {
    imports = readImports(file);
  } catch (e) {
    return e.message;
  }
  if (imports.length === 0) return `${file} imports nothing: not a WASI command (no fd_write, no proc_exit)`;
  const foreign = imports.filter((i) => i.module !== WASI);
  if (foreign.length)
    return `${file} imports from modules other than ${WASI}:\n` +
      foreign.map((i) => `  ${i.kind} ${i.module}.${i.field}`).join('\n');
  return null;
}

// A minimal module with the given function imports ([module, field] pairs,
// all of type () -> ()), encoded by hand so the self-test needs no assembler.
function moduleWithImports(pairs) {
  const str = (s) => [s.length, ...Buffer.from(s)];
  const section = (id, body) => [id, body.length, ...body];
  const imports = pairs.flatMap(([m, f]) => [...str(m), ...str(f), 0x00, 0x00]);
  return Buffer.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...(pairs.length ? section(2, [pairs.length, ...imports]) : []),
  ]);
}

function selfTest() {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-wasi-imports-'));
  const failures = [];
  const expect = (name, bytes, wantPass, wantText) => {
    const f = join(dir, `${name}.wasm`);
    if (bytes) writeFileSync(f, bytes);
    const why = check(f);
    if (wantPass && why) failures.push(`${name}: expected to pass, got: ${why}`);
    if (!wantPass && !why) failures.push(`${name}: expected to fail, passed`);
    if (!wantPass && why && wantText && !why.includes(wantText))
      failures.push(`${name}: failure should mention "${wantText}": ${why}`);
  };
  try {
    expect('wasi-only', moduleWithImports([[WASI, 'fd_write'], [WASI, 'proc_exit']]), true);
    expect('env-import', moduleWithImports([[WASI, 'fd_write'], ['env', 'sb_host_send']]), false, 'env.sb_host_send');
    expect('no-imports', moduleWithImports([]), false, 'imports nothing');
    expect('missing', null, false, 'is missing');
    expect('not-wasm', Buffer.from('not a wasm module\n'), false, 'wasm-objdump failed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failures;
}

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: wasi-imports.mjs FILE.wasm | --self-test\n');
  process.exit(2);
}
if (arg === '--self-test') {
  const failures = selfTest();
  for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
  if (failures.length) process.exit(1);
  console.log('wasi-imports self-test: 5 cases behave as expected');
} else {
  const why = check(arg);
  if (why) {
    process.stderr.write(`FAIL ${why}\n`);
    process.exit(1);
  }
  console.log(`${arg}: imports only ${WASI}`);
}
