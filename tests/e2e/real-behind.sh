#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Changes made behind zapfs's back, with the sysfs files of a zapfs-simsys
# mount as another tool (or an admin with echo) makes them: an mdev created
# and removed, a domain assigned, the apmask written, a card taken offline
# and out of the configuration. Each shows in the tree within the rescan
# interval, and nothing the kernel cached before the change stays stale:
# every name and file is looked at (stat, ls, cat) before the change, so
# that the kernel caches it for the whole hour zapfs allows, and again
# after it.
#
# Needs the sysfs backend (a simulator in zapfs's own process has no files
# to change behind its back).

# shellcheck source=tests/e2e/lib-tree.sh
. "$(dirname "$0")/lib-tree.sh"

[ "$BACKEND" = sysfs ] || fail "this test needs ZAPFS_BACKEND=sysfs"

RESCAN_S=1
# The interval, plus a refresh that may be under way when the change lands.
DEADLINE_S=$((RESCAN_S + 4))
MATRIX=$SYS/devices/vfio_ap/matrix

# wait_until WHAT COMMAND...: COMMAND succeeds within DEADLINE_S seconds.
wait_until() {
	local what=$1 deadline=$((SECONDS + DEADLINE_S))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || fail "$what: not seen within ${DEADLINE_S}s"
		sleep 0.05
	done
}

is_dir() { [ -d "$1" ]; }
is_absent() { [ ! -e "$1" ]; }
reads() { [ "$(cat "$1")" = "$2" ]; }
# ls on purpose: a directory listing is what the kernel caches apart.
# shellcheck disable=SC2010
lists() { LC_ALL=C ls -1 "$1" | grep -qx "$2"; }
# shellcheck disable=SC2010
lists_not() { ! LC_ALL=C ls -1 "$1" | grep -qx "$2"; }

# Looks at a path so that the kernel caches its entry (or its absence).
look() { stat "$@" >/dev/null 2>&1 || true; }

zapfs_mount "$HOSTS/seed.conf" --rescan "$RESCAN_S"
cd "$MNT"

note "an mdev created with the sysfs files is adopted, named by its UUID"
U=$(uuidgen)
U2=$(uuidgen)
look "guests/$U" "guests/$U2"
ls guests >/dev/null
echo "$U" >"$SYS/$MDEV_TYPE_DIR/create"
echo "$U2" >"$SYS/$MDEV_TYPE_DIR/create"
wait_until "guests/$U" is_dir "guests/$U"
wait_until "guests/$U2" is_dir "guests/$U2"
wait_until "ls guests" lists guests "$U"
expect_cat "guests/$U/uuid" "$U"
expect_cat "guests/$U/state" "active"
grep -q "guest $U appeared" log || fail "log does not report guest $U: $(cat log)"

note "a domain assigned with echo shows in the guest's files"
look "guests/$U/domains/0047"
ls "guests/$U/domains" >/dev/null
cat "guests/$U/matrix" >/dev/null
echo 0x47 >"$MATRIX/$U/assign_domain"
wait_until "guests/$U/domains/0047" lists "guests/$U/domains" 0047
[ -e "guests/$U/domains/0047" ] || fail "guests/$U/domains/0047: stale negative entry"
expect_same_file "guests/$U/matrix" "$MATRIX/$U/matrix"
grep -q "guest $U changed" log || fail "log does not report the change of $U: $(cat log)"

note "an adopted guest can be renamed; its mdev stays"
mv "guests/$U" guests/web1
expect_cat guests/web1/uuid "$U"
[ -d "$MATRIX/$U" ] || fail "the mdev left with the rename"
expect_missing "guests/$U"

note "an apmask write moves adapter 5's queues to the vfio pool"
look pools/host/05.0004 pools/vfio/05.0004
ls pools/host pools/vfio >/dev/null
expect_cat pools/host/adapters "0-255"
expect_write "$SYS/bus/ap/apmask" "-5" OK
wait_until "pools/host/adapters" reads pools/host/adapters "0-4,6-255"
wait_until "pools/vfio/05.0004" lists pools/vfio 05.0004
[ -e pools/vfio/05.0004 ] || fail "pools/vfio/05.0004: stale negative entry"
expect_missing pools/host/05.0004
lists_not pools/host 05.0004 || fail "ls pools/host still shows 05.0004"
grep -qx "pool: vfio" queues/05.0004 || fail "queues/05.0004: $(cat queues/05.0004)"

note "a card taken offline, then out of the configuration"
expect_cat cards/06/online 1
expect_cat cards/06/config 1
stat queues/06.0004 >/dev/null
grep -qx "state: online" queues/06.0004 || fail "queues/06.0004: $(cat queues/06.0004)"
echo 0 >"$SYS/devices/ap/card06/online"
wait_until "cards/06/online" reads cards/06/online 0
grep -qx "state: offline" queues/06.0004 || fail "queues/06.0004 after offline: $(cat queues/06.0004)"
echo 0 >"$SYS/devices/ap/card06/config"
wait_until "cards/06/config" reads cards/06/config 0
grep -qx "state: deconfig" queues/06.0004 || fail "queues/06.0004 after deconfig: $(cat queues/06.0004)"
echo 1 >"$SYS/devices/ap/card06/config"
echo 1 >"$SYS/devices/ap/card06/online"
wait_until "cards/06/online back" reads cards/06/online 1

note "a KVM guest starting and stopping (no uevent either) shows in state"
# sysfs shows a guest at work through its queues' status: give it one
echo 5 >"$MATRIX/$U2/assign_adapter"
echo 4 >"$MATRIX/$U2/assign_domain"
wait_until "guests/$U2/queues/05.0004" lists "guests/$U2/queues" 05.0004
expect_cat "guests/$U2/state" active
echo "$U2" >"$SYS/simctl/attach"
wait_until "guests/$U2/state running" reads "guests/$U2/state" running
echo "$U2" >"$SYS/simctl/detach"
wait_until "guests/$U2/state active" reads "guests/$U2/state" active

note "mdevs removed with the sysfs files: named ones go missing, unnamed ones go"
look "guests/$U2/uuid"
ls guests >/dev/null
expect_cat guests/web1/state active
echo 1 >"$MATRIX/$U/remove"
echo 1 >"$MATRIX/$U2/remove"
wait_until "guests/$U2 removed" is_absent "guests/$U2"
wait_until "ls guests without $U2" lists_not guests "$U2"
wait_until "guests/web1 missing" reads guests/web1/state missing
grep -q "guest $U2 is gone" log || fail "log does not report $U2 gone: $(cat log)"
grep -q "guest web1 is missing" status || fail "status does not warn about web1: $(cat status)"

note "the tree and the kernel agree"
rmdir guests/web1
expect_kernel_matches
expect_invariants
cd /
zapfs_unmount
