#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh CACHE_DIR
#
# Build kvmwarden's debug test kernel once per machine: Debian's
# linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz), "make tinyconfig"
# plus scripts/debug-kernel.config (KASAN, lockdep, kmemleak, UBSAN, fault
# injection, and what the test VM needs), built out of tree in
# CACHE_DIR/kernel-debug-<key>/. The key hashes the source package version,
# the fragment and this script's build recipe, so changing either rebuilds.
# Prints the directory, laid out as scripts/kernel-fetch.sh lays out
# Debian's kernels:
#   root/lib/modules/<kver>/  the modules (stripped) with modules.dep
#   kver      the kernel release
#   kdir      the kbuild output tree, usable as KDIR for kvmwarden.ko
#   vmlinuz   path of the bzImage
#   src/ obj/ the unpacked source and the build tree (obj is kdir)
#   build.log, build-time  the last build's log and wall seconds
#
# Environment: KVMW_DEBUG_JOBS (make -j, default: the number of CPUs),
# KVMW_DEBUG_NICE (nice level of the build, default 15).
#
# The build holds CACHE_DIR/kernel-debug.lock, so concurrent callers wait
# for one build instead of starting two; the other kernel-debug-* trees,
# built from an older key, are removed once the new one is done.
set -euo pipefail

# Bump when the steps below change what gets built.
RECIPE=1
SRC_PKG=linux-source-6.1
SRC_TAR=/usr/src/linux-source-6.1.tar.xz

repo=$(cd "$(dirname "$0")/.." && pwd)
fragment=$repo/scripts/debug-kernel.config
cache=${1:?usage: debug-kernel.sh CACHE_DIR}
jobs=${KVMW_DEBUG_JOBS:-$(nproc)}
nice_level=${KVMW_DEBUG_NICE:-15}

log() { echo "debug-kernel: $*" >&2; }
die() { echo "debug-kernel: error: $*" >&2; exit 1; }

[ -f "$SRC_TAR" ] || die "missing $SRC_TAR (apt-get install $SRC_PKG)"
srcver=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null) ||
	die "package $SRC_PKG is not installed"
for tool in gcc make flex bison bc pahole; do
	command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh)"
done

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
key=$({ echo "recipe $RECIPE"; echo "$SRC_PKG $srcver"; cat "$fragment"; } |
	sha256sum | cut -c1-12)
out=$cache/kernel-debug-$key

is_done() {
	[ -f "$out/.done" ] &&
	[ -n "$(find "$out/root/lib/modules" -name 'kvm.ko*' 2>/dev/null | head -n1)" ]
}

if is_done; then
	echo "$out"
	exit 0
fi

exec 9>"$cache/kernel-debug.lock"
flock 9
# Someone else may have finished it while this caller waited.
if is_done; then
	echo "$out"
	exit 0
fi

# The kernel's own make must not see the caller's make state.
unset MAKEFLAGS MAKELEVEL MFLAGS MAKEOVERRIDES KBUILD_OUTPUT ARCH CROSS_COMPILE

rm -f "$out/.done"
mkdir -p "$out"
src=$out/src
obj=$out/obj
blog=$out/build.log
start=$(date +%s)

if [ ! -f "$src/.unpacked" ]; then
	log "unpacking $SRC_TAR ($srcver)"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$SRC_TAR" -C "$src" --strip-components=1
	# Linux 6.1 offers the fault injection stack trace filter on every
	# architecture but x86-64, a restriction from before x86-64 had a
	# reliable unwinder (ORC). The filter is what confines failslab to
	# kvmwarden's own allocations: lift the restriction in this copy.
	sed -i '/^config FAULT_INJECTION_STACKTRACE_FILTER$/,/^config /{/^[[:space:]]*depends on !X86_64$/d}' \
		"$src/lib/Kconfig.debug"
	touch "$src/.unpacked"
fi

kmake() {
	nice -n "$nice_level" make -C "$src" O="$obj" "$@"
}

log "configuring (tinyconfig + $(basename "$fragment")) in $obj"
mkdir -p "$obj"
: > "$blog"
{
	kmake tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$fragment"
	kmake olddefconfig
} >>"$blog" 2>&1 || { tail -n 40 "$blog" >&2; die "configuration failed (see $blog)"; }

# Every line of the fragment must have survived olddefconfig as written.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		name=${line%%=*}
		got=$(grep -E "^$name=|^# $name is not set$" "$obj/.config" || true)
		;;
	"# CONFIG_"*" is not set")
		name=${line#\# }
		name=${name%% *}
		got=$(grep -E "^$name=" "$obj/.config" || true)
		# Not set, or absent altogether: both mean off.
		[ -z "$got" ] && continue
		;;
	*) continue ;;
	esac
	if [ "$got" != "$line" ]; then
		log "option not as requested: wanted '$line', got '${got:-absent}'"
		bad=1
	fi
done < "$fragment"
[ $bad -eq 0 ] || die "the configuration lacks options of $fragment (dependencies?)"
grep -q '^CONFIG_PANIC_ON_WARN' "$obj/.config" && die "panic_on_warn would be set"

log "building (make -j$jobs, nice $nice_level); log in $blog"
kmake -j"$jobs" all >>"$blog" 2>&1 ||
	{ grep -E 'error|Error' "$blog" | tail -n 20 >&2; die "build failed (see $blog)"; }

kver=$(make -s -C "$src" O="$obj" kernelrelease 2>/dev/null | tail -n1)
[ -n "$kver" ] || die "no kernel release"
rm -rf "$out/root"
kmake INSTALL_MOD_PATH="$out/root" INSTALL_MOD_STRIP=1 modules_install >>"$blog" 2>&1 ||
	die "modules_install failed (see $blog)"
# modules_install ran depmod; make sure modules.dep exists all the same.
[ -f "$out/root/lib/modules/$kver/modules.dep" ] || depmod -b "$out/root" "$kver"

echo "$kver" > "$out/kver"
echo "$obj" > "$out/kdir"
echo "$obj/arch/x86/boot/bzImage" > "$out/vmlinuz"
echo $(($(date +%s) - start)) > "$out/build-time"
touch "$out/.done"
log "built $kver in $(cat "$out/build-time")s"

for old in "$cache"/kernel-debug-*; do
	[ "$old" = "$out" ] || [ ! -d "$old" ] || { log "removing stale $old"; rm -rf "$old"; }
done
echo "$out"
