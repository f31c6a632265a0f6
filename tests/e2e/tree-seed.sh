#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The vfio-ap document's "Example: Configure AP Matrixes for Three Linux
# Guests" typed into the zapfs tree as plain shell (mv, echo, mkdir, touch,
# ln, rm, cat) on the seed's LPAR, with every listing, link count and
# generated file checked; with ZAPFS_BACKEND=sysfs also against the simulated
# kernel's own files.
. "$(dirname "$0")/lib-tree.sh"

zapfs_mount "$HOSTS/seed.conf"
cd "$MNT" || fail "cannot cd to $MNT"

QUEUES="05.0004 05.0047 05.00ab 05.00ff 06.0004 06.0047 06.00ab 06.00ff"
# shellcheck disable=SC2086 # word splitting of the queue lists is meant
set -- $QUEUES

note "the LPAR as the tree shows it"
expect_has . README status status.json log cards queues pools reservations guests
expect_ls cards 05 06
expect_cat cards/05/type CEX5C
expect_cat cards/06/type CEX5A
expect_cat cards/05/mode CCA-Coproc
expect_cat cards/06/mode Accelerator
expect_ls queues "$@"
expect_ls pools/host "$@" adapters domains
expect_empty pools/vfio
expect_empty guests
expect_empty reservations
expect_cat pools/host/adapters 0-255
expect_cat pools/host/domains 0-255
for q in "$@"; do
	expect_eq 2 "$(stat -c %h "queues/$q")" "link count of host queue $q"
	expect_eq "$(stat -c %i "queues/$q")" "$(stat -c %i "pools/host/$q")" "inode of $q"
done
grep -q 'pool: host' queues/05.0004 || fail "queues/05.0004 does not say 'pool: host': $(cat queues/05.0004)"
expect_kernel_matches

note "step 2: take the queues from the host"
# A single queue cannot move alone while both of its neighbours are in the
# host pool; once adapter 5 is out, domain 4 takes 06.0004 alone.
echo -5 >pools/host/adapters
expect_cat pools/host/adapters 0-4,6-255
expect_ls pools/vfio 05.0004 05.0047 05.00ab 05.00ff
mv pools/host/06.0004 pools/vfio/
expect_cat pools/host/domains 0-3,5-255
expect_cat pools/host/adapters 0-4,6-255
expect_ls pools/vfio 05.0004 05.0047 05.00ab 05.00ff 06.0004
expect_ls pools/host 06.0047 06.00ab 06.00ff adapters domains
# ln moves too: domain 0x47 alone.
ln pools/host/06.0047 pools/vfio/
expect_cat pools/host/domains 0-3,5-70,72-255
expect_ls pools/host 06.00ab 06.00ff adapters domains
# The rest with the seed's masks: adapters 5 and 6, domains 4, 71, 171, 255.
echo 0-4,7-255 >pools/host/adapters
echo -0x47,-0xab,-255 >pools/host/domains
expect_cat pools/host/adapters 0-4,7-255
expect_cat pools/host/domains 0-3,5-70,72-170,172-254
expect_ls pools/vfio "$@"
expect_ls pools/host adapters domains
if [ "$BACKEND" = sysfs ]; then
	expect_cat "$SYS/bus/ap/apmask" 0xf9ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
	expect_cat "$SYS/bus/ap/aqmask" 0xf7fffffffffffffffeffffffffffffffffffffffffeffffffffffffffffffffe
	expect_eq "$QUEUES" "$(list_queues "$SYS/bus/ap/drivers/vfio_ap" | xargs)" "vfio_ap's queues"
fi
grep -q 'pool: vfio' queues/05.0004 || fail "queues/05.0004 does not say 'pool: vfio': $(cat queues/05.0004)"
expect_kernel_matches

note "step 3: three guests"
mkdir guests/Guest1 guests/Guest2 guests/Guest3
expect_ls guests Guest1 Guest2 Guest3
for g in Guest1 Guest2 Guest3; do
	grep -qxE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "guests/$g/uuid" ||
		fail "guests/$g/uuid: '$(cat "guests/$g/uuid")' is not a uuid"
	expect_cat "guests/$g/state" active
	expect_cat "guests/$g/matrix" ""
	expect_has "guests/$g" adapters domains control_domains queues uuid state matrix \
		guest_matrix qemu libvirt.xml mdevctl.json lszcrypt
done
[ "$(cat guests/Guest1/uuid)" != "$(cat guests/Guest2/uuid)" ] || fail "two guests share a uuid"
expect_kernel_matches

note "step 4: the matrices"
# Guest1: two queues; the cross product brings 05.00ab and 06.0004 along.
touch guests/Guest1/queues/05.0004
expect_ls guests/Guest1/queues 05.0004
touch guests/Guest1/queues/06.00ab
expect_ls guests/Guest1/queues 05.0004 05.00ab 06.0004 06.00ab
expect_ls guests/Guest1/adapters 05 06
expect_ls guests/Guest1/domains 0004 00ab
# Guest2: adapter and domain files, and a hard link from queues/.
touch guests/Guest2/adapters/05 guests/Guest2/domains/0047
ln queues/05.00ff guests/Guest2/queues/
expect_ls guests/Guest2/adapters 05
expect_ls guests/Guest2/domains 0047 00ff
# Guest3: queues only.
touch guests/Guest3/queues/06.0047 guests/Guest3/queues/06.00ff
expect_ls guests/Guest3/adapters 06

expect_cat guests/Guest1/matrix "05.0004
05.00ab
06.0004
06.00ab"
expect_cat guests/Guest2/matrix "05.0047
05.00ff"
expect_cat guests/Guest3/matrix "06.0047
06.00ff"
for g in Guest1 Guest2 Guest3; do
	expect_cat "guests/$g/guest_matrix" "$(cat "guests/$g/matrix")"
done
expect_kernel_matches

note "what lszcrypt lists inside each guest"
expect_eq "05 05.0004 05.00ab 06 06.0004 06.00ab" \
	"$(lszcrypt_names guests/Guest1/lszcrypt | xargs)" "Guest1's lszcrypt"
expect_eq "05 05.0047 05.00ff" "$(lszcrypt_names guests/Guest2/lszcrypt | xargs)" \
	"Guest2's lszcrypt"
expect_eq "06 06.0047 06.00ff" "$(lszcrypt_names guests/Guest3/lszcrypt | xargs)" \
	"Guest3's lszcrypt"
expect_eq "05 CEX5C CCA-Coproc
05.0047 CEX5C CCA-Coproc
05.00ff CEX5C CCA-Coproc" "$(lszcrypt_rows guests/Guest2/lszcrypt)" "Guest2's lszcrypt rows"
expect_eq "06 CEX5A Accelerator
06.0047 CEX5A Accelerator
06.00ff CEX5A Accelerator" "$(lszcrypt_rows guests/Guest3/lszcrypt)" "Guest3's lszcrypt rows"

note "qemu, libvirt and mdevctl name the mdev"
for g in Guest1 Guest2 Guest3; do
	uuid=$(cat "guests/$g/uuid")
	if [ "$BACKEND" = sysfs ]; then
		sysfsdev="sysfsdev=$SYS/devices/vfio_ap/matrix/$uuid"
	else
		sysfsdev="sysfsdev=/sys/devices/vfio_ap/matrix/$uuid"
	fi
	grep -qF -- "-device vfio-ap,$sysfsdev" "guests/$g/qemu" ||
		fail "guests/$g/qemu does not name $sysfsdev: $(cat "guests/$g/qemu")"
	grep -qF -- "ap=on" "guests/$g/qemu" || fail "guests/$g/qemu: no ap=on"
	grep -qF "uuid='$uuid'" "guests/$g/libvirt.xml" ||
		grep -qF "uuid=\"$uuid\"" "guests/$g/libvirt.xml" ||
		fail "guests/$g/libvirt.xml does not name $uuid"
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["mdev_type"] == "vfio_ap-passthrough"' \
		"guests/$g/mdevctl.json" || fail "guests/$g/mdevctl.json is not the mdevctl definition"
done
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' status.json ||
	fail "status.json is not JSON"

note "a size that ls -l cached follows a change (the notifier invalidates it)"
# Probe's files are known to the kernel from the listing alone: never looked up.
size_is_content() { [ "$(stat -c %s "$1")" = "$(wc -c <"$1")" ]; }
mkdir guests/Probe
ls -l guests/Probe >/dev/null
size=$(stat -c %s guests/Probe/mdevctl.json)
touch guests/Probe/control_domains/0047
wait_until 5 size_is_content guests/Probe/mdevctl.json ||
	fail "guests/Probe/mdevctl.json: st_size $(stat -c %s guests/Probe/mdevctl.json) after a change, content $(wc -c <guests/Probe/mdevctl.json)"
[ "$(stat -c %s guests/Probe/mdevctl.json)" != "$size" ] ||
	fail "guests/Probe/mdevctl.json did not change with a control domain"
rmdir guests/Probe

note "one inode per queue, a link per place that shows it"
for q in "$@"; do
	case $q in
	05.0004 | 05.00ab | 06.0004 | 06.00ab) g=Guest1 ;;
	05.0047 | 05.00ff) g=Guest2 ;;
	*) g=Guest3 ;;
	esac
	expect_eq 3 "$(stat -c %h "queues/$q")" "link count of $q"
	ino=$(stat -c %i "queues/$q")
	expect_eq "$ino" "$(stat -c %i "pools/vfio/$q")" "inode of pools/vfio/$q"
	expect_eq "$ino" "$(stat -c %i "guests/$g/queues/$q")" "inode of guests/$g/queues/$q"
	expect_eq "../guests/$g" "$(readlink "reservations/$q")" "reservations/$q"
done
expect_ls reservations "$@"
[ "$(stat -c %i queues/05.0004)" != "$(stat -c %i queues/05.0047)" ] ||
	fail "two queues share an inode"
grep -q 'owner: Guest1' queues/05.0004 ||
	fail "queues/05.0004 does not name its owner: $(cat queues/05.0004)"

note "mv renames a guest; its mdev and uuid stay"
uuid3=$(cat guests/Guest3/uuid)
ino3=$(stat -c %i guests/Guest3)
mv guests/Guest3 guests/Guest4
expect_ls guests Guest1 Guest2 Guest4
expect_cat guests/Guest4/uuid "$uuid3"
expect_eq "$ino3" "$(stat -c %i guests/Guest4)" "inode of the renamed guest"
expect_cat guests/Guest4/matrix "06.0047
06.00ff"
expect_eq ../guests/Guest4 "$(readlink reservations/06.0047)" "reservation after the rename"
expect_kernel_matches

note "a guest named by a UUID takes that UUID; control domains alone get a warning"
named=0fc8e9de-6de3-4c44-9ae4-a1ff3a8e4a11
mkdir "guests/$named"
expect_cat "guests/$named/uuid" "$named"
touch "guests/$named/control_domains/00ab"
expect_ls "guests/$named/control_domains" 00ab
expect_cat "guests/$named/matrix" ""
grep -F "guest $named" status | grep -q "control domains but no usage domain" ||
	fail "status has no warning about $named's control domains: $(cat status)"
expect_kernel_matches
if [ "$BACKEND" = sysfs ]; then
	expect_cat "$SYS/devices/vfio_ap/matrix/$named/control_domains" 00ab
fi
rmdir "guests/$named"

note "rm -r and rmdir remove guests; their reservations stay"
uuid2=$(cat guests/Guest2/uuid)
rm -r guests/Guest2 || fail "rm -r guests/Guest2 failed"
expect_ls guests Guest1 Guest4
rmdir guests/Guest4 || fail "rmdir guests/Guest4 failed"
expect_ls guests Guest1
expect_eq ../guests/Guest2 "$(readlink reservations/05.0047)" "reservation of a removed guest"
expect_eq 2 "$(stat -c %h queues/05.0047)" "link count of a queue no guest holds"
if [ "$BACKEND" = sysfs ]; then
	expect_missing "$SYS/devices/vfio_ap/matrix/$uuid2" "$SYS/devices/vfio_ap/matrix/$uuid3"
fi
expect_kernel_matches

if [ "$BACKEND" = sysfs ]; then
	note "an mdev made behind zapfs's back is adopted, named by its UUID"
	adopted=$(new_mdev)
	wait_until "$RESCAN_DEADLINE_S" test -d "guests/$adopted" ||
		fail "the mdev $adopted was not adopted within $RESCAN_DEADLINE_S s"
	expect_cat "guests/$adopted/uuid" "$adopted"
	expect_kernel_matches
	rmdir "guests/$adopted"
	expect_missing "$SYS/devices/vfio_ap/matrix/$adopted"
fi

note "release the claims and give everything back to the host"
rm -r guests/Guest1 || fail "rm -r guests/Guest1 failed"
rm reservations/*
expect_empty reservations
# One queue alone: it takes both of its bits, and moves nothing else.
mv pools/vfio/05.0004 pools/host/
expect_ls pools/host 05.0004 adapters domains
expect_cat pools/host/adapters 0-5,7-255
expect_cat pools/host/domains 0-70,72-170,172-254
expect_kernel_matches
echo 0-255 >pools/host/adapters
echo +4,+0x47,+171,+255 >pools/host/domains
expect_cat pools/host/adapters 0-255
expect_cat pools/host/domains 0-255
expect_ls pools/host "$@" adapters domains
expect_empty pools/vfio
expect_empty guests
expect_kernel_matches

cd / || exit
zapfs_unmount
