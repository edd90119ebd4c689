#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - "make demo": boot the test VM (Debian 6.12, nested SVM under
# QEMU TCG), load kvm and kvmwarden, start sample guests with different exit
# profiles and show what "kvmwarden list" and "kvmwarden stat" report.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
export KVMW_CACHE=${KVMW_CACHE:-$repo/.cache}
series=${KVMW_DEMO_KERNEL:-6.12}

"$repo/scripts/install-deps.sh"
kd=$("$repo/scripts/kernel-fetch.sh" "$series" "$KVMW_CACHE")
kvm_ko=$(find "$kd/root/lib/modules" -name 'kvm.ko*' -path '*arch/x86/kvm/*' | head -n1)
make -s -C "$repo" userland BTF_VMLINUX="$(cat "$kd/kdir")/vmlinux" BTF_KVM="$kvm_ko"
exec "$repo/scripts/vmtest.sh" --demo -k "$series"
