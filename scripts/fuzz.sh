#!/usr/bin/env bash
# Long libFuzzer runs of the parser targets (the bounded runs are in ctest).
#
#   scripts/fuzz.sh TARGET [SECONDS] [LIBFUZZER-FLAGS...]
#
#   TARGET    yaml (YAML loader + config validators + JSON writer) or
#             json (JSON reader, write/re-parse round trip)
#   SECONDS   how long to run (default 600)
#   flags     passed to libFuzzer after ours, so they win: -max_len=16384,
#             -seed=7, -only_ascii=1 ...
#
# Environment: BUILD_DIR (default build/native, configured with the native
# preset if missing).
#
# The corpus grows in tests/fuzz/corpus-TARGET/ (git-ignored) and is reused by
# the next run; the seeds (tests/fuzz/seeds-TARGET/, and for yaml the golden
# cases and the examples) are read, never written. A crash, leak or failed
# invariant stops the run and leaves the input in BUILD_DIR/fuzz-artifacts/;
# reproduce it with `BUILD_DIR/tests/fuzz_TARGET FILE`, fix it, then copy the
# file into tests/fuzz/seeds-TARGET/ as a regression seed.
#
# One process: the build machine is shared, so no -jobs/-workers.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

usage() { echo "usage: scripts/fuzz.sh yaml|json [SECONDS] [LIBFUZZER-FLAGS...]" >&2; exit 2; }
[ $# -ge 1 ] || usage
target=${1#fuzz_}
shift
case "$target" in
  yaml) seeds=(tests/fuzz/seeds-yaml tests/golden/config examples) ;;
  json) seeds=(tests/fuzz/seeds-json) ;;
  *) usage ;;
esac
seconds=600
if [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi

build=${BUILD_DIR:-build/native}
[ -f "$build/CMakeCache.txt" ] || cmake --preset native -B "$build" >/dev/null
cmake --build "$build" --target "fuzz_$target" -j2 >/dev/null

corpus=tests/fuzz/corpus-$target
artifacts=$build/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
echo "fuzz_$target: ${seconds}s, corpus $corpus, artifacts $artifacts/" >&2
exec "$build/tests/fuzz_$target" -max_total_time="$seconds" -max_len=4096 -timeout=20 -print_final_stats=1 \
  -dict="tests/fuzz/$target.dict" -artifact_prefix="$artifacts/$target-" "$@" "$corpus" "${seeds[@]}"
