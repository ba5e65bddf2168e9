#!/usr/bin/env bash
# Builds the release tree and runs the hard budget's randomized invariants:
# 10,000 seeded embedded sweeps (bench/invariants/invariants.c).
#   bench/invariants/run.sh [RUNS [FIRST_SEED [early-stopping]]]  (default 10000 runs from seed 1;
#   early-stopping: learning curves and a stopping rule in every run)
# SIBYL_BUILD_DIR overrides the build folder (default build/engine-release).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SIBYL_BUILD_DIR:-$root/build/engine-release}
cd "$root"
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" -j2 --target invariants >/dev/null
"$build/bench/invariants" "${1:-10000}" "${2:-1}" ${3:+"$3"}
