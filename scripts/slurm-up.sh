#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine (Debian 12, as root), without
# systemd: installs the packages when missing, writes /etc/slurm/slurm.conf, starts
# munged, slurmctld and slurmd, and waits until the node is idle. Idempotent: with a
# healthy cluster it changes nothing and exits 0.
#
#   scripts/slurm-up.sh            exit 0: the cluster answers; 1: it could not start
#                                  (the reason and the log tail on stderr)
#
# Environment:
#   SLURM_UP_STARTED=FILE   written (touched) when this run started a daemon, so a test
#                           fixture can stop only what it started (scripts/slurm-down.sh)
#   SLURM_UP_TIMEOUT=S      seconds to wait for the node to be ready (default 60)
#
# The configuration (see docs/slurm.md): one node named after `hostname -s` at
# 127.0.0.1 (no DNS), 8 job slots whatever the core count (config_overrides), no
# cgroups, no slurmdbd (accounting off; finished jobs stay in squeue for an hour and
# are recorded in /var/log/slurm/jobcomp.log), partition `debug`.
set -uo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by sibyl scripts/slurm-up.sh"
WAIT=${SLURM_UP_TIMEOUT:-60}
NODE=$(hostname -s)

say() { echo "slurm-up: $*" >&2; }
# The reason, the daemons' log tails, and the reason again as the last line
# (what a test's SKIP line quotes).
die() {
  say "$1"
  for f in /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log; do
    [ -r "$f" ] && [ -s "$f" ] && { say "last lines of $f:"; tail -n 15 "$f" >&2; }
  done
  say "cannot start the cluster: $1"
  exit 1
}
started() { [ -n "${SLURM_UP_STARTED:-}" ] && touch "$SLURM_UP_STARTED"; return 0; }

# A daemon is alive when its pid file names a process that is not a zombie
# (exited daemons can linger as zombies for a moment here).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  local st
  st=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

node_state() { timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n 1; }

healthy() {
  case "$(node_state)" in
    idle | mixed | allocated | completing) return 0 ;;
  esac
  return 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

# A healthy cluster: nothing to do (not even rewriting the configuration).
if [ -f "$CONF" ] && alive /run/slurmctld.pid && alive /run/slurmd.pid && healthy; then
  say "cluster up: node $NODE $(node_state)"
  exit 0
fi

missing=()
for p in slurm-wlm slurmctld slurmd slurm-client munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1; apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; } ||
    die "cannot install ${missing[*]}"
fi
for b in munged slurmctld slurmd sinfo; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || die "$b not found after installing the packages"
done

if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
  say "keeping the existing $CONF (not written by this script)"
else
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  [ -n "$mem" ] || die "slurmd -C did not report RealMemory"
  new=$(mktemp)
  cat >"$new" <<EOF
$MARK
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
SwitchType=switch/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
MailProg=/bin/true
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmdParameters=config_overrides
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=8 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$new" "$CONF"; then
    say "writing $CONF"
    install -m 0644 "$new" "$CONF"
  fi
  rm -f "$new"
fi

install -d -o slurm -g slurm /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge 2>/dev/null || true

if [ ! -s /etc/munge/munge.key ]; then
  say "creating the munge key"
  if command -v mungekey >/dev/null 2>&1; then
    runuser -u munge -- mungekey -c -f >/dev/null 2>&1 || die "mungekey failed"
  else
    dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
fi

if ! alive /run/munge/munged.pid; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged >&2 || die "munged did not start"
  started
fi
for _ in $(seq 50); do
  timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1 && break
  sleep 0.1
done
timeout 5 munge -n 2>/dev/null | timeout 5 unmunge >/dev/null 2>&1 || die "munge does not answer (munge -n | unmunge)"

if ! alive /run/slurmctld.pid; then
  say "starting slurmctld"
  /usr/sbin/slurmctld -i >&2 || die "slurmctld did not start"
  started
fi
if ! alive /run/slurmd.pid; then
  say "starting slurmd"
  /usr/sbin/slurmd -N "$NODE" >&2 || die "slurmd did not start"
  started
fi

deadline=$((SECONDS + WAIT))
resumed=0
while :; do
  alive /run/slurmctld.pid || die "slurmctld exited"
  alive /run/slurmd.pid || die "slurmd exited"
  st=$(node_state)
  case "$st" in
    idle | mixed | allocated | completing)
      say "cluster up: node $NODE $st"
      exit 0
      ;;
    drain* | down*)
      # A node left down or drained by an earlier run (not by a running job).
      if [ $resumed -eq 0 ]; then
        say "node $NODE is $st: resuming it"
        timeout 5 scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true
        resumed=1
      fi
      ;;
  esac
  [ $SECONDS -lt $deadline ] || die "node $NODE not ready after ${WAIT}s (state: ${st:-no answer from slurmctld})"
  sleep 0.2
done
