#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The vfio-ap document's "Example: Configure AP Matrixes for Three Linux
# Guests", replayed as plain shell on the seed's LPAR (contrib/hosts/seed.conf,
# kernel 6.10) through a zapfs-simsys mount, with every output and every
# refused write's errno checked.
. "$(dirname "$0")/lib.sh"

simsys_mount "$HOSTS/seed.conf"
cd "$SYS"

ALL_ONES=0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
QUEUES="05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff"

note "the LPAR as the AP bus shows it"
expect_cat bus/ap/ap_max_adapter_id 63
expect_cat bus/ap/ap_max_domain_id 255
expect_cat bus/ap/apmask "$ALL_ONES"
expect_cat bus/ap/aqmask "$ALL_ONES"
expect_ls bus/ap/devices $QUEUES card05 card06
expect_cat bus/ap/devices/card05/type CEX5C
expect_cat bus/ap/devices/card06/type CEX5A
expect_cat bus/ap/devices/card05/hwtype 11
expect_eq "$QUEUES" "$(list_queues bus/ap/drivers/cex4queue | xargs)" "cex4queue before"
expect_eq "" "$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap before"

note "step 2: secure the queues for vfio_ap"
echo -5,-6 > bus/ap/apmask
echo -4,-0x47,-0xab,-0xff > bus/ap/aqmask
expect_cat bus/ap/apmask 0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_cat bus/ap/aqmask 0xf7fffffffffffffffeffffffffffffffffffffffffeffffffffffffffffffffe
expect_eq "$QUEUES" "$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap after the masks"
expect_eq "" "$(list_queues bus/ap/drivers/cex4queue | xargs)" "cex4queue after the masks"
expect_eq vfio_ap "$(basename "$(readlink bus/ap/devices/05.0004/driver)")" "05.0004 driver"
expect_cat bus/ap/devices/05.0004/status unassigned
expect_cat bus/ap/devices/05.0004/request_count -
# The driver has no business with the card: cards stay with cex4card.
expect_eq cex4card "$(basename "$(readlink bus/ap/devices/card05/driver)")" "card05 driver"
# Clearing mask bits again changes nothing and is accepted.
expect_write bus/ap/apmask -5 OK
expect_write bus/ap/apmask "-5 " EINVAL

note "step 3: three mediated devices"
types=$MDEV_TYPE_DIR
expect_cat "$types/name" "VFIO AP Passthrough Device"
expect_cat "$types/device_api" vfio-ap
expect_cat "$types/available_instances" 65536
u1=$(new_mdev)
u2=$(new_mdev)
u3=$(new_mdev)
expect_cat "$types/available_instances" 65533
expect_eq "$(printf '%s\n' "$u1" "$u2" "$u3" | sort | xargs)" "$(list_mdevs | xargs)" "mdevs"
expect_has "$types/devices" "$u1" "$u2" "$u3"
expect_write "$types/create" "$u1" EEXIST
expect_write "$types/create" "not-a-uuid" EINVAL

m1=devices/vfio_ap/matrix/$u1
m2=devices/vfio_ap/matrix/$u2
m3=devices/vfio_ap/matrix/$u3
expect_has "$m1" assign_adapter assign_control_domain assign_domain matrix \
	unassign_adapter unassign_control_domain unassign_domain \
	guest_matrix control_domains ap_config remove mdev_type driver subsystem
expect_cat "$m1/matrix" ""
expect_eq 200 "$(stat -c %a "$m1/assign_adapter")" "assign_adapter mode"
expect_eq 444 "$(stat -c %a "$m1/matrix")" "matrix mode"

note "step 4: Guest1's matrix"
echo 5 > "$m1/assign_adapter"
echo 6 > "$m1/assign_adapter"
echo 4 > "$m1/assign_domain"
echo 0xab > "$m1/assign_domain"
expect_cat "$m1/matrix" "05.0004
05.00ab
06.0004
06.00ab"
expect_cat "$m1/guest_matrix" "$(cat "$m1/matrix")"
expect_cat bus/ap/devices/05.0004/status assigned
expect_cat bus/ap/devices/05.0047/status unassigned

note "Guest2 and Guest3"
echo 5 > "$m2/assign_adapter"
echo 0x47 > "$m2/assign_domain"
echo 0xff > "$m2/assign_domain"
echo 6 > "$m3/assign_adapter"
echo 0x47 > "$m3/assign_domain"
echo 0xff > "$m3/assign_domain"
expect_cat "$m2/matrix" "05.0047
05.00ff"
expect_cat "$m3/matrix" "06.0047
06.00ff"
# What lszcrypt inside each guest will list comes from these views.
expect_cat "$m2/guest_matrix" "05.0047
05.00ff"
expect_cat "$m3/guest_matrix" "06.0047
06.00ff"

note "refusals, with the kernel's errnos"
# 05.0004 belongs to Guest1.
expect_write "$m2/assign_domain" 4 EADDRINUSE
# Adapter 6 would give Guest2 06.0047 and 06.00ff, Guest3's.
expect_write "$m2/assign_adapter" 6 EADDRINUSE
expect_cat "$m2/matrix" "05.0047
05.00ff"
# Ids above the machine's maxima (63 adapters, 255 domains).
expect_write "$m1/assign_adapter" 64 ENODEV
expect_write "$m1/assign_domain" 256 ENODEV
expect_write "$m1/assign_control_domain" 0x100 ENODEV
expect_write "$m1/unassign_adapter" 64 ENODEV
expect_write "$m1/assign_adapter" 08 EINVAL
expect_write "$m1/assign_adapter" " 5" EINVAL
# 07.0005 is in the host pool (adapter 7 and domain 5 are in both masks).
u4=$(new_mdev)
m4=devices/vfio_ap/matrix/$u4
expect_write "$m4/assign_adapter" 7 OK
expect_write "$m4/assign_domain" 5 EADDRNOTAVAIL
expect_cat "$m4/matrix" "07."
# Giving a guest's queue back to the host: refused while assigned (6.0+).
# The kernel checks the APQNs the write would move: apmask +5 alone moves
# none (domains 4, 0x47, 0xab and 0xff are still out of aqmask), so it is
# accepted; aqmask +4 then would move 05.0004, Guest1's: EBUSY.
expect_write bus/ap/apmask +5 OK
expect_eq "$QUEUES" "$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap after apmask +5"
expect_write bus/ap/aqmask +4 EBUSY
expect_cat bus/ap/aqmask 0xf7fffffffffffffffeffffffffffffffffffffffffeffffffffffffffffffffe
expect_write bus/ap/apmask -5 OK
# Domain 0xab back to the host forms no host queue of a guest (adapters 5
# and 6 stay out of apmask): accepted.
expect_write bus/ap/aqmask +0xab OK
expect_write bus/ap/aqmask -0xab OK
expect_cat bus/ap/apmask 0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
expect_eq "$QUEUES" "$(list_queues bus/ap/drivers/vfio_ap | xargs)" "vfio_ap after EBUSY"

note "control domains: shared, no validation"
echo 0xab > "$m1/assign_control_domain"
echo 0xab > "$m2/assign_control_domain"
echo 4 > "$m1/assign_control_domain"
expect_cat "$m1/control_domains" "0004
00ab"
expect_cat "$m2/control_domains" 00ab
expect_cat "$m1/ap_config" "0x0600000000000000000000000000000000000000000000000000000000000000,0x0800000000000000000000000000000000000000001000000000000000000000,0x0800000000000000000000000000000000000000001000000000000000000000"

note "the mdev in the mdev bus"
expect_eq "$(readlink -f "$SYS")/devices/vfio_ap/matrix/$u1" \
	"$(readlink -f "bus/mdev/devices/$u1")" "readlink -f bus/mdev/devices/$u1"
expect_eq vfio_ap-passthrough "$(basename "$(readlink -f "$m1/mdev_type")")" "mdev_type"
expect_eq "$(readlink -f "$SYS")/devices/vfio_ap/matrix" \
	"$(readlink -f class/mdev_bus/matrix)" "class/mdev_bus/matrix"

note "a running guest: queue status, hot unplug"
echo "$u1" > simctl/attach
expect_cat bus/ap/devices/05.0004/status "in use"
echo 0xab > "$m1/unassign_domain"
expect_cat "$m1/matrix" "05.0004
06.0004"
expect_cat "$m1/guest_matrix" "05.0004
06.0004"
expect_cat bus/ap/devices/05.00ab/status unassigned
echo "$u1" > simctl/detach
expect_cat bus/ap/devices/05.0004/status assigned

note "remove"
# While a guest holds the mdev, remove blocks until the guest lets go; the
# mount keeps answering meanwhile (multithreaded).
echo "$u3" > simctl/attach
echo 1 > "$m3/remove" &
remover=$!
sleep 0.3
kill -0 "$remover" 2>/dev/null || fail "remove did not block while the guest runs"
expect_cat "$m1/matrix" "05.0004
06.0004"
echo "$u3" > simctl/detach
rc=0; reap_within "$remover" 5 || rc=$?
expect_eq 0 "$rc" "blocked remove after detach"
expect_missing "$m3" "bus/mdev/devices/$u3" "$types/devices/$u3"
expect_write "$m2/remove" 0 OK
expect_has devices/vfio_ap/matrix "$u2"
for u in "$u1" "$u2" "$u4"; do
	echo 1 > "devices/vfio_ap/matrix/$u/remove"
done
expect_eq "" "$(list_mdevs | xargs)" "mdevs after remove"
expect_cat "$types/available_instances" 65536

note "with no guest holding them, the queues go back to the host"
expect_write bus/ap/apmask +5,+6 OK
expect_write bus/ap/aqmask +4,+0x47,+0xab,+0xff OK
expect_cat bus/ap/apmask "$ALL_ONES"
expect_eq "$QUEUES" "$(list_queues bus/ap/drivers/cex4queue | xargs)" "cex4queue at the end"
expect_cat bus/ap/devices/05.0004/online 1

cd /
simsys_unmount
