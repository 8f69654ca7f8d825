#!/usr/bin/env bash
# Installs Mesa's lavapipe (a software Vulkan driver) so that WebGPU (Dawn, the `webgpu` npm
# package) finds an adapter on a machine without a GPU. Dawn refuses Debian 12's own Mesa 22.3;
# Mesa 25 from bookworm-backports works. Idempotent: does nothing when Mesa >= 25 is installed.
set -euo pipefail

PACKAGES=(mesa-vulkan-drivers libvulkan1)
MIN_MESA=25

mesa_ok() {
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null) || return 1
  dpkg-query -W -f='${Status}' libvulkan1 2>/dev/null | grep -q 'install ok installed' || return 1
  dpkg --compare-versions "$v" ge "$MIN_MESA" && [ -e /usr/share/vulkan/icd.d/lvp_icd.json ]
}

if mesa_ok; then
  echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "install-lavapipe: no apt-get here; install Mesa >= $MIN_MESA's lavapipe (mesa-vulkan-drivers) yourself" >&2
  exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-lavapipe: needs root or sudo" >&2; exit 1; }
  SUDO=(sudo)
fi

# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
target=()
if [ "$codename" = bookworm ]; then
  if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo 'deb http://deb.debian.org/debian bookworm-backports main' | "${SUDO[@]}" tee /etc/apt/sources.list.d/backports.list >/dev/null
  fi
  target=(-t bookworm-backports)
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${target[@]}" "${PACKAGES[@]}" >/dev/null

if ! mesa_ok; then
  echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo missing) installed; Dawn needs >= $MIN_MESA" >&2
  exit 1
fi
echo "install-lavapipe: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed"
