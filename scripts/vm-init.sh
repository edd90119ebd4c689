#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the kvmwarden test VM (busybox initramfs built by vmtest.sh).
#
# The kernel console is ttyS0. Results go to ttyS1 in a line protocol read
# by vmtest.sh:
#   KVMW-BEGIN <name>          a test program starts; its TAP output follows
#   KVMW-END <name> <rc>       it ended with exit status rc (124: timeout)
#   KVMW-CHECK ok|fail <what>  a check made by this script
#   KVMW-KMEMLEAK-BEGIN / -END kmemleak's report, on kernels that have it
#   KVMW-DMESG-BEGIN / -END    the guest's complete kernel log
#   KVMW-DONE                  everything ran
# The mode (test or demo) and timeouts come from the kernel command line.

/bin/busybox mkdir -p /proc /sys /dev /tmp /run
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/tests
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts

mode=test
test_timeout=600
only=
# Modules loaded before the tests: none (module_lifecycle loads them),
# kvm (kvm and kvm_amd only) or all (kvm, kvm_amd and kvmwarden).
preload=none
for arg in $(cat /proc/cmdline); do
	case $arg in
	kvmw.mode=*) mode=${arg#kvmw.mode=} ;;
	kvmw.test_timeout=*) test_timeout=${arg#kvmw.test_timeout=} ;;
	kvmw.only=*) only=${arg#kvmw.only=} ;;
	kvmw.preload=*) preload=${arg#kvmw.preload=} ;;
	esac
done

exec 3>/dev/ttyS1
out() { echo "$*" >&3; }

export KVMW_MODULE=/lib/kvmwarden/kvmwarden.ko
export KVMW_KVM_MODULES="$(cat /lib/kvm/order)"

check() {
	# check NAME COMMAND...: a harness-level check, reported as one test
	name=$1
	shift
	if "$@" >/tmp/check.log 2>&1; then
		out "KVMW-CHECK ok $name"
	else
		out "KVMW-CHECK fail $name"
		sed 's/^/# /' /tmp/check.log >&3
	fi
}

load_all() {
	for m in $KVMW_KVM_MODULES; do
		n=$(basename "$m" .ko)
		n=$(echo "$n" | tr - _)
		[ -d "/sys/module/$n" ] || insmod "$m" || return 1
	done
	[ -n "${KVMW_NO_KVMWARDEN:-}" ] && return 0
	[ -d /sys/module/kvmwarden ] || insmod "$KVMW_MODULE"
}

# kmemleak (debug kernels only; Debian's production kernels lack it):
# forget what booting left behind, so that a report names what the tests
# leaked.
kmemleak=/sys/kernel/debug/kmemleak
[ -e $kmemleak ] && echo clear > $kmemleak

finish() {
	if [ -e $kmemleak ]; then
		# Two scans with a pause, as kmemleak's documentation advises:
		# objects younger than about 5 s are not reported yet.
		echo scan > $kmemleak
		sleep 6
		echo scan > $kmemleak
		out "KVMW-KMEMLEAK-BEGIN"
		cat $kmemleak >&3
		out "KVMW-KMEMLEAK-END"
	fi
	out "KVMW-DMESG-BEGIN"
	dmesg >&3
	out "KVMW-DMESG-END"
	out "KVMW-DONE"
	# Under Bochs the last 4 KiB written to the results port before the
	# power-off never arrive (the 8250's transmit buffer, a page, is not
	# sent: neither the last close nor a pause helped; seen with 6.1).
	# Padding after KVMW-DONE, which vmtest.sh ignores, takes the loss.
	i=0
	while [ $i -lt 96 ]; do
		out "KVMW-PAD ........................................................................."
		i=$((i + 1))
	done
	# The last close of the results line waits until the UART has sent
	# everything (Bochs emulates its baud rate).
	exec 3>&-
	sync
	poweroff -f
}

echo "kvmwarden test VM: mode=$mode kernel=$(uname -r) cpus=$(nproc)"

if [ "$mode" = demo ]; then
	load_all || echo "module load failed"
	# Quick memory sampling passes, so that the short demo shows them.
	p=/sys/module/kvmwarden/parameters
	echo 1 > $p/sample_interval_ms
	echo 64 > $p/mem_batch
	kvmwarden events > /tmp/events.log 2>&1 &
	events=$!
	/tests/demo_guests 2>&1 &
	guests=$!
	sleep 4
	out "== kvmwarden list"
	kvmwarden list >&3 2>&1
	out "== kvmwarden stat -i 2"
	kvmwarden stat -i 2 >&3 2>&1
	vm=$(kvmwarden list --json | sed -n 's/.*"vm_id": *\([0-9]*\).*/\1/p' | head -n 1)
	out "== kvmwarden stat -v $vm -i 1"
	kvmwarden stat -v "$vm" -i 1 >&3 2>&1
	out "== kvmwarden stat --json -i 1"
	kvmwarden stat --json -i 1 >&3 2>&1
	kill "$guests" 2>/dev/null
	wait "$guests" 2>/dev/null
	# The module notices destroyed VMs within a second.
	sleep 2
	kill "$events" 2>/dev/null
	wait "$events" 2>/dev/null
	out "== kvmwarden events (while the above ran)"
	cat /tmp/events.log >&3
	rmmod kvmwarden
	finish
fi

case $preload in
kvm) KVMW_NO_KVMWARDEN=1 load_all ;;
all) load_all ;;
esac

if [ "$mode" = bench ]; then
	# Interleaved rounds on one vCPU under -icount: see scripts/bench.sh.
	KVMW_NO_KVMWARDEN=1 load_all
	for i in 1 2 3; do
		/tests/exit_bench -n 100000 baseline >&3 2>&1
		insmod "$KVMW_MODULE"
		/tests/exit_bench -c -n 100000 kvmwarden >&3 2>&1
		rmmod kvmwarden
		# The production clock: a raw TSC (TCG offers no invariant TSC).
		insmod "$KVMW_MODULE" clock=tsc
		/tests/exit_bench -c -n 100000 kvmwarden-tsc >&3 2>&1
		# The same VM with a budget it never exhausts (every exit
		# charged, no park): the cost of the budget check.
		/tests/exit_bench -B audit -n 100000 budget-audit >&3 2>&1
		/tests/exit_bench -B throttle -n 100000 budget-throttle >&3 2>&1
		rmmod kvmwarden
		/tests/exit_bench -b -n 100000 bpf-oracle >&3 2>&1
		/tests/exit_bench -l -n 100000 bpf-latency >&3 2>&1
		/tests/exit_bench -t -n 100000 bpf-latency-tp >&3 2>&1
		# The scheduler probes' cost for tasks that are not vCPUs.
		/tests/sched_bench -n 50000 switch-baseline >&3 2>&1
		# With a VM (and so KVM's preempt notifiers) but no module.
		/tests/sched_bench -v -n 50000 switch-baseline-vm >&3 2>&1
		insmod "$KVMW_MODULE" clock=tsc
		/tests/sched_bench -n 50000 switch-kvmwarden >&3 2>&1
		# A VM tracked: the scheduler probes are attached.
		/tests/sched_bench -v -n 50000 switch-kvmwarden-vm >&3 2>&1
		rmmod kvmwarden
	done
	# One snapshot of a 1000-vCPU VM, in instructions (clock=tsc: the
	# production path; the snapshot itself does not read the clock).
	insmod "$KVMW_MODULE" clock=tsc
	KVMW_SCALE_VCPUS=1000 KVMW_SCALE_ROUNDS=5 /tests/scale 2>&1 |
		sed -n -e 's/.*\(KVMW_IOC_VM_SNAPSHOT of .*\)/snapshot \1/p' \
		       -e 's/.*\(KVMW_IOC_STATS_READ of .*\)/snapshot \1/p' >&3
	rmmod kvmwarden
	finish
fi

for t in $(cat /tests/TESTS); do
	if [ -n "$only" ]; then
		case ",$only," in *",$t,"*) ;; *) continue ;; esac
	fi
	out "KVMW-BEGIN $t"
	echo "kvmwarden: running $t"
	# A test that hangs is killed; 124 tells vmtest.sh it timed out.
	timeout -s KILL "$test_timeout" "/tests/$t" >&3 2>&3 </dev/null
	rc=$?
	[ $rc -eq 137 ] && rc=124
	out "KVMW-END $t $rc"
done

# Whatever the tests did, the module must be loaded once more, unload
# cleanly, and not be left behind.
check module-final-load load_all
check module-final-unload rmmod kvmwarden
check module-gone sh -c '! test -d /sys/module/kvmwarden'
finish
