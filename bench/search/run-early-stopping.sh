#!/usr/bin/env bash
# The early-stopping benchmark (issue 16): at the same $500 on the simulated
# surface with learning curves, success rate, regret, money per found
# optimum and trials run for sibyl without and with early stopping and
# Optuna's MedianPruner and SuccessiveHalvingPruner on the same curves.
# Not a test: it prints figures (bench/README.md). Details:
# bench/search/early_stopping.py.
#
#   bench/search/run-early-stopping.sh [SEEDS]     (default 100)
#
# Uses the native build (build/release if it is there, else build/native;
# SIBYL_BUILD overrides) and /usr/bin/python3 (Debian's python3-optuna).
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
exec "$py" "$here/early_stopping.py" --seeds "${1:-100}" --sibyl "$build/host-wasi/sibyl" \
  --eval "$build/tests/search_eval" --repo "$repo"
