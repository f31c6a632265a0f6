#!/bin/bash
# SPDX-License-Identifier: MIT
#
# What zapfs makes of the kernel it finds at start-up: the capabilities it
# detects from what sysfs shows (a 6.10 and a 5.15 kernel), and a kernel
# without vfio_ap, which it names on stderr, in `log` and in `status`
# rather than failing (it loads kernel modules only on a real /sys).

# shellcheck source=tests/e2e/lib-tree.sh
. "$(dirname "$0")/lib-tree.sh"

# expect_status KEY VALUE: the `status` line "  KEY:   VALUE".
expect_status() {
	local got
	got=$(sed -n "s/^  $1: *//p" "$MNT/status")
	expect_eq "$2" "$got" "status '$1'"
}

note "kernel 6.10: dynamic, queue status; ap_config once an mdev shows it"
zapfs_mount "$HOSTS/seed.conf"
expect_status kernel "6.0 or later (dynamic: changes to a running guest are hot plugged)"
expect_status "queue status" yes
expect_status vfio_ap loaded
expect_try OK mkdir "$MNT/guests/g1"
expect_status "ap_config" yes
zapfs_unmount

note "kernel 5.15: no hot plug, no queue status, no ap_config"
zapfs_mount "$HOSTS/old.conf"
expect_status kernel "before 6.0 (a running guest's matrix is fixed)"
expect_status "queue status" no
expect_try OK mkdir "$MNT/guests/g1"
expect_status "ap_config" no
zapfs_unmount

note "no vfio_ap: said at start-up, in log and status; guests are refused"
{
	grep -v '^vfio_ap' "$HOSTS/seed.conf"
	echo "vfio_ap unloaded"
} >"$WORK/novfio.conf"
zapfs_mount "$WORK/novfio.conf"
grep -q "vfio_ap is not loaded in" "$ZAPFS_LOG" ||
	fail "stderr does not say vfio_ap is missing: $(cat "$ZAPFS_LOG")"
grep -q "vfio_ap is not loaded in .*zapfs loads kernel modules only for /sys" "$MNT/log" ||
	fail "log does not say vfio_ap is missing: $(cat "$MNT/log")"
expect_status vfio_ap "not loaded"
expect_refused ENODEV "vfio_ap module is not loaded" mkdir "$MNT/guests/g1"
expect_ls "$MNT/cards" 05 06
zapfs_unmount
