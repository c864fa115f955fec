#!/usr/bin/env bash
# Installs the Debian packages that building and testing sysbox needs.
# Idempotent: when every package is already installed, apt is not touched at all,
# so reruns (CI, each developer session) cost well under a second.
set -euo pipefail

# docker.io brings dockerd/containerd/runc/tini for the host engine and the test images.
# debootstrap + debian-archive-keyring + gpgv build the system image rootfs (verified).
# busybox-static provides the binary for the sysbox-test/busybox image.
# libseccomp-dev, pkg-config, make, g++, python3 build the native (node-gyp) part.
# mount provides mount/umount (Priority: required, but not Essential, so list it).
# zstd compresses the debootstrap cache tarball quickly.
PACKAGES=(
  docker.io
  debootstrap
  debian-archive-keyring
  gpgv
  busybox-static
  libseccomp-dev
  libfuse3-dev
  pkg-config
  make
  g++
  python3
  ca-certificates
  iproute2
  uidmap
  tar
  xz-utils
  zstd
  mount
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (apt-get install needs it)"
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  # dpkg-query prints "install ok installed" only for fully configured packages;
  # half-installed or removed-but-configured ones count as missing.
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#PACKAGES[@]} packages already installed; skipping apt"
  exit 0
fi

log "missing: ${missing[*]}; running apt-get update and install"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
log "done"
