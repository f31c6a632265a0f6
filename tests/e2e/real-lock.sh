#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The s390-tools AP configuration lock: zapfs takes s390apconfig.lock while
# it changes the configuration and gives it back after; while another
# process (this shell, playing chzdev) holds it, a change waits, and goes
# ahead only once the lock file is removed; a wait that runs out is EBUSY
# naming the holder's PID; a lock left by a dead process is taken over.
#
# The order of events is asserted through a file both sides append to, not
# through timing.

# shellcheck source=tests/e2e/lib-tree.sh
. "$(dirname "$0")/lib-tree.sh"

LOCK_DIR=$ZAPFS_LOCK_DIR
LOCK=$LOCK_DIR/s390apconfig.lock
ORDER=$WORK/order

# tool_lock PID: takes the lock as s390-tools' util_lockfile does: "PID\n"
# in a private file, link()ed to the lock name (fails when it is held).
tool_lock() {
	local tmp=$LOCK_DIR/s390apconfig.lock.$BASHPID
	echo "$1" >"$tmp"
	ln "$tmp" "$LOCK" || fail "the lock is held already: $(cat "$LOCK")"
	rm -f "$tmp"
}

# The mdevs of the kernel (sysfs backend), to show that no write was made.
kernel_mdevs() {
	[ "$BACKEND" = sysfs ] || return 0
	list_mdevs | xargs
}

zapfs_mount "$HOSTS/seed.conf" --lock-timeout 120
cd "$MNT"

note "a free lock is taken for the change and given back"
expect_try OK mkdir guests/g0
expect_missing "$LOCK"
[ -z "$(ls -A "$LOCK_DIR")" ] || fail "files left in the lock directory: $(ls -A "$LOCK_DIR")"

note "a change waits while this shell holds the lock"
tool_lock $$
mdevs_before=$(kernel_mdevs)
(
	got=$("$TREE_TRY" mkdir guests/g1)
	echo "mkdir $got" >>"$ORDER"
) &
mkdir_pid=$!
# Give the mkdir every chance to go ahead if the lock did not hold it back.
sleep 1
kill -0 "$mkdir_pid" 2>/dev/null || fail "mkdir finished while the lock was held: $(cat "$ORDER")"
expect_eq "$mdevs_before" "$(kernel_mdevs)" "the kernel's mdevs while the lock is held"
echo "released" >>"$ORDER"
rm "$LOCK"
reap_within "$mkdir_pid" 30 || fail "mkdir did not finish after the lock was released"
expect_eq "released,mkdir OK" "$(paste -sd, "$ORDER")" "order of events"
[ -d guests/g1 ] || fail "guests/g1 is not there"
expect_missing "$LOCK"

note "a lock left by a dead process is taken over"
(exit 0) &
dead=$!
wait "$dead"
tool_lock "$dead"
expect_try OK mkdir guests/g2
expect_missing "$LOCK"
expect_kernel_matches
cd /
zapfs_unmount

note "a wait that runs out is EBUSY and names the holder"
zapfs_mount "$HOSTS/seed.conf" --lock-timeout 1
cd "$MNT"
tool_lock $$
expect_refused EBUSY "held by PID $$" mkdir guests/g3
expect_missing guests/g3
expect_eq "$$" "$(cat "$LOCK")" "the holder's lock file"
rm "$LOCK"
expect_try OK mkdir guests/g3
cd /
zapfs_unmount
