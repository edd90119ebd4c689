#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh - "make bench": the per-exit cost of kvmwarden, in instructions.
#
# Boots the test VM on one vCPU with QEMU's "-icount shift=0,sleep=off", so
# that its clock advances one nanosecond per emulated instruction, and runs
# a guest looping on CPUID (exits handled inside KVM) three times each,
# interleaved in one boot: without any tracing, with kvmwarden loaded
# (local_clock(), then the TSC clock), with kvmwarden and a budget the VM
# never exhausts (audit, then throttle mode), and with the BPF
# exit-counting oracle and latency programs attached instead. The
# differences to the baseline are the backends' costs per exit,
# repeatable across boots. After vmtest.sh's own table, the medians of the
# rounds of each configuration, and their differences to the baseline's.
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

series=()
args=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	-k) series+=("$2"); shift 2 ;;
	*) shift ;;
	esac
done

rc=0
"$repo/scripts/vmtest.sh" --bench "${args[@]}" || rc=$?

# median_table SERIES: the medians of $BUILD/results/SERIES/results.log
median_table() {
	local log=$BUILD/results/$1/results.log
	[ -f "$log" ] || return 0
	tr -d '\r' < "$log" | awk -v s="$1" '
		$2 == "ns_per_exit" || $2 == "ns_per_switch" {
			if (!($1 in n)) order[++nl] = $1
			v[$1, ++n[$1]] = $3; unit[$1] = $2 }
		function median(l,   i, j, t, m, a) {
			m = n[l]
			for (i = 1; i <= m; i++) a[i] = v[l, i]
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
		}
		function show(what, base,   i, l, b) {
			if (!n[base]) return
			b = median(base)
			printf "[%s] median instructions per %s (%d rounds each)\n", s, what, n[base]
			for (i = 1; i <= nl; i++) {
				l = order[i]
				if (unit[l] == unit[base])
					printf "  %-20s %8.1f  %+7.1f\n", l, median(l), median(l) - b
			}
		}
		END {
			show("CPUID exit", "baseline")
			show("context switch of non-vCPU threads", "switch-baseline")
		}'
}

for s in "${series[@]}"; do
	median_table "$s"
done
exit $rc
