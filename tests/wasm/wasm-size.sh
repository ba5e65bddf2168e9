#!/usr/bin/env bash
# sibyl.wasm must stay within its size bound (given by tests/wasm/tests.cmake,
# the one place it is set). Prints the size, the bound and the room left; on
# failure, where to look (bench/README.md: what takes the space).
#   wasm-size.sh FILE.wasm MAX_BYTES
set -u
wasm=$1 max=$2
if [ ! -f "$wasm" ]; then
  echo "FAIL: $wasm is missing (build the wasi preset: cmake --preset wasi && cmake --build --preset wasi)" >&2
  exit 1
fi
size=$(stat -c %s "$wasm")
if [ "$size" -gt "$max" ]; then
  echo "FAIL: $wasm is $size bytes, over the bound of $max by $((size - max))." >&2
  echo "See bench/README.md (sibyl.wasm size) for how to find what grew." >&2
  exit 1
fi
echo "ok: $wasm is $size bytes, $((max - size)) under the bound of $max"
