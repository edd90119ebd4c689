#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vmlinuz-to-elf.sh BZIMAGE OUTPUT
#
# Write the ELF vmlinux packed inside an x86 bzImage (a distribution's
# /boot/vmlinuz-*) to OUTPUT, so that its .BTF section can serve as the
# base BTF when the kernel's headers package ships no vmlinux.
#
# The compressed payload is located through the boot protocol header
# (setup_sects at 0x1f1, payload_offset/payload_length at 0x248/0x24c,
# boot protocol >= 2.08) rather than by scanning for magic numbers; its
# format is then recognised by its first bytes.

set -e -o pipefail

die() {
	echo "vmlinuz-to-elf: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: $0 BZIMAGE OUTPUT"
in=$1
out=$2
[ -r "$in" ] || die "cannot read $in"

# read_le OFFSET SIZE: unsigned little-endian integer of SIZE bytes
read_le() {
	od -An -tu"$2" -j "$1" -N "$2" "$in" | tr -d ' \n'
}

magic=$(od -An -c -j $((0x202)) -N 4 "$in" | tr -d ' \n')
[ "$magic" = HdrS ] || die "$in: not a bzImage (no HdrS boot header)"
version=$(read_le $((0x206)) 2)
[ "$version" -ge $((0x208)) ] ||
	die "$in: boot protocol $(printf %#x "$version") has no payload fields"

setup_sects=$(read_le $((0x1f1)) 1)
[ "$setup_sects" -ne 0 ] || setup_sects=4
payload_offset=$(read_le $((0x248)) 4)
payload_length=$(read_le $((0x24c)) 4)
start=$(((setup_sects + 1) * 512 + payload_offset))

head6=$(od -An -tx1 -j "$start" -N 6 "$in" | tr -d ' \n')
case $head6 in
fd377a585a00)	decomp="xz -dc" ;;
28b52ffd*)	decomp="zstd -dcq" ;;
1f8b*)		decomp="gzip -dc" ;;
425a68*)	decomp="bzip2 -dc" ;;
02214c18*)	decomp="lz4 -dc" ;;
5d0000*)	decomp="xz -dc --format=lzma" ;;
*)		die "$in: unknown payload format (first bytes $head6)" ;;
esac
command -v "${decomp%% *}" >/dev/null ||
	die "${decomp%% *} is needed to unpack $in"

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# The decompressors may complain about the bytes that follow the stream
# (the kernel appends the decompressed size); the result is checked below.
tail -c +$((start + 1)) "$in" | head -c "$payload_length" |
	$decomp >"$tmp" 2>/dev/null || true

elf=$(od -An -tx1 -N 4 "$tmp" | tr -d ' \n')
[ "$elf" = 7f454c46 ] || die "$in: payload did not unpack to an ELF file"
mv "$tmp" "$out"
trap - EXIT
