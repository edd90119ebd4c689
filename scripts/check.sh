#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh - everything "make check" runs, with one summary line at the end:
#   the userspace unit tests (on this machine), checkpatch on the kernel
#   sources, the kernel tests in QEMU test VMs on Debian's 6.1 and 6.12
#   kernels (scripts/vmtest.sh, nested AMD SVM), and a subset of them on
#   Intel VMX in Bochs on 6.1 (scripts/check-vmx.sh).
#
# KVMW_CHECK_VMX: "subset" (default) runs the tests in KVMW_VMX_TESTS on
# 6.1 under Bochs, "all" every test that can run there on 6.1 and 6.12 (as
# "make check-vmx"), "off" none. The closing line names what ran on VMX.
#
# The BPF programs are built against the 6.12 kernel's BTF (they are CO-RE
# and load on 6.1 too), so the result does not depend on the build machine's
# own kernel.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
export KVMW_CACHE=${KVMW_CACHE:-$repo/.cache}
MAKE=${MAKE:-make}
CHECK_VMX=${KVMW_CHECK_VMX:-subset}
# What fits in make check's time on Intel VMX: one Bochs boot of 6.1 with
# these programs took 300 s of Bochs CPU time (boot 133 s), 11.5 minutes
# wall on the loaded 2-core machine (Documentation/testing.rst, "The VMX
# test bed"). The longer programs run in "make check-vmx".
VMX_TESTS=${KVMW_VMX_TESTS:-module_lifecycle,uapi,exit_counts,guest_programs,faults,events,bpf_latency}
pass=0
fail=0
skip=0
start=$(date +%s)

step() { echo; echo "=== $*"; }
count_line() {
	# add the counts of an "N passed, N failed[, N skipped]" line
	local line=$1 p f s
	p=$(sed -n 's/.*\b\([0-9]\+\) passed.*/\1/p' <<<"$line")
	f=$(sed -n 's/.*\b\([0-9]\+\) failed.*/\1/p' <<<"$line")
	s=$(sed -n 's/.*\b\([0-9]\+\) skipped.*/\1/p' <<<"$line")
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
}

step "dependencies"
"$repo/scripts/install-deps.sh" || { echo "0 passed, 1 failed"; exit 1; }

step "kernels"
k612=$("$repo/scripts/kernel-fetch.sh" 6.12 "$KVMW_CACHE") &&
	"$repo/scripts/kernel-fetch.sh" 6.1 "$KVMW_CACHE" >/dev/null ||
	{ echo "could not fetch kernel packages"; echo "0 passed, 1 failed"; exit 1; }
kvm_ko=$(find "$k612/root/lib/modules" -name 'kvm.ko*' -path '*arch/x86/kvm/*' | head -n1)

step "build (BPF against $(cat "$k612/kver") BTF)"
if $MAKE -C "$repo" userland BUILD="$BUILD" \
	BTF_VMLINUX="$(cat "$k612/kdir")/vmlinux" BTF_KVM="$kvm_ko"; then
	echo "ok - userland build"
	pass=$((pass + 1))
else
	echo "not ok - userland build"
	echo "$pass passed, $((fail + 1)) failed, $skip skipped"
	exit 1
fi

step "userspace unit tests"
out=$($MAKE -s -C "$repo/userspace" BUILD="$BUILD" test 2>&1)
echo "$out"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n1)
if [ -n "$line" ]; then
	count_line "$line"
else
	echo "not ok - userspace unit tests printed no summary"
	fail=$((fail + 1))
fi

step "checkpatch"
if "$repo/scripts/checkpatch.sh"; then
	echo "ok - checkpatch --strict clean"
	pass=$((pass + 1))
else
	echo "not ok - checkpatch --strict"
	fail=$((fail + 1))
fi

step "kernel tests in QEMU (6.1, 6.12)"
rm -f "$BUILD/results/vmtest.counts"
"$repo/scripts/vmtest.sh" -k 6.1 -k 6.12
if [ -f "$BUILD/results/vmtest.counts" ]; then
	read -r p f s < "$BUILD/results/vmtest.counts"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
else
	echo "not ok - vmtest produced no counts"
	fail=$((fail + 1))
fi

vmx_note="Intel VMX: not run"
vmx_args=()
case $CHECK_VMX in
subset)
	vmx_args=(-k 6.1 --only "$VMX_TESTS")
	vmx_note="Intel VMX on 6.1: ${VMX_TESTS//,/ }" ;;
all)
	vmx_note="Intel VMX on 6.1 and 6.12: all but vmm_e2e" ;;
off) ;;
*) echo "not ok - KVMW_CHECK_VMX=$CHECK_VMX (subset, all or off)"
   fail=$((fail + 1)) ;;
esac
if [ "$CHECK_VMX" = subset ] || [ "$CHECK_VMX" = all ]; then
	step "kernel tests on Intel VMX in Bochs ($CHECK_VMX)"
	rm -f "$BUILD/results/vmtest.counts"
	"$repo/scripts/check-vmx.sh" --no-prepare "${vmx_args[@]}"
	if [ -f "$BUILD/results/vmtest.counts" ]; then
		read -r p f s < "$BUILD/results/vmtest.counts"
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	else
		echo "not ok - VMX vmtest produced no counts"
		fail=$((fail + 1))
	fi
fi

echo
echo "check: took $(( $(date +%s) - start ))s"
echo "$pass passed, $fail failed, $skip skipped ($vmx_note)"
[ $fail -eq 0 ]
