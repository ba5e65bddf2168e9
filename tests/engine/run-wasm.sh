#!/usr/bin/env bash
# Runs a wasm32-wasi test program under Node from tests/engine, failing with
# a clear message when it has not been built.
#   run-wasm.sh NODE RUN_WASI_MJS PROGRAM.wasm [ARGS...]
set -u
node=$1 runner=$2 wasm=$3
shift 3
if [ ! -f "$wasm" ]; then
  echo "FAIL: $wasm is missing. Build the wasm tests first:" >&2
  echo "  cmake --preset wasi -B build/engine-wasi && cmake --build build/engine-wasi -j2" >&2
  echo "and configure this tree with -DSIBYL_WASI_DIR=<that build folder>." >&2
  exit 1
fi
# A file, not a pipe: Node's WASI drops what does not fit a non-blocking pipe.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$node" --no-warnings "$runner" "$wasm" "$@" >"$out"
rc=$?
cat "$out"
exit $rc
