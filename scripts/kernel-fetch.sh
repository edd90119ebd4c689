#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-fetch.sh SERIES CACHE_DIR
#
# Download a Debian kernel (image, headers, common headers, kbuild) into
# CACHE_DIR and unpack it there without installing anything. SERIES is
# "6.1" (bookworm) or "6.12" (bookworm-backports). Prints the unpacked
# kernel's directory, which then holds:
#   root/       the unpacked packages
#   kver        the kernel release string (uname -r of that kernel)
#   kdir        path of the headers directory usable as KDIR
#   vmlinuz     path of the kernel image
#
# SERIES "debug" is kvmwarden's debug kernel (KASAN, lockdep, kmemleak,
# ...), built from Debian's linux-source-6.1 by scripts/debug-kernel.sh
# into CACHE_DIR/kernel-debug-<key>, with the same layout.
#
# Packages are resolved through a private apt configuration (lists and
# archives in CACHE_DIR) whose sources reuse the Debian mirror this machine
# is already configured with, plus the backports suite; the machine's own
# apt state is not touched.
set -euo pipefail

series=${1:?usage: kernel-fetch.sh SERIES CACHE_DIR}
cache=${2:?usage: kernel-fetch.sh SERIES CACHE_DIR}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
if [ "$series" = debug ]; then
	exec "$(dirname "$0")/debug-kernel.sh" "$cache"
fi
apt_dir=$cache/apt
out=$cache/kernel-$series

log() { echo "kernel-fetch: $*" >&2; }
die() { echo "kernel-fetch: error: $*" >&2; exit 1; }

# A finished unpack has kvm's modules; anything less is redone (a stray
# kbuild clean over the cache deletes every .ko in it, for example).
if [ -f "$out/.done" ] &&
   [ -n "$(find "$out/root/lib/modules" -name 'kvm.ko*' 2>/dev/null | head -n1)" ]; then
	echo "$out"
	exit 0
fi
rm -f "$out/.done"

# find_uri SUITE: the URI this machine's apt uses for a Debian suite
# (deb822 .sources or one-line format).
find_uri() {
	local suite=$1 f m
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		m=$(awk -v suite="$suite" '
			/^[[:space:]]*$/ { deb = 0; uri = "" }
			/^Types:/ { deb = ($0 ~ /[[:space:]]deb([[:space:]]|$)/) }
			/^URIs:/ { uri = $2 }
			/^Suites:/ {
				for (i = 2; i <= NF; i++)
					if ($i == suite) hit = 1
			}
			hit && deb && uri != "" { print uri; exit }
			/^[[:space:]]*$/ { hit = 0 }
		' "$f")
		[ -n "$m" ] && { echo "$m"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		m=$(awk -v suite="$suite" '$1 == "deb" {
				uri = ""
				for (i = 2; i <= NF; i++) {
					if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
					if (uri == "") { uri = $i; continue }
					if ($i == suite) { print uri; exit }
					break
				}
			}' "$f")
		[ -n "$m" ] && { echo "$m"; return; }
	done
}

mirror=$(find_uri bookworm)
[ -n "$mirror" ] || die "no Debian bookworm mirror found in /etc/apt"
security=$(find_uri bookworm-security)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "missing $keyring (package debian-archive-keyring)"

mkdir -p "$apt_dir"/{lists/partial,cache/archives/partial,etc}
touch "$apt_dir/status"
cat > "$apt_dir/etc/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-updates main
deb [signed-by=$keyring] $mirror bookworm-backports main
EOF
if [ -n "$security" ]; then
	echo "deb [signed-by=$keyring] $security bookworm-security main" >> "$apt_dir/etc/sources.list"
fi

APT_OPTS=(
	-o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
	-o "Dir::Etc::SourceParts=$apt_dir/etc/none"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::State::status=$apt_dir/status"
	-o "Dir::Cache=$apt_dir/cache"
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
	-q
)

# Refresh the private package lists at most once a day.
stamp=$apt_dir/lists/.updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
	log "updating package lists from $mirror"
	apt-get "${APT_OPTS[@]}" update >&2 || die "apt-get update failed"
	touch "$stamp"
fi

case $series in
6.1)	target=() ;;
6.12)	target=(-t bookworm-backports) ;;
*)	die "unsupported series '$series' (6.1, 6.12 or debug)" ;;
esac

ver=$(apt-cache "${APT_OPTS[@]}" "${target[@]}" policy linux-image-amd64 |
	awk '/Candidate:/ { print $2 }')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no linux-image-amd64 for $series"
case $ver in
"$series".*) ;;
*) die "linux-image-amd64 candidate $ver is not a $series kernel" ;;
esac
img=$(apt-cache "${APT_OPTS[@]}" show "linux-image-amd64=$ver" |
	sed -n 's/^Depends: \([^ ,]*\).*/\1/p' | head -n1)
hdr=${img/linux-image-/linux-headers-}
deps=$(apt-cache "${APT_OPTS[@]}" show "$hdr" | sed -n 's/^Depends: //p' | head -n1)
common=$(tr ',' '\n' <<<"$deps" | grep -o 'linux-headers-[^ ]*-common[^ ]*' | head -n1)
kbuild=$(tr ',' '\n' <<<"$deps" | grep -o 'linux-kbuild-[^ ]*' | head -n1)
[ -n "$img" ] && [ -n "$common" ] && [ -n "$kbuild" ] ||
	die "could not resolve the packages of $series ($img/$common/$kbuild)"

log "$series: $img $hdr $common $kbuild"
debs=$out/debs
mkdir -p "$debs"
(cd "$debs" && apt-get "${APT_OPTS[@]}" download "$img" "$hdr" "$common" "$kbuild" >&2) ||
	die "download failed"

rm -rf "$out/root"
mkdir -p "$out/root"
for d in "$debs"/*.deb; do
	dpkg-deb -x "$d" "$out/root"
done

kver=$(basename "$(ls -d "$out"/root/lib/modules/*/ | head -n1)")
kdir=$(ls -d "$out/root/usr/src/$hdr")
# The arch headers' Makefile includes the common headers by their
# installed path: point it at the unpacked copy.
sed -i "s#^include /usr/src/#include $out/root/usr/src/#" "$kdir/Makefile"
# Module dependency data, for ordering kvm's modules in the test VM.
depmod -b "$out/root" "$kver"

echo "$kver" > "$out/kver"
echo "$kdir" > "$out/kdir"
ls "$out"/root/boot/vmlinuz-* > "$out/vmlinuz"
touch "$out/.done"
echo "$out"
