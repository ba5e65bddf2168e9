#!/usr/bin/env bash
# The example config, validated through the ./sibyl launcher (sibyl.wasm under
# node:wasi or wasmtime): success lines and exit 0.
#   validate-example.sh REPO SIBYL_WASM
set -u
repo=$1
export SIBYL_WASM=$2
cd "$repo" || exit 1
ex=examples/companies/vertex_foundry/config
fail=0
out=$(./sibyl workspace validate $ex/workspace.yaml 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] && [ "$out" = "$ex/workspace.yaml: valid workspace (2 servers)" ] || { echo "FAIL: workspace validate (exit $rc)"; fail=1; }
out=$(./sibyl pipeline validate --config $ex/pipelines.yaml --workspace $ex/workspace.yaml 2>&1); rc=$?
echo "$out"
[ $rc -eq 0 ] && [ "$out" = "$ex/pipelines.yaml: 2 valid pipelines: hyperparameter_sweep (11 steps), convnet_sweep_follow (5 steps)" ] ||
  { echo "FAIL: pipeline validate (exit $rc)"; fail=1; }
exit $fail
