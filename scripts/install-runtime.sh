#!/usr/bin/env bash
# Puts sysbox-runc where daemon.json points (/usr/local/bin/sysbox-runc).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
node_bin=$(command -v node)
target=${SYSBOX_RUNC_PATH:-/usr/local/bin/sysbox-runc}

if [[ ! -f "$repo/lib/sysbox-runc.js" || ! -x "$repo/build/Release/sysbox-runc" ]]; then
  echo "install-runtime: $repo is not built; run 'npm ci' there first" >&2
  exit 1
fi

# A symlink to the launcher built beside the addon: it finds the bundled command line from its
# own path and runs it with the node that built it, leaving out NODE_EXTRA_CA_CERTS, which makes
# Node parse a certificate bundle at every start for TLS this command never does.
ln -sfn "$repo/build/Release/sysbox-runc" "$target.tmp"
mv -Tf "$target.tmp" "$target"
echo "install-runtime: $target -> $repo/build/Release/sysbox-runc (node: $node_bin)"
