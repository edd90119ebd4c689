#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-vmx.sh - kvmwarden's kernel tests on Intel VMX: Debian's kernels
# booted in Bochs (a Skylake-X with VMX and EPT), kvm_intel, real VMX exits
# (see "The VMX test bed" in Documentation/testing.rst). "make check-vmx".
#
# usage: scripts/check-vmx.sh [-k SERIES]... [--only T1,T2] [--no-prepare]
#
# Default: both kernels (6.1, 6.12), every test program that can run in
# the one-CPU, one-node Bochs VM. Without --no-prepare it first installs
# the dependencies, fetches the kernels and builds userland as
# scripts/check.sh does; check.sh itself calls it with --no-prepare for its
# shorter VMX run. Ends with the tests that ran on VMX and one line
# "N passed, N failed, N skipped".
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
export KVMW_CACHE=${KVMW_CACHE:-$repo/.cache}
MAKE=${MAKE:-make}

# Every program of selftests/TESTS runs. Those that measure rates over
# seconds of the VM's time (exit budgets) run in a second boot whose
# clock follows the host's (KVMW_BOCHS_CLOCK=realtime): with the default
# clock, derived from the instruction count, a vCPU storming exits makes
# the VM's time crawl (Documentation/testing.rst, "Time in Bochs").
REALTIME_ON_VMX=budget,budget_cli,budget_default,budget_share
#
# Left out in Bochs:
#   vmm_e2e    adds QEMU's ~50 MB of binaries to the initramfs, which the
#              BIOS reads from the CD, and runs a nested QEMU at Bochs
#              speed; not tried there yet.
NOT_ON_VMX=vmm_e2e

series=()
only=
prepare=1
while [ $# -gt 0 ]; do
	case $1 in
	-k) series+=("$2"); shift ;;
	--only) only=$2; shift ;;
	--no-prepare) prepare=0 ;;
	-h|--help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "check-vmx: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
start=$(date +%s)

fail_early() { echo "$*"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }

if [ $prepare -eq 1 ]; then
	echo "=== dependencies"
	"$repo/scripts/install-deps.sh" || fail_early "not ok - dependencies"
	echo "=== kernels"
	k612=$("$repo/scripts/kernel-fetch.sh" 6.12 "$KVMW_CACHE") ||
		fail_early "not ok - could not fetch kernel packages"
	for s in "${series[@]}"; do
		"$repo/scripts/kernel-fetch.sh" "$s" "$KVMW_CACHE" >/dev/null ||
			fail_early "not ok - could not fetch the $s kernel packages"
	done
	kvm_ko=$(find "$k612/root/lib/modules" -name 'kvm.ko*' -path '*arch/x86/kvm/*' | head -n1)
	echo "=== build (BPF against $(cat "$k612/kver") BTF)"
	$MAKE -C "$repo" userland BUILD="$BUILD" \
		BTF_VMLINUX="$(cat "$k612/kdir")/vmlinux" BTF_KVM="$kvm_ko" ||
		fail_early "not ok - userland build"
fi

if [ -z "$only" ]; then
	# One Bochs boot with every program took over 30 minutes on the
	# loaded 2-core machine (6.1, sched_numa unfinished): more than
	# vmtest.sh's default VM timeout.
	export KVMW_VM_TIMEOUT=${KVMW_VM_TIMEOUT:-7200}
	only=$(grep -vxF -f <(tr ',' '\n' <<<"$NOT_ON_VMX") "$BUILD/selftests/TESTS" |
	       paste -sd, -)
fi

args=()
for s in "${series[@]}"; do
	args+=(-k "$s")
done
# run_vmx CLOCK PROGRAMS: one vmtest.sh run; adds its counts.
pass=0 fail=0 skip=0
run_vmx() {
	local p f k
	[ -n "$2" ] || return 0
	echo "=== kernel tests on Intel VMX in Bochs (${series[*]}, clock $1): $2"
	rm -f "$BUILD/results/vmtest.counts"
	KVMW_BOCHS_CLOCK=$1 "$repo/scripts/vmtest.sh" --vmx "${args[@]}" --only "$2"
	if [ -f "$BUILD/results/vmtest.counts" ]; then
		read -r p f k < "$BUILD/results/vmtest.counts"
	else
		echo "not ok - vmtest produced no counts"
		p=0 f=1 k=0
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
}
in_set() { [[ ",$2," == *",$1,"* ]]; }
only_insn= only_rt=
for t in ${only//,/ }; do
	if in_set "$t" "$REALTIME_ON_VMX"; then
		only_rt+=${only_rt:+,}$t
	else
		only_insn+=${only_insn:+,}$t
	fi
done
# module_lifecycle loads kvm_intel; the realtime boot needs it first too.
[ -n "$only_rt" ] && ! in_set module_lifecycle "$only_rt" &&
	only_rt=module_lifecycle,$only_rt
run_vmx instructions "$only_insn"
run_vmx realtime "$only_rt"

echo
echo "check-vmx: took $(( $(date +%s) - start ))s"
echo "check-vmx: ran on VMX (${series[*]}): ${only//,/ }"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
