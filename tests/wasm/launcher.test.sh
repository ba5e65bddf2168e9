#!/usr/bin/env bash
# Tests the ./sibyl launcher: run from elsewhere and through a symlink, with
# relative, ../ and absolute paths, exit codes passed through, a clear exit 2
# when sibyl.wasm is not built, and the wasmtime command line it builds
# (checked with a stand-in `wasmtime` on PATH, since wasmtime is not
# installable here).
#   launcher.test.sh REPO_ROOT SIBYL_WASM
set -uo pipefail
repo=$1
wasm=$2
launcher=$repo/sibyl
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

[ -x "$launcher" ] || { echo "FAIL: $launcher is missing or not executable" >&2; exit 1; }
[ -f "$wasm" ] || { echo "FAIL: $wasm is missing (build the wasi preset: cmake --preset wasi && cmake --build --preset wasi)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/work/sub" "$tmp/elsewhere" "$tmp/bin"
# Every data file is broken YAML: the loader then reports a positioned error
# (FILE:LINE:COL: error: ...), which proves the file was found and read,
# whatever the workspace schema requires of a valid file.
for f in "$tmp/work/here.yaml" "$tmp/elsewhere/abs.yaml"; do printf 'a: [\n' >"$f"; done
export SIBYL_WASM=$wasm

# run DIR CMD... : sets rc, out, err
run() {
  local dir=$1
  shift
  out=$(cd "$dir" && "$@" 2>"$tmp/err")
  rc=$?
  err=$(cat "$tmp/err")
}
expect() { # expect WHAT RC OUT_REGEX ERR_REGEX
  [ "$rc" = "$2" ] || fail "$1: exit $rc, expected $2 (stdout: $out; stderr: $err)"
  [ -z "$3" ] || [[ $out =~ $3 ]] || fail "$1: stdout '$out' does not match /$3/"
  [ -z "$4" ] || [[ $err =~ $4 ]] || fail "$1: stderr '$err' does not match /$4/"
}
# reads WHAT DIR PATH [LAUNCHER]: sibyl, run in DIR, opened and parsed PATH.
reads() {
  run "$2" "${4:-$launcher}" workspace validate "$3"
  if ! { [ "$rc" = 1 ] && [[ $err =~ ^"$3":[0-9]+:[0-9]+:\ error:\  ]]; }; then
    fail "$1: expected a positioned YAML error for '$3' (exit 1), got exit $rc, stderr: $err"
  fi
}

reads "relative path" "$tmp/work" here.yaml
reads "./ path" "$tmp/work" ./here.yaml
reads "../ path" "$tmp/work/sub" ../here.yaml
reads "../../ path" "$tmp/work/sub" ../../elsewhere/abs.yaml
reads "absolute path outside the current directory" "$tmp/work" "$tmp/elsewhere/abs.yaml"
reads "absolute path inside the current directory" "$tmp/work" "$tmp/work/here.yaml"
ln -s "$launcher" "$tmp/bin/sibyl-link"
reads "called through a symlink" "$tmp/work" here.yaml "$tmp/bin/sibyl-link"
run "$tmp/work" "$launcher" workspace validate missing.yaml
if ! { [ "$rc" = 1 ] && [[ $err == *missing.yaml* ]] && ! [[ $err =~ ^missing.yaml:[0-9] ]]; }; then
  fail "missing file: expected exit 1 and an unpositioned error naming it, got exit $rc, stderr: $err"
fi
run "$tmp/work" "$launcher" --version
expect "stdout and exit 0 passed through" 0 '^sibyl [0-9]+\.[0-9]+' ''
run "$tmp/work" "$launcher" no-such-command
expect "usage error passes exit 2 through" 2 '' 'no-such-command'

SIBYL_WASM=$tmp/not-built.wasm run "$tmp/work" "$launcher" --version
expect "sibyl.wasm not built" 2 '' 'is not built.*build-all\.sh'

# The wasmtime branch: a stand-in records its arguments one per line.
cat >"$tmp/bin/wasmtime" <<STUB
#!/bin/sh
printf '%s\n' "\$@" >"$tmp/wasmtime-args"
exit 7
STUB
chmod +x "$tmp/bin/wasmtime"
PATH="$tmp/bin:$PATH" SIBYL_WASI_DIRS="$tmp/elsewhere" \
  run "$tmp/work/sub" "$launcher" workspace validate ../here.yaml "--out=$tmp/elsewhere/new/x.json" "two words"
expect "wasmtime exit status passed through" 7 '' ''
want=$(printf '%s\n' run --dir=. "--dir=$tmp/elsewhere" --dir=.. "$wasm" workspace validate ../here.yaml "--out=$tmp/elsewhere/new/x.json" "two words")
got=$(cat "$tmp/wasmtime-args" 2>/dev/null)
[ "$got" = "$want" ] || fail "wasmtime command line:
--- got
$got
--- want
$want"
PATH="$tmp/bin:$PATH" SIBYL_RUNTIME=node run "$tmp/work" "$launcher" --version
expect "SIBYL_RUNTIME=node bypasses wasmtime" 0 '^sibyl [0-9]' ''

if [ "$fails" -ne 0 ]; then
  echo "launcher: $fails check(s) failed" >&2
  exit 1
fi
echo "launcher: all checks passed"
