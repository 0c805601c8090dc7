#!/usr/bin/env bash
# A throw-away one-node SLURM cluster for CI, started by hand (no systemd). Run as root.
#   .ci/slurm-cluster.sh start   install Debian's slurm + munge, configure, start munged/slurmctld/slurmd
#   .ci/slurm-cluster.sh stop    kill the daemons by the PIDs in their pid files
# No slurmdbd: job accounting is off, finished jobs stay visible to `squeue` for MinJobAge seconds,
# and every finished job gets one line in the job completion file (JOBCOMP below).
# The node has one typed GPU as a generic resource (gres gpu:dummy:1) whose device file is a dummy
# (GPU_DEVICE below, not a GPU): SLURM schedules and grants it like a real one (one job at a time) and
# sets CUDA_VISIBLE_DEVICES / SLURM_JOB_GPUS in the jobs that get it; CUDA itself sees no GPU.
set -euo pipefail

SLURM_CONF=/etc/slurm/slurm.conf
MARKER="# written by bgbias .ci/slurm-cluster.sh"
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
JOBCOMP="$LOG_DIR/jobcomp.log"
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
PARTITION=ci
GRES_CONF=/etc/slurm/gres.conf
GPU_TYPE=dummy
# The dummy GPU's device file. slurmd wants a character or block device: with a plain file it logs
# "is not a valid character or block device" and jobs get the GPU without CUDA_VISIBLE_DEVICES or
# SLURM_JOB_GPUS. /dev/null exists everywhere (no mknod) and, with TaskPlugin=task/none (no cgroup
# device constraint), a job that is not granted the GPU still opens it.
GPU_DEVICE=/dev/null

die() { echo "slurm-cluster: $*" >&2; exit 1; }

install_packages() {
    local packages=(slurmctld slurmd slurm-client munge)
    local installed
    installed="$(dpkg-query -W -f='${Status}\n' "${packages[@]}" 2>/dev/null | grep -c "install ok installed" || true)"
    if [ "$installed" -ne "${#packages[@]}" ]; then
        # Keep the packages' maintainer scripts from starting the daemons through init scripts/systemd.
        local own_policy=0
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
            chmod +x /usr/sbin/policy-rc.d
            own_policy=1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
        if [ "$own_policy" = 1 ]; then
            rm -f /usr/sbin/policy-rc.d
        fi
    fi
}

start_munge() {
    mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
    chown munge:munge /run/munge /var/lib/munge /var/log/munge /etc/munge
    chmod 0755 /run/munge
    chmod 0700 /etc/munge
    if [ ! -s /etc/munge/munge.key ]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged --pid-file="$MUNGE_PID"
    munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"
}

write_config() {
    if [ -e "$SLURM_CONF" ] && ! grep -qF "$MARKER" "$SLURM_CONF"; then
        die "$SLURM_CONF exists and was not written by this script; not touching a real cluster's config"
    fi
    local host cpus memory_mb
    host="$(hostname -s)"
    cpus="$(nproc)"
    memory_mb="$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)"
    if [ -e "$GRES_CONF" ] && ! grep -qF "$MARKER" "$GRES_CONF"; then
        die "$GRES_CONF exists and was not written by this script; not touching a real cluster's config"
    fi
    mkdir -p /etc/slurm "$LOG_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"
    cat > "$GRES_CONF" <<EOF
$MARKER
NodeName=$host Name=gpu Type=$GPU_TYPE File=$GPU_DEVICE
EOF
    cat > "$SLURM_CONF" <<EOF
$MARKER
ClusterName=bgbias-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=300
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
GresTypes=gpu
JobCompType=jobcomp/filetxt
JobCompLoc=$JOBCOMP
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mb Gres=gpu:$GPU_TYPE:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

wait_for_node() {
    local state=""
    for _ in $(seq 60); do
        state="$(sinfo --noheader --partition="$PARTITION" --format=%T 2>/dev/null || true)"
        [ "$state" = idle ] && return 0
        sleep 1
    done
    tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
    die "node not idle after 60 s (state: '${state:-none}')"
}

start() {
    [ "$(id -u)" = 0 ] || die "start needs root"
    local pid_file
    for pid_file in "$MUNGE_PID" "$CTLD_PID" "$SLURMD_PID"; do
        if [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
            die "already running (pid file $pid_file); run '$0 stop' first"
        fi
    done
    install_packages
    start_munge
    write_config
    # -c: forget jobs of an earlier CI cluster on this machine.
    /usr/sbin/slurmctld -c
    /usr/sbin/slurmd
    wait_for_node
    echo "slurm-cluster: $(sinfo --version), partition '$PARTITION': $(sinfo --noheader --format='%D node, %c CPUs, %m MB, gres %G')"
}

stop_pid_file() {
    local pid_file="$1" pid
    [ -s "$pid_file" ] || return 0
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 30); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$pid_file"
}

cancel_jobs() {
    [ -s "$CTLD_PID" ] && kill -0 "$(cat "$CTLD_PID")" 2>/dev/null || return 0
    scancel --partition="$PARTITION" || true
    for _ in $(seq 20); do
        [ -z "$(squeue --noheader --partition="$PARTITION" --states=PENDING,RUNNING,COMPLETING)" ] && return 0
        sleep 0.5
    done
}

stop() {
    # Jobs left running (a failed test) would outlive slurmd in their slurmstepd processes.
    cancel_jobs
    stop_pid_file "$SLURMD_PID"
    stop_pid_file "$CTLD_PID"
    stop_pid_file "$MUNGE_PID"
    echo "slurm-cluster: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) die "usage: $0 start|stop" ;;
esac
