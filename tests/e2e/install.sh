#!/bin/bash
# SPDX-License-Identifier: MIT
#
# `meson install --destdir` puts the daemons, the systemd unit, the
# modules-load.d file and the man page zapfs(8) in place, with the build's
# paths and version filled in. Needs no root.
set -euo pipefail

: "${ZAPFS_BUILD_ROOT:?run through meson test (ZAPFS_BUILD_ROOT unset)}"

fail() {
	echo "FAIL: install: $*" >&2
	exit 1
}

DEST=$(mktemp -d /tmp/zapfs-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT

meson install -C "$ZAPFS_BUILD_ROOT" --destdir "$DEST" --no-rebuild --quiet >"$DEST.log" 2>&1 ||
	{ cat "$DEST.log" >&2; rm -f "$DEST.log"; fail "meson install failed"; }
rm -f "$DEST.log"

# The directories as this build was configured.
read -r prefix sbindir mandir version < <(
	meson introspect "$ZAPFS_BUILD_ROOT" --buildoptions --projectinfo |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
opts = {o["name"]: o["value"] for o in d["buildoptions"]}
print(opts["prefix"], opts["sbindir"], opts["mandir"], d["projectinfo"]["version"])
')
at() {
	case $1 in
	/*) echo "$DEST$1" ;;
	*) echo "$DEST$prefix/$1" ;;
	esac
}

for bin in zapfs zapfs-simsys; do
	[ -x "$(at "$sbindir")/$bin" ] || fail "no executable $sbindir/$bin"
done
out=$("$(at "$sbindir")/zapfs" --version 2>&1) || fail "zapfs --version failed"
grep -qx "zapfs $version" <<<"$out" || fail "the installed zapfs does not say its version $version"
out=$("$(at "$sbindir")/zapfs" --help 2>&1) || fail "zapfs --help failed"
grep -q -- "--mdevctl" <<<"$out" || fail "zapfs --help has no --mdevctl"

unit=$DEST$prefix/lib/systemd/system/zapfs.service
[ -f "$unit" ] || fail "no systemd unit at $prefix/lib/systemd/system/zapfs.service"
grep -qx "ExecStart=$prefix/$sbindir/zapfs -f --state /var/lib/zapfs /run/zapfs" "$unit" ||
	grep -qx "ExecStart=$sbindir/zapfs -f --state /var/lib/zapfs /run/zapfs" "$unit" ||
	fail "the unit does not start the installed zapfs: $(grep ExecStart "$unit")"
grep -q '^After=.*systemd-modules-load.service' "$unit" || fail "the unit is not after modules-load"
grep -q '^After=.*systemd-udevd.service' "$unit" || fail "the unit is not after udev"
grep -q '@' "$unit" && fail "the unit has an unfilled @VARIABLE@: $(grep '@' "$unit")"
if command -v systemd-analyze >/dev/null; then
	# the unit's own syntax (the binary it names may be under DEST only)
	systemd-analyze verify --man=no "$unit" 2>&1 | grep -v "is not executable" |
		grep -i "zapfs.service" && fail "systemd-analyze finds fault with the unit"
fi

[ -f "$DEST$prefix/lib/modules-load.d/zapfs.conf" ] || fail "no modules-load.d/zapfs.conf"
grep -qx vfio_ap "$DEST$prefix/lib/modules-load.d/zapfs.conf" ||
	fail "modules-load.d/zapfs.conf does not load vfio_ap"

man=$(at "$mandir")/man8/zapfs.8
[ -f "$man" ] || fail "no man page at $mandir/man8/zapfs.8"
grep -q "zapfs $version" "$man" || fail "the man page does not carry version $version"
grep -q '@VERSION@' "$man" && fail "the man page has an unfilled @VERSION@"
for opt in '\-\-state' '\-\-mdevctl' '\-\-mdevctl\-dir' '\-\-simulate' '\-\-sysfs'; do
	grep -qF -- ".BI $opt" "$man" || grep -qF -- ".B $opt" "$man" ||
		fail "the man page does not document ${opt//\\/}"
done
if command -v groff >/dev/null; then
	warnings=$(groff -man -Tutf8 -ww -z "$man" 2>&1) || true
	[ -z "$warnings" ] || fail "groff warns about the man page: $warnings"
fi
echo "PASS: install ($(find "$DEST" -type f | wc -l) files under $prefix)"
