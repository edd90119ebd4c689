#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-probes.sh [SERIES...] - check that the feature probes can fail
#
# For each kernel series in the package cache (default 6.1 and 6.12), copy
# its headers to a scratch directory and, one at a time, change a
# declaration a probe relies on back to an older or different form. The
# module build against each changed copy must stop before compiling any
# object, naming the missing feature and the probe that found it. The
# unchanged headers are built against by every other kernel test, so
# passing probes are tested there. Prints TAP; exits 1 on a failure.
#
# Environment: BUILD (scratch space, default <repo>/build), KVMW_CACHE
# (package cache, default <repo>/.cache). See Documentation/build.rst.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$repo/build}
cache=${KVMW_CACHE:-$repo/.cache}
work=$BUILD/probe-test

# Each case: probe name | file under the -common headers dir | python
# expression turning the file's text s into the changed text.
cases=(
	"kvm_entry|arch/x86/include/asm/kvm_host.h|re.sub(r'\(\*vcpu_run\)\(struct kvm_vcpu \*vcpu,\s*(bool force_immediate_exit|u64 run_flags)\)', '(*vcpu_run)(struct kvm_vcpu *vcpu)', s)"
	"kvm_exit|arch/x86/include/asm/kvm_host.h|re.sub(r'\(\*get_exit_info\)\(struct kvm_vcpu \*vcpu, u32 \*reason,', '(*get_exit_info)(struct kvm_vcpu *vcpu,', s)"
	"kvm_userspace_exit|include/trace/events/kvm.h|s.replace('TP_PROTO(__u32 reason, int errno)', 'TP_PROTO(__u32 reason, long errno)')"
	"kvm_debugfs_dentry|include/linux/kvm_host.h|s.replace('struct dentry *debugfs_dentry;', 'struct dentry *debugfs_dir;')"
	"sched_tracepoints|include/trace/events/sched.h|s.replace('TP_PROTO(struct task_struct *p, int dest_cpu)', 'TP_PROTO(struct task_struct *p, unsigned int dest_cpu)')"
)

n=0
failed=0
tap() {
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=1
	fi
}

series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=(6.1 6.12)
for series in "${series_list[@]}"; do
	kdir=$(cat "$cache/kernel-$series/kdir")
	root=$(cd "$kdir/../../.." && pwd)
	arch=$(basename "$kdir")
	common=$(sed -n 's|^include \(.*\)/Makefile$|\1|p' "$kdir/Makefile")
	kbuild=$(readlink -f "$common/scripts")
	scratch=$work/$series
	rm -rf "$scratch"
	mkdir -p "$scratch/usr/src" "$scratch/usr/lib"
	cp -a "$kdir" "$common" "$scratch/usr/src/"
	cp -a "$(dirname "$kbuild")" "$scratch/usr/lib/"
	fake=$scratch/usr/src/$arch
	fcommon=$scratch/usr/src/$(basename "$common")
	sed -i "s|$root|$scratch|" "$fake/Makefile"

	for c in "${cases[@]}"; do
		IFS='|' read -r probe file expr <<<"$c"
		orig=$scratch/orig
		cp "$fcommon/$file" "$orig"
		python3 - "$fcommon/$file" "$expr" <<-'EOF'
			import re, sys
			path, expr = sys.argv[1], sys.argv[2]
			s = open(path).read()
			t = eval(expr)
			if t == s:
			    sys.exit("pattern not found in " + path)
			open(path, "w").write(t)
		EOF
		mod=$scratch/mod
		rm -rf "$mod"
		mkdir -p "$mod"
		cp -r "$repo/Kbuild" "$repo/kmod" "$repo/include" "$mod/"
		rm -f "$mod"/kmod/feature/*.res "$mod"/kmod/feature/kvmw_features.h
		log=$scratch/$probe.log
		if make -C "$fake" M="$mod" -j2 modules >"$log" 2>&1; then
			tap fail "[$series] $probe: build succeeded with $file changed"
		elif ! grep -q "^kvmwarden:   probe kmod/feature/$probe.c:" "$log"; then
			tap fail "[$series] $probe: refusal does not name the probe (see $log)"
		elif ls "$mod"/kmod/*.o >/dev/null 2>&1; then
			tap fail "[$series] $probe: objects compiled before the refusal"
		else
			tap ok "[$series] $probe: refused, $(grep -m1 'lacks' "$log" | sed 's/^kvmwarden: //')"
		fi
		cp "$orig" "$fcommon/$file"
	done
	rm -rf "$scratch"
done
echo "1..$n"
exit "$failed"
