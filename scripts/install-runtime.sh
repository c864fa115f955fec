#!/usr/bin/env bash
# Puts sysbox-runc where daemon.json points (/usr/local/bin/sysbox-runc). The wrapper calls
# this checkout's build with the node that built it, so Docker's shim finds both without PATH.
# It drops NODE_EXTRA_CA_CERTS, which makes Node parse a certificate bundle at every start
# (tens of milliseconds, three times per container) for TLS this command never does.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
node_bin=$(command -v node)
target=${SYSBOX_RUNC_PATH:-/usr/local/bin/sysbox-runc}

if [[ ! -f "$repo/lib/sysbox-runc.js" || ! -x "$repo/build/Release/sysbox-init" ]]; then
  echo "install-runtime: $repo is not built; run 'npm ci' there first" >&2
  exit 1
fi

tmp=$(mktemp "$target.XXXXXX")
printf '#!/bin/sh\nunset NODE_EXTRA_CA_CERTS\nexec %s %s/lib/sysbox-runc.js "$@"\n' \
  "$node_bin" "$repo" >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
echo "install-runtime: $target runs $repo/lib/sysbox-runc.js with $node_bin"
