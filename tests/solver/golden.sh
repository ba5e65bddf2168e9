#!/usr/bin/env bash
# The Solver's answers to fixed calls (solver_golden.c) against
# golden.expected, byte for byte, from the native build and from wasm32-wasi
# under Node: the same arguments must give the same bytes everywhere.
#   golden.sh native DRIVER [--update]     (--update rewrites golden.expected)
#   golden.sh wasm WORK_DIR            (builds the driver for wasm32-wasi first)
# Exit 77 (skipped) when the wasm toolchain, cJSON's sources or node are missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
expected="$here/golden.expected"
mode=${1:-}
case "$mode" in
  native)
    driver=$2
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    run=("$driver" "$out")
    ;;
  wasm)
    work=$2
    if ! command -v clang-16 >/dev/null || ! command -v node >/dev/null || [ ! -d /usr/include/wasm32-wasi ] ||
       [ ! -d /usr/lib/wasm32-wasi ]; then
      echo "skipped: needs clang-16, wasi-libc and node (scripts/install-deps.sh)"
      exit 77
    fi
    mkdir -p "$work/sysroot/include" "$work/sysroot/lib"
    ln -sfn /usr/include/wasm32-wasi "$work/sysroot/include/wasm32-wasi"
    ln -sfn /usr/lib/wasm32-wasi "$work/sysroot/lib/wasm32-wasi"
    # The sources the planner needs, compiled the way the wasi preset does.
    if ! clang-16 --target=wasm32-wasi --sysroot="$work/sysroot" -O2 -std=c11 -D_POSIX_C_SOURCE=200809L \
        -I"$root/core" \
        "$root"/core/solver/*.c "$root"/core/value/*.c "$root/core/util/sb_alloc.c" \
        "$root/core/util/sb_buf.c" "$root/core/util/sb_grow.c" "$root/core/util/sb_heap.c" \
        "$root"/core/json/*.c "$here/solver_golden.c" \
        -w -Wl,-z,stack-size=1048576 -Wl,--stack-first -o "$work/solver_golden.wasm"; then
      echo "FAIL: could not build the wasm driver" >&2
      exit 1
    fi
    # The output goes to a file in the preopened current directory: Node's
    # WASI loses what does not fit a non-blocking stdout pipe.
    cd "$work" || exit 1
    out=$work/golden.out
    run=(node --no-warnings "$root/scripts/run-wasi.mjs" "$work/solver_golden.wasm" golden.out)
    ;;
  *)
    echo "usage: golden.sh native DRIVER [--update] | golden.sh wasm WORK_DIR" >&2
    exit 2
    ;;
esac
rm -f "$out"
"${run[@]}"
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$out" ]; then
  echo "FAIL: driver exited $rc" >&2
  exit 1
fi
if [ "${3:-}" = "--update" ]; then
  cp "$out" "$expected"
  echo "updated $expected"
  exit 0
fi
if ! diff -u "$expected" "$out"; then
  echo "FAIL: $mode output differs from golden.expected" >&2
  exit 1
fi
echo "ok: $mode output matches golden.expected"
