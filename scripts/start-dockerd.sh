#!/usr/bin/env bash
# Configures the host dockerd for sysbox and starts it if it is not answering yet.
# Idempotent: rerunning it with a healthy daemon only rewrites/verifies daemon.json.
#
# The daemon is configured so that it never creates docker0 and never touches iptables
# or ip_forward: tests only use --network none, and this machine must send no packets.
set -euo pipefail

DOCKER=${DOCKER:-/usr/bin/docker}
# Debian's docker.io installs the daemon in /usr/sbin (the client is /usr/bin/docker).
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
CONF_DIR=/etc/docker
CONF=$CONF_DIR/daemon.json
BACKUP=$CONF.sysbox-backup
LOG=/var/log/sysbox-dockerd.log
PIDFILE=/run/sysbox-dockerd.pid
WAIT_SECS=60

log() { printf 'start-dockerd: %s\n' "$*" >&2; }

# The exact configuration the brief asks for; the path of sysbox-runc may not exist yet,
# which dockerd accepts (it only resolves the binary when a container uses it).
# sysbox-runc-noshare is the same binary with inner image sharing turned off, so that
# bench/sharing.js can compare both modes on one daemon without editing this file.
read -r -d '' WANT <<'JSON' || true
{"bridge": "none", "iptables": false, "ip-forward": false, "ip-masq": false,
 "default-runtime": "sysbox-runc",
 "runtimes": {"sysbox-runc": {"path": "/usr/local/bin/sysbox-runc"},
  "sysbox-runc-noshare": {"path": "/usr/local/bin/sysbox-runc",
   "runtimeArgs": ["--inner-docker-image-sharing=false"]}}}
JSON

docker_answers() {
  # An explicit short timeout keeps a wedged daemon from hanging this script.
  timeout 10 "$DOCKER" info >/dev/null 2>&1
}

write_config() {
  mkdir -p "$CONF_DIR"
  if [[ -f "$CONF" ]] && [[ "$(cat "$CONF")" == "$WANT" ]]; then
    log "$CONF already has the sysbox configuration"
    return 1
  fi
  if [[ -f "$CONF" ]] && [[ ! -e "$BACKUP" ]]; then
    # Only the first foreign file is kept, so reruns never overwrite the real original.
    cp -p "$CONF" "$BACKUP"
    log "backed up the existing, different $CONF to $BACKUP"
  fi
  printf '%s\n' "$WANT" >"$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  log "wrote $CONF"
  return 0
}

our_pid() {
  # Prints the pid from our pidfile if that process is still a dockerd.
  local pid
  [[ -f "$PIDFILE" ]] || return 1
  pid=$(cat "$PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == dockerd ]] || return 1
  printf '%s\n' "$pid"
}

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root"
  exit 1
fi

changed=0
write_config && changed=1

if docker_answers; then
  if [[ $changed -eq 1 ]]; then
    if pid=$(our_pid); then
      # SIGHUP makes dockerd reload the reloadable options, runtimes among them.
      kill -HUP "$pid"
      # The reload is asynchronous; give it a moment before the runtime check below.
      sleep 1
      log "dockerd (pid $pid, ours) was running; sent SIGHUP to reload $CONF"
    else
      log "WARNING: a dockerd we did not start is answering; it keeps its old" \
        "configuration until it is restarted or reloaded by its owner"
    fi
  fi
  if ! "$DOCKER" info --format '{{json .Runtimes}}' 2>/dev/null | grep -q sysbox-runc; then
    log "WARNING: the running dockerd does not list the sysbox-runc runtime yet"
  fi
  log "dockerd already answers on the default socket; nothing to start"
  exit 0
fi

if pid=$(our_pid); then
  # Running but not answering: likely still starting, so wait for it instead of
  # launching a second daemon that would fight over /var/run/docker.sock.
  log "dockerd pid $pid from $PIDFILE is alive but not answering yet; waiting"
else
  if [[ ! -x "$DOCKERD" ]]; then
    log "$DOCKERD not found; run scripts/install-deps.sh first"
    exit 1
  fi
  log "starting $DOCKERD (log: $LOG)"
  # setsid detaches it from this shell's session so it survives the caller's exit;
  # stdin from /dev/null so it never holds a terminal. A clean environment: dockerd hands
  # its own to containerd, the shims and the runtime, and a caller's (a test runner's
  # NODE_OPTIONS, say) must not reach every container started later.
  setsid nohup env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root "$DOCKERD" >>"$LOG" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$PIDFILE"
  log "dockerd started with pid $pid (recorded in $PIDFILE)"
fi

for ((i = 0; i < WAIT_SECS; i++)); do
  if docker_answers; then
    log "dockerd answers after ~${i}s"
    exit 0
  fi
  if [[ ! -d "/proc/$pid" ]]; then
    log "dockerd (pid $pid) exited during startup; last log lines:"
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
  sleep 1
done

log "dockerd did not answer within ${WAIT_SECS}s; last log lines:"
tail -n 30 "$LOG" >&2 || true
exit 1
