# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Shell library for the end-to-end tests: mounts zapfs-simsys on a fresh
# directory, asserts on what files read and on the errno of writes, and always
# unmounts and reaps the daemon, even when a test fails half-way.
#
# Usage in a test:
#   . "$(dirname "$0")/lib.sh"
#   simsys_mount "$HOSTS/seed.conf"
#   expect_cat "$SYS/bus/ap/ap_max_domain_id" "255"
#   expect_write "$SYS/bus/ap/apmask" "+5" EBUSY
#
# Needs root and /dev/fuse: without them the test FAILS (it must run in CI).

set -euo pipefail

: "${ZAPFS_BUILD_ROOT:?run through meson test (ZAPFS_BUILD_ROOT unset)}"
: "${ZAPFS_SOURCE_ROOT:?run through meson test (ZAPFS_SOURCE_ROOT unset)}"

SIMSYS_BIN=$ZAPFS_BUILD_ROOT/fs/zapfs-simsys
TRY_WRITE=$ZAPFS_BUILD_ROOT/tests/tools/try-write
HOSTS=$ZAPFS_SOURCE_ROOT/contrib/hosts
# How long a mount may take to appear, and a daemon to exit after unmount.
MOUNT_DEADLINE_S=10
EXIT_DEADLINE_S=10

E2E_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/zapfs-e2e-$E2E_NAME.XXXXXX")
# Other users must reach the mount through it (default_permissions tests).
chmod 755 "$WORK"
SYS=$WORK/sys
SIMSYS_LOG=$WORK/simsys.log
SIMSYS_PID=
# Mounts a test made by other means; the cleanup unmounts them too.
EXTRA_MOUNTS=()

fail() {
	echo "FAIL: $E2E_NAME: $*" >&2
	exit 1
}

note() {
	echo "# $*"
}

# Sanitizer and crash reports in the daemon's stderr fail the test.
check_daemon_log() {
	[ -f "$SIMSYS_LOG" ] || return 0
	if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' \
		"$SIMSYS_LOG"; then
		cat "$SIMSYS_LOG" >&2
		fail "sanitizer report in the daemon's stderr"
	fi
}

# Waits up to $2 seconds for process $1 to exit; returns its status, or 255
# (after SIGKILL) when it did not exit in time.
reap_within() {
	local pid=$1 deadline=$((SECONDS + $2)) rc=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			return 255
		fi
		sleep 0.05
	done
	wait "$pid" || rc=$?
	return "$rc"
}

# simsys_mount HOSTFILE [OPTIONS...]: mounts on $SYS in the foreground (-f),
# in the background, and waits until the mount answers.
simsys_mount() {
	local hostfile=$1 deadline
	shift
	[ "$(id -u)" = 0 ] || fail "needs root (FUSE mounts, bind mounts, other users)"
	[ -c /dev/fuse ] || fail "needs /dev/fuse"
	[ -z "$SIMSYS_PID" ] || fail "simsys_mount: already mounted"
	mkdir -p "$SYS"
	"$SIMSYS_BIN" -f "$@" "$hostfile" "$SYS" 2>"$SIMSYS_LOG" &
	SIMSYS_PID=$!
	deadline=$((SECONDS + MOUNT_DEADLINE_S))
	until mountpoint -q "$SYS"; do
		if ! kill -0 "$SIMSYS_PID" 2>/dev/null; then
			local rc=0
			wait "$SIMSYS_PID" || rc=$?
			SIMSYS_PID=
			cat "$SIMSYS_LOG" >&2
			fail "zapfs-simsys exited ($rc) before the mount appeared"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail "no mount on $SYS after ${MOUNT_DEADLINE_S}s"
		sleep 0.02
	done
}

# Unmounts and requires a clean exit (status 0, no sanitizer report).
simsys_unmount() {
	local rc=0
	[ -n "$SIMSYS_PID" ] || return 0
	fusermount3 -u "$SYS" || fail "fusermount3 -u $SYS failed"
	reap_within "$SIMSYS_PID" "$EXIT_DEADLINE_S" || rc=$?
	SIMSYS_PID=
	check_daemon_log
	[ "$rc" = 0 ] || { cat "$SIMSYS_LOG" >&2; fail "zapfs-simsys exited with $rc after unmount"; }
}

# Always runs: lazy unmount, reap (killing if need be), remove the work dir.
e2e_cleanup() {
	local rc=$? m
	set +e
	if mountpoint -q "$SYS" 2>/dev/null; then
		fusermount3 -u -z "$SYS" 2>/dev/null || umount -l "$SYS" 2>/dev/null
	fi
	for m in "${EXTRA_MOUNTS[@]}"; do
		if mountpoint -q "$m" 2>/dev/null; then
			fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		fi
	done
	if [ -n "$SIMSYS_PID" ]; then
		kill -TERM "$SIMSYS_PID" 2>/dev/null
		reap_within "$SIMSYS_PID" "$EXIT_DEADLINE_S"
		SIMSYS_PID=
	fi
	if [ -f "$SIMSYS_LOG" ] &&
		grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' "$SIMSYS_LOG"; then
		cat "$SIMSYS_LOG" >&2
		echo "FAIL: $E2E_NAME: sanitizer report in the daemon's stderr" >&2
		rc=1
	fi
	rm -rf "$WORK"
	if [ "$rc" = 0 ]; then
		echo "PASS: $E2E_NAME"
	fi
	exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

# expect_eq WANT GOT WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: want '$1', got '$2'"
}

# expect_cat FILE WANT: the file's exact content is WANT plus a newline; with
# WANT empty, the file must be empty (0 bytes).
expect_cat() {
	local file=$1 want=$2 got
	got=$(cat "$file"; echo x) || fail "cannot read $file"
	got=${got%x}
	if [ -z "$want" ]; then
		[ -z "$got" ] || fail "$file: want an empty file, got '$got'"
	else
		[ "$got" = "$want"$'\n' ] || fail "$file: want '$want', got '${got%$'\n'}'"
	fi
}

# expect_write FILE DATA OUTCOME: `echo DATA > FILE` gives OUTCOME (OK or an
# errno name such as EADDRINUSE).
expect_write() {
	local got
	got=$("$TRY_WRITE" "$1" "$2") || fail "try-write $1 failed to run"
	[ "$got" = "$3" ] || fail "echo '$2' > ${1#"$SYS"/}: want $3, got $got"
}

# expect_ls DIR WANT...: the directory lists exactly these names (sorted).
expect_ls() {
	local dir=$1 got want
	shift
	got=$(LC_ALL=C ls -1 "$dir" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "ls ${dir#"$SYS"/}: want '$want', got '$got'"
}

# expect_has DIR NAME...: the directory has at least these entries.
expect_has() {
	local dir=$1 name
	shift
	for name in "$@"; do
		[ -e "$dir/$name" ] || [ -L "$dir/$name" ] || fail "${dir#"$SYS"/} has no '$name'"
	done
}

# expect_missing PATH...: none of these exist.
expect_missing() {
	local p
	for p in "$@"; do
		[ ! -e "$p" ] && [ ! -L "$p" ] || fail "${p#"$SYS"/} should not exist"
	done
}

# The queues (XX.YYYY) in a directory, one line each, sorted.
list_queues() {
	LC_ALL=C ls -1 "$1" | grep -E '^[0-9a-f]{2}\.[0-9a-f]{4}$' || true
}

# The mdev UUIDs under the matrix device, sorted.
list_mdevs() {
	LC_ALL=C ls -1 "$SYS/devices/vfio_ap/matrix" |
		grep -E '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' || true
}

MDEV_TYPE_DIR=devices/vfio_ap/matrix/mdev_supported_types/vfio_ap-passthrough

# new_mdev: `uuidgen > create`, as an admin types it; prints the new UUID.
new_mdev() {
	local before after
	before=$(list_mdevs)
	uuidgen >"$SYS/$MDEV_TYPE_DIR/create" || fail "uuidgen > create failed"
	after=$(list_mdevs)
	LC_ALL=C comm -13 <(echo "$before") <(echo "$after") | grep . ||
		fail "no new mdev after uuidgen > create"
}
