#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtest.sh - run kvmwarden's kernel tests in QEMU test VMs.
#
# usage: scripts/vmtest.sh [-k SERIES]... [--demo|--bench] [--only T1,T2]
#                          [--preload none|kvm|all] [--keep]
#
# For each kernel series (default: 6.1 and 6.12): fetch and unpack Debian's
# kernel packages into the cache, build kvmwarden.ko against them (W=1; any
# compiler warning fails), assemble a busybox initramfs with kvm's own
# modules, the project's module, CLI and test programs, boot it with
# TCG (-cpu max: nested SVM with NPT) on 4 vCPUs and two NUMA nodes, and
# read back TAP results and the guest's whole kernel log.
#
# A kernel run fails when a test fails or times out, when the guest kernel
# logs a BUG, WARNING, Oops, general protection fault, KASAN/UBSAN report,
# lockdep or RCU splat or hung task, when the module does not load or
# unload, or when the VM does not finish in time.
#
# Environment:
#   BUILD              build directory (default: <repo>/build)
#   KVMW_CACHE         package cache (default: <repo>/.cache)
#   KVMW_VM_TIMEOUT    seconds for one VM run (default 1800)
#   KVMW_TEST_TIMEOUT  seconds for one test program (default 600)
#   KVMW_VM_MEM        guest memory in MiB, split over two nodes (default 4096)
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$repo/build}
CACHE=${KVMW_CACHE:-$repo/.cache}
VM_TIMEOUT=${KVMW_VM_TIMEOUT:-1800}
TEST_TIMEOUT=${KVMW_TEST_TIMEOUT:-600}
VM_MEM=${KVMW_VM_MEM:-4096}
TCG_THREAD=${KVMW_TCG_THREAD:-single}

series=()
mode=test
only=
preload=
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	-k) series+=("$2"); shift ;;
	--demo) mode=demo ;;
	--bench) mode=bench ;;
	--only) only=$2; shift ;;
	--preload) preload=$2; shift ;;
	--keep) keep=1 ;;
	-h|--help) sed -n '3,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vmtest: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)

log() { echo "vmtest: $*" >&2; }

total_pass=0
total_fail=0
total_skip=0

# build_module SERIES KDIR -> path of kvmwarden.ko
build_module() {
	local s=$1 kdir=$2 dir=$BUILD/kmod-$1
	mkdir -p "$dir"
	# Kbuild writes objects next to the sources: build from a copy per
	# kernel so that several kernels can be built from one tree.
	cp "$repo/Kbuild" "$dir/"
	rm -rf "$dir/kmod" "$dir/include"
	cp -r "$repo/kmod" "$repo/include" "$dir/"
	if ! make -C "$kdir" M="$dir" W=1 modules >"$dir/build.log" 2>&1; then
		cat "$dir/build.log" >&2
		return 1
	fi
	if grep -E 'warning:|error:' "$dir/build.log" >&2; then
		log "[$s] the module build printed warnings (W=1): failing"
		return 1
	fi
	echo "$dir/kmod/kvmwarden.ko"
}

# make_initramfs SERIES KERNEL_DIR MODULE -> path of the cpio archive
make_initramfs() {
	local s=$1 kd=$2 ko=$3
	local root=$BUILD/initramfs-$s kver
	kver=$(cat "$kd/kver")
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/kvm,lib/kvmwarden,tests}
	cp /bin/busybox "$root/bin/busybox"
	cp "$repo/scripts/vm-init.sh" "$root/init"
	chmod +x "$root/init"
	# kvm_amd and its dependencies, in load order, decompressed so that
	# busybox insmod can load them.
	: > "$root/lib/kvm/order"
	local line path name
	while read -r line; do
		path=${line#insmod }
		path=${path% }
		name=$(basename "$path")
		case $name in
		*.xz) xz -dc "$path" > "$root/lib/kvm/${name%.xz}"; name=${name%.xz} ;;
		*.zst) zstd -qdc "$path" > "$root/lib/kvm/${name%.zst}"; name=${name%.zst} ;;
		*) cp "$path" "$root/lib/kvm/$name" ;;
		esac
		echo "/lib/kvm/$name" >> "$root/lib/kvm/order"
	done < <(modprobe -d "$kd/root" -S "$kver" --show-depends kvm_amd)
	[ -s "$root/lib/kvm/order" ] || { log "[$s] kvm_amd not found"; return 1; }
	cp "$ko" "$root/lib/kvmwarden/"
	cp "$BUILD/userspace/kvmwarden.static" "$root/bin/kvmwarden"
	cp "$BUILD/selftests/TESTS" "$root/tests/"
	local t
	for t in $(cat "$BUILD/selftests/TESTS") demo_guests exit_bench sched_bench; do
		[ -f "$BUILD/selftests/$t" ] && cp "$BUILD/selftests/$t" "$root/tests/"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$BUILD/initramfs-$s.cpio.gz"
	add_qemu "$s" "$BUILD/initramfs-$s.cpio.gz" || return 1
	echo "$BUILD/initramfs-$s.cpio.gz"
}

# add_qemu SERIES ARCHIVE: append this machine's Debian qemu-system-x86_64,
# the VMM of the vmm_e2e test, when that test runs: the binary, every
# library ldd lists and the dynamic loader, at their own paths (the loader
# finds them there without ld.so.cache). No data file: the test writes
# its own firmware and turns off the only option ROM QEMU would load.
# The files go in a second, uncompressed cpio member (~50 MB): the test
# VM's kernel copies it faster than it would inflate it under TCG.
add_qemu() {
	local s=$1 archive=$2 qroot=$BUILD/initramfs-$1-qemu
	local qemu=/usr/bin/qemu-system-x86_64 f libs

	[ "$mode" = test ] && grep -qx vmm_e2e "$BUILD/selftests/TESTS" || return 0
	case ",$only," in ,,|*,vmm_e2e,*) ;; *) return 0 ;; esac
	if [ ! -x "$qemu" ]; then
		log "[$s] $qemu not found (package qemu-system-x86): vmm_e2e will fail"
		return 0
	fi
	libs=$(ldd "$qemu" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				  $1 ~ /^\// { print $1 }') || return 1
	rm -rf "$qroot"
	mkdir -p "$qroot/usr/bin"
	cp "$qemu" "$qroot/usr/bin/"
	for f in $libs; do
		mkdir -p "$qroot${f%/*}"
		cp -L "$f" "$qroot$f" || return 1
	done
	# The kernel reads a member only from a 4-byte aligned offset.
	truncate -s %512 "$archive" || return 1
	(cd "$qroot" && find . -mindepth 1 | cpio -o -H newc --quiet) >> "$archive" || return 1
	rm -rf "$qroot"
}

# boot SERIES KERNEL_DIR INITRAMFS RESULTS_DIR
boot() {
	local s=$1 kd=$2 initrd=$3 res=$4 half=$((VM_MEM / 2)) pre=$preload
	# A subset without module_lifecycle needs kvm loaded beforehand.
	if [ -z "$pre" ]; then
		case ",$only," in
		,,|*,module_lifecycle,*) pre=none ;;
		*) pre=all ;;
		esac
	fi
	# Benchmarks: one vCPU whose clock advances 1 ns per instruction.
	local cpu_opts=(-accel "tcg,thread=$TCG_THREAD" -smp 4,sockets=2,cores=2,threads=1)
	local node0=0-1 node1=,cpus=2-3
	if [ "$mode" = bench ]; then
		cpu_opts=(-accel tcg -icount shift=0,sleep=off -smp 1)
		node0=0 node1=
	fi
	rm -f "$res/console.log" "$res/results.log"
	timeout -s KILL "$VM_TIMEOUT" qemu-system-x86_64 \
		"${cpu_opts[@]}" -cpu max -m "$VM_MEM" \
		-object memory-backend-ram,id=mem0,size="${half}M" \
		-object memory-backend-ram,id=mem1,size="${half}M" \
		-numa node,nodeid=0,cpus=$node0,memdev=mem0 \
		-numa "node,nodeid=1$node1,memdev=mem1" \
		-kernel "$(cat "$kd/vmlinuz")" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 kvmw.mode=$mode kvmw.test_timeout=$TEST_TIMEOUT kvmw.only=$only kvmw.preload=$pre hung_task_panic=1" \
		-display none -monitor "unix:$res/monitor.sock,server,nowait" -no-reboot \
		-serial "file:$res/console.log" -serial "file:$res/results.log" \
		</dev/null >"$res/qemu.log" 2>&1
	return $?
}

# Splats that fail a run wherever they appear in the guest's kernel log.
SPLATS='BUG:|WARNING:|Oops|general protection|KASAN|UBSAN|possible circular locking|inconsistent lock state|possible recursive locking|suspicious RCU usage|blocked for more than|kernel BUG|Call Trace:|unreferenced object'

# parse SERIES RESULTS_DIR: print TAP-like lines, accumulate counts
parse() {
	local s=$1 res=$2 log=$2/results.txt
	local pass=0 fail=0 skip=0
	local name rc line

	# The serial line discipline turns \n into \r\n.
	tr -d '\r' < "$res/results.log" > "$log"
	if [ ! -s "$log" ]; then
		echo "not ok - [$s] test VM produced no results (see $res/console.log)"
		tail -n 30 "$res/console.log" 2>/dev/null | sed 's/^/# /'
		total_fail=$((total_fail + 1))
		return
	fi
	# Per-program TAP: count top-level result lines; a crash or timeout
	# without a "not ok" still counts as one failure.
	local cur= cur_pass=0 cur_fail=0 cur_skip=0 plan=0
	while IFS= read -r line; do
		case $line in
		"KVMW-BEGIN "*)
			cur=${line#KVMW-BEGIN }
			cur_pass=0; cur_fail=0; cur_skip=0; plan=0 ;;
		"KVMW-END "*)
			set -- $line
			name=$2 rc=$3
			if [ "$rc" = 124 ]; then
				echo "not ok - [$s] $name: timed out after ${TEST_TIMEOUT}s"
				cur_fail=$((cur_fail + 1))
			elif [ "$rc" != 0 ] && [ $cur_fail -eq 0 ]; then
				echo "not ok - [$s] $name: exited with status $rc"
				cur_fail=$((cur_fail + 1))
			elif [ $plan -gt 0 ] && [ $((cur_pass + cur_fail + cur_skip)) -lt $plan ]; then
				echo "not ok - [$s] $name: $((cur_pass + cur_fail + cur_skip)) results for a plan of $plan"
				cur_fail=$((cur_fail + 1))
			fi
			pass=$((pass + cur_pass)); fail=$((fail + cur_fail)); skip=$((skip + cur_skip))
			cur= ;;
		"KVMW-CHECK ok "*)
			echo "ok - [$s] ${line#KVMW-CHECK ok }"; pass=$((pass + 1)) ;;
		"KVMW-CHECK fail "*)
			echo "not ok - [$s] ${line#KVMW-CHECK fail }"; fail=$((fail + 1)) ;;
		"KVMW-DMESG-BEGIN"|"KVMW-DMESG-END"|"KVMW-DONE") ;;
		*)
			[ -n "$cur" ] || continue
			case $line in
			1..*) plan=${line#1..}; plan=${plan%% *} ;;
			"ok "*"# SKIP"*|"ok "*"# skip"*)
				echo "ok - [$s] $cur: ${line#ok } "; cur_skip=$((cur_skip + 1)) ;;
			"ok "*) echo "ok - [$s] $cur: ${line#ok }"; cur_pass=$((cur_pass + 1)) ;;
			"not ok "*) echo "not ok - [$s] $cur: ${line#not ok }"; cur_fail=$((cur_fail + 1)) ;;
			"#"*"FAIL"*|"#"*"ASSERT"*|"#"*"Expected"*|"#"*"expected"*) echo "$line" ;;
			esac ;;
		esac
	done < "$log"
	if [ -n "$cur" ]; then
		echo "not ok - [$s] $cur: did not finish (VM crashed or timed out)"
		fail=$((fail + 1))
	fi

	sed -n '/^KVMW-DMESG-BEGIN/,/^KVMW-DMESG-END/p' "$log" > "$res/dmesg.log"
	if ! grep -q '^KVMW-DONE' "$log"; then
		echo "not ok - [$s] test VM did not run to completion (timeout ${VM_TIMEOUT}s?)"
		tail -n 40 "$res/console.log" 2>/dev/null | sed 's/^/# /'
		fail=$((fail + 1))
	elif grep -Eq "$SPLATS" "$res/dmesg.log" "$res/console.log"; then
		echo "not ok - [$s] guest kernel log is not clean:"
		grep -Eh -B2 -A20 "$SPLATS" "$res/dmesg.log" | head -n 60 | sed 's/^/# /'
		fail=$((fail + 1))
	else
		echo "ok - [$s] guest kernel log clean"
		pass=$((pass + 1))
	fi
	echo "# [$s] $pass passed, $fail failed, $skip skipped"
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	total_skip=$((total_skip + skip))
}

for f in "$BUILD/userspace/kvmwarden.static" "$BUILD/selftests/TESTS"; do
	if [ ! -f "$f" ]; then
		log "missing $f: run 'make' first"
		exit 2
	fi
done

for s in "${series[@]}"; do
	start=$(date +%s)
	kd=$("$repo/scripts/kernel-fetch.sh" "$s" "$CACHE") || {
		echo "not ok - [$s] could not fetch the kernel packages"
		total_fail=$((total_fail + 1)); continue; }
	ko=$(build_module "$s" "$(cat "$kd/kdir")") || {
		echo "not ok - [$s] module build"
		total_fail=$((total_fail + 1)); continue; }
	echo "ok - [$s] module build (W=1, $(cat "$kd/kver"))"
	total_pass=$((total_pass + 1))
	initrd=$(make_initramfs "$s" "$kd" "$ko") || {
		echo "not ok - [$s] initramfs"
		total_fail=$((total_fail + 1)); continue; }
	res=$BUILD/results/$s
	mkdir -p "$res"
	log "[$s] booting $(cat "$kd/kver") ($mode)"
	boot "$s" "$kd" "$initrd" "$res"
	qrc=$?
	[ $qrc -eq 0 ] || log "[$s] qemu exited with status $qrc"
	if [ "$mode" = demo ]; then
		tr -d '\r' < "$res/results.log" | sed '/^KVMW-DMESG-BEGIN/,$d'
		continue
	fi
	if [ "$mode" = bench ]; then
		tr -d '\r' < "$res/results.log" | awk -v k="$(cat "$kd/kver")" '
			$2 == "ns_per_exit" || $2 == "ns_per_switch" {
				sum[$1] += $3; n[$1]++; unit[$1] = $2
				if (!($1 in min) || $3 < min[$1]) min[$1] = $3
				if ($3 > max[$1]) max[$1] = $3 }
			function show(what, base, l) {
				b = sum[base] / n[base]
				printf "%s: instructions per %s (icount, %d rounds each)\n", k, what, n[base]
				for (l in n)
					if (unit[l] == unit[base])
						printf "  %-14s %8.1f  (min %.1f max %.1f)  %+7.1f vs %s\n",
							l, sum[l] / n[l], min[l], max[l], sum[l] / n[l] - b, base
			}
			END {
				if (!n["baseline"]) { print "bench: no results"; exit 1 }
				show("CPUID exit", "baseline")
				if (n["switch-baseline"])
					show("context switch of non-vCPU threads", "switch-baseline")
			}
			$1 == "snapshot" { sub(/^snapshot /, ""); print k ": " $0 " (icount: ms are millions of instructions)" }'
		continue
	fi
	parse "$s" "$res"
	log "[$s] done in $(( $(date +%s) - start ))s; logs in $res"
	[ $keep -eq 1 ] || rm -f "$BUILD/initramfs-$s.cpio.gz"
done

[ "$mode" = test ] || exit 0
mkdir -p "$BUILD/results"
echo "$total_pass $total_fail $total_skip" > "$BUILD/results/vmtest.counts"
echo "vmtest: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ]
