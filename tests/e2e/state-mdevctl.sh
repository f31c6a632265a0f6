#!/bin/bash
# SPDX-License-Identifier: MIT
#
# --mdevctl: zapfs keeps DIR/matrix/<uuid> of every guest byte for byte as
# mdevctl 1.2 writes it itself (checked against `mdevctl define` in a private
# mount namespace), removes it with the guest, and at start takes the vfio_ap
# definitions it finds as guests named by their UUID, re-created if missing.
# The guest's libvirt.xml (inside a domain) and nodedev.xml validate with
# libvirt's schemas.
. "$(dirname "$0")/lib-state.sh"

command -v mdevctl >/dev/null || fail "mdevctl is not installed (Debian package mdevctl)"
command -v virt-xml-validate >/dev/null ||
	fail "virt-xml-validate is not installed (Debian package libvirt-clients)"

MDC=$WORK/mdevctl.d
mkdir -p "$MDC/scripts.d/callouts" "$MDC/scripts.d/notifiers"
state_mount "$HOSTS/seed.conf" --mdevctl-dir "$MDC"
cd "$MNT"
echo -5,-6 >pools/host/adapters
echo -4,-0x47,-0xab,-0xff >pools/host/domains

note "a guest's definition is kept in step"
mkdir guests/web1
u1=$(cat guests/web1/uuid)
expect_same_file guests/web1/mdevctl.json "$MDC/matrix/$u1"
touch guests/web1/queues/05.0004 guests/web1/control_domains/00ab
expect_same_file guests/web1/mdevctl.json "$MDC/matrix/$u1"
grep -q '"assign_control_domain": "171"' "$MDC/matrix/$u1" ||
	fail "no control domain in $(cat "$MDC/matrix/$u1")"
expect_eq 644 "$(stat -c %a "$MDC/matrix/$u1")" "mode of the definition"
mv guests/web1 guests/www
expect_same_file guests/www/mdevctl.json "$MDC/matrix/$u1"

note "mdevctl writes the same bytes for the same definition"
mine=$WORK/mdevctl-own
mkdir -p "$mine/scripts.d/callouts" "$mine/scripts.d/notifiers"
unshare -m --propagation private bash -c \
	'mount --bind "$1" /etc/mdevctl.d && mdevctl define -u "$2" -p matrix --jsonfile "$3"' \
	define "$mine" "$u1" "$MNT/guests/www/mdevctl.json" || fail "mdevctl define failed"
expect_same_file "$MDC/matrix/$u1" "$mine/matrix/$u1"
out=$(unshare -m --propagation private bash -c \
	'mount --bind "$1" /etc/mdevctl.d && mdevctl list -d -v' list "$MDC") ||
	fail "mdevctl list -d failed"
expect_eq "$u1 matrix vfio_ap-passthrough auto
  Attrs:
    @{0}: {\"assign_adapter\":\"5\"}
    @{1}: {\"assign_domain\":\"4\"}
    @{2}: {\"assign_control_domain\":\"171\"}" "$out" "mdevctl list -d -v"

note "libvirt's schemas accept libvirt.xml (in a domain) and nodedev.xml"
{
	echo "<domain type='kvm'><name>www</name><memory unit='KiB'>1048576</memory>"
	echo "<os><type arch='s390x' machine='s390-ccw-virtio'>hvm</type></os><devices>"
	cat guests/www/libvirt.xml
	echo "</devices></domain>"
} >"$WORK/domain.xml"
virt-xml-validate "$WORK/domain.xml" domain >/dev/null || fail "libvirt.xml does not validate"
cp guests/www/nodedev.xml "$WORK/nodedev.xml"
virt-xml-validate "$WORK/nodedev.xml" nodedev >/dev/null || fail "nodedev.xml does not validate"
grep -q "<uuid>$u1</uuid>" "$WORK/nodedev.xml" || fail "nodedev.xml does not name $u1"

note "removing the guest removes its definition"
rmdir guests/www
[ ! -e "$MDC/matrix/$u1" ] || fail "$MDC/matrix/$u1 outlives its guest"

note "definitions made by mdevctl become guests at start, re-created if missing"
u2=4d4f0e5e-1b7a-4c4e-9b0e-1e2d3c4b5a69
cat >"$MDC/matrix/$u2" <<'JSON'
{
  "mdev_type": "vfio_ap-passthrough",
  "start": "auto",
  "attrs": [
    {
      "assign_adapter": "0x06"
    },
    {
      "assign_domain": "0xff"
    }
  ]
}
JSON
echo '{"mdev_type": "vfio_ap-passthrough", "attrs": [{"assign_queue": "1"}]}' \
	>"$MDC/matrix/0a0a0a0a-0000-4000-8000-000000000000"
echo '{"mdev_type": "i915-GVTg_V5_4", "start": "auto", "attrs": []}' \
	>"$MDC/matrix/0b0b0b0b-0000-4000-8000-000000000000"
cd /
zapfs_stop
zapfs_start
expect_ls "$MNT/guests" "$u2"
expect_cat "$MNT/guests/$u2/state" active
expect_cat "$MNT/guests/$u2/matrix" 06.00ff
expect_log_has_line "mdevctl: defined mdev $u2 is guest $u2"
expect_log_has_line "0a0a0a0a-0000-4000-8000-000000000000: attribute 'assign_queue' is not one zapfs can keep; not imported"
expect_log_has_line "re-create guest $u2: done"
grep -q "^uuid $u2$" "$STATE/guests/$u2.conf" || fail "the imported guest is not saved"
expect_eq ../guests/$u2 "$(readlink "$MNT/reservations/06.00ff")" "the imported guest's reservation"
# mdevctl's own file is left as mdevctl wrote it until the guest changes
grep -q '"0x06"' "$MDC/matrix/$u2" || fail "the imported definition was rewritten"
touch "$MNT/guests/$u2/control_domains/00ff"
expect_same_file "$MNT/guests/$u2/mdevctl.json" "$MDC/matrix/$u2"
expect_kernel_matches
expect_state_matches

zapfs_unmount
