#!/usr/bin/env bash
# What the run journal costs: the 100,000-trial sweep of bench/sweep through
# the native release build, with the journal (the default) and with
# --no-journal, alternately, in the same run of this script; prints each wall
# time (the best of ROUNDS runs each), the ratio (goal < 1.10) and the
# journal's size. Then kills one journaled run halfway (SIBYL_JOURNAL_KILL_AT)
# and times its resume, which must end with the same result file. Not a
# test: it prints figures.
#
#   bench/journal/run.sh [--budget USD] [--rounds N]   (default 4000000, 3)
#
# Environment: SIBYL_NATIVE (default build/release/host-wasi/sibyl, built
# with cmake --preset release if missing), SIBYL_BENCH_KEEP=1 keeps the work
# folder.
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
budget=4000000 rounds=3
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
native=${SIBYL_NATIVE:-$repo/build/release/host-wasi/sibyl}
if [ ! -x "$native" ]; then
  (cd "$repo" && cmake --preset release -B build/release >/dev/null &&
    cmake --build build/release -j "${SIBYL_JOBS:-2}" --target sibyl >/dev/null) || exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/sibyl-bench-journal.XXXXXX")
if [ -n "${SIBYL_BENCH_KEEP:-}" ]; then echo "work folder: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
sweep=$repo/bench/sweep
args=(pipeline run bench_sweep --config "$sweep/pipelines.yaml" --input "budget_usd=$budget"
  --start-time 2026-01-01T00:00:00Z --no-progress)

now() { date +%s.%N; }
# timed OUT [extra args...]: wall seconds of one run into $work/OUT
timed() {
  local out=$1; shift
  rm -rf "${work:?}/$out"
  local t0; t0=$(now)
  "$native" "${args[@]}" --output-dir "$work/$out" "$@" >"$work/$out.log" 2>&1 || { echo "run.sh: $out failed" >&2; exit 1; }
  echo "$(now) - $t0" | bc -l
}
min() { if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc -l)" = 1 ]; then echo "$2"; else echo "$1"; fi; }

best_off='' best_on=''
for ((i = 0; i < rounds; i++)); do
  best_off=$(min "$best_off" "$(timed off --no-journal)")
  best_on=$(min "$best_on" "$(timed on)")
done
cmp -s "$work/on/sweep_output.json" "$work/off/sweep_output.json" || { echo "run.sh: the outputs differ" >&2; exit 1; }
size=$(stat -c %s "$work/on/sibyl.journal")

# A run killed at half its journal writes, then resumed.
total=$(python3 - "$work/on/sibyl.journal" <<'PY' 2>/dev/null || echo 0
import struct, sys
d = open(sys.argv[1], 'rb').read(); p = 12; n = 0
while p + 9 <= len(d):
    p += 9 + struct.unpack_from('<I', d, p)[0]; n += 1
print(n)
PY
)
rm -rf "$work/killed"
SIBYL_JOURNAL_KILL_AT=$((total / 2)) "$native" "${args[@]}" --output-dir "$work/killed" >/dev/null 2>&1
t0=$(now)
"$native" pipeline resume --output-dir "$work/killed" --no-progress >"$work/resume.log" 2>&1
resume_rc=$?
resume_wall=$(echo "$(now) - $t0" | bc -l)
same=no
cmp -s "$work/killed/sweep_output.json" "$work/on/sweep_output.json" && same=yes

ratio=$(echo "$best_on / $best_off" | bc -l)
trials=$(sed -n 's/.*Planned \(the full grid of \)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$work/on.log" | head -1)
echo
echo "sibyl journal benchmark: budget \$$budget, ${trials:-?} trials, native release, best of $rounds runs each"
printf '%-34s %10s\n' "" "wall (s)"
printf '%-34s %10.2f\n' "without journal (--no-journal)" "$best_off"
printf '%-34s %10.2f\n' "with journal" "$best_on"
printf '%-34s %9.3fx   (goal < 1.10: %s)\n' "ratio" "$ratio" "$([ "$(echo "$ratio < 1.10" | bc -l)" = 1 ] && echo met || echo 'NOT met')"
printf 'journal: %d bytes (%.1f MiB), %s records\n' "$size" "$(echo "$size / 1048576" | bc -l)" "$total"
printf 'resume after a kill at record %d: %.2f s, exit %d, result identical to the uninterrupted run: %s\n' \
  "$((total / 2))" "$resume_wall" "$resume_rc" "$same"
[ "$same" = yes ]
