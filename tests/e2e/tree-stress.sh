#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Eight shells edit the zapfs tree at once with random operations (mkdir,
# rmdir, rm -r, mv, touch, rm, ln, ln -s, echo into the masks, cat, ls; see
# start_load in lib-tree.sh), a bounded number each, seeded (the seed is
# printed; ZAPFS_SEED=n gives each shell the same operations again, though
# they may interleave otherwise). Afterwards the tree keeps DESIGN §2's
# rules, agrees with itself (listings, link counts, reservations) and, with
# ZAPFS_BACKEND=sysfs, with the simulated kernel's files; and the daemon is
# alive and unmounts cleanly.
. "$(dirname "$0")/lib-tree.sh"

SHELLS=8
OPS_PER_SHELL=${ZAPFS_STRESS_OPS:-150}
# A shell blocked for this long means a hung daemon.
SHELL_DEADLINE_S=120
load_seed

zapfs_mount "$HOSTS/seed.conf"
cd "$MNT" || fail "cannot cd to $MNT"
# Start with every queue available to guests, so that guests get somewhere.
echo -5,-6 >pools/host/adapters

start_load "$SHELLS" "$OPS_PER_SHELL" "$SEED"
for pgid in "${TREE_PGIDS[@]}"; do
	gone_within "$pgid" "$SHELL_DEADLINE_S" ||
		fail "a shell did not finish within ${SHELL_DEADLINE_S}s (seed $SEED)"
done
TREE_PGIDS=()
kill -0 "$ZAPFS_PID" 2>/dev/null || fail "zapfs died under load (seed $SEED)"
succeeded=0
for ((n = 0; n < SHELLS; n++)); do
	succeeded=$((succeeded + $(cat "$WORK/load-$n.ok")))
done
note "$succeeded of $((SHELLS * OPS_PER_SHELL)) operations succeeded; guests: $(guest_names | xargs)"
[ "$succeeded" -gt 0 ] || fail "no operation succeeded (seed $SEED)"
grep -q "refused" log || fail "no refusal in the log after $((SHELLS * OPS_PER_SHELL)) random operations"

note "the rules hold"
expect_invariants

note "the tree agrees with itself"
# in_ranges N RANGES: N is in "0-4,7-255".
in_ranges() {
	local r
	for r in ${2//,/ }; do
		[ "$1" -ge "${r%-*}" ] && [ "$1" -le "${r#*-}" ] && return 0
	done
	return 1
}
adapters=$(cat pools/host/adapters)
domains=$(cat pools/host/domains)
want_host=()
for q in "${LOAD_QUEUES[@]}"; do
	if in_ranges $((16#${q%.*})) "$adapters" && in_ranges $((16#${q#*.})) "$domains"; then
		want_host+=("$q")
	fi
done
expect_eq "${want_host[*]}" "$(list_queues pools/host | xargs)" \
	"pools/host vs its masks ($adapters x $domains)"
expect_eq "${LOAD_QUEUES[*]}" "$( (list_queues pools/host; list_queues pools/vfio) | LC_ALL=C sort | xargs)" \
	"every queue in exactly one pool"
for g in $(guest_names); do
	expect_eq "$(grep -E '^[0-9a-f]{2}\.[0-9a-f]{4}$' "guests/$g/matrix" | xargs)" \
		"$(list_queues "guests/$g/queues" | xargs)" "guests/$g: queues/ vs matrix"
	for q in $(list_queues "guests/$g/queues"); do
		expect_eq "../guests/$g" "$(readlink "reservations/$q")" "reservations/$q of $g's queue"
	done
done
for q in "${LOAD_QUEUES[@]}"; do
	holders=$(all_guest_queues | grep -c "^$q\$" || true)
	expect_eq $((2 + holders)) "$(stat -c %h "queues/$q")" "link count of $q"
done

note "the tree agrees with the kernel"
expect_kernel_matches
if [ "$BACKEND" = sysfs ]; then
	expect_eq "$(list_queues pools/host | xargs)" \
		"$(list_queues "$SYS/bus/ap/drivers/cex4queue" | xargs)" "pools/host vs cex4queue"
	expect_eq "$(list_queues pools/vfio | xargs)" \
		"$(list_queues "$SYS/bus/ap/drivers/vfio_ap" | xargs)" "pools/vfio vs vfio_ap"
fi

cd / || exit
zapfs_unmount
