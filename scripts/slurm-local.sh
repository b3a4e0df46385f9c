#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the sharding CI test:
# munged plus slurmctld and slurmd, configured for this machine's cores, all
# state under one private folder (nothing in /etc is touched).
#
#   scripts/slurm-local.sh up DIR     # installs slurm-wlm and munge when missing, starts the cluster;
#                                     # prints `export SLURM_CONF=DIR/slurm.conf`
#   scripts/slurm-local.sh down DIR   # stops it
#
# Exit 3 (with the reason on stderr) when the cluster cannot start here, so a
# caller can skip rather than fail.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 up|down DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export SLURM_CONF=$dir/slurm.conf

cannot() {
  echo "slurm-local: cannot start a local Slurm cluster: $*" >&2
  exit 3
}

down() {
  local pids=()
  for f in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/pid"; do
    [ -f "$f" ] && pids+=("$(cat "$f")")
  done
  # Cancel what still runs first: a job step (slurmstepd and the job's
  # processes) outlives the daemons otherwise.
  if [ -f "$SLURM_CONF" ] && [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null || true)
    if [ -n "$jobs" ]; then
      scancel $jobs >/dev/null 2>&1 || true
      for _ in $(seq 1 60); do
        [ -z "$(squeue -h -t running,completing -o %A 2>/dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  [ -f "$SLURM_CONF" ] && scontrol shutdown >/dev/null 2>&1 || true
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" >/dev/null 2>&1 || true
  for _ in $(seq 1 40); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.25
  done
  rm -f "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/pid"
  return 0
}

case "$cmd" in
down)
  down
  exit 0
  ;;
up) ;;
*)
  echo "usage: $0 up|down DIR" >&2
  exit 2
  ;;
esac

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    cannot "slurm-wlm and munge are not installed and installing them needs root"
  fi
  echo "slurm-local: installing slurm-wlm and munge (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq slurm-wlm munge; } >"$dir/apt.log" 2>&1 ||
    cannot "apt-get install slurm-wlm munge failed (see $dir/apt.log)"
fi
[ "$(id -u)" = 0 ] || cannot "slurmd must run as root to start jobs as their user"

down
rm -rf "$dir/munge" "$dir/spool" "$dir/state" "$dir/log"
mkdir -p "$dir/munge" "$dir/spool" "$dir/state" "$dir/log"
chmod 700 "$dir/munge"
head -c 1024 /dev/urandom >"$dir/munge/munge.key"
chmod 600 "$dir/munge/munge.key"
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/sock" --pid-file="$dir/munge/pid" \
  --log-file="$dir/munge/log" --seed-file="$dir/munge/seed" -f ||
  cannot "munged did not start (see $dir/munge/log)"

host=$(hostname)
# Memory is not a consumable resource here (CR_Core), but a job's --mem must
# fit the node's RealMemory (default 1 MB): declare 90% of this machine's.
mem=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo 2>/dev/null || true)
# Ports away from the defaults, so a real cluster on the machine is never touched.
cat >"$SLURM_CONF" <<CONF
ClusterName=munitevalci
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/sock
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) RealMemory=${mem:-1024} State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF

slurmctld -c || cannot "slurmctld did not start (see $dir/log/slurmctld.log)"
slurmd -c || cannot "slurmd did not start (see $dir/log/slurmd.log)"
for _ in $(seq 1 40); do
  if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
    echo "export SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.5
done
state=$(sinfo -h -o '%t %E' 2>&1 || true)
down
cannot "the node did not come up (sinfo: ${state:-nothing}); see $dir/log/"
