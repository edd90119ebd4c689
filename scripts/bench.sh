#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": the per-exit cost of kvmwarden, in instructions.
#
# Boots the test VM on one vCPU with QEMU's "-icount shift=0,sleep=off", so
# that its clock advances one nanosecond per emulated instruction, and runs
# a guest looping on CPUID (exits handled inside KVM) three times each,
# interleaved in one boot: without any tracing, with kvmwarden loaded, and
# with the BPF exit-counting oracle attached instead. The differences to
# the baseline are the backends' costs per exit, repeatable across boots.
#
#   scripts/bench.sh [-k SERIES]...      (default: 6.1 and 6.12)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
export KVMW_CACHE=${KVMW_CACHE:-$repo/.cache}

"$repo/scripts/install-deps.sh"
k612=$("$repo/scripts/kernel-fetch.sh" 6.12 "$KVMW_CACHE")
kvm_ko=$(find "$k612/root/lib/modules" -name 'kvm.ko*' -path '*arch/x86/kvm/*' | head -n1)
make -s -C "$repo" userland BTF_VMLINUX="$(cat "$k612/kdir")/vmlinux" BTF_KVM="$kvm_ko"
[ $# -gt 0 ] || set -- -k 6.1 -k 6.12
exec "$repo/scripts/vmtest.sh" --bench "$@"
