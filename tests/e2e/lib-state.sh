# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shell library for the end-to-end tests of zapfs's state across restarts,
# reboots and crashes (tests/e2e/state-*.sh). It builds on lib-tree.sh
# (zapfs_mount makes $STATE, the state directory) and adds:
#
#   zapfs_stop        unmount the tree; the kernel (zapfs-simsys) stays
#   zapfs_start       start zapfs again on the kernel as it is, same $STATE
#   zapfs_kill9       kill -9 zapfs, as a crash would, and clear its mount
#   kernel_reboot     a fresh kernel from the same host file: remount
#                     zapfs-simsys (sysfs backend); with --simulate the
#                     kernel lives in zapfs and dies with it
#   tree_snapshot     what must survive, as text: guests with UUID, state,
#                     matrix and control domains, reservations, host masks
#   expect_state_matches  the state directory says what the tree says

# shellcheck source=tests/e2e/lib-tree.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-tree.sh"

HOSTFILE=
ZAPFS_EXTRA=()

# state_mount HOSTFILE [ZAPFS OPTIONS...]: the first start (lib-tree.sh's zapfs_mount).
state_mount() {
	HOSTFILE=$1
	shift
	ZAPFS_EXTRA=("$@")
	zapfs_mount "$HOSTFILE" "$@"
}

zapfs_wait_mount() {
	local deadline=$((SECONDS + MOUNT_DEADLINE_S))
	until mountpoint -q "$MNT"; do
		if ! kill -0 "$ZAPFS_PID" 2>/dev/null; then
			local rc=0
			wait "$ZAPFS_PID" || rc=$?
			ZAPFS_PID=
			fail "zapfs exited ($rc) before the mount appeared"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail "no mount on $MNT after ${MOUNT_DEADLINE_S}s"
		sleep 0.01
	done
}

zapfs_start() {
	[ -z "$ZAPFS_PID" ] || fail "zapfs_start: already running"
	if [ "$BACKEND" = sysfs ]; then
		"$ZAPFS_BIN" -f --sysfs "$SYS" --state "$STATE" "${ZAPFS_EXTRA[@]}" "$MNT" \
			2>>"$ZAPFS_LOG" &
	else
		"$ZAPFS_BIN" -f --simulate "$HOSTFILE" --state "$STATE" "${ZAPFS_EXTRA[@]}" \
			"$MNT" 2>>"$ZAPFS_LOG" &
	fi
	ZAPFS_PID=$!
	zapfs_wait_mount
}

zapfs_stop() {
	local rc=0
	[ -n "$ZAPFS_PID" ] || return 0
	fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT failed"
	reap_within "$ZAPFS_PID" "$EXIT_DEADLINE_S" || rc=$?
	ZAPFS_PID=
	SIMSYS_LOG=$ZAPFS_LOG check_daemon_log
	[ "$rc" = 0 ] || fail "zapfs exited with $rc after unmount"
}

zapfs_kill9() {
	local conn
	[ -n "$ZAPFS_PID" ] || return 0
	conn=$(fuse_conn "$MNT") || conn=
	kill -KILL "$ZAPFS_PID" 2>/dev/null || true
	# A notifier thread blocked on a directory lock that one of its clients
	# holds keeps the killed daemon from exiting until the connection is
	# aborted, as an administrator would after a crash.
	abort_fuse_conn "$conn"
	wait "$ZAPFS_PID" 2>/dev/null || true
	ZAPFS_PID=
	fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
}

kernel_reboot() {
	[ -z "$ZAPFS_PID" ] || fail "kernel_reboot: stop zapfs first"
	if [ "$BACKEND" = sysfs ]; then
		simsys_unmount
		simsys_mount "$HOSTFILE"
	fi
}

tree_snapshot() {
	local g r
	for g in $(guest_names); do
		echo "guest $g uuid=$(cat "$MNT/guests/$g/uuid") state=$(cat "$MNT/guests/$g/state")" \
			"matrix=$(xargs <"$MNT/guests/$g/matrix")" \
			"control=$(ls "$MNT/guests/$g/control_domains" | xargs)"
	done
	for r in "$MNT"/reservations/*; do
		if [ -L "$r" ]; then
			echo "reservation ${r##*/} -> $(readlink "$r")"
		fi
	done
	echo "host adapters=$(cat "$MNT/pools/host/adapters") domains=$(cat "$MNT/pools/host/domains")"
}

# expect_same_snapshot WANT WHAT
expect_same_snapshot() {
	local got
	got=$(tree_snapshot)
	[ "$got" = "$1" ] || fail "$2: the tree differs:
--- want
$1
--- got
$got"
}

# expand_ids "05,07-09" -> "05,07,08,09" (hex ids as the state files write them); "none" stays.
expand_ids() {
	local item lo hi i width out=() items
	[ "$1" = none ] && { echo none; return; }
	IFS=, read -ra items <<<"$1"
	for item in "${items[@]}"; do
		if [[ $item == *-* ]]; then
			lo=${item%-*} hi=${item#*-} width=${#lo}
			for ((i = 16#$lo; i <= 16#$hi; i++)); do
				printf -v item "%0${width}x" "$i"
				out+=("$item")
			done
		else
			out+=("$item")
		fi
	done
	(IFS=,; echo "${out[*]}")
}

# The state directory's view, in tree_view's terms.
state_view() {
	local f key value name uuid adapters domains control
	for f in "$STATE"/guests/*.conf; do
		[ -e "$f" ] || continue
		while read -r key value; do
			case $key in
			name) name=$value ;;
			uuid) uuid=$value ;;
			adapters) adapters=$(expand_ids "$value") ;;
			domains) domains=$(expand_ids "$value") ;;
			control_domains) control=$(expand_ids "$value") ;;
			esac
		done <"$f"
		printf 'name=%s uuid=%s adapters=%s domains=%s control_domains=%s\n' "$name" "$uuid" \
			"$adapters" "$domains" "$control"
	done | LC_ALL=C sort
	grep -E '^[0-9a-f]{2}\.[0-9a-f]{4} ' "$STATE/reservations" | LC_ALL=C sort || true
}

# ids of a listing as the state files write them: "05,06" or "none"
ids_line() {
	local l
	l=$(ls "$1" | paste -sd, -)
	echo "${l:-none}"
}

# mask_line FILE WIDTH: pools/host/adapters' decimal ranges as expanded hex ids.
mask_line() {
	local item lo hi i out=() items
	IFS=, read -ra items <"$1"
	for item in "${items[@]}"; do
		lo=${item%-*} hi=${item#*-}
		for ((i = lo; i <= hi; i++)); do
			printf -v item "%0${2}x" "$i"
			out+=("$item")
		done
	done
	[ "${#out[@]}" -gt 0 ] || { echo none; return; }
	(IFS=,; echo "${out[*]}")
}

tree_view() {
	local g r
	for g in $(guest_names); do
		# adopted mdevs still named by their UUID are the kernel's, not saved
		if [ "$g" = "$(cat "$MNT/guests/$g/uuid")" ] && [ -n "${ADOPTED_OK:-}" ]; then
			continue
		fi
		printf 'name=%s uuid=%s adapters=%s domains=%s control_domains=%s\n' "$g" \
			"$(cat "$MNT/guests/$g/uuid")" "$(ids_line "$MNT/guests/$g/adapters")" \
			"$(ids_line "$MNT/guests/$g/domains")" \
			"$(ids_line "$MNT/guests/$g/control_domains")"
	done | LC_ALL=C sort
	for r in "$MNT"/reservations/*; do
		if [ -L "$r" ]; then
			echo "${r##*/} $(basename "$(readlink "$r")")"
		fi
	done
}

# The state directory holds what the tree shows: guests (adopted mdevs still
# named by their UUID are the kernel's, not zapfs's: left out with
# ADOPTED_OK set), reservations and the host masks; no journal is left.
expect_state_matches() {
	local want got
	want=$(tree_view)
	got=$(state_view)
	[ "$want" = "$got" ] || fail "the state directory differs from the tree:
--- tree
$want
--- state
$got"
	want="apmask $(mask_line "$MNT/pools/host/adapters" 2) aqmask $(mask_line "$MNT/pools/host/domains" 4)"
	got=$(grep -E '^(apmask|aqmask) ' "$STATE/masks" | while read -r k v; do
		printf '%s %s ' "$k" "$(expand_ids "$v")"
	done)
	[ "$want " = "$got" ] || fail "the state's masks differ from the tree: '$want' vs '$got'"
	[ ! -s "$STATE/pending" ] || fail "a journal is left in the state directory"
}

# expect_log_has_line TEXT: some line of `log` contains TEXT.
expect_log_has_line() {
	grep -qF -- "$1" "$MNT/log" || fail "log has no line with '$1': $(cat "$MNT/log")"
}
