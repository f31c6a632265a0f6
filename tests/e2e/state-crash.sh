#!/bin/bash
# SPDX-License-Identifier: MIT
#
# kill -9 at random points of a burst of operations, 100 times (ZAPFS_CRASHES
# to change): after each restart the state directory, the tree and the kernel
# agree, no operation is half-applied (each one's kernel writes and state
# stand together, or none of them), and no journal is left. With --simulate
# the kernel dies with zapfs, so every restart is also a reboot.
. "$(dirname "$0")/lib-state.sh"

CRASHES=${ZAPFS_CRASHES:-100}
QUEUES=(05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff)

state_mount "$HOSTS/seed.conf"
echo 0-4,7-255 >"$MNT/pools/host/adapters"
echo -4,-0x47,-0xab,-0xff >"$MNT/pools/host/domains"
mkdir "$MNT/guests/g1"
touch "$MNT/guests/g1/queues/05.0004"
cd /

# One random operation on the tree; refusals are part of the game.
random_op() {
	local g=g$((RANDOM % 3 + 1)) h=g$((RANDOM % 3 + 1)) q=${QUEUES[RANDOM % 8]}
	case $((RANDOM % 9)) in
	0) mkdir "$MNT/guests/$g" ;;
	1) rmdir "$MNT/guests/$g" ;;
	2 | 3) touch "$MNT/guests/$g/queues/$q" ;;
	4) rm "$MNT/guests/$g/queues/$q" ;;
	5) mv -T "$MNT/guests/$g" "$MNT/guests/$h" ;;
	6) ln -s "../guests/$g" "$MNT/reservations/$q" ;;
	7) rm "$MNT/reservations/$q" ;;
	8) mv "$MNT/pools/vfio/$q" "$MNT/pools/host/" || mv "$MNT/pools/host/$q" "$MNT/pools/vfio/" ;;
	esac
}

burst() {
	local i
	for ((i = 0; i < 8; i++)); do
		random_op
	done
}

t0=$(date +%s%N)
for ((n = 1; n <= CRASHES; n++)); do
	burst >/dev/null 2>&1 &
	burst_pid=$!
	sleep "0.0$((RANDOM % 40))"
	zapfs_kill9
	wait "$burst_pid" 2>/dev/null || true
	zapfs_start
	expect_state_matches
	expect_kernel_matches
	expect_invariants
	for g in $(guest_names); do
		[ "$(cat "$MNT/guests/$g/state")" = active ] ||
			fail "crash $n: guest $g is $(cat "$MNT/guests/$g/state"): $(cat "$MNT/log")"
	done
	if ((n % 25 == 0)); then
		note "$n crashes: $(guest_names | xargs), $(ls "$MNT/reservations" | wc -l) reservations," \
			"$(grep -c 'roll back' "$ZAPFS_LOG") roll-backs so far"
	fi
done
t1=$(date +%s%N)
note "$CRASHES crashes in $(((t1 - t0) / 1000000)) ms"
grep -q 'roll back an operation cut short' "$ZAPFS_LOG" ||
	note "no crash fell between an operation's writes this time"

zapfs_unmount
