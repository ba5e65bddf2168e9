#!/usr/bin/env bash
# Runs one golden config case and compares what sibyl prints with the case's
# .expected file (stdout, then stderr, then the exit code).
#   run-case.sh native|wasm CASE.yaml [--update]
# Paths are given relative to the repo root, so native and wasm print the
# same file names and must match the same expected text byte for byte.
set -u
mode=$1 case=$2 update=${3:-}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
case "$mode" in
  native) run=("${SIBYL_NATIVE:-build/native/host-wasi/sibyl}") ;;
  wasm) run=(node --no-warnings scripts/run-wasi.mjs "${SIBYL_WASM:-build/wasi/host-wasi/sibyl.wasm}") ;;
  *) echo "usage: run-case.sh native|wasm CASE.yaml [--update]" >&2; exit 2 ;;
esac
rel=${case#"$root"/}
ws=examples/companies/vertex_foundry/config/workspace.yaml
case "$rel" in
  */workspace/*) args=(workspace validate "$rel") ;;
  */pipelines/*) args=(pipeline validate --config "$rel" --workspace "$ws") ;;
  *) echo "run-case.sh: cannot tell the kind of $rel" >&2; exit 2 ;;
esac
out=$(mktemp) err=$(mktemp)
"${run[@]}" "${args[@]}" >"$out" 2>"$err"
rc=$?
actual=$( { echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; echo "--- exit $rc"; } )
rm -f "$out" "$err"
expected_file=${case%.yaml}.expected
if [ "$update" = "--update" ]; then
  printf '%s\n' "$actual" >"$expected_file"
  echo "updated $expected_file"
  exit 0
fi
if [ ! -f "$expected_file" ]; then
  echo "missing $expected_file (create it with --update, then review it)" >&2
  exit 1
fi
if ! diff -u "$expected_file" <(printf '%s\n' "$actual"); then
  echo "FAIL $rel ($mode)" >&2
  exit 1
fi
echo "ok $rel ($mode)"
