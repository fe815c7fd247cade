#!/usr/bin/env bash
# Install one pinned NVIDIA driver stack on an on-prem A100 node and hold it there.
#
#   install-gpu-node.sh --driver 580.95.05 [--fabric-manager auto|yes|no]
#                       [--container-toolkit 1.17.8-1] [--dry-run]
#
# Supported: Ubuntu 22.04, Ubuntu 24.04, RHEL 9 (x86_64). Installs, all at the pinned version:
#   - the NVIDIA driver (open kernel modules) from NVIDIA's CUDA network repository;
#   - Fabric Manager at exactly the driver's version on NVSwitch (HGX A100 8-GPU) nodes,
#     because Fabric Manager refuses to start on any other version
#     (https://github.com/nvidia/yum-packaging-fabric-manager: "the version of fabricmanager
#     must match the NVIDIA driver installed");
#   - nvidia-container-toolkit from NVIDIA's libnvidia-container repository;
# then enables nvidia-persistenced and holds every installed NVIDIA package so that a
# routine `apt upgrade` / `dnf upgrade` cannot move the driver off the pin.
#
# Package names and pinning follow NVIDIA's driver installation guide
# (https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/): on Ubuntu the
# nvidia-driver-pinning-<version> package pins every driver package to one version; on
# RHEL 9 the nvidia-driver:<branch>-open module stream selects the branch and
# `dnf versionlock` pins the version. Run as root; reboot afterwards so the new kernel
# module loads, then run the node validation suite (gpu-drivers/README.md).
#
# --dry-run prints the commands instead of running them (OS_RELEASE may point at another
# os-release file), which is how the tests check that the pin reaches every command.
set -euo pipefail

DRIVER=""
FABRIC_MANAGER="auto"
CONTAINER_TOOLKIT=""
DRY_RUN=0
OS_RELEASE="${OS_RELEASE:-/etc/os-release}"

usage() {
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

die() {
  echo "install-gpu-node: $*" >&2
  exit 1
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --driver) DRIVER="${2:-}"; shift 2 ;;
    --fabric-manager) FABRIC_MANAGER="${2:-}"; shift 2 ;;
    --container-toolkit) CONTAINER_TOOLKIT="${2:-}"; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage ;;
    *) echo "install-gpu-node: unknown argument '$1'" >&2; usage ;;
  esac
done

[[ "$DRIVER" =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] \
  || die "--driver '${DRIVER}' is not a driver version; pass the pool's pin, e.g. --driver 580.95.05"
[[ "$FABRIC_MANAGER" =~ ^(auto|yes|no)$ ]] \
  || die "--fabric-manager '${FABRIC_MANAGER}' must be auto, yes or no"
BRANCH="${DRIVER%%.*}"

run() {
  if [[ "$DRY_RUN" -eq 1 ]]; then
    echo "+ $*"
  else
    "$@"
  fi
}

# NVSwitch systems expose /dev/nvidia-nvswitch* once the driver is loaded; before that, the
# PCI bridge class of the NVSwitch (vendor 10de, class 0680) is visible in lspci.
has_nvswitch() {
  case "$FABRIC_MANAGER" in
    yes) return 0 ;;
    no) return 1 ;;
  esac
  compgen -G "/dev/nvidia-nvswitch*" >/dev/null && return 0
  command -v lspci >/dev/null && lspci -d 10de: -n 2>/dev/null | grep -q ' 0680: ' && return 0
  return 1
}

[[ -r "$OS_RELEASE" ]] || die "cannot read ${OS_RELEASE} to tell which distribution this is"
# shellcheck disable=SC1090
. "$OS_RELEASE"
DISTRO="${ID:-unknown}${VERSION_ID:-}"

install_ubuntu() {
  local repo="ubuntu${VERSION_ID//./}"
  export DEBIAN_FRONTEND=noninteractive
  run apt-get update
  run apt-get install -y ca-certificates curl gnupg "linux-headers-$(uname -r)"
  # NVIDIA's CUDA network repository and its signing key.
  run curl -fsSLo /tmp/cuda-keyring.deb "https://developer.download.nvidia.com/compute/cuda/repos/${repo}/x86_64/cuda-keyring_1.1-1_all.deb"
  run dpkg -i /tmp/cuda-keyring.deb
  run apt-get update
  # Pins every driver package to exactly ${DRIVER} (an apt preferences file).
  run apt-get install -y "nvidia-driver-pinning-${DRIVER}"
  run apt-get install -y nvidia-open
  local held=("nvidia-driver-pinning-${DRIVER}" nvidia-open)
  if has_nvswitch; then
    local fabric_manager  # assigned first so that set -e stops the script if the version is missing
    fabric_manager="$(apt_version_at_pin nvidia-fabricmanager)"
    run apt-get install -y "nvidia-fabricmanager=${fabric_manager}"
    held+=(nvidia-fabricmanager)
  fi
  # NVIDIA Container Toolkit repository (docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html).
  run sh -c "curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --dearmor --yes -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
  run sh -c "curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#g' > /etc/apt/sources.list.d/nvidia-container-toolkit.list"
  run apt-get update
  if [[ -n "$CONTAINER_TOOLKIT" ]]; then
    run apt-get install -y "nvidia-container-toolkit=${CONTAINER_TOOLKIT}" "nvidia-container-toolkit-base=${CONTAINER_TOOLKIT}" \
      "libnvidia-container-tools=${CONTAINER_TOOLKIT}" "libnvidia-container1=${CONTAINER_TOOLKIT}"
  else
    run apt-get install -y nvidia-container-toolkit
  fi
  held+=(nvidia-container-toolkit nvidia-container-toolkit-base libnvidia-container-tools libnvidia-container1)
  hold_apt_packages "${held[@]}"
}

# The repository's full version string (e.g. 580.95.05-1) of a package at the pinned driver version.
apt_version_at_pin() {
  if [[ "$DRY_RUN" -eq 1 ]]; then
    echo "${DRIVER}-<revision>"
    return
  fi
  local version
  version="$(apt-cache madison "$1" | awk -v v="${DRIVER}-" 'index($3, v) == 1 {print $3; exit}')"
  [[ -n "$version" ]] || die "$1 ${DRIVER} is not in NVIDIA's repository; it must match the driver exactly (see apt-cache madison $1)"
  echo "$version"
}

# Hold the named packages and every installed package whose version is the pinned driver's.
hold_apt_packages() {
  local at_pin
  if [[ "$DRY_RUN" -eq 1 ]]; then
    at_pin="<every installed package at version ${DRIVER}-*>"
  else
    at_pin="$(dpkg-query -W -f='${Package} ${Version}\n' | awk -v v="${DRIVER}-" 'index($2, v) == 1 {print $1}')"
  fi
  # shellcheck disable=SC2086 # one package name per word
  run apt-mark hold "$@" $at_pin
}

install_rhel9() {
  run dnf install -y dnf-plugins-core python3-dnf-plugin-versionlock "kernel-devel-$(uname -r)" "kernel-headers-$(uname -r)"
  run dnf config-manager --add-repo https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/cuda-rhel9.repo
  # The branch's module stream keeps dnf on R${BRANCH}; the versioned name installs the pin.
  run dnf module enable -y "nvidia-driver:${BRANCH}-open"
  run dnf install -y "nvidia-open-${DRIVER}"
  if has_nvswitch; then
    run dnf install -y "nvidia-fabricmanager-${DRIVER}"
  fi
  run sh -c "curl -fsSL https://nvidia.github.io/libnvidia-container/stable/rpm/nvidia-container-toolkit.repo > /etc/yum.repos.d/nvidia-container-toolkit.repo"
  if [[ -n "$CONTAINER_TOOLKIT" ]]; then
    run dnf install -y "nvidia-container-toolkit-${CONTAINER_TOOLKIT}" "nvidia-container-toolkit-base-${CONTAINER_TOOLKIT}" \
      "libnvidia-container-tools-${CONTAINER_TOOLKIT}" "libnvidia-container1-${CONTAINER_TOOLKIT}"
  else
    run dnf install -y nvidia-container-toolkit
  fi
  # Lock every installed NVIDIA package (driver, Fabric Manager, toolkit) at its version.
  run dnf versionlock add "*nvidia*${DRIVER}*" nvidia-container-toolkit nvidia-container-toolkit-base \
    libnvidia-container-tools libnvidia-container1
}

case "$DISTRO" in
  ubuntu22.04|ubuntu24.04) install_ubuntu ;;
  rhel9*|rocky9*|almalinux9*) install_rhel9 ;;
  *) die "${PRETTY_NAME:-$DISTRO} is not supported; use Ubuntu 22.04/24.04 or RHEL 9, or let the GPU Operator manage the driver" ;;
esac

# Keeps the driver initialised between jobs (nvidia-persistenced ships with the driver).
run systemctl enable --now nvidia-persistenced
if has_nvswitch; then
  run systemctl enable nvidia-fabricmanager
  run systemctl start nvidia-fabricmanager || echo "install-gpu-node: nvidia-fabricmanager starts after the reboot that loads driver ${DRIVER}" >&2
fi
echo "install-gpu-node: driver ${DRIVER} installed and held on ${DISTRO}; reboot, then run the node validation suite"
