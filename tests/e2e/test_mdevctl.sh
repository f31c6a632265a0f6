#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mdevctl (1.2, the Debian package) reads and drives the simulated tree. In a
# private mount namespace the mount is bind-mounted over /sys and a scratch
# directory over /etc/mdevctl.d, so nothing of the machine is touched.
#
# What mdevctl 1.2 reads: `list` walks /sys/bus/mdev/devices, canonicalizes
# each entry (the parent is the basename of the device's directory:
# "matrix") and its mdev_type link; attributes of devices it did not define
# come from a callout's "get attributes". `types` walks /sys/class/mdev_bus/*
# /mdev_supported_types/* and reads available_instances, device_api, name and
# description (if present). `start` checks available_instances, writes the
# UUID to create and each attribute to its file; `stop` writes 1 to remove.
. "$(dirname "$0")/lib.sh"

command -v mdevctl >/dev/null || fail "mdevctl is not installed (Debian package mdevctl)"

simsys_mount "$HOSTS/seed.conf"
echo -5,-6 > "$SYS/bus/ap/apmask"
echo -4,-0x47,-0xab,-0xff > "$SYS/bus/ap/aqmask"
u1=$(new_mdev)
echo 5 > "$SYS/devices/vfio_ap/matrix/$u1/assign_adapter"
echo 4 > "$SYS/devices/vfio_ap/matrix/$u1/assign_domain"
echo 4 > "$SYS/devices/vfio_ap/matrix/$u1/assign_control_domain"

ETC=$WORK/mdevctl.d
mkdir -p "$ETC/scripts.d/callouts" "$ETC/scripts.d/notifiers"

# A get-attributes callout, as s390-tools ships for vfio_ap: the attributes
# of an active matrix device, read from (the simulated) /sys.
cat > "$ETC/scripts.d/callouts/ap-attributes" <<'CALLOUT'
#!/bin/bash
while getopts "t:e:a:s:u:p:" opt; do
	case $opt in
	t) type=$OPTARG ;; e) event=$OPTARG ;; a) action=$OPTARG ;; u) uuid=$OPTARG ;;
	*) ;;
	esac
done
[ "$type" = vfio_ap-passthrough ] || exit 2
[ "$event" = get ] && [ "$action" = attributes ] || exit 0
dir=/sys/devices/vfio_ap/matrix/$uuid
attrs=()
for a in $(sed -n 's/^\([0-9a-f][0-9a-f]\)\..*/\1/p' "$dir/matrix" | sort -u); do
	attrs+=("{\"assign_adapter\":\"0x$a\"}")
done
for d in $(sed -n 's/^[0-9a-f]*\.\([0-9a-f]\{4\}\)$/\1/p' "$dir/matrix" | sort -u); do
	attrs+=("{\"assign_domain\":\"0x$d\"}")
done
for c in $(cat "$dir/control_domains"); do
	attrs+=("{\"assign_control_domain\":\"0x$c\"}")
done
(IFS=,; echo "[${attrs[*]}]")
CALLOUT
chmod 755 "$ETC/scripts.d/callouts/ap-attributes"

# in_ns CMD...: runs CMD with the mount as /sys and the scratch /etc/mdevctl.d.
in_ns() {
	unshare -m --propagation private bash -c \
		'mount --bind "$1" /sys && mount --bind "$2" /etc/mdevctl.d && shift 2 && exec "$@"' \
		in_ns "$SYS" "$ETC" "$@"
}

note "mdevctl types"
out=$(in_ns mdevctl types) || fail "mdevctl types failed"
expect_eq "matrix
  vfio_ap-passthrough
    Available instances: 65535
    Device API: vfio-ap
    Name: VFIO AP Passthrough Device" "$out" "mdevctl types"

note "mdevctl list: an mdev made through sysfs, with its attributes"
out=$(in_ns mdevctl list) || fail "mdevctl list failed"
expect_eq "$u1 matrix vfio_ap-passthrough manual" "$out" "mdevctl list"
out=$(in_ns mdevctl list -v) || fail "mdevctl list -v failed"
expect_eq "$u1 matrix vfio_ap-passthrough manual
  Attrs:
    @{0}: {\"assign_adapter\":\"0x05\"}
    @{1}: {\"assign_domain\":\"0x0004\"}
    @{2}: {\"assign_control_domain\":\"0x0004\"}" "$out" "mdevctl list -v"

note "mdevctl start/stop drive the tree"
u2=$(uuidgen)
in_ns mdevctl start -u "$u2" -p matrix -t vfio_ap-passthrough || fail "mdevctl start failed"
expect_has "$SYS/devices/vfio_ap/matrix" "$u2"
expect_cat "$SYS/$MDEV_TYPE_DIR/available_instances" 65534
out=$(in_ns mdevctl list | grep . | sort)
expect_eq "$(printf '%s matrix vfio_ap-passthrough manual\n' "$u1" "$u2" | sort)" "$out" \
	"mdevctl list after start"

note "a defined device with attributes: start writes them"
u3=$(uuidgen)
in_ns mdevctl define -u "$u3" -p matrix -t vfio_ap-passthrough || fail "mdevctl define failed"
in_ns mdevctl modify -u "$u3" --addattr=assign_adapter --value=6 || fail "modify adapter"
in_ns mdevctl modify -u "$u3" --addattr=assign_domain --value=0x47 || fail "modify domain"
in_ns mdevctl modify -u "$u3" --addattr=assign_domain --value=0xff || fail "modify domain"
in_ns mdevctl start -u "$u3" || fail "mdevctl start (defined) failed"
expect_cat "$SYS/devices/vfio_ap/matrix/$u3/matrix" "06.0047
06.00ff"
out=$(in_ns mdevctl list -d) || fail "mdevctl list --defined failed"
expect_eq "$u3 matrix vfio_ap-passthrough manual (active)" "$out" "mdevctl list --defined"
# A definition whose matrix the kernel refuses: start fails and leaves no mdev.
u4=$(uuidgen)
in_ns mdevctl define -u "$u4" -p matrix -t vfio_ap-passthrough || fail "mdevctl define failed"
in_ns mdevctl modify -u "$u4" --addattr=assign_adapter --value=5 || fail "modify adapter"
in_ns mdevctl modify -u "$u4" --addattr=assign_domain --value=4 || fail "modify domain"
in_ns mdevctl start -u "$u4" 2>/dev/null && fail "mdevctl start of an overlapping matrix succeeded"
expect_missing "$SYS/devices/vfio_ap/matrix/$u4"

for u in "$u2" "$u3"; do
	in_ns mdevctl stop -u "$u" || fail "mdevctl stop $u failed"
	expect_missing "$SYS/devices/vfio_ap/matrix/$u" "$SYS/bus/mdev/devices/$u"
done
out=$(in_ns mdevctl list)
expect_eq "$u1 matrix vfio_ap-passthrough manual" "$out" "mdevctl list after stop"

simsys_unmount
