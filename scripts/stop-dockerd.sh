#!/usr/bin/env bash
# Stops the dockerd that scripts/start-dockerd.sh started, and no other:
# the pid comes from /run/sysbox-dockerd.pid and must still be a dockerd process.
set -euo pipefail

PIDFILE=/run/sysbox-dockerd.pid
WAIT_SECS=${WAIT_SECS:-30}

log() { printf 'stop-dockerd: %s\n' "$*" >&2; }

if [[ ! -f "$PIDFILE" ]]; then
  log "no $PIDFILE; no dockerd of ours to stop"
  exit 0
fi
pid=$(cat "$PIDFILE")
if [[ ! "$pid" =~ ^[0-9]+$ ]]; then
  log "$PIDFILE does not hold a pid ('$pid'); leaving it for inspection"
  exit 1
fi
# A recycled pid could belong to anything; only signal it if it is still dockerd.
if [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" != dockerd ]]; then
  log "pid $pid is not running dockerd any more; removing stale $PIDFILE"
  rm -f "$PIDFILE"
  exit 0
fi

log "sending SIGTERM to dockerd pid $pid"
kill -TERM "$pid"
for ((i = 0; i < WAIT_SECS; i++)); do
  if [[ ! -d "/proc/$pid" ]]; then
    rm -f "$PIDFILE"
    log "dockerd pid $pid exited after ~${i}s"
    exit 0
  fi
  sleep 1
done
# dockerd may be waiting on containers to stop; escalating to SIGKILL could leave
# mounts and shims behind, so a human should look instead.
log "dockerd pid $pid still running after ${WAIT_SECS}s; giving up (see its log)"
exit 1
