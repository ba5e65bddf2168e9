#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then the headline scenario's
# commands exactly as design.md section 8 writes them (examples/... paths),
# run with the installed `sibyl` from a folder that holds no examples, with a
# PATH of the prefix and the system only and no variable naming the source
# or build trees. Then the prefix is moved: the installed programs find
# share/sibyl from their own location, so they keep working.
#   install.test.sh native BUILD_DIR     the native binary (bin/sibyl)
#   install.test.sh wasm WASI_BUILD_DIR  sibyl.wasm and its launcher (bin/sibyl)
set -uo pipefail
kind=$1
build=$2
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }

case $kind in
  native) [ -x "$build/host-wasi/sibyl" ] || { echo "FAIL: $build/host-wasi/sibyl is not built" >&2; exit 1; } ;;
  wasm) [ -f "$build/host-wasi/sibyl.wasm" ] || { echo "FAIL: $build/host-wasi/sibyl.wasm is not built (cmake --preset wasi && cmake --build --preset wasi)" >&2; exit 1; } ;;
  *) echo "usage: install.test.sh native|wasm BUILD_DIR" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; echo "FAIL: cmake --install $build" >&2; exit 1; }
[ -x "$prefix/bin/sibyl" ] || fail "bin/sibyl installed"
for f in share/sibyl/examples/companies/vertex_foundry/config/workspace.yaml share/sibyl/schemas/workspace.schema.json \
  share/sibyl/schemas/pipelines.schema.json share/doc/sibyl/README.md share/bash-completion/completions/sibyl; do
  [ -f "$prefix/$f" ] || fail "$f installed"
done
if [ "$kind" = native ]; then
  for f in bin/sibyl-solver bin/sibyl-conductor share/man/man1/sibyl.1.gz lib/systemd/system/sibyl-solver.service; do
    [ -e "$prefix/$f" ] || fail "$f installed"
  done
else
  [ -f "$prefix/share/sibyl/sibyl.wasm" ] || fail "share/sibyl/sibyl.wasm installed"
  [ "$(head -c 2 "$prefix/bin/sibyl")" = '#!' ] || fail "bin/sibyl is the launcher script"
fi

# run DIR CMD...: in DIR, with only the prefix and the system on PATH; sets rc.
run() {
  local dir=$1
  shift
  (cd "$dir" && env -i HOME="$tmp" PATH="$prefix/bin:/usr/bin:/bin" "$@") >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

ws=examples/companies/vertex_foundry/config/workspace.yaml
pl=examples/companies/vertex_foundry/config/pipelines.yaml
scenario() {
  mkdir -p "$1"
  run "$1" sibyl workspace validate "$ws"
  [ $rc -eq 0 ] && grep -q "valid workspace" "$tmp/out" && ok "$2: sibyl workspace validate $ws" ||
    fail "$2: workspace validate exited $rc: $(cat "$tmp/out" "$tmp/err")"
  run "$1" sibyl pipeline run hyperparameter_sweep \
    --workspace "$ws" \
    --config "$pl" \
    --input budget_usd=500 \
    --input param_space='{"learning_rate": [0.0001, 0.001, 0.01], "batch_size": [32, 64, 128], "dropout": [0.3, 0.5, 0.7]}' \
    --input target_metric="val_acc" \
    --stream
  if [ $rc -ne 0 ]; then
    fail "$2: pipeline run exited $rc: $(tail -5 "$tmp/err")"
    return
  fi
  local best cost lines
  best=$(jq -c '.best_hyperparameters' "$1/sweep_output.json" 2>/dev/null)
  cost=$(jq '.total_cost <= 500' "$1/sweep_output.json" 2>/dev/null)
  lines=$(wc -l <"$1/sweep_output_stream.jsonl" 2>/dev/null || echo 0)
  [ "$best" = '{"learning_rate":0.001,"batch_size":64,"dropout":0.3}' ] && [ "$cost" = true ] && [ "$lines" -ge 18 ] &&
    ok "$2: sibyl pipeline run hyperparameter_sweep: best $best, within budget, $lines stream lines, files in the current folder" ||
    fail "$2: pipeline run results: best=$best within_budget=$cost stream_lines=$lines"
}

scenario "$tmp/elsewhere" "from another folder"

# A file the user has under examples/ wins over the installed one.
mkdir -p "$tmp/own/$(dirname "$ws")"
printf 'version: 1\nname: [\n' >"$tmp/own/$ws"
run "$tmp/own" sibyl workspace validate "$ws"
[ $rc -eq 1 ] && grep -Eq "^$ws:[0-9]+:[0-9]+: error" "$tmp/err" && ok "an examples/ file in the current folder is read first" ||
  fail "the current folder's broken $ws should be read (exit 1, $ws:LINE:COL: error), got exit $rc: $(cat "$tmp/err")"

# A missing example is reported under the name typed, exit 1.
run "$tmp/elsewhere" sibyl workspace validate examples/nope.yaml
[ $rc -eq 1 ] && grep -q "^examples/nope.yaml: error: cannot open" "$tmp/err" && ok "a missing examples/ file: exit 1, named as typed" ||
  fail "missing examples/nope.yaml: exit $rc: $(cat "$tmp/err")"

# Relocated as a whole, the prefix still works.
mv "$prefix" "$tmp/moved"
prefix=$tmp/moved
scenario "$tmp/after-move" "prefix moved"

[ $fails -eq 0 ] || { echo "$fails check(s) failed" >&2; exit 1; }
echo "all install checks passed ($kind)"
