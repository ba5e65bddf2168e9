#!/usr/bin/env bash
# The same run natively and as wasm32-wasi must print the same transcript,
# byte for byte.
#   compare-transcripts.sh NODE RUN_WASI_MJS NATIVE_PROGRAM PROGRAM.wasm WORK_DIR
set -u
node=$1 runner=$2 native=$3 wasm=$4 work=$5
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$wasm" ]; then
  echo "FAIL: $wasm is missing. Build the wasm tests first:" >&2
  echo "  cmake --preset wasi -B build/engine-wasi && cmake --build build/engine-wasi -j2" >&2
  echo "and configure this tree with -DSIBYL_WASI_DIR=<that build folder>." >&2
  exit 1
fi
mkdir -p "$work"
cd "$here" || exit 1
"$native" >"$work/native.txt" || { echo "FAIL: the native run failed (exit $?)" >&2; exit 1; }
"$node" --no-warnings "$runner" "$wasm" >"$work/wasm.txt" || { echo "FAIL: the wasm run failed (exit $?)" >&2; exit 1; }
if ! cmp -s "$work/native.txt" "$work/wasm.txt"; then
  echo "FAIL: native and wasm transcripts differ ($work/native.txt, $work/wasm.txt):" >&2
  diff "$work/native.txt" "$work/wasm.txt" | head -40 >&2
  exit 1
fi
echo "native and wasm transcripts agree: $(wc -l <"$work/native.txt") lines, $(wc -c <"$work/native.txt") bytes"
