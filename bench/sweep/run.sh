#!/usr/bin/env bash
# A 100,000-trial sweep in virtual time, through sibyl.wasm (under Node's
# node:wasi, as ./sibyl runs it) and through the native release build, side by
# side: wall time, peak memory (maximum resident set size of the process: node
# for the wasm) and wall time per trial, with the wasm/native ratio. Not a
# test: it prints figures.
#
#   bench/sweep/run.sh                 the 100,000-trial sweep (budget $4,000,000)
#   bench/sweep/run.sh --budget USD    a smaller or larger sweep (the Solver plans
#                                      as many trials as the budget buys, at most
#                                      100,000 per call)
#
# The sweep: bench/sweep/pipelines.yaml (the headline pipeline's steps) on
# bench/sweep/workspace.yaml (embedded Solver and simulated Conductor, 1000
# GPUs, 3% infrastructure failures): 10x10x10x10x10 = 100,000 combinations,
# the full grid fits the budget, about 103,000 jobs with retries, 205 simulated
# hours, ~74,000 polls; both builds write the same sweep_output.json and
# sweep_output_stream.jsonl (checked).
#
# Goals (printed beside the figures): sibyl.wasm's wall time at most 1.30x
# the native build's in the same run, and its peak RSS at most 512 MiB.
# Absolute times vary 3x between machines and with other load; the ratio of
# two runs made one after the other is the figure that counts. CPU time
# (user + system) is printed too: on a busy machine it is steadier than wall.
#
# Environment:
#   SIBYL_WASM       sibyl.wasm (default build/wasi/host-wasi/sibyl.wasm; built if missing)
#   SIBYL_NATIVE     native sibyl (default: build/release/host-wasi/sibyl, (re)built first with
#                    cmake --preset release -B build/release && cmake --build build/release)
#   SIBYL_BENCH_NODE_FLAGS  extra node flags for the wasm run (e.g. --no-turbo-fast-api-calls)
#   SIBYL_BENCH_KEEP=1      keep the work folder (outputs, logs)
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
budget=4000000
while [ $# -gt 0 ]; do
  case $1 in
    --budget) budget=$2; shift 2 ;;
    -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

wasm=${SIBYL_WASM:-$repo/build/wasi/host-wasi/sibyl.wasm}
native=${SIBYL_NATIVE:-$repo/build/release/host-wasi/sibyl}
jobs=${SIBYL_JOBS:-2}
if [ ! -f "$wasm" ]; then
  echo "== building sibyl.wasm (cmake --preset wasi)" >&2
  (cd "$repo" && cmake --preset wasi -B "$(dirname "$(dirname "$wasm")")" >/dev/null &&
    cmake --build "$(dirname "$(dirname "$wasm")")" -j "$jobs" --target sibyl >/dev/null) || exit 1
fi
if [ -z "${SIBYL_NATIVE:-}" ]; then
  # The release build is (re)built every time: an optimized binary of the current sources.
  echo "== building the native release sibyl (cmake --preset release -B build/release)" >&2
  if ! (cd "$repo" && cmake --preset release -B build/release >/dev/null &&
    cmake --build build/release -j "$jobs" --target sibyl >/dev/null); then
    [ -x "$native" ] || exit 1
    echo "run.sh: warning: the release build failed; measuring the binary already there" >&2
  fi
fi
[ -x "$native" ] || { echo "run.sh: $native is missing" >&2; exit 2; }
command -v node >/dev/null || { echo "run.sh: node is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sibyl-bench-sweep.XXXXXX")
if [ -n "${SIBYL_BENCH_KEEP:-}" ]; then echo "work folder: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

args=(pipeline run bench_sweep --config "$here/pipelines.yaml" --input "budget_usd=$budget"
  --start-time 2026-01-01T00:00:00Z --no-progress)

# measure NAME CMD...: runs CMD in $work/NAME; sets wall (s), rss (KiB), rc.
measure() {
  local name=$1; shift
  local dir=$work/$name
  mkdir -p "$dir"
  if [ -x /usr/bin/time ]; then
    (cd "$dir" && /usr/bin/time -v -o "$dir/time.txt" "$@" >"$dir/log.txt" 2>"$dir/stderr.txt")
    rc=$?
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$dir/time.txt")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.txt")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$dir/time.txt")
    if grep -q 'terminated by signal' "$dir/time.txt"; then
      rc=$((128 + $(sed -n 's/.*terminated by signal \([0-9]*\).*/\1/p' "$dir/time.txt")))
    fi
  else
    # No GNU time: sample the peak (VmHWM) from /proc while it runs.
    local t0 t1 pid hwm=0 h
    t0=$(date +%s.%N)
    (cd "$dir" && exec "$@" >"$dir/log.txt" 2>"$dir/stderr.txt") &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
      [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
      sleep 0.2
    done
    wait "$pid"; rc=$?
    t1=$(date +%s.%N)
    wall=$(echo "$t1 - $t0" | bc -l)
    rss=$hwm
    cpu=$wall
  fi
}

# shellcheck disable=SC2086
measure wasm node ${SIBYL_BENCH_NODE_FLAGS:-} --no-warnings "$repo/scripts/run-wasi.mjs" "$wasm" "${args[@]}"
w_wall=$wall w_rss=$rss w_rc=$rc w_cpu=$cpu
measure native "$native" "${args[@]}"
n_wall=$wall n_rss=$rss n_rc=$rc n_cpu=$cpu

trials=$(sed -n 's/.*Planned \(the full grid of \)\{0,1\}\([0-9][0-9]*\).*/\2/p' "$work/native/log.txt" | head -1)
jobs_run=$(wc -l <"$work/native/sweep_output_stream.jsonl" 2>/dev/null || echo 0)
polls=$(sed -n 's/.*finished: .* (\([0-9]*\) polls).*/\1/p' "$work/native/log.txt" | head -1)
simtime=$(sed -n 's/.*completed in \([0-9]*h [0-9]*m [0-9]*s\).*/\1/p' "$work/native/log.txt" | head -1)
status() { # status RC DIR
  local s
  s=$(sed -n 's/^  "status": "\(.*\)",$/\1/p' "$2/sweep_output.json" 2>/dev/null | head -1)
  if [ "$1" -gt 128 ]; then echo "exit $1 (killed by signal $(($1 - 128)))${s:+, result $s}"
  else echo "exit $1${s:+, result $s}"; fi
}
same=no
cmp -s "$work/wasm/sweep_output.json" "$work/native/sweep_output.json" &&
  cmp -s "$work/wasm/sweep_output_stream.jsonl" "$work/native/sweep_output_stream.jsonl" && same=yes
logsame=no
cmp -s "$work/wasm/log.txt" "$work/native/log.txt" && logsame=yes

echo
echo "sibyl sweep benchmark: budget \$$budget, ${trials:-?} trials planned, $jobs_run jobs run (retries included),"
echo "${polls:-?} polls, ${simtime:-?} of simulated time on 1000 simulated GPUs, virtual clock"
echo "node $(node --version), $(uname -m), $(nproc) cores"
echo
printf '%-26s %10s %10s %16s %16s   %s\n' "" "wall (s)" "cpu (s)" "peak RSS (MiB)" "wall/trial (us)" "status"
row() { # row LABEL WALL CPU RSS_KIB STATUS
  printf '%-26s %10.2f %10.2f %16.1f %16.1f   %s\n' "$1" "$2" "$3" "$(echo "$4 / 1024" | bc -l)" \
    "$(echo "$2 * 1000000 / ${trials:-1}" | bc -l)" "$5"
}
row "sibyl.wasm (node:wasi)" "$w_wall" "$w_cpu" "$w_rss" "$(status "$w_rc" "$work/wasm")"
row "native (release)" "$n_wall" "$n_cpu" "$n_rss" "$(status "$n_rc" "$work/native")"
wall_ratio=$(echo "$w_wall / $n_wall" | bc -l)
printf '%-26s %9.2fx %9.2fx %15.2fx %15.2fx\n' "ratio wasm / native" "$wall_ratio" \
  "$(echo "$w_cpu / $n_cpu" | bc -l)" "$(echo "$w_rss / $n_rss" | bc -l)" "$wall_ratio"
verdict() { [ "$(echo "$1" | bc -l)" = 1 ] && echo met || echo "NOT met"; }
w_mib=$(echo "$w_rss / 1024" | bc -l)
echo
printf 'goal: wasm/native wall %.2fx (goal <= 1.30x: %s)\n' "$wall_ratio" "$(verdict "$wall_ratio <= 1.30")"
printf 'goal: wasm peak RSS %.0f MiB (goal <= 512 MiB: %s)\n' "$w_mib" "$(verdict "$w_mib <= 512")"
echo
echo "output files identical (wasm vs native): $same; logs identical: $logsame"
[ "$w_rc" -eq 0 ] && [ "$n_rc" -eq 0 ] && [ "$same" = yes ]
