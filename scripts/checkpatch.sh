#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch.sh - run the kernel's checkpatch.pl --strict on kvmwarden's
# kernel-side sources (kmod/, the UAPI header, bpf/). checkpatch.pl comes from Debian's linux-source
# package and is unpacked into the build directory, never into the tree.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$repo/build}
dir=$BUILD/checkpatch
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)
[ -n "$tarball" ] || { echo "checkpatch: linux-source is not installed" >&2; exit 1; }

if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	mkdir -p "$dir"
	top=$(basename "$tarball" .tar.xz)
	tar -xf "$tarball" -C "$dir" --strip-components=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi

cd "$repo"
files=$(git ls-files 'kmod/*.[ch]' 'include/uapi/*.h' 'bpf/*.[ch]' 2>/dev/null || true)
[ -n "$files" ] || files=$(ls kmod/*.[ch] include/uapi/linux/*.h)
# The shared headers of include/kvmwarden/ are compiled in userspace and
# BPF too, where the kernel's BIT() macros do not exist.
shared=$(git ls-files 'include/kvmwarden/*.h' 2>/dev/null || true)
[ -n "$shared" ] || shared=$(ls include/kvmwarden/*.h)
rc=0
# shellcheck disable=SC2086
"$dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
	-f $files || rc=1
# shellcheck disable=SC2086
"$dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG,BIT_MACRO \
	-f $shared || rc=1
exit $rc
