#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-deps.sh - install the Debian packages kvmwarden's build and tests
# need, if any is missing. Uses the machine's own apt configuration.
set -euo pipefail

pkgs=(
	gcc make libc6-dev bc flex bison kmod cpio xz-utils zstd
	clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev dwarves
	linux-source qemu-system-x86 busybox-static debian-archive-keyring
	python3 python3-jsonschema valgrind libmicrohttpd-dev prometheus
	bochs bochsbios vgabios isolinux syslinux-common xorriso
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root or install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
