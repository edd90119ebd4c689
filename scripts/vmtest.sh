#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmtest.sh - run kvmwarden's kernel tests in QEMU or Bochs test VMs.
#
# usage: scripts/vmtest.sh [-k SERIES]... [--demo|--bench] [--only T1,T2]
#                          [--preload none|kvm|all] [--keep]
#                          [--emu qemu|bochs] [--vmx]
#
# For each kernel series (default: 6.1 and 6.12): fetch and unpack Debian's
# kernel packages into the cache, build kvmwarden.ko against them (W=1; any
# compiler warning fails), assemble a busybox initramfs with kvm's own
# modules, the project's module, CLI and test programs, boot it and read
# back TAP results and the guest's whole kernel log.
#
# --emu qemu (default): QEMU TCG, -cpu max (nested AMD SVM with NPT,
# kvm_amd), 4 vCPUs on two NUMA nodes. Results are labelled [SERIES].
# --emu bochs, or --vmx: Debian's Bochs as an Intel Skylake-X with VMX
# and EPT (kvm_intel), booted from an isolinux ISO, one CPU, no NUMA.
# Results are labelled [SERIES-vmx] ([SERIES-vmx-rt] with
# KVMW_BOCHS_CLOCK=realtime). Test mode only.
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
#   KVMW_VM_MEM        guest memory in MiB (default 4096 in QEMU, split over
#                      two nodes; 2048 in Bochs)
#   KVMW_APPEND        extra kernel command-line arguments for the test VM
#   KVMW_BOCHS_CPUS    CPUs of the Bochs VM (default 1)
#   KVMW_BOCHS_IPS     Bochs instructions per emulated second (default
#                      100000000, about what Bochs runs on this machine)
#   KVMW_BOCHS_CLOCK   instructions (default): the VM's time follows its
#                      instruction count; realtime: the host's time, for
#                      the programs that measure rates (budget), see
#                      Documentation/testing.rst, "Time in Bochs"
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$repo/build}
CACHE=${KVMW_CACHE:-$repo/.cache}
VM_TIMEOUT=${KVMW_VM_TIMEOUT:-1800}
TEST_TIMEOUT=${KVMW_TEST_TIMEOUT:-600}
VM_MEM=${KVMW_VM_MEM:-}
APPEND=${KVMW_APPEND:-}
# One TCG thread for all vCPUs. Debian's kernels patch their own code at
# run time (alternatives, static keys, ftrace); under multi-threaded TCG
# QEMU 7.2 livelocks now and then on such a patched "sti; jmp" that
# straddles a page boundary (Documentation/testing.rst, "QEMU"), so a
# multi-threaded run is not trustworthy. Bochs is single-threaded anyway.
TCG_THREAD=${KVMW_TCG_THREAD:-single}
BOCHS_CPUS=${KVMW_BOCHS_CPUS:-1}
BOCHS_IPS=${KVMW_BOCHS_IPS:-100000000}
BOCHS_CLOCK=${KVMW_BOCHS_CLOCK:-instructions}
case $BOCHS_CLOCK in
instructions|realtime) ;;
*) echo "vmtest: KVMW_BOCHS_CLOCK=$BOCHS_CLOCK: instructions or realtime" >&2; exit 2 ;;
esac

series=()
mode=test
only=
preload=
keep=0
emu=qemu
while [ $# -gt 0 ]; do
	case $1 in
	-k) series+=("$2"); shift ;;
	--demo) mode=demo ;;
	--bench) mode=bench ;;
	--only) only=$2; shift ;;
	--preload) preload=$2; shift ;;
	--keep) keep=1 ;;
	--emu) emu=$2; shift ;;
	--vmx) emu=bochs ;;
	-h|--help) sed -n '3,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vmtest: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)
case $emu in
qemu) vendor=amd; suffix= ; VM_MEM=${VM_MEM:-4096} ;;
bochs)
	vendor=intel; suffix=-vmx; VM_MEM=${VM_MEM:-2048}
	[ "$BOCHS_CLOCK" = realtime ] && suffix=-vmx-rt
	if [ "$mode" != test ]; then
		echo "vmtest: --emu bochs runs tests only" >&2
		exit 2
	fi
	for f in bochs xorriso; do
		command -v "$f" >/dev/null || {
			echo "vmtest: $f not found: run scripts/install-deps.sh" >&2
			exit 2; }
	done ;;
*) echo "vmtest: unknown emulator $emu (qemu or bochs)" >&2; exit 2 ;;
esac

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

# make_initramfs LABEL KERNEL_DIR MODULE -> path of the cpio archive
make_initramfs() {
	local s=$1 kd=$2 ko=$3
	local root=$BUILD/initramfs-$s kver
	kver=$(cat "$kd/kver")
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/kvm,lib/kvmwarden,tests}
	cp /bin/busybox "$root/bin/busybox"
	cp "$repo/scripts/vm-init.sh" "$root/init"
	chmod +x "$root/init"
	# kvm_amd (QEMU) or kvm_intel (Bochs) and its dependencies, in load
	# order, decompressed so that busybox insmod can load them.
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
	done < <(modprobe -d "$kd/root" -S "$kver" --show-depends "kvm_$vendor")
	[ -s "$root/lib/kvm/order" ] || { log "[$s] kvm_$vendor not found"; return 1; }
	cp "$ko" "$root/lib/kvmwarden/"
	cp "$BUILD/userspace/kvmwarden.static" "$root/bin/kvmwarden"
	cp "$BUILD/selftests/TESTS" "$root/tests/"
	local t
	for t in $(cat "$BUILD/selftests/TESTS") demo_guests exit_bench sched_bench; do
		# Bochs reads the initramfs through the BIOS and inflates it
		# slowly: only the programs that run.
		if [ "$emu" = bochs ] && [ -n "$only" ]; then
			case ",$only," in *",$t,"*) ;; *) continue ;; esac
		fi
		[ -f "$BUILD/selftests/$t" ] && cp "$BUILD/selftests/$t" "$root/tests/"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$BUILD/initramfs-$s.cpio.gz"
	add_qemu "$s" "$BUILD/initramfs-$s.cpio.gz" || return 1
	add_exporter_http "$s" "$BUILD/initramfs-$s.cpio.gz" || return 1
	echo "$BUILD/initramfs-$s.cpio.gz"
}

# add_exporter_http SERIES ARCHIVE: when the exporter test runs, append
# the dynamically linked kvmwarden as /bin/kvmwarden-http (the static one
# has no HTTP server: libmicrohttpd's static library needs GnuTLS, which
# has none), every library ldd lists and the loader, at their own paths,
# in an uncompressed cpio member (~9 MB) as add_qemu does.
add_exporter_http() {
	local s=$1 archive=$2 hroot=$BUILD/initramfs-$1-http
	local bin=$BUILD/userspace/kvmwarden f libs

	grep -qx exporter "$BUILD/selftests/TESTS" || return 0
	case ",$only," in ,,|*,exporter,*) ;; *) return 0 ;; esac
	if [ ! -x "$bin" ]; then
		log "[$s] $bin not built: the exporter's http test will skip"
		return 0
	fi
	libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
				 $1 ~ /^\// { print $1 }') || return 1
	rm -rf "$hroot"
	mkdir -p "$hroot/bin"
	cp "$bin" "$hroot/bin/kvmwarden-http"
	for f in $libs; do
		mkdir -p "$hroot${f%/*}"
		cp -L "$f" "$hroot$f" || return 1
	done
	truncate -s %512 "$archive" || return 1
	(cd "$hroot" && find . -mindepth 1 | cpio -o -H newc --quiet) >> "$archive" || return 1
	rm -rf "$hroot"
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

# preload_mode: what vm-init.sh loads before the tests
preload_mode() {
	# A subset without module_lifecycle needs kvm loaded beforehand.
	if [ -n "$preload" ]; then
		echo "$preload"
		return
	fi
	case ",$only," in
	,,|*,module_lifecycle,*) echo none ;;
	*) echo all ;;
	esac
}

# boot_qemu SERIES KERNEL_DIR INITRAMFS RESULTS_DIR
boot_qemu() {
	local s=$1 kd=$2 initrd=$3 res=$4 half=$((VM_MEM / 2)) pre
	pre=$(preload_mode)
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
		-append "console=ttyS0 panic=-1 quiet loglevel=4 kvmw.mode=$mode kvmw.test_timeout=$TEST_TIMEOUT kvmw.only=$only kvmw.preload=$pre hung_task_panic=1${APPEND:+ $APPEND}" \
		-display none -monitor "unix:$res/monitor.sock,server,nowait" -no-reboot \
		-serial "file:$res/console.log" -serial "file:$res/results.log" \
		</dev/null >"$res/qemu.log" 2>&1
	return $?
}

# make_iso LABEL KERNEL_DIR INITRAMFS CMDLINE ISO: a CD image that boots
# the kernel and initramfs with isolinux (Bochs has no direct kernel boot).
make_iso() {
	local s=$1 kd=$2 initrd=$3 cmdline=$4 iso=$5 dir=$BUILD/iso-$1
	local f
	rm -rf "$dir"
	mkdir -p "$dir/isolinux"
	for f in /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32; do
		if [ ! -f "$f" ]; then
			log "[$s] $f not found (packages isolinux, syslinux-common)"
			return 1
		fi
		cp "$f" "$dir/isolinux/"
	done
	cp "$(cat "$kd/vmlinuz")" "$dir/vmlinuz"
	cp "$initrd" "$dir/initrd.gz"
	cat > "$dir/isolinux/isolinux.cfg" <<EOF
DEFAULT kvmw
PROMPT 0
TIMEOUT 0
LABEL kvmw
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND $cmdline
EOF
	xorriso -as mkisofs -quiet -o "$iso" -R -J \
		-b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$dir" \
		>"$BUILD/iso-$s.log" 2>&1 || { cat "$BUILD/iso-$s.log" >&2; return 1; }
	rm -rf "$dir"
}

# note_progress RESULTS_DIR SECONDS PID: add to timing.log the events of
# the results stream not seen yet, "booted" at the first test and "end
# NAME", each with the wall seconds since the start and the CPU seconds
# Bochs (PID) used so far; on a loaded machine the CPU time is the better
# measure of what a run costs.
note_progress() {
	local res=$1 t=$2 pid=$3 line cpu=${cpu_last:-?}
	local stat=() hz
	if read -ra stat < "/proc/$pid/stat" 2>/dev/null; then
		hz=$(getconf CLK_TCK)
		# utime and stime, fields 14 and 15 (no spaces in "(bochs-bin)")
		cpu=$(( (stat[13] + stat[14]) / hz ))
		cpu_last=$cpu
	fi
	grep -q '^booted ' "$res/timing.log" ||
		! grep -q '^KVMW-BEGIN' "$res/results.log" ||
		echo "booted $t $cpu" >> "$res/timing.log"
	while IFS= read -r line; do
		set -- $line
		grep -q "^end $2 " "$res/timing.log" ||
			echo "end $2 $t $cpu" >> "$res/timing.log"
	done < <(tr -d '\r' < "$res/results.log" | grep '^KVMW-END ')
}

# boot_bochs SERIES KERNEL_DIR INITRAMFS RESULTS_DIR
#
# Bochs 2.7 as Debian builds it: a Skylake-X with VMX and EPT, so that
# kvm_intel loads and the tests' guests take real VMX exits. One thread
# runs everything. The guest clock follows the instruction count
# (clock: sync=none at KVMW_BOCHS_IPS) and jumps ahead while every CPU is
# halted, so sleeps in the guest cost little wall time. No NUMA: Bochs has
# no SRAT. Debian's build has the internal debugger, which stops before
# the first instruction: the -rc file continues, and stdin is /dev/null.
# No display library but rfb is built: it runs headless and does not wait
# for a client. No sound: the ALSA driver aborts Bochs on a machine without
# a sound card. The serial ports are files: com1 the console, com2 the
# results. Bochs has no "-no-reboot": the guest does not reboot on a panic
# (panic=0) and the watcher below ends Bochs when the console shows one.
boot_bochs() {
	local s=$1 kd=$2 initrd=$3 res=$4 pre cmdline pid t0 waited=0 rc
	cpu_last=
	pre=$(preload_mode)
	rm -f "$res/console.log" "$res/results.log" "$res/bochs.log"
	# mitigations=off: the emulated Skylake-X has no microcode fixes. The
	# kernel would warn about RETBleed at boot ("RETBleed: WARNING:", a
	# splat to the log check) and add buffer clearing and flushes to
	# context switches and VM entries, slow to emulate and beside the
	# point here. noxsave: Bochs' CPUID leaf 0xd is inconsistent (on 6.1
	# "XSAVE consistency problem: size 2432 != kernel_size 2688", a
	# WARNING), after which the kernel runs without XSAVE anyway.
	# KVMW_BOCHS_CLOCK=realtime: Bochs paces its timers by the host's
	# clock, but its TSC still counts instructions. The kernel keeps time
	# with the ACPI PM timer and, with the TSC marked unstable, so do
	# sched_clock and kvmwarden's clock: one time base for everything.
	local sync=none clk=
	if [ "$BOCHS_CLOCK" = realtime ]; then
		sync=realtime
		clk=" clocksource=acpi_pm tsc=unstable"
	fi
	cmdline="console=ttyS0 panic=0 quiet loglevel=4 mitigations=off noxsave$clk kvmw.mode=$mode kvmw.test_timeout=$TEST_TIMEOUT kvmw.only=$only kvmw.preload=$pre hung_task_panic=1${APPEND:+ $APPEND}"
	make_iso "$s" "$kd" "$initrd" "$cmdline" "$res/boot.iso" || return 1
	cat > "$res/bochsrc" <<EOF
# Generated by scripts/vmtest.sh for one run.
megs: $VM_MEM
cpu: model=corei7_skylake_x, count=$BOCHS_CPUS, ips=$BOCHS_IPS, reset_on_triple_fault=0
clock: sync=$sync, time0=local
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path="$res/boot.iso", status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
com1: enabled=1, mode=file, dev="$res/console.log"
com2: enabled=1, mode=file, dev="$res/results.log"
log: $res/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
	printf 'c\nquit\n' > "$res/bochs.rc"
	: > "$res/console.log"
	: > "$res/results.log"
	(cd "$res" && exec bochs -q -f "$res/bochsrc" -rc "$res/bochs.rc") \
		</dev/null >"$res/bochs.out" 2>&1 &
	pid=$!
	# timing.log: wall seconds since the start at which each test
	# program's end (and the boot's) was first seen, to 5 s.
	t0=$(date +%s)
	echo "start $t0" > "$res/timing.log"
	while kill -0 "$pid" 2>/dev/null; do
		waited=$(( $(date +%s) - t0 ))
		note_progress "$res" "$waited" "$pid"
		if [ $waited -ge "$VM_TIMEOUT" ]; then
			log "[$s] Bochs still running after ${VM_TIMEOUT}s: killing it"
			kill -KILL "$pid"
			break
		fi
		if grep -q 'Kernel panic - not syncing' "$res/console.log"; then
			# Let the panic message reach the log file, then stop.
			sleep 5
			log "[$s] guest kernel panic: stopping Bochs"
			kill -KILL "$pid"
			break
		fi
		sleep 5
	done
	wait "$pid"
	rc=$?
	waited=$(( $(date +%s) - t0 ))
	note_progress "$res" "$waited" "$pid"
	echo "stop $waited ${cpu_last:-?}" >> "$res/timing.log"
	rm -f "$res/boot.iso"
	return $rc
}

# Warnings the emulator's CPU causes, not kvmwarden or KVM: Bochs' legacy
# CPUID topology (leaf 4 counts more cores than leaf 1 logical CPUs) makes
# 6.12 warn once at boot. Each such block, from "cut here" to "end trace",
# is cut out of the log before the splat check and listed instead.
EMU_ARTEFACTS=
[ "$emu" = bochs ] &&
	EMU_ARTEFACTS='WARNING: CPU: 0 PID: 0 at arch/x86/kernel/cpu/topology_common.c:[0-9]+ parse_legacy'

# drop_artefacts FILE: FILE without the warning blocks EMU_ARTEFACTS
# matches; the first line of each dropped block goes to stderr.
drop_artefacts() {
	awk -v re="$EMU_ARTEFACTS" '
		function flush() { if (!drop) printf "%s", buf; buf = ""; inblk = drop = 0 }
		/-+\[ cut here \]-+/ { flush(); inblk = 1 }
		inblk {
			buf = buf $0 "\n"
			if (re != "" && $0 ~ re) { drop = 1; print "known emulator warning: " $0 > "/dev/stderr" }
			if ($0 ~ /---\[ end trace/) flush()
			next
		}
		{ print }
		END { flush() }' "$1"
}

# drop_injected FILE: FILE without the kernel's warnings about allocations
# that failed because scripts/failslab.sh made them fail. failslab.sh
# writes "kvmw-failslab: armed" and "kvmw-failslab: disarmed" into the
# kernel log; only between the two, a warn_alloc() report ("...: vmalloc
# error: size N, ..." or "...: page allocation failure: order:N, ...")
# whose stack dump (CPU:, Hardware name:, Call Trace:, <TASK>, frames,
# the user registers, </TASK>) has both a warn_alloc frame and a [kvmwarden] frame, and
# nothing else, is cut out; the rest of the log, including every such
# report outside the window or of another shape, is checked as usual.
# The header of each dropped report goes to stderr.
drop_injected() {
	awk '
		function flush(ok) {
			if (ok) print "injected allocation failure: " hdr > "/dev/stderr"
			else printf "%s", buf
			buf = ""; inblk = 0; wa = 0; mod = 0; bad = 0
		}
		{ line = $0; sub(/^\[ *[0-9.]+\] /, "", line) }
		line ~ /^kvmw-failslab: armed/ { if (inblk) flush(0); armed = 1; print; next }
		line ~ /^kvmw-failslab: disarmed/ { if (inblk) flush(0); armed = 0; print; next }
		armed && line ~ /: (vmalloc error: size [0-9]+, |page allocation failure: order:[0-9]+, )/ {
			if (inblk) flush(0)
			inblk = 1; hdr = line; buf = $0 "\n"; next
		}
		inblk {
			buf = buf $0 "\n"
			if (line ~ /^ *<\/TASK>$/) { flush(wa && mod && !bad); next }
			if (line ~ /^(CPU: [0-9]+ |Hardware name: |Call Trace:$| *<TASK>$)/) next
			if (line ~ /^(RIP: |Code: |RSP: |RAX: |RDX: |RBP: |R10: |R13: )/) next
			if (line ~ /^ *(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/) {
				if (line ~ /(^| )warn_alloc/) wa = 1
				if (line ~ /\[kvmwarden\]$/) mod = 1
				next
			}
			if (line ~ /^ *\? 0x[0-9a-f]+$/) next
			bad = 1
			next
		}
		{ print }
		END { if (inblk) flush(0) }' "$1"
}

# drop_oom FILE: FILE without the OOM killer's reports that
# selftests/vmm_oom causes on purpose. The test writes "kvmw-oom: armed"
# and "kvmw-oom: disarmed" into the kernel log; only between the two, a
# report that starts "... invoked oom-killer: " and whose stack dump
# (CPU:, Tainted:, Hardware name:, Call Trace:, <TASK>, frames, the user
# registers, </TASK>) has a
# mem_cgroup_out_of_memory frame and nothing else loses its stack dump
# (the header and the memory-cgroup figures after it stay); any other
# report, and everything outside the window, is checked as usual. The
# header of each accepted report goes to stderr.
drop_oom() {
	awk '
		function flush(ok) {
			if (ok) { print hdr; print "oom kill report accepted: " hdr > "/dev/stderr" }
			else printf "%s", buf
			buf = ""; inblk = 0; memcg = 0; bad = 0
		}
		{ line = $0; sub(/^\[ *[0-9.]+\] /, "", line) }
		line ~ /^kvmw-oom: armed/ { if (inblk) flush(0); armed = 1; print; next }
		line ~ /^kvmw-oom: disarmed/ { if (inblk) flush(0); armed = 0; print; next }
		armed && line ~ / invoked oom-killer: gfp_mask=/ {
			if (inblk) flush(0)
			inblk = 1; hdr = $0; buf = $0 "\n"; next
		}
		inblk {
			buf = buf $0 "\n"
			if (line ~ /^ *<\/TASK>$/) { flush(memcg && !bad); next }
			if (line ~ /^(CPU: [0-9]+ |Tainted: |Hardware name: |Call Trace:$| *<TASK>$)/) next
			if (line ~ /^ *(\? )?[A-Za-z0-9_.]+\+0x[0-9a-f]+\/0x[0-9a-f]+( \[[A-Za-z0-9_]+\])?$/) {
				if (line ~ /(^| )mem_cgroup_out_of_memory/) memcg = 1
				next
			}
			if (line ~ /^(RIP: |Code: |RSP: |RAX: |RDX: |RBP: |R10: |R13: )/) next
			if (line ~ /^ *\? 0x[0-9a-f]+$/) next
			bad = 1
			next
		}
		{ print }
		END { if (inblk) flush(0) }' "$1"
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
		"KVMW-KMEMLEAK-BEGIN"|"KVMW-KMEMLEAK-END") ;;
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
	# kmemleak's report (debug kernels) counts as part of the kernel log.
	sed -n '/^KVMW-KMEMLEAK-BEGIN/,/^KVMW-KMEMLEAK-END/p' "$log" >> "$res/dmesg.log"
	if ! grep -q '^KVMW-DONE' "$log"; then
		echo "not ok - [$s] test VM did not run to completion (timeout ${VM_TIMEOUT}s?)"
		tail -n 40 "$res/console.log" 2>/dev/null | sed 's/^/# /'
		fail=$((fail + 1))
	elif drop_injected "$res/dmesg.log" 2>"$res/injected.log" >"$res/dmesg.injected.1" &&
	     drop_oom "$res/dmesg.injected.1" 2>"$res/oom.log" >"$res/dmesg.injected" &&
	     drop_artefacts "$res/dmesg.injected" 2>"$res/artefacts.log" >"$res/dmesg.checked" &&
	     grep -Eq "$SPLATS" "$res/dmesg.checked" "$res/console.log"; then
		echo "not ok - [$s] guest kernel log is not clean:"
		grep -Eh -B2 -A20 "$SPLATS" "$res/dmesg.checked" | head -n 60 | sed 's/^/# /'
		fail=$((fail + 1))
	else
		sed 's/^/# /' "$res/artefacts.log"
		[ -s "$res/injected.log" ] &&
			echo "# $(wc -l < "$res/injected.log") injected allocation failure reports accepted (first: $(head -n 1 "$res/injected.log"))"
		[ -s "$res/oom.log" ] &&
			echo "# $(wc -l < "$res/oom.log") OOM killer reports of vmm_oom accepted"
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
	l=$s$suffix
	initrd=$(make_initramfs "$l" "$kd" "$ko") || {
		echo "not ok - [$l] initramfs"
		total_fail=$((total_fail + 1)); continue; }
	res=$BUILD/results/$l
	mkdir -p "$res"
	log "[$l] booting $(cat "$kd/kver") ($mode, $emu)"
	boot_$emu "$l" "$kd" "$initrd" "$res"
	qrc=$?
	[ $qrc -eq 0 ] || log "[$l] $emu exited with status $qrc"
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
	parse "$l" "$res"
	if [ "$emu" = bochs ] && [ -f "$res/timing.log" ]; then
		log "[$l] seconds, wall/Bochs CPU (to 5 s): $(awk '
			$1 == "booted" { printf "boot %d/%s", $2, $3; w = $2; c = $3 }
			$1 == "end" { printf ", %s %d/%d", $2, $3 - w, $4 - c; w = $3; c = $4 }
			$1 == "stop" { printf ", end %d/%d; total %d/%s", $2 - w, $3 - c, $2, $3 }' "$res/timing.log")"
	fi
	log "[$l] done in $(( $(date +%s) - start ))s; logs in $res"
	[ $keep -eq 1 ] || rm -f "$BUILD/initramfs-$l.cpio.gz"
done

[ "$mode" = test ] || exit 0
mkdir -p "$BUILD/results"
echo "$total_pass $total_fail $total_skip" > "$BUILD/results/vmtest.counts"
echo "vmtest: $total_pass passed, $total_fail failed, $total_skip skipped"
[ $total_fail -eq 0 ]
