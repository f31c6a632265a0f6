#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The zapfs-simsys mount itself behaves like sysfs: modes, sizes, symlinks,
# EACCES where kernfs refuses even root, the VFS's errnos for namespace
# changes, per-open snapshots, one store() per write(), other users, the
# control directory; and the daemon: options, bad host files, signals,
# daemonizing.
. "$(dirname "$0")/lib.sh"

note "options"
out=$("$SIMSYS_BIN" --version)
expect_eq "zapfs-simsys" "${out%% *}" "--version"
out=$("$SIMSYS_BIN" --help) || fail "--help failed"
grep -q '^usage: .* \[options\] HOSTFILE DIR$' <<<"$out" || fail "--help has no usage line"
rc=0; "$SIMSYS_BIN" 2>/dev/null || rc=$?
expect_eq 1 "$rc" "exit status without arguments"

note "a bad host file: the parser's message, exit 1, no mount"
printf 'kernel 6.10\ncard 5 CEX5X\n' > "$WORK/bad.conf"
mkdir "$WORK/badmnt"
rc=0; msg=$("$SIMSYS_BIN" -f "$WORK/bad.conf" "$WORK/badmnt" 2>&1) || rc=$?
expect_eq 1 "$rc" "exit status for a bad host file"
expect_eq "zapfs-simsys: $WORK/bad.conf:2: unknown card mode 'X' (use A, C or P)" "$msg" "message"
mountpoint -q "$WORK/badmnt" && fail "mounted despite a bad host file"
rc=0; msg=$("$SIMSYS_BIN" -f "$WORK/missing.conf" "$WORK/badmnt" 2>&1) || rc=$?
expect_eq 1 "$rc" "exit status for a missing host file"
expect_eq "zapfs-simsys: $WORK/missing.conf: No such file or directory" "$msg" "message"

simsys_mount "$HOSTS/seed.conf"
cd "$SYS"

note "modes, sizes, types"
expect_eq "644 regular file 4096" "$(stat -c '%a %F %s' bus/ap/apmask)" "apmask"
expect_eq "444 regular file 4096" "$(stat -c '%a %F %s' bus/ap/ap_max_domain_id)" "ap_max_domain_id"
expect_eq "200 regular file" "$(stat -c '%a %F' "$MDEV_TYPE_DIR/create")" "create"
expect_eq "755 directory" "$(stat -c '%a %F' devices/ap/card05)" "card05 dir"
expect_eq "symbolic link" "$(stat -c '%F' bus/ap/devices/card05)" "bus/ap/devices/card05"
expect_eq ../../../devices/ap/card05 "$(readlink bus/ap/devices/card05)" "readlink card05"
expect_eq "$(readlink -f "$SYS")/devices/ap/card05/05.0004" \
	"$(readlink -f bus/ap/devices/05.0004)" "readlink -f 05.0004"
expect_cat bus/ap/devices/card05/05.0004/online 1
expect_has simctl attach detach adapter_remove adapter_add checkstop fail_next_write kernel \
	uevents dmesg
expect_cat simctl/kernel 6.10

note "what kernfs refuses even to root"
cat "$MDEV_TYPE_DIR/create" 2>"$WORK/err" && fail "reading a 0200 file succeeded"
grep -q 'Permission denied' "$WORK/err" || fail "reading a 0200 file: $(cat "$WORK/err")"
expect_write bus/ap/ap_max_domain_id 5 EACCES
expect_write bus/ap 1 EISDIR
expect_write bus/ap/nonexistent 1 ENOENT
expect_missing bus/ap/nonexistent

note "the namespace is the kernel's"
touch bus/ap/newfile 2>/dev/null && fail "touch created a file"
expect_missing bus/ap/newfile
mkdir bus/ap/newdir 2>"$WORK/err" && fail "mkdir succeeded"
grep -q 'Operation not permitted' "$WORK/err" || fail "mkdir: $(cat "$WORK/err")"
rm -f bus/ap/apmask 2>/dev/null && fail "rm succeeded"
mv bus/ap/apmask bus/ap/apmask2 2>/dev/null && fail "mv succeeded"
ln -s apmask bus/ap/link 2>/dev/null && fail "ln -s succeeded"
expect_has bus/ap apmask
# `echo > f` truncates first: accepted, and the write is what counts.
: > bus/ap/poll_thread
expect_write bus/ap/config_time 4 EINVAL
expect_write bus/ap/config_time 30 OK

note "one store() per write(), its errno is write()'s"
expect_write bus/ap/apmask "+5,,+6" OK
printf -- '-5\n' > bus/ap/apmask
expect_cat bus/ap/apmask 0xfbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_write bus/ap/apmask 0X41 EINVAL
expect_write bus/ap/apmask +256 EINVAL
echo "bus/ap/apmask EIO" > simctl/fail_next_write
expect_write bus/ap/apmask +5 EIO
expect_cat bus/ap/apmask 0xfbffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_write bus/ap/apmask +5 OK
grep -q 'APMASK=0xff' simctl/uevents || fail "no APMASK uevent in simctl/uevents"

note "reads: one rendering per open, served at any offset"
before=$(cat bus/ap/aqmask)
exec 3< bus/ap/aqmask
head10=$(dd bs=10 count=1 <&3 2>/dev/null)
echo -0 > bus/ap/aqmask
rest=$(cat <&3)
exec 3<&-
expect_eq "$before" "$head10$rest" "a read at offset 10 after a change, same open"
expect_cat bus/ap/aqmask 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_eq "$(cat bus/ap/aqmask)" "$(dd if=bus/ap/aqmask bs=1 2>/dev/null)" "byte-by-byte read"
echo +0 > bus/ap/aqmask

note "other users: read yes, write no (default_permissions)"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
expect_eq "$(cat bus/ap/apmask)" "$(as_nobody cat bus/ap/apmask)" "apmask read by nobody"
expect_eq EACCES "$(as_nobody "$TRY_WRITE" bus/ap/apmask -1)" "apmask written by nobody"
expect_eq EACCES "$(as_nobody "$TRY_WRITE" "$MDEV_TYPE_DIR/create" "$(uuidgen)")" "create by nobody"

note "SIGTERM unmounts cleanly"
cd /
kill -TERM "$SIMSYS_PID"
rc=0; reap_within "$SIMSYS_PID" "$EXIT_DEADLINE_S" || rc=$?
SIMSYS_PID=
expect_eq 0 "$rc" "exit status after SIGTERM"
mountpoint -q "$SYS" && fail "still mounted after SIGTERM"
check_daemon_log

note "without -f it daemonizes"
mkdir "$WORK/daemon"
EXTRA_MOUNTS+=("$WORK/daemon")
"$SIMSYS_BIN" "$HOSTS/seed.conf" "$WORK/daemon" || fail "zapfs-simsys (daemon) failed"
mountpoint -q "$WORK/daemon" || fail "no mount after the daemon returned"
expect_cat "$WORK/daemon/bus/ap/ap_max_adapter_id" 63
fusermount3 -u "$WORK/daemon" || fail "fusermount3 -u (daemon) failed"
