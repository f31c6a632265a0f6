#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The seed LPAR on a 5.15 kernel (contrib/hosts/old.conf): no hot plug (EBUSY
# for any assignment change while a guest runs), assignments only of queues
# bound to vfio_ap, no guest_matrix, and no in_use check when the masks give
# a guest's queues back to the host.
. "$(dirname "$0")/lib.sh"

simsys_mount "$HOSTS/old.conf"
cd "$SYS"

expect_cat simctl/kernel 5.15
echo -5,-6 > bus/ap/apmask
echo -4,-0x47,-0xab,-0xff > bus/ap/aqmask
expect_eq "05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff" \
	"$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap queues"

u1=$(new_mdev)
m1=devices/vfio_ap/matrix/$u1
expect_missing "$m1/guest_matrix" "$m1/ap_config"
expect_has "$m1" assign_adapter assign_domain assign_control_domain matrix control_domains remove

note "assignments need queues bound to vfio_ap"
# No queue of adapter 7 exists at all.
expect_write "$m1/assign_adapter" 7 EADDRNOTAVAIL
echo 5 > "$m1/assign_adapter"
echo 4 > "$m1/assign_domain"
# Domain 5 has no queue bound to vfio_ap.
expect_write "$m1/assign_domain" 5 EADDRNOTAVAIL
expect_write "$m1/assign_adapter" 64 ENODEV
expect_cat "$m1/matrix" "05.0004"

note "a running guest: every change is EBUSY"
echo "$u1" > simctl/attach
expect_write "$m1/assign_domain" 0xab EBUSY
expect_write "$m1/unassign_adapter" 5 EBUSY
expect_write "$m1/assign_control_domain" 4 EBUSY
expect_cat "$m1/matrix" "05.0004"

note "no in_use check: the masks take the running guest's queue back"
expect_write bus/ap/apmask +5 OK
expect_cat bus/ap/apmask 0xfdffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_write bus/ap/aqmask +4 OK
expect_eq "05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff" \
	"$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap queues after the masks"
expect_eq 05.0004 "$(list_queues bus/ap/drivers/cex4queue | xargs)" "cex4queue after the masks"
expect_cat bus/ap/devices/05.0004/online 1
# The assignment stays what the admin wrote.
expect_cat "$m1/matrix" "05.0004"

note "after the guest stops"
echo "$u1" > simctl/detach
expect_write "$m1/unassign_adapter" 5 OK
expect_cat "$m1/matrix" ".0004"
echo 1 > "$m1/remove"
expect_missing "$m1"

cd /
simsys_unmount
