#!/usr/bin/env bash
# The search benchmark (issue 10, point 5): over SEEDS seeds (default 100) and
# six response surfaces (the headline optimum, the centre of the space, four
# corners, moved through the workspace's simulation.surface), the share of
# runs whose reported best is the true optimum and the mean regret, at the
# same $500, for the fixed plan, random subsets of its size, sibyl's adaptive
# search and Optuna's TPESampler. Not a test: it prints figures
# (bench/README.md). Details: bench/search/search_bench.py.
#
#   bench/search/run.sh [SEEDS [SURFACES]]
#
# Uses the native build (build/release if it is there, else build/native;
# SIBYL_BUILD overrides) and /usr/bin/python3, which sees Debian's
# python3-optuna (another python3 on PATH may not). Without Optuna the other
# three searches still run, and it says so.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${SIBYL_BUILD:-}
if [ -z "$build" ]; then
  build=$repo/build/native
  [ -x "$repo/build/release/host-wasi/sibyl" ] && [ -x "$repo/build/release/tests/search_eval" ] && build=$repo/build/release
fi
for f in "$build/host-wasi/sibyl" "$build/tests/search_eval"; do
  [ -x "$f" ] || { echo "bench/search: $f is missing: build it (cmake --build $build --target sibyl search_eval)" >&2; exit 2; }
done
py=/usr/bin/python3
[ -x "$py" ] || { echo "bench/search: /usr/bin/python3 is missing (apt-get install -y python3)" >&2; exit 77; }
echo "bench/search: $build"
exec "$py" "$here/search_bench.py" --seeds "${1:-100}" --surfaces "${2:-6}" --sibyl "$build/host-wasi/sibyl" \
  --eval "$build/tests/search_eval" --repo "$repo"
