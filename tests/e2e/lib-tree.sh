# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shell library for the end-to-end tests of the zapfs tree (tests/e2e/tree-*.sh).
# It builds on lib.sh (work dir, zapfs-simsys mount, assertions, cleanup) and
# adds the zapfs daemon, on one of two backends chosen by ZAPFS_BACKEND:
#
#   simulate  zapfs -f --simulate HOSTFILE MNT      (the in-process simulator)
#   sysfs     zapfs-simsys -f HOSTFILE SYS, then zapfs -f --sysfs SYS MNT
#             (the tests can then compare the tree with the kernel's own files)
#
# Usage in a test:
#   . "$(dirname "$0")/lib-tree.sh"
#   zapfs_mount "$HOSTS/seed.conf"
#   cd "$MNT"
#   expect_try OK mkdir guests/web1
#   expect_refused EADDRINUSE "06.0047" create guests/g2/queues/06.0047
#
# The cleanup trap unmounts zapfs before zapfs-simsys and reaps both daemons,
# whatever happened.

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ZAPFS_BIN=$ZAPFS_BUILD_ROOT/fs/zapfs
TREE_TRY=$ZAPFS_BUILD_ROOT/tests/tools/tree-try
BACKEND=${ZAPFS_BACKEND:-simulate}
MNT=$WORK/mnt
ZAPFS_LOG=$WORK/zapfs.log
# zapfs's s390apconfig.lock, apart from the host's (/run/lock) and so from
# other tests' daemons
ZAPFS_LOCK_DIR=$WORK/lock
ZAPFS_PID=
STATE=
# The FUSE connections (device minors) of the two mounts, for an abort.
ZAPFS_CONN=
SIMSYS_CONN=
# Process groups a test started (set -m jobs); the cleanup kills them first.
TREE_PGIDS=()

case "$BACKEND" in
simulate | sysfs) ;;
*) fail "ZAPFS_BACKEND must be simulate or sysfs, not '$BACKEND'" ;;
esac

# Prints the tail of the daemon's stderr, for a failure's context.
zapfs_log_tail() {
	[ -s "$ZAPFS_LOG" ] || return 0
	echo "--- last lines of zapfs's stderr:" >&2
	tail -n 40 "$ZAPFS_LOG" >&2
}

# The FUSE connection number of the mount on DIR.
fuse_conn() {
	local dev
	dev=$(mountpoint -d "$1") && echo "${dev#*:}"
}

# abort_fuse_conn N: fails every request of FUSE connection N at once, so
# that a daemon stuck with its clients can exit (nothing else unsticks a
# thread blocked in the kernel on its own connection).
abort_fuse_conn() {
	local dir=/sys/fs/fuse/connections
	[ -n "$1" ] || return 0
	[ -e "$dir/$1/abort" ] || mount -t fusectl fusectl "$dir" 2>/dev/null || true
	if [ -e "$dir/$1/abort" ]; then
		echo 1 >"$dir/$1/abort" || true
	fi
}

# gone_within PID SECONDS: the process has exited (bash reaps it) in time.
gone_within() {
	local deadline=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# stop_daemon PID DIR CONN: SIGTERM (the daemon unmounts DIR itself); when it
# does not go, abort its connection and SIGKILL it; then reap it and make sure
# DIR is unmounted. Never blocks for long; never fails (set -e safe).
stop_daemon() {
	local pid=$1 dir=$2 conn=$3
	kill -TERM "$pid" 2>/dev/null || true
	if ! gone_within "$pid" "$EXIT_DEADLINE_S"; then
		echo "# ${dir##*/}: the daemon did not exit on SIGTERM: aborting its connection" >&2
		abort_fuse_conn "$conn"
		kill -KILL "$pid" 2>/dev/null || true
		gone_within "$pid" "$EXIT_DEADLINE_S" ||
			echo "# ${dir##*/}: daemon $pid is still there" >&2
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
	fi
	if is_mounted "$dir"; then
		fusermount3 -u -z "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null || true
	fi
}

# is_mounted DIR: something is mounted on DIR, even a dead FUSE connection
# (where mountpoint(1) fails: stat gives ENOTCONN).
is_mounted() {
	awk -v dir="$1" '$5 == dir { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# Runs first at exit: the test's own processes go first, then zapfs, then
# zapfs-simsys (zapfs reads from it); lib.sh's cleanup does the rest.
tree_cleanup() {
	local rc=$? pgid
	set +e
	[ "$rc" = 0 ] || zapfs_log_tail
	cd /
	for pgid in "${TREE_PGIDS[@]}"; do
		kill -KILL -- "-$pgid" 2>/dev/null
	done
	if [ -n "$ZAPFS_PID" ]; then
		stop_daemon "$ZAPFS_PID" "$MNT" "$ZAPFS_CONN"
		ZAPFS_PID=
	fi
	if [ -n "$SIMSYS_PID" ]; then
		stop_daemon "$SIMSYS_PID" "$SYS" "$SIMSYS_CONN"
		SIMSYS_PID=
	fi
	# A dead mount (a daemon that exited without unmounting) goes too.
	if is_mounted "$MNT"; then
		umount -l "$MNT" 2>/dev/null
	fi
	# lib.sh's check, pointed at zapfs's stderr; in a subshell since it exits.
	(SIMSYS_LOG=$ZAPFS_LOG check_daemon_log) || rc=1
	(exit "$rc")
	e2e_cleanup
}
trap tree_cleanup EXIT

# zapfs_mount HOSTFILE [ZAPFS OPTIONS...]: mounts the tree on $MNT with the
# backend of $BACKEND, its state in a fresh directory ($STATE), and waits
# until the mount answers.
zapfs_mount() {
	local hostfile=$1 deadline
	shift
	[ -z "$ZAPFS_PID" ] || fail "zapfs_mount: already mounted"
	[ -x "$ZAPFS_BIN" ] || fail "no zapfs binary at $ZAPFS_BIN"
	STATE=$(mktemp -d "$WORK/state.XXXXXX")
	mkdir -p "$MNT" "$ZAPFS_LOCK_DIR"
	if [ "$BACKEND" = sysfs ]; then
		simsys_mount "$hostfile"
		SIMSYS_CONN=$(fuse_conn "$SYS")
		"$ZAPFS_BIN" -f --sysfs "$SYS" --state "$STATE" --lock-dir "$ZAPFS_LOCK_DIR" "$@" \
			"$MNT" 2>>"$ZAPFS_LOG" &
	else
		"$ZAPFS_BIN" -f --simulate "$hostfile" --state "$STATE" --lock-dir "$ZAPFS_LOCK_DIR" \
			"$@" "$MNT" 2>>"$ZAPFS_LOG" &
	fi
	ZAPFS_PID=$!
	deadline=$((SECONDS + MOUNT_DEADLINE_S))
	until mountpoint -q "$MNT"; do
		if ! kill -0 "$ZAPFS_PID" 2>/dev/null; then
			local rc=0
			wait "$ZAPFS_PID" || rc=$?
			ZAPFS_PID=
			fail "zapfs exited ($rc) before the mount appeared"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail "no mount on $MNT after ${MOUNT_DEADLINE_S}s"
		sleep 0.02
	done
	ZAPFS_CONN=$(fuse_conn "$MNT")
	note "zapfs mounted ($BACKEND backend, $(basename "$hostfile"))"
}

# Unmounts the tree (and zapfs-simsys after it) and requires a clean exit
# in time: status 0, no sanitizer report.
zapfs_unmount() {
	local rc=0
	[ -n "$ZAPFS_PID" ] || return 0
	kill -0 "$ZAPFS_PID" 2>/dev/null || fail "zapfs died before the unmount"
	fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT failed"
	# The cleanup stops a daemon that does not exit.
	gone_within "$ZAPFS_PID" "$EXIT_DEADLINE_S" ||
		fail "zapfs did not exit within ${EXIT_DEADLINE_S}s of the unmount"
	wait "$ZAPFS_PID" || rc=$?
	ZAPFS_PID=
	SIMSYS_LOG=$ZAPFS_LOG check_daemon_log
	[ "$rc" = 0 ] || fail "zapfs exited with $rc after unmount"
	simsys_unmount
	SIMSYS_CONN=
}

# How long a change made behind zapfs's back may take to show: its periodic
# rescan (every 2 s by default off /sys) and a generous margin.
# shellcheck disable=SC2034 # used by the tests
RESCAN_DEADLINE_S=12

# wait_until SECONDS CMD...: waits until CMD succeeds; returns 1 when it
# still fails after SECONDS.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# file_reads FILE TEXT: the file's content is TEXT (trailing newlines aside).
file_reads() {
	[ "$(cat "$1")" = "$2" ]
}

# wait_for_content FILE WANT SECONDS: the file reads WANT (plus a newline)
# within SECONDS.
wait_for_content() {
	wait_until "$3" file_reads "$1" "$2" || true
	expect_cat "$1" "$2"
}

# expect_try OUTCOME OP ARGS...: one system call (see tests/tools/tree-try.c)
# gives OUTCOME: OK or an errno name.
expect_try() {
	local want=$1 got
	shift
	got=$("$TREE_TRY" "$@") || fail "tree-try $* failed to run"
	[ "$got" = "$want" ] || fail "$*: want $want, got $got"
}

# The sequence number of the newest line of `log` (0 when it is empty).
log_seq() {
	local last
	last=$(tail -n 1 "$MNT/log") || fail "cannot read log"
	echo "${last%% *}" | grep -E '^[0-9]+$' || echo 0
}

# The newest line of `log`.
log_last() {
	tail -n 1 "$MNT/log" || fail "cannot read log"
}

# expect_refused ERRNO TEXT OP ARGS...: the call fails with ERRNO, and the
# new last line of `log` says "(ERRNO)" and contains TEXT (a fixed string;
# "" for none).
expect_refused() {
	local err=$1 text=$2 before
	shift 2
	before=$(log_seq)
	expect_try "$err" "$@"
	expect_logged "$before" "($err)" "$text"
}

# expect_logged SEQ TEXT...: `log` has a line newer than SEQ, and its newest
# line contains each TEXT (fixed strings; "" matches anything).
expect_logged() {
	local before=$1 line t
	shift
	line=$(log_last)
	[ "$(log_seq)" -gt "$before" ] || fail "no new line in log (last: '$line')"
	for t in "$@"; do
		[[ "$line" == *"$t"* ]] || fail "log: want a line with '$t', got '$line'"
	done
}

# expect_log_has TEXT...: the newest line of `log` contains each TEXT.
expect_log_has() {
	expect_logged 0 "$@"
}

# The CARD.DOMAIN column of an lszcrypt-like file, one name a line: the
# first field of the lines naming a card (05) or a queue (05.0004).
lszcrypt_names() {
	awk '$1 ~ /^[0-9a-f][0-9a-f](\.[0-9a-f][0-9a-f][0-9a-f][0-9a-f])?$/ { print $1 }' "$1"
}

# The first three columns (CARD.DOMAIN TYPE MODE) of those lines.
lszcrypt_rows() {
	awk '$1 ~ /^[0-9a-f][0-9a-f](\.[0-9a-f][0-9a-f][0-9a-f][0-9a-f])?$/ { print $1, $2, $3 }' \
		"$1"
}

# expect_same_file A B: byte-equal files.
expect_same_file() {
	local why
	why=$(cmp "$1" "$2" 2>&1) ||
		fail "${1#"$MNT"/} differs from $2 ($why): '$(cat "$1")' vs '$(cat "$2")'"
}

# The kernel's directory of guest G's mdev (sysfs backend).
mdev_dir() {
	echo "$SYS/devices/vfio_ap/matrix/$(cat "$MNT/guests/$1/uuid")"
}

# expect_kernel_matches: with the sysfs backend, each guest's matrix and
# guest_matrix (where the kernel has one) equal the kernel's, every mdev is
# a guest, and pools/host/adapters and domains describe the kernel's apmask
# and aqmask; with the simulate backend, there is nothing to compare with.
expect_kernel_matches() {
	local g d uuids=()
	[ "$BACKEND" = sysfs ] || return 0
	for g in $(guest_names); do
		d=$(mdev_dir "$g")
		[ -d "$d" ] || fail "guest $g: no mdev $d"
		expect_same_file "$MNT/guests/$g/matrix" "$d/matrix"
		# Kernels before 6.0 have no guest_matrix to compare with.
		if [ -e "$d/guest_matrix" ]; then
			expect_same_file "$MNT/guests/$g/guest_matrix" "$d/guest_matrix"
		fi
		uuids+=("$(cat "$MNT/guests/$g/uuid")")
	done
	expect_eq "$(printf '%s\n' "${uuids[@]}" | grep . | LC_ALL=C sort | xargs)" \
		"$(list_mdevs | xargs)" "the guests' uuids vs the kernel's mdevs"
	expect_eq "$(ids_of_mask "$(cat "$SYS/bus/ap/apmask")")" \
		"$(cat "$MNT/pools/host/adapters")" "pools/host/adapters vs apmask"
	expect_eq "$(ids_of_mask "$(cat "$SYS/bus/ap/aqmask")")" \
		"$(cat "$MNT/pools/host/domains")" "pools/host/domains vs aqmask"
}

# ids_of_mask 0xHEX: the kernel's 256-bit mask as decimal ranges ("0-4,7-255"),
# computed independently of zapfs.
ids_of_mask() {
	local hex=${1#0x} i bit start=-1 out=""
	for ((i = 0; i <= 256; i++)); do
		bit=0
		if [ "$i" -lt 256 ]; then
			bit=$(((16#${hex:$((i / 4)):1} >> (3 - i % 4)) & 1))
		fi
		if [ "$bit" = 1 ] && [ "$start" -lt 0 ]; then
			start=$i
		elif [ "$bit" = 0 ] && [ "$start" -ge 0 ]; then
			if [ "$start" = $((i - 1)) ]; then
				out+=",$start"
			else
				out+=",$start-$((i - 1))"
			fi
			start=-1
		fi
	done
	echo "${out#,}"
}

# expect_empty DIR: the directory lists nothing (lib.sh's expect_ls wants names).
expect_empty() {
	local got
	got=$(ls -A "$1") || fail "cannot list $1"
	[ -z "$got" ] || fail "ls ${1#"$MNT"/}: want nothing, got '${got//$'\n'/ }'"
}

# The guests' names, sorted.
guest_names() {
	LC_ALL=C ls -1 "$MNT/guests"
}

# Every guest's queues, one line per guest and queue (a queue held by two
# guests shows twice), sorted.
all_guest_queues() {
	local g
	for g in $(guest_names); do
		list_queues "$MNT/guests/$g/queues"
	done | LC_ALL=C sort
}

# expect_invariants: DESIGN §2 rules 1 and 2 as the tree shows them: no APQN
# in two guests' queues/, no queue of the host pool in a guest.
expect_invariants() {
	local dup host_in_guest
	dup=$(all_guest_queues | uniq -d | xargs)
	[ -z "$dup" ] || fail "queues in two guests: $dup"
	host_in_guest=$(LC_ALL=C comm -12 <(list_queues "$MNT/pools/host") <(all_guest_queues) | xargs)
	[ -z "$host_in_guest" ] || fail "host-pool queues in a guest: $host_in_guest"
}

# ---- load: random operations on the seed LPAR's tree (tree-stress, tree-sigterm) ----

# shellcheck disable=SC2034 # used through pick's nameref
LOAD_ADAPTERS=(05 06)
# shellcheck disable=SC2034
LOAD_DOMAINS=(0004 0047 00ab 00ff)
# shellcheck disable=SC2034
LOAD_QUEUES=(05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff)
# shellcheck disable=SC2034
LOAD_GUESTS=(g0 g1 g2 g3)
# shellcheck disable=SC2034
LOAD_SIGNS=(+ -)

# pick ARRAY: sets PICKED to one of its elements. No subshell, so that each
# shell's RANDOM sequence, and so its operations, follow from the seed.
pick() {
	local -n from=$1
	PICKED=${from[RANDOM % ${#from[@]}]}
}

# One random operation on the tree; its outcome is not checked (most
# refusals are expected), only what the tree looks like in the end.
random_op() {
	local g g2 q a d sign
	pick LOAD_GUESTS && g=guests/$PICKED
	pick LOAD_GUESTS && g2=guests/$PICKED
	pick LOAD_QUEUES && q=$PICKED
	pick LOAD_ADAPTERS && a=$PICKED
	pick LOAD_DOMAINS && d=$PICKED
	pick LOAD_SIGNS && sign=$PICKED
	case $((RANDOM % 20)) in
	0 | 1) mkdir "$g" ;;
	2) rmdir "$g" ;;
	3) rm -r "$g" ;;
	4) mv "$g" "$g2" ;;
	5 | 6) touch "$g/queues/$q" ;;
	7) rm "$g/queues/$q" ;;
	8) touch "$g/adapters/$a" "$g/domains/$d" ;;
	9) rm "$g/adapters/$a" ;;
	10) rm "$g/domains/$d" ;;
	11) touch "$g/control_domains/$d" ;;
	12) ln "queues/$q" "$g/queues/" ;;
	13) mv "pools/host/$q" pools/vfio/ ;;
	14) mv "pools/vfio/$q" pools/host/ ;;
	15) echo "$sign$((16#$a))" >pools/host/adapters ;;
	16) echo "${sign}0x$d" >pools/host/domains ;;
	17) ln -s "../$g" "reservations/$q" ;;
	18) rm "reservations/$q" ;;
	19) cat status "$g/matrix" "$g/lszcrypt" "queues/$q" >/dev/null && ls -lR . >/dev/null ;;
	esac
}

# The longest a load shell runs; it also stops when the test is gone.
LOAD_MAX_S=90

# load_shell N OPS SEED TEST_PID: OPS random operations (0: until killed),
# seeded with SEED + N, while process TEST_PID lives; writes how many
# succeeded to $WORK/load-N.ok.
load_shell() {
	local n=$1 ops=$2 test_pid=$4 i ok=0 deadline=$((SECONDS + LOAD_MAX_S))
	set +e
	RANDOM=$(($3 + n))
	for ((i = 0; ops == 0 || i < ops; i++)); do
		random_op && ok=$((ok + 1))
		if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$test_pid" 2>/dev/null; then
			break
		fi
	done
	echo "$ok" >"$WORK/load-$n.ok"
}

# start_load SHELLS OPS SEED: SHELLS load shells in the background, each in
# its own process group (set -m), which the cleanup kills with whatever the
# shell runs should the test end early; their ids go to TREE_PGIDS. They
# work in the current directory (the mount's root).
start_load() {
	local n
	set -m
	for ((n = 0; n < $1; n++)); do
		load_shell "$n" "$2" "$3" "$$" 2>"$WORK/load-$n.err" &
		TREE_PGIDS+=($!)
	done
	set +m
}

# load_seed: sets SEED for the load: ZAPFS_SEED or a random one; prints it.
load_seed() {
	SEED=${ZAPFS_SEED:-$(((RANDOM << 15) | RANDOM))}
	note "seed $SEED (ZAPFS_SEED=$SEED replays this run)"
}
