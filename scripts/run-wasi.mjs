#!/usr/bin/env node
// Runs a WASI preview 1 command (sibyl.wasm) under Node's node:wasi, the way
// `wasmtime run --dir=. sibyl.wasm ARGS...` would: the current directory
// preopened as ".", stdio and the exit code passed through, the environment
// forwarded.
//   node --no-warnings scripts/run-wasi.mjs path/to/sibyl.wasm ARGS...
//
// Paths outside the current directory. A WASI program can open only files
// under a preopened directory, and wasi-libc picks the preopen whose name is
// the longest prefix of the path, ignoring leading "/" and "./" on both. So a
// "/" preopen beside "." cannot work: both have an empty prefix, one of them
// always wins, and either relative or absolute paths break. Instead, for each
// argument that names a path outside "." (the argument itself, or the part
// after the first "=" as in --out=/x), this preopens just the directory it
// needs, under the same name the program will use:
//   /abs/dir/file.yaml   -> "/abs/dir" (the nearest existing directory; "/"
//                           itself is never preopened, see above)
//   ../../x/file.yaml    -> "../.."    (the leading run of "../")
// plus every absolute directory listed in SIBYL_WASI_DIRS (":"-separated),
// for paths that come from config files rather than the command line.
// Known limit: a relative path whose first components spell one of those
// absolute directories (say tmp/a.yaml while /tmp is preopened) resolves to
// the absolute one. ./sibyl does the same for wasmtime (--dir=DIR).
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WASI } from 'node:wasi';
import process from 'node:process';

// Node 20's WASI imports are V8 "fast API calls"; a garbage collection inside
// one corrupts the stack once a module has done enough work (seen: a
// 100,000-trial sweep wrote all its output, then died with SIGSEGV or
// "Invalid bytecode"; nodejs/node issue 46777). Turning fast calls off costs
// nothing measurable here.
setFlagsFromString('--no-turbo-fast-api-calls');

const [wasmPath, ...args] = process.argv.slice(2);
if (!wasmPath) {
  process.stderr.write('usage: run-wasi.mjs FILE.wasm [ARGS...]\n');
  process.exit(2);
}

function isDir(p) {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// Guest name -> host directory. "." goes last; no other entry has an empty
// prefix, so the order matters for nothing else.
function preopensFor(argv, cwd, extraDirs = []) {
  const pre = {};
  const addAbsolute = (p) => {
    let d = isDir(p) ? p : dirname(p);
    while (d !== '/' && !isDir(d)) d = dirname(d);
    if (d !== '/') pre[d] = d;
  };
  for (const d of extraDirs) if (d.startsWith('/')) addAbsolute(d);
  for (const arg of argv) {
    const eq = arg.indexOf('=');
    for (const c of eq >= 0 ? [arg, arg.slice(eq + 1)] : [arg]) {
      if (c.startsWith('/')) {
        addAbsolute(c);
      } else {
        const up = /^(?:\.\.\/)+/.exec(c);
        if (up) {
          const name = up[0].slice(0, -1); // "../.." without the final "/"
          pre[name] = resolve(cwd, name);
        }
      }
    }
  }
  pre['.'] = cwd;
  return pre;
}

const extra = (process.env.SIBYL_WASI_DIRS || '').split(':').filter(Boolean);
const wasi = new WASI({
  version: 'preview1',
  args: ['sibyl', ...args],
  env: process.env,
  preopens: preopensFor(args, process.cwd(), extra),
  returnOnExit: true,
});
let bytes;
try {
  bytes = await readFile(wasmPath);
} catch (e) {
  process.stderr.write(`run-wasi.mjs: cannot read ${wasmPath}: ${e.code || e.message}\n`);
  process.exit(2);
}
const module = await WebAssembly.compile(bytes);
// When stdout or stderr is a pipe whose reader is slower than the module,
// Node's WASI returns EAGAIN from fd_write and wasi-libc drops the output
// (seen: 352 KB of log cut to 64 KB with exit 0). Wait and write again, so
// nothing printed is ever lost.
const imports = wasi.getImportObject();
const wasiNs = imports.wasi_snapshot_preview1;
const rawWrite = wasiNs.fd_write;
const WASI_EAGAIN = 6;
const pause = new Int32Array(new SharedArrayBuffer(4));
// wasi-libc's stdio writes [buffered bytes, new bytes]; on every fflush the
// second is empty, and Node (libuv) spends a system call of its own on an
// empty buffer. A sweep flushes a log line per poll and a stream line per
// job, so trailing empty buffers are left out (same bytes written).
let memory = null;
const dropEmptyTail = (iovs, iovsLen) => {
  if (!memory || iovsLen < 2) return iovsLen;
  const view = new DataView(memory.buffer);
  while (iovsLen > 1 && view.getUint32(iovs + (iovsLen - 1) * 8 + 4, true) === 0) iovsLen--;
  return iovsLen;
};
wasiNs.fd_write = (fd, iovs, iovsLen, nwritten) => {
  iovsLen = dropEmptyTail(iovs, iovsLen);
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 50)) {
    const rc = rawWrite(fd, iovs, iovsLen, nwritten);
    if (rc !== WASI_EAGAIN || (fd !== 1 && fd !== 2)) return rc;
    Atomics.wait(pause, 0, 0, waitMs);
  }
};
const instance = await WebAssembly.instantiate(module, imports);
memory = instance.exports.memory instanceof WebAssembly.Memory ? instance.exports.memory : null;
process.exitCode = wasi.start(instance);
