#!/usr/bin/env bash
# Configures (first time only) and builds sibyl's three targets with the
# CMake presets, into build/native, build/wasi and build/web, then copies the
# web module, uPlot and the example to web/dist/ for the console in web/. Incremental: a second run only
# rebuilds what changed (CMake re-configures by itself when a CMake file does).
#   scripts/build-all.sh                 all three, in the order native wasi web
#   scripts/build-all.sh wasi web        just those
# Environment: SIBYL_JOBS (default: the number of CPUs).
# Exits non-zero, naming the preset, at the first failure.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
cd "$here"

# Emscripten 3.1.6's optimizer needs Debian's node modules (acorn); Node does
# not look there by itself (shared notes/toolchain.md, problem 1).
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
jobs=${SIBYL_JOBS:-$(nproc 2>/dev/null || echo 2)}

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(native wasi web)

step() { echo "build-all: $*"; }
die() {
  echo "build-all: FAILED: $*" >&2
  exit 1
}

for p in "${presets[@]}"; do
  case $p in native | wasi | web) ;; *) die "unknown preset '$p' (native, wasi or web)" ;; esac
  dir=build/$p
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    step "configuring $p -> $dir"
    cmake --preset "$p" >/dev/null || die "configuring $p (cmake --preset $p)"
  fi
  step "building $p in $dir"
  cmake --build --preset "$p" -j "$jobs" || die "building $p (cmake --build --preset $p)"
  if [ "$p" = web ]; then
    step "filling web/dist/ (module, uPlot, example) for the console"
    cmake --build --preset web --target console_dist >/dev/null || die "filling web/dist/ (target console_dist)"
  fi
done

for p in "${presets[@]}"; do
  case $p in
    native) step "native: build/native/host-wasi/sibyl; tests: ctest --preset native" ;;
    wasi) step "wasi:   build/wasi/host-wasi/sibyl.wasm (run it with ./sibyl)" ;;
    web) step "web:    build/web/host-web/sibyl.mjs + sibyl.wasm, console: node scripts/console.mjs" ;;
  esac
done
