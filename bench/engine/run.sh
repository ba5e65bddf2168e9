#!/usr/bin/env bash
# Builds the release tree and runs the engine benchmark for 10,000 and
# 100,000 jobs (each in its own process, so peak RSS is per size).
#   bench/engine/run.sh [BUILD_DIR]     (default build/engine-release)
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build/engine-release}
cd "$root"
cmake --preset release -B "$build" >/dev/null
cmake --build "$build" -j2 --target bench_engine >/dev/null
for n in 10000 100000; do
  "$build/bench/bench_engine" "$n"
done
