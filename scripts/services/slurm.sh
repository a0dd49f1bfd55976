#!/usr/bin/env bash
# A single-node Slurm (Debian's slurmctld + slurmd + munge) on 127.0.0.1, partition "debug",
# for the batch-job backend and its tests. Jobs run as the submitting user on this node, so the
# project's own virtualenv (papermill, ipykernel) is the Python the batch jobs use.
#   slurm.sh start|stop|status|env     idempotent; needs root (apt-get, daemons)
# No slurmdbd: the final state of a job comes from scontrol while the controller remembers it
# (MinJobAge) and from the plain-text completion log (JobCompType=jobcomp/filetxt) after that.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PARTITION=${ESAP_SLURM_PARTITION:-debug}
CONF=/etc/slurm/slurm.conf
RUN=/run/slurm
SPOOL=/var/spool/slurm-esap
LOGS=/var/log/slurm
log() { echo "[slurm] $*"; }
# Liveness by pid file: PID 1 here may not reap orphans, so a name match can be a zombie.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
node_state() { sinfo -h -N -o '%T' 2>/dev/null | head -n1; }

install() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null && return 0
  log "installing slurmctld slurmd slurm-client munge"
  ls /var/lib/apt/lists/*Packages >/dev/null 2>&1 || apt-get update -q
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends slurmctld slurmd slurm-client munge
}

write_conf() {  # prints 1 when the configuration changed
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))  # MB, headroom for the rest
  mkdir -p "$(dirname "$CONF")"
  local new
  new=$(cat <<EOF
# Written by esap-lab scripts/services/slurm.sh: one node on 127.0.0.1.
ClusterName=esaplab
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
MessageTimeout=10
InactiveLimit=0
KillWait=5
MinJobAge=600
SlurmdTimeout=60
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
)
  if [ "$(cat "$CONF" 2>/dev/null)" != "$new" ]; then
    printf '%s\n' "$new" > "$CONF"
    echo 1
  else
    echo 0
  fi
}

# slurmctld and slurmd listen on every interface (Slurm has no bind address): a firewall rule
# keeps their ports to the loopback interface.
loopback_only() {
  command -v iptables >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends iptables >/dev/null 2>&1 || true
  local rule=(INPUT -p tcp -m multiport --dports 6817,6818 ! -i lo -j DROP)
  if ! { iptables -C "${rule[@]}" 2>/dev/null || iptables -A "${rule[@]}" 2>/dev/null; }; then
    log "warning: could not add a firewall rule; slurmctld/slurmd ports 6817-6818 are open on all interfaces"
  fi
}

start() {
  install
  mkdir -p "$SPOOL/ctld" "$SPOOL/d" "$LOGS" "$RUN" /run/munge
  chown slurm:slurm "$SPOOL/ctld" "$LOGS" "$RUN"
  chown munge:munge /run/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null \
      || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  fi
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
  local changed
  changed=$(write_conf)

  loopback_only
  alive /run/munge/munged.pid || runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 40); do munge -n </dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.25; done

  if ! alive "$RUN/slurmctld.pid"; then
    /usr/sbin/slurmctld
  elif [ "$changed" = 1 ]; then
    scontrol reconfigure
  fi
  alive "$RUN/slurmd.pid" || /usr/sbin/slurmd

  for _ in $(seq 1 60); do
    case "$(node_state)" in
      idle*|mixed*|allocated*|completing*) log "ready (partition $PARTITION)"; return 0 ;;
      down*|drain*) scontrol update nodename="$(hostname -s)" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
  done
  log "not ready; see $LOGS/slurmctld.log and $LOGS/slurmd.log" >&2
  return 1
}

stop_pid() {
  alive "$1" || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  stop_pid "$RUN/slurmd.pid"
  stop_pid "$RUN/slurmctld.pid"
  stop_pid /run/munge/munged.pid
  log "stopped"
}

status() {
  if alive "$RUN/slurmctld.pid" && alive "$RUN/slurmd.pid" && alive /run/munge/munged.pid; then
    echo "running (node $(node_state))"
  else
    echo stopped
    return 1
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export ESAP_TEST_SLURM_PARTITION=$PARTITION" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
