#!/usr/bin/env bash
# Puts sysbox-runc where daemon.json points (/usr/local/bin/sysbox-runc). The wrapper calls
# this checkout's build with the node that built it, so Docker's shim finds both without PATH.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
node_bin=$(command -v node)
target=${SYSBOX_RUNC_PATH:-/usr/local/bin/sysbox-runc}

if [[ ! -f "$repo/lib/cli/main.js" || ! -x "$repo/build/Release/sysbox-init" ]]; then
  echo "install-runtime: $repo is not built; run 'npm ci' there first" >&2
  exit 1
fi

tmp=$(mktemp "$target.XXXXXX")
printf '#!/bin/sh\nexec %s %s/lib/cli/main.js "$@"\n' "$node_bin" "$repo" >"$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
echo "install-runtime: $target runs $repo/lib/cli/main.js with $node_bin"
