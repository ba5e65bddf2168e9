#!/usr/bin/env bash
# sibyl's engine overhead per trial beside Optuna's, measured in the same run.
# Not a test: it prints figures and the ratio.
#
#   bench/optuna/run.sh [TRIALS]        (default 10,000)
#
# Both sides time the cost of deciding, recording and scheduling one trial,
# without the trial's own work:
#   sibyl   bench_engine (bench/engine/bench_engine.c, native release build):
#           one pipeline run of TRIALS jobs on a fake host; the time spent
#           inside the engine's sb_run_* calls per job: reading the plan,
#           submitting, polling with backoff, recording each result and its
#           cost in the ledger, streaming it, retrying failures (1%), ranking.
#           The fake Conductor's and the JSON transport's time is the host's
#           and is excluded (printed separately by bench_engine). Two figures:
#           answers delivered as JSON text (what a server over HTTP sends:
#           the engine reads the text) and as message values (what the
#           embedded services hand over in-process, sb_run_on_message; the
#           comparable case to Optuna's in-memory storage).
#   Optuna  bench/optuna/optuna_overhead.py: study.optimize with RandomSampler
#           and in-memory storage over TRIALS trials whose objective only
#           draws five hyperparameters and returns a constant; wall time per
#           trial (sampling, trial bookkeeping, storage, the loop).
# Goal: sibyl's time per trial at most 1/100 of Optuna's.
#
# Optuna comes from Debian (`apt-get install -y --no-install-recommends
# python3-optuna`) and runs under /usr/bin/python3, which sees Debian's
# packages (another python3 on PATH may not).
set -uo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
repo=$(cd "$here/../.." && pwd)
trials=${1:-10000}
py=/usr/bin/python3
if ! "$py" -c 'import optuna' 2>/dev/null; then
  echo "run.sh: Optuna is not installed for $py." >&2
  echo "  install it with: apt-get install -y --no-install-recommends python3-optuna" >&2
  exit 2
fi
build=${SIBYL_BENCH_BUILD:-$repo/build/release}
echo "== building bench_engine (cmake --preset release -B $build)" >&2
(cd "$repo" && cmake --preset release -B "$build" >/dev/null &&
  cmake --build "$build" -j "${SIBYL_JOBS:-2}" --target bench_engine >/dev/null) || exit 1

sib=$("$build/bench/bench_engine" "$trials") || { echo "$sib" >&2; exit 1; }
opt=$("$py" "$here/optuna_overhead.py" "$trials") || exit 1
s_us=$(sed -n 's/.*engine time.*, \([0-9.]*\) us per job.*/\1/p' <<<"$sib")
p_us=$(sed -n 's/.*in-process answers.*engine [0-9.]* s, \([0-9.]*\) us per job.*/\1/p' <<<"$sib")
o_us=$(sed -n 's/.*, \([0-9.]*\) us per trial.*/\1/p' <<<"$opt")
[ -n "$s_us" ] && [ -n "$p_us" ] && [ -n "$o_us" ] || { echo "run.sh: could not read the figures:"; echo "$sib"; echo "$opt"; exit 1; } >&2

echo "$sib"
echo "$opt"
echo
printf '%-52s %12s %10s\n' "" "us per trial" "ratio"
printf '%-52s %12.1f\n' "Optuna (RandomSampler, in-memory storage)" "$o_us"
goal() { # goal LABEL US
  local inv met="NOT met"
  inv=$(echo "$o_us / $2" | bc -l)
  [ "$(echo "$2 / $o_us <= 0.01" | bc -l)" = 1 ] && met=met
  printf '%-52s %12.1f %10s   goal <= 1/100: %s\n' "$1" "$2" "1/$(printf '%.0f' "$inv")" "$met"
}
goal "sibyl engine, answers as JSON text (HTTP servers)" "$s_us"
goal "sibyl engine, in-process answers (embedded services)" "$p_us"
