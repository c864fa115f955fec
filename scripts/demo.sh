#!/usr/bin/env bash
# The main job, end to end: a system container under Docker with sysbox-runc, whose inner Docker
# lists the image preloaded in its /var/lib/docker and runs it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
DOCKER=${DOCKER:-/usr/bin/docker}

"$repo/scripts/setup.sh"

echo
echo "demo: docker run --runtime=sysbox-runc -d sysbox-test/system"
cid=$("$DOCKER" run --runtime=sysbox-runc -d sysbox-test/system)
trap '"$DOCKER" rm -f "$cid" >/dev/null' EXIT

for _ in $(seq 1 60); do
  "$DOCKER" exec "$cid" docker info >/dev/null 2>&1 && break
  sleep 0.5
done

echo "demo: host view of the container's init uid_map (root maps to an unprivileged range):"
pid=$("$DOCKER" inspect --format '{{.State.Pid}}' "$cid")
cat "/proc/$pid/uid_map"
echo "demo: inner 'docker images':"
"$DOCKER" exec "$cid" docker images
echo "demo: inner 'docker run --rm sysbox-test/busybox':"
"$DOCKER" exec "$cid" docker run --rm --network none sysbox-test/busybox \
  echo "hello from an inner container, preloaded, in a system container"
echo "demo: done; the system container is removed on exit"
