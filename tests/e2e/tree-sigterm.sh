#!/bin/bash
# SPDX-License-Identifier: MIT
#
# SIGTERM while eight shells are busy in the tree (the random operations of
# tree-stress): every time, zapfs must exit in time with status 0 (as after
# an unmount: `systemctl stop` must not leave a failed unit) and leave no
# mount behind. Three rounds, as a hang may depend on what is in flight;
# every round runs, and the test reports all that went wrong.
. "$(dirname "$0")/lib-tree.sh"

ROUNDS=3
SHELLS=8
load_seed
problems=()

# problem TEXT: notes what went wrong in this round; the test fails at the end.
problem() {
	problems+=("round $round: $1")
	echo "# round $round: $1" >&2
}

for ((round = 1; round <= ROUNDS; round++)); do
	zapfs_mount "$HOSTS/seed.conf"
	cd "$MNT" || fail "cannot cd to $MNT"
	echo -5,-6 >pools/host/adapters
	start_load "$SHELLS" 0 "$((SEED + round * SHELLS))"
	# Out of the mount: a hung daemon must not take the test with it.
	cd / || exit
	sleep 2
	kill -TERM "$ZAPFS_PID"
	if gone_within "$ZAPFS_PID" "$EXIT_DEADLINE_S"; then
		rc=0
		wait "$ZAPFS_PID" || rc=$?
		[ "$rc" = 0 ] || problem "zapfs exited with status $rc on SIGTERM"
		if is_mounted "$MNT"; then
			problem "$MNT is still mounted after zapfs exited"
			umount -l "$MNT"
		fi
	else
		problem "zapfs did not exit within ${EXIT_DEADLINE_S}s of SIGTERM under load"
		stop_daemon "$ZAPFS_PID" "$MNT" "$ZAPFS_CONN"
	fi
	ZAPFS_PID=
	for pgid in "${TREE_PGIDS[@]}"; do
		kill -KILL -- "-$pgid" 2>/dev/null
	done
	TREE_PGIDS=()
	SIMSYS_LOG=$ZAPFS_LOG check_daemon_log
	simsys_unmount
	note "round $round done"
done
if [ "${#problems[@]}" -gt 0 ]; then
	printf '%s\n' "${problems[@]}" >&2
	fail "${#problems[@]} problems in $ROUNDS rounds (seed $SEED)"
fi
