#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh - "make check-debug": kvmwarden's kernel tests on the debug
# kernel (scripts/debug-kernel.sh: KASAN, lockdep, DEBUG_ATOMIC_SLEEP,
# kmemleak, UBSAN, fault injection), with one summary line at the end.
#
#   1. build (or reuse) the debug kernel; build userland as check.sh does;
#   2. the whole kernel test suite on it: scripts/vmtest.sh -k debug;
#   3. a second boot with allocation failures injected into kvmwarden's
#      own allocations (scripts/failslab.sh) while the churn, event, scale
#      and UAPI tests run: --only failslab_start,<tests>,failslab_stop
#      from a copy of the build directory whose TESTS list has the two
#      failslab steps around those tests.
#
# Both boots fail on any splat in the guest's log (vmtest.sh's patterns:
# KASAN, UBSAN, lockdep, BUG, WARNING, ...).
#
# Environment (besides vmtest.sh's):
#   KVMW_FAILSLAB_TESTS    tests of the failslab boot (default: uapi,
#                          lifecycle_churn, events, scale; not tests that
#                          reload the module, such as fuzz_uapi: the
#                          injection range is that of one loaded instance)
#   KVMW_FAILSLAB_PERCENT  failure probability in percent (default 10)
#   KVMW_DEBUG_NO_FAILSLAB=1  skip the failslab boot
# The time limits default higher than vmtest.sh's: KASAN and lockdep under
# TCG are several times slower.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export BUILD=${BUILD:-$repo/build}
export KVMW_CACHE=${KVMW_CACHE:-$repo/.cache}
export KVMW_VM_TIMEOUT=${KVMW_VM_TIMEOUT:-7200}
export KVMW_TEST_TIMEOUT=${KVMW_TEST_TIMEOUT:-2400}
MAKE=${MAKE:-make}
pass=0
fail=0
skip=0
start=$(date +%s)

step() { echo; echo "=== $*"; }
add_counts() {
	local p f s
	if [ -f "$1" ]; then
		read -r p f s < "$1"
		pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	else
		echo "not ok - $2 produced no counts"
		fail=$((fail + 1))
	fi
}
finish() {
	echo
	echo "check-debug: took $(( $(date +%s) - start ))s"
	echo "$pass passed, $fail failed, $skip skipped"
	[ $fail -eq 0 ]
	exit
}

step "debug kernel"
kt=$(date +%s)
if kd=$("$repo/scripts/kernel-fetch.sh" debug "$KVMW_CACHE"); then
	echo "ok - debug kernel $(cat "$kd/kver") ($(( $(date +%s) - kt ))s, $kd)"
	pass=$((pass + 1))
else
	echo "not ok - debug kernel build"
	fail=$((fail + 1))
	finish
fi

step "userland build (BPF against the 6.12 packages' BTF, as check.sh)"
if k612=$("$repo/scripts/kernel-fetch.sh" 6.12 "$KVMW_CACHE") &&
   kvm_ko=$(find "$k612/root/lib/modules" -name 'kvm.ko*' -path '*arch/x86/kvm/*' | head -n1) &&
   $MAKE -C "$repo" userland BUILD="$BUILD" \
	BTF_VMLINUX="$(cat "$k612/kdir")/vmlinux" BTF_KVM="$kvm_ko"; then
	echo "ok - userland build"
	pass=$((pass + 1))
else
	echo "not ok - userland build"
	fail=$((fail + 1))
	finish
fi

step "kernel tests on the debug kernel"
rm -f "$BUILD/results/vmtest.counts"
"$repo/scripts/vmtest.sh" -k debug
add_counts "$BUILD/results/vmtest.counts" "vmtest -k debug"

[ -z "${KVMW_DEBUG_NO_FAILSLAB:-}" ] || finish

step "kernel tests on the debug kernel, failslab in kvmwarden's allocations"
fs=$BUILD/failslab
rm -rf "$fs/selftests" "$fs/userspace" "$fs/results"
mkdir -p "$fs/selftests" "$fs/userspace"
cp "$BUILD/userspace/kvmwarden.static" "$fs/userspace/"
if [ -n "${KVMW_FAILSLAB_TESTS:-}" ]; then
	tests=${KVMW_FAILSLAB_TESTS//,/ }
else
	tests=$(grep -E '^(uapi|lifecycle_churn|events|scale)$' "$BUILD/selftests/TESTS")
fi
{
	echo failslab_start
	for t in $tests; do
		grep -qx "$t" "$BUILD/selftests/TESTS" || { echo "check-debug: no test $t" >&2; continue; }
		cp "$BUILD/selftests/$t" "$fs/selftests/"
		echo "$t"
	done
	echo failslab_stop
} > "$fs/selftests/TESTS"
pct=${KVMW_FAILSLAB_PERCENT:-10}
case $pct in
''|*[!0-9]*) echo "check-debug: KVMW_FAILSLAB_PERCENT=$pct is not a number" >&2; exit 2 ;;
esac
for f in failslab_start failslab_stop; do
	sed "s/^DEFAULT_PERCENT=.*/DEFAULT_PERCENT=$pct/" "$repo/scripts/failslab.sh" > "$fs/selftests/$f"
done
chmod +x "$fs/selftests/failslab_start" "$fs/selftests/failslab_stop"
only=$(paste -sd, "$fs/selftests/TESTS")
echo "# failslab boot runs: $only ($pct%)"
BUILD=$fs "$repo/scripts/vmtest.sh" -k debug --only "$only" | tee "$fs/vmtest.out"
# The test programs assert success, and injected failures make them fail
# (ENOMEM from snapshots, VMs kvmwarden could not record): their results
# are shown, not counted. What counts: failslab_start/stop (failures were
# injected, the module still answers, no splat besides allocation failure
# warnings), the harness's module reload/unload checks, the guest log, and
# the VM running to its end.
verdict='^(not )?ok - \[debug\] (failslab_(start|stop):|module-|guest kernel log|test VM|module build|initramfs|could not)'
grep -E "^(not )?ok - " "$fs/vmtest.out" | grep -vE "$verdict" |
	awk '{ n[$1 == "ok" ? "ok" : "failed"]++ }
	     END { printf "# under injection (not counted): %d test results ok, %d failed\n", n["ok"], n["failed"] }'
p=$(grep -cE "^ok - \[debug\]" <(grep -E "$verdict" "$fs/vmtest.out"))
f=$(grep -cE "^not ok - \[debug\]" <(grep -E "$verdict" "$fs/vmtest.out"))
[ $((p + f)) -gt 0 ] || { echo "not ok - failslab boot gave no verdict"; f=1; }
pass=$((pass + p)); fail=$((fail + f))
finish
