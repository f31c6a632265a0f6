#!/bin/bash
# SPDX-License-Identifier: MIT
#
# zapfs's state survives: a restart of the daemon shows the same tree; a
# "reboot" (a fresh kernel from the same host file) gets the same guests,
# UUIDs, matrices, reservations and masks back, re-created by zapfs; a
# corrupt state file is set aside and reported while the rest loads; a guest
# that cannot come back stays missing and says why.
. "$(dirname "$0")/lib-state.sh"

state_mount "$HOSTS/seed.conf"
cd "$MNT"

note "the seed's three guests, a reservation, a control domain, a rename"
echo 0-4,7-255 >pools/host/adapters
echo -4,-0x47,-0xab,-0xff >pools/host/domains
mkdir guests/Guest1 guests/Guest2 guests/Guest3
touch guests/Guest1/queues/05.0004 guests/Guest1/queues/06.00ab
touch guests/Guest2/adapters/05 guests/Guest2/domains/0047 guests/Guest2/domains/00ff
touch guests/Guest3/queues/06.0047 guests/Guest3/control_domains/00ab
ln -s ../guests/Guest3 reservations/06.00ff
mv guests/Guest3 guests/db
expect_ls guests Guest1 Guest2 db
expect_state_matches
before=$(tree_snapshot)
note "$(echo "$before" | wc -l) lines of state"
expect_kernel_matches

note "restart: the same tree"
cd /
zapfs_stop
zapfs_start
expect_same_snapshot "$before" "after a restart"
# with --simulate the kernel lives in zapfs: every start is a reboot
if [ "$BACKEND" = sysfs ] && grep -q "re-create" "$MNT/log"; then
	fail "a restart re-created a guest: $(cat "$MNT/log")"
fi
expect_kernel_matches
expect_state_matches

note "reboot: a fresh kernel, the same guests"
zapfs_stop
kernel_reboot
if [ "$BACKEND" = sysfs ]; then
	expect_eq "" "$(list_mdevs)" "mdevs after the reboot"
	expect_cat "$SYS/bus/ap/apmask" 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
fi
t0=$(date +%s%N)
zapfs_start
t1=$(date +%s%N)
note "start with 3 guests to re-create: $(((t1 - t0) / 1000000)) ms"
expect_same_snapshot "$before" "after a reboot"
for g in Guest1 Guest2 db; do
	expect_log_has_line "re-create guest $g: done"
done
expect_kernel_matches
expect_state_matches

note "a corrupt guest file is set aside and reported; the rest loads"
uuid2=$(cat "$MNT/guests/Guest2/uuid")
zapfs_stop
printf 'version 1\nname Guest2\nadaptors 05\n' >"$STATE/guests/Guest2.conf"
zapfs_start
if [ "$BACKEND" = sysfs ]; then
	# its mdev lives on: adopted, named by its UUID, as any mdev zapfs knows nothing of
	expect_ls "$MNT/guests" Guest1 db "$uuid2"
else
	expect_ls "$MNT/guests" Guest1 db
fi
# its keys are still remembered
expect_eq ../guests/Guest2 "$(readlink "$MNT/reservations/05.00ff")" "reservation of Guest2"
ls "$STATE/guests" | grep -qE '^Guest2\.conf\.corrupt-' ||
	fail "guests/Guest2.conf was not set aside: $(ls "$STATE/guests")"
grep -q "state: guests/Guest2.conf: .*set aside as guests/Guest2.conf.corrupt-" "$MNT/log" ||
	fail "log does not report the corrupt file: $(cat "$MNT/log")"
grep -q "state: guests/Guest2.conf" "$ZAPFS_LOG" || fail "stderr does not report the corrupt file"
ADOPTED_OK=1 expect_state_matches

if [ "$BACKEND" = sysfs ]; then
	note "after a reboot another tool takes a saved guest's queues first: the guest stays missing"
	zapfs_stop
	kernel_reboot
	echo -5,-6 >"$SYS/bus/ap/apmask"
	echo -4,-0x47,-0xab,-0xff >"$SYS/bus/ap/aqmask"
	other=$(new_mdev)
	echo 5 >"$SYS/devices/vfio_ap/matrix/$other/assign_adapter"
	echo 4 >"$SYS/devices/vfio_ap/matrix/$other/assign_domain"
	zapfs_start
	expect_cat "$MNT/guests/Guest1/state" missing
	expect_cat "$MNT/guests/db/state" active
	expect_log_has_line "re-create guest Guest1: refused (EADDRINUSE)"
	grep -q "guest Guest1 is missing: it could not be re-created: .*05.0004" "$MNT/status" || {
		sed -n '/^Warnings/,$p' "$MNT/status" >&2
		fail "status does not say why Guest1 is missing"
	}
	grep -q "re-create guest Guest1: refused" "$ZAPFS_LOG" || fail "stderr has no refusal"
	# never half-created: Guest1's UUID has no mdev
	list_mdevs | grep -qx "$(cat "$MNT/guests/Guest1/uuid")" && fail "Guest1 is half-created"
	grep -q "^name Guest1$" "$STATE/guests/Guest1.conf" || fail "Guest1 was dropped from the state"
	ADOPTED_OK=1 expect_state_matches
fi

zapfs_unmount
