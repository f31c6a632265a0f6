#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Every refusal of the zapfs tree from the shell: the errno of the one system
# call (tests/tools/tree-try, try-write) AND the sentence the new last line of
# `log` gives, on the seed's LPAR (with ZAPFS_BACKEND=sysfs also a running
# guest, attached through simctl/attach); ids above the maxima of a smaller
# LPAR; then, with ZAPFS_BACKEND=sysfs, a running guest on a 5.15 kernel
# (old.conf). The simulate backend has no control files to attach a guest
# with: it skips the running-guest cases and says so.
. "$(dirname "$0")/lib-tree.sh"

zapfs_mount "$HOSTS/seed.conf"
cd "$MNT" || fail "cannot cd to $MNT"

note "a queue cannot leave the host alone when every mask change moves others"
expect_refused EBUSY 06.0004 rename pools/host/05.0004 pools/vfio/05.0004
expect_empty pools/vfio
expect_cat pools/host/adapters 0-255
expect_cat pools/host/domains 0-255

expect_write pools/host/adapters -5 OK
expect_try OK mkdir guests/g1
expect_try OK mkdir guests/g2
# The kernel answers this one from its cache: no call reaches zapfs.
expect_try EEXIST mkdir guests/g1

note "a queue still in the host pool (EADDRNOTAVAIL)"
expect_refused EADDRNOTAVAIL 06.0004 create guests/g1/queues/06.0004
expect_empty guests/g1/queues
expect_empty guests/g1/adapters
expect_empty guests/g1/domains

note "ids above the machine's maximum (ENODEV): adapter 63"
expect_refused ENODEV "highest adapter id" create guests/g1/adapters/40
expect_refused ENODEV "" create guests/g1/queues/40.0004
# Domain ids end at 255 on every machine: 0100 is well formed but no host has
# it (ENODEV); domains above a smaller maximum are checked on a smaller LPAR below.
expect_refused ENODEV "above 00ff" create guests/g1/domains/0100
expect_refused ENODEV "above 00ff" create guests/g1/control_domains/0100
expect_empty guests/g1/adapters

note "bad names (EINVAL), and the log shows the right spelling"
expect_refused EINVAL "use 05" create guests/g1/adapters/5
expect_refused EINVAL "use 05" create guests/g1/adapters/0x5
expect_refused EINVAL "use 0047" create guests/g1/domains/47
expect_refused EINVAL "use 05.0004" create guests/g1/queues/05.4
expect_refused EINVAL "" mkdir guests/.hidden
expect_refused EINVAL "" mkdir "guests/a b"
expect_refused EINVAL "" symlink /etc reservations/05.0004
expect_ls guests g1 g2
expect_empty guests/g1/adapters

expect_write pools/host/adapters -6 OK
expect_ls pools/host adapters domains
expect_try OK create guests/g1/queues/05.0004
expect_try OK create guests/g1/queues/06.00ab
expect_ls guests/g1/queues 05.0004 05.00ab 06.0004 06.00ab

note "one queue out of a 2x2 matrix (EBUSY)"
expect_refused EBUSY 06.0004 unlink guests/g1/queues/05.0004
expect_log_has 05.00ab
expect_ls guests/g1/queues 05.0004 05.00ab 06.0004 06.00ab

note "cross products (EADDRINUSE)"
expect_try OK create guests/g2/adapters/06
expect_refused EADDRINUSE 06.0004 create guests/g2/domains/0004
expect_log_has g1
expect_refused EADDRINUSE g1 link queues/05.00ab guests/g2/queues/05.00ab
expect_ls guests/g2/adapters 06
expect_empty guests/g2/domains
expect_empty guests/g2/queues

note "a reservation keeps a queue from another guest (EADDRINUSE)"
expect_try OK unlink guests/g1/domains/00ab
expect_ls guests/g1/queues 05.0004 06.0004
expect_eq ../guests/g1 "$(readlink reservations/06.00ab)" "reservation after unassign"
expect_refused EADDRINUSE 06.00ab create guests/g2/domains/00ab
expect_log_has g1
expect_empty guests/g2/domains
# A claim exists already: the kernel says so without asking zapfs.
expect_try EEXIST symlink ../guests/g2 reservations/06.00ab
expect_eq ../guests/g1 "$(readlink reservations/06.00ab)" "reservation after a refused claim"

note "back to the host while a guest holds the queue (EBUSY)"
expect_refused EBUSY g1 rename pools/vfio/05.0004 pools/host/05.0004
before=$(log_seq)
expect_write pools/host/adapters +5 EBUSY
expect_logged "$before" "(EBUSY)" 05.0004 g1
expect_ls pools/host adapters domains
note "the claim cannot be released while its owner holds the queue (EBUSY)"
expect_refused EBUSY g1 unlink reservations/05.0004

if [ "$BACKEND" != sysfs ]; then
	note "SKIP: a running guest on 6.10 needs simctl/attach (sysfs backend only)"
else
	note "a running guest cannot be removed (EBUSY)"
	uuid=$(cat guests/g1/uuid)
	# A guest starting sends no event: zapfs re-reads the kernel before it
	# decides (rule 8), and its periodic rescan updates `state`.
	echo "$uuid" >"$SYS/simctl/attach"
	expect_refused EBUSY g1 rmdir guests/g1
	expect_ls guests g1 g2
	# Kernels from 6.0 on plug changes into a running guest; the log says so.
	expect_try OK create guests/g1/control_domains/0047
	expect_log_has "hot-plugged"
	expect_try OK unlink guests/g1/control_domains/0047
	expect_log_has "hot-unplugged"
	wait_for_content guests/g1/state running "$RESCAN_DEADLINE_S"
	echo "$uuid" >"$SYS/simctl/detach"
	wait_for_content guests/g1/state active "$RESCAN_DEADLINE_S"

	note "a remove that waits for its KVM guest holds up no reader"
	# With no queue, sysfs cannot show the guest run: the kernel's remove
	# waits until the guest lets go, as on a real host.
	expect_try OK mkdir guests/idle
	uuid=$(cat guests/idle/uuid)
	echo "$uuid" >"$SYS/simctl/attach"
	rmdir guests/idle &
	rmdir_pid=$!
	sleep 0.3
	kill -0 "$rmdir_pid" 2>/dev/null || fail "rmdir of a guest in use did not wait"
	# (guests/ itself stays locked by the kernel for the rmdir: other paths are read)
	timeout 5 cat status >/dev/null || fail "cat status waited for a blocked remove"
	timeout 5 cat guests/g1/matrix >/dev/null || fail "cat guests/g1/matrix waited for a blocked remove"
	timeout 5 ls pools/host >/dev/null || fail "ls pools/host waited for a blocked remove"
	echo "$uuid" >"$SYS/simctl/detach"
	wait "$rmdir_pid" || fail "rmdir guests/idle failed once its guest let go"
	expect_ls guests g1 g2
fi

note "back to the host while a removed guest's reservation stands (EBUSY)"
expect_try OK rmdir guests/g1
expect_ls guests g2
expect_ls reservations 05.0004 05.00ab 06.0004 06.00ab
before=$(log_seq)
expect_write pools/host/adapters +6 EBUSY
expect_logged "$before" "(EBUSY)" 06.0004 g1
expect_ls pools/host adapters domains
expect_try OK unlink reservations/06.0004
expect_try OK unlink reservations/06.00ab
expect_write pools/host/adapters +6 OK
expect_ls pools/host 06.0004 06.0047 06.00ab 06.00ff adapters domains
expect_kernel_matches
expect_invariants

cd / || exit
zapfs_unmount

note "ids above a smaller machine's maximum (ENODEV): adapter 0f, domain 007f"
cat >"$WORK/small.conf" <<EOF
kernel 6.10
max-adapter 15
max-domain 0x7f
card 0x05 CEX5C
usage-domains 0x04 0x47
EOF
zapfs_mount "$WORK/small.conf"
cd "$MNT" || fail "cannot cd to $MNT"
expect_try OK mkdir guests/g
expect_refused ENODEV "highest domain id, 007f" create guests/g/domains/0080
expect_refused ENODEV "highest domain id, 007f" create guests/g/control_domains/00ff
expect_refused ENODEV "" create guests/g/queues/05.00ab
expect_refused ENODEV "highest adapter id, 0f" create guests/g/adapters/10
expect_try OK create guests/g/domains/007f
expect_ls guests/g/domains 007f
expect_kernel_matches
cd / || exit
zapfs_unmount

if [ "$BACKEND" != sysfs ]; then
	note "SKIP: a running guest on a 5.15 kernel needs simctl/attach (sysfs backend only)"
	exit 0
fi

note "5.15: no change to a running guest (EBUSY)"
zapfs_mount "$HOSTS/old.conf"
cd "$MNT" || fail "cannot cd to $MNT"
expect_cat "$SYS/simctl/kernel" 5.15
expect_write pools/host/adapters -5,-6 OK
expect_try OK mkdir guests/r
expect_try OK create guests/r/queues/05.0004
uuid=$(cat guests/r/uuid)
echo "$uuid" >"$SYS/simctl/attach"
# zapfs cannot see a 5.15 guest run (no queue status): the kernel refuses,
# and the log says why (rule 5) and what to do.
expect_refused EBUSY "the kernel refused assign_domain 0x47" create guests/r/domains/0047
expect_log_has "guest r is in use by a KVM guest" "stop the KVM guest first"
expect_refused EBUSY "the kernel refused assign_adapter 0x6" create guests/r/adapters/06
expect_refused EBUSY "the kernel refused unassign_adapter 0x5" unlink guests/r/adapters/05
expect_cat guests/r/matrix 05.0004
expect_same_file guests/r/matrix "$SYS/devices/vfio_ap/matrix/$uuid/matrix"
echo "$uuid" >"$SYS/simctl/detach"
expect_try OK create guests/r/domains/0047
expect_cat guests/r/matrix "05.0004
05.0047"
expect_kernel_matches
cd / || exit
zapfs_unmount
