#!/usr/bin/env bash
# Brings a fresh machine to the point where Docker runs containers with sysbox-runc: Debian
# packages, the npm build (addon, sysbox-init, TypeScript), the runtime on Docker's path, a
# running dockerd that knows it, and the test images. Every step is skipped when already done.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

if [[ $(id -u) -ne 0 ]]; then
  echo "setup: run as root: sysbox-runc makes namespaces, mounts and cgroups" >&2
  exit 1
fi

./scripts/install-deps.sh

stamp=node_modules/.sysbox-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -d lib || ! -d build/Release ]]; then
  echo "setup: npm ci (builds the addon, sysbox-init and lib/)"
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
else
  echo "setup: node_modules matches package-lock.json; rebuilding the project only"
  npx --no-install node-gyp build >/dev/null
  npx --no-install tsc -p tsconfig.json
fi

./scripts/install-runtime.sh
./scripts/start-dockerd.sh
./test/fixtures/build.sh
