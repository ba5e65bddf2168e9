#!/usr/bin/env bash
# Stops the single-node cluster scripts/slurm-up.sh started: cancels every job (job
# processes outlive slurmd, so first), then stops slurmd, slurmctld and munged and
# waits for them to exit. Idempotent: with nothing running it exits 0.
#
#   scripts/slurm-down.sh          exit 0: stopped (or was not running); 1: a daemon
#                                  would not stop
#
# SLURM_DOWN_IF=FILE: act only when FILE exists (slurm-up.sh's SLURM_UP_STARTED), then
# remove it; a test fixture stops the cluster only when a test started it.
set -uo pipefail

say() { echo "slurm-down: $*" >&2; }

if [ -n "${SLURM_DOWN_IF:-}" ]; then
  if [ ! -e "$SLURM_DOWN_IF" ]; then
    say "left running (not started by these tests)"
    exit 0
  fi
  rm -f "$SLURM_DOWN_IF"
fi

[ "$(id -u)" -eq 0 ] || { say "must run as root"; exit 1; }

pidof_file() {
  local pid st
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st#Z}" = "$st" ] && echo "$pid"
}

if pidof_file /run/slurmctld.pid >/dev/null; then
  ids=$(timeout 10 squeue -h -t pending,running,suspended,configuring -o %A 2>/dev/null | sort -u)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && { say "cancelling $(echo $ids | wc -w) jobs"; timeout 10 scancel $ids >/dev/null 2>&1; }
  for _ in $(seq 100); do
    [ -z "$(timeout 5 squeue -h -t running,completing -o %i 2>/dev/null)" ] && break
    sleep 0.1
  done
fi

rc=0
for d in slurmd:/run/slurmd.pid slurmctld:/run/slurmctld.pid munged:/run/munge/munged.pid; do
  name=${d%%:*}
  file=${d#*:}
  pid=$(pidof_file "$file") || continue
  say "stopping $name ($pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    pidof_file "$file" >/dev/null || break
    sleep 0.1
  done
  if pid=$(pidof_file "$file"); then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
    pidof_file "$file" >/dev/null && { say "$name ($pid) would not stop"; rc=1; }
  fi
done
[ $rc -eq 0 ] && say "stopped"
exit $rc
