#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# failslab.sh - inject allocation failures into kvmwarden's allocations only,
# inside the debug test VM (busybox sh; the kernel of scripts/debug-kernel.sh).
#
# usage: failslab.sh start [PERCENT]   arm failslab and fail_page_alloc
#        failslab.sh stop              disarm, print how many were injected
#        failslab.sh count             print how many were injected so far
#
# Installed as /tests/failslab_start and /tests/failslab_stop (copies of
# this file), it runs as a test program of the line protocol of
# scripts/vm-init.sh and prints TAP: failslab_start arms the injection
# (DEFAULT_PERCENT below), failslab_stop disarms it and fails when no
# failure was injected at all, or when kvmwarden no longer answers.
#
# Confining the failures to kvmwarden: both fault attributes get the stack
# trace filter (FAULT_INJECTION_STACKTRACE_FILTER) set to the module's core
# image, [base, base + coresize) from /proc/modules and
# /sys/module/kvmwarden/coresize, so an allocation fails only when a return
# address of kvmwarden's code is on its stack: its own kmalloc, kvmalloc and
# vmalloc calls (discovery's pool refill, snapshots, event readers), never
# KVM's or anyone else's. The range belongs to one loaded instance of the
# module; "start" must run again after the module is reloaded.
#
# Allocations that may sleep are failed too (ignore-gfp-wait=N): kvmwarden
# allocates with GFP_KERNEL. The count comes from "times", which the kernel
# decrements once per injected failure. Nothing is logged per failure
# (verbose=0): a stack dump per failure would read as a splat.

MOD=kvmwarden
DBG=/sys/kernel/debug
ATTRS="failslab fail_page_alloc"
TIMES=1000000000
# scripts/check-debug.sh rewrites this line in the copies it installs.
DEFAULT_PERCENT=10

die() { echo "failslab: $*" >&2; exit 1; }

# The first and last address of the loaded module's core image.
module_range() {
	base=$(awk -v m="$MOD" '$1 == m { print $6 }' /proc/modules)
	case $base in
	0x*) ;;
	*) return 1 ;;
	esac
	[ "$base" != 0x0000000000000000 ] || return 1
	size=$(cat "/sys/module/$MOD/coresize") || return 1
	end=$(printf '0x%x' $((base + size)))
	echo "$base $end"
}

arm() {
	pct=${1:-$DEFAULT_PERCENT}
	case $pct in
	''|*[!0-9]*) die "percent must be a number 0..100, not '$pct'" ;;
	esac
	range=$(module_range) ||
		die "$MOD is not loaded, or /proc/modules hides its address"
	read -r start end <<EOF
$range
EOF
	for a in $ATTRS; do
		d=$DBG/$a
		[ -d "$d" ] || die "$d missing (CONFIG_FAILSLAB/FAIL_PAGE_ALLOC, debugfs)"
		[ -f "$d/require-start" ] ||
			die "$d/require-start missing (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"
		echo 0 > "$d/probability"
		echo 32 > "$d/stacktrace-depth"
		echo "$start" > "$d/require-start"
		echo "$end" > "$d/require-end"
		echo 0 > "$d/reject-start"
		echo 0 > "$d/reject-end"
		echo N > "$d/task-filter"
		echo N > "$d/ignore-gfp-wait"
		echo 0 > "$d/space"
		echo 1 > "$d/interval"
		echo 0 > "$d/verbose"
		echo "$TIMES" > "$d/times"
		[ -f "$d/min-order" ] && echo 0 > "$d/min-order"
		[ -f "$d/ignore-gfp-highmem" ] && echo N > "$d/ignore-gfp-highmem"
		echo "$pct" > "$d/probability"
	done
	# The window in which scripts/vmtest.sh accepts the kernel's
	# reports of failed allocations (drop_injected()).
	echo "kvmw-failslab: armed $pct% [$start, $end)" > /dev/kmsg
	echo "$pct% of allocations with $MOD code in [$start, $end) on the stack"
}

# Failures injected since arm(), per attribute and in total.
count() {
	total=0
	detail=
	for a in $ATTRS; do
		left=$(cat "$DBG/$a/times")
		n=$((TIMES - left))
		total=$((total + n))
		detail="$detail $a=$n"
	done
	echo "$total${detail}"
}

disarm() {
	for a in $ATTRS; do
		echo 0 > "$DBG/$a/probability"
	done
	echo "kvmw-failslab: disarmed" > /dev/kmsg
	count
}

tap_start() {
	echo "1..1"
	if msg=$(arm 2>&1); then
		echo "ok 1 - failslab armed: $msg"
	else
		echo "not ok 1 - failslab not armed: $msg"
		exit 1
	fi
}

# The kernel log's splats that are not the warning of a failed allocation
# (warn_alloc(): "page allocation failure", "vmalloc error", each with a
# stack dump when the caller did not pass __GFP_NOWARN). The patterns are
# those of scripts/vmtest.sh.
SPLATS='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|blocked for more than|kernel BUG|Call Trace:|unreferenced object'
ALLOC_WARN='page allocation failure|vmalloc error|vmap allocation for size'

# check_log: prints "<allocation warnings> <other splat lines>", and the
# other splat lines themselves on fd 3.
check_log() {
	dmesg > /tmp/failslab.dmesg
	awk -v splats="$SPLATS" -v warn="$ALLOC_WARN" '
		$0 ~ warn { nwarn++; last = NR; next }
		/Call Trace:/ && last && NR - last <= 6 { last = 0; next }
		$0 ~ splats { nbad++; last = 0; print > "/dev/fd/3" }
		END { print nwarn + 0, nbad + 0 }
	' /tmp/failslab.dmesg
}

tap_stop() {
	echo "1..3"
	read -r total detail <<EOF
$(disarm)
EOF
	if [ "$total" -gt 0 ]; then
		echo "ok 1 - $total allocation failures injected into $MOD ($detail)"
	else
		echo "not ok 1 - no allocation failure was injected into $MOD ($detail)"
	fi
	# The module must still answer; exits it could not account for
	# (records it failed to allocate) are reported, not hidden.
	if out=$(kvmwarden list 2>&1); then
		echo "ok 2 - $MOD answers after the injection"
	else
		echo "not ok 2 - $MOD does not answer after the injection"
	fi
	echo "$out" | grep -i 'warning' | sed 's/^/# /'
	# Injected failures make the kernel warn about them; anything else is
	# a finding. The log is left as it is: the harness (scripts/vmtest.sh,
	# drop_injected()) accepts the warnings of the known shape made
	# between the "armed" and "disarmed" lines written above, and
	# reports everything else.
	read -r nwarn nbad <<EOF
$(check_log 3>/tmp/failslab.bad)
EOF
	if [ "$nbad" -eq 0 ]; then
		echo "ok 3 - kernel log: no splat besides $nwarn allocation failure warnings"
	else
		echo "not ok 3 - kernel log: $nbad splat lines besides $nwarn allocation failure warnings"
		head -n 20 /tmp/failslab.bad | sed 's/^/# /'
	fi
	[ "$total" -gt 0 ] && [ "$nbad" -eq 0 ]
}

case ${0##*/} in
failslab_start) tap_start; exit ;;
failslab_stop) tap_stop; exit ;;
esac

case ${1:-} in
start) arm "${2:-}" ;;
stop) disarm ;;
count) count ;;
*) die "usage: failslab.sh start [PERCENT] | stop | count" ;;
esac
