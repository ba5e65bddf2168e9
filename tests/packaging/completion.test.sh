#!/usr/bin/env bash
# The bash completion, as installed by `cmake --install` into a temporary
# prefix, in a bash without the bash-completion package: `complete -p` names
# it for each program; it completes commands, subcommands, options (read from
# --help), pipeline names from the --config file on the line (and from
# pipelines.yaml by default), files after --config, and server options.
#   completion.test.sh BUILD_DIR REPO_ROOT
set -uo pipefail
build=$1
repo=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; exit 1; }
mkdir -p "$tmp/work/cfg"
cp "$repo/examples/companies/vertex_foundry/config/pipelines.yaml" "$tmp/work/cfg/pipes.yaml"
# A second file with two pipelines, a comment and a nested key that is not one.
cat >"$tmp/work/pipelines.yaml" <<'YAML'
version: 1
# a comment
pipelines:
  nightly:
    steps:
      plan: {call: solver.plan_search_grid}
  "quoted name":   # comment
    steps: {}
other:
  not_a_pipeline: 1
YAML

cd "$tmp/work" && env -i HOME="$tmp" PATH="$prefix/bin:/usr/bin:/bin" bash --norc --noprofile -c '
set -u
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok - $*"; }
source "$1/share/bash-completion/completions/sibyl" || { echo "FAIL: sourcing the completion" >&2; exit 1; }
for p in sibyl sibyl-wasm sibyl-solver sibyl-conductor; do
  complete -p $p >/dev/null 2>&1 || fail "complete -p $p"
done
[ "$(complete -p sibyl)" = "complete -F _sibyl sibyl" ] && ok "complete -p sibyl: $(complete -p sibyl)" || fail "complete -p sibyl: $(complete -p sibyl 2>&1)"
# t "EXPECTED" WORD... : completes the last word; EXPECTED is the sorted reply
t() {
  local want=$1
  shift
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  case $1 in sibyl-solver | sibyl-conductor) _sibyl_server ;; *) _sibyl ;; esac
  local got
  got=$(printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd " " -)
  [ "$got" = "$want" ] && ok "[$*] -> $got" || fail "[$*]: got \"$got\", expected \"$want\""
}
t "pipeline" sibyl pi
t "expr handle mcp pipeline schema workspace" sibyl ""
t "resume run validate" sibyl pipeline ""
t "validate" sibyl workspace v
t "pipelines workspace" sibyl schema ""
t "convnet_sweep_follow hyperparameter_sweep" sibyl pipeline run --config cfg/pipes.yaml ""
t "hyperparameter_sweep" sibyl pipeline run --config=cfg/pipes.yaml h
t "nightly quoted name" sibyl pipeline run ""
t "--seed --start-time --stream" sibyl pipeline run nightly --s
t "--input --input-file" sibyl pipeline run nightly --inp
t "cfg/pipes.yaml" sibyl pipeline run nightly --config cfg/p
t "real virtual" sibyl pipeline run nightly --clock ""
t "--vars --vars-file" sibyl expr "1" --va
t "--help --version" sibyl --
t "--max-body-bytes --max-concurrent" sibyl-conductor --max
t "debug error info warn" sibyl-solver --log-level ""
exit $fails
' _ "$prefix"
rc=$?
[ $rc -eq 0 ] || { echo "$rc check(s) failed" >&2; exit 1; }
echo "all completion checks passed"
