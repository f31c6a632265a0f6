#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The benchmark still works: run-bench on a 16 x 16 LPAR with a short budget
# per operation, so that CI proves every operation runs on the three trees
# and the table comes out whole. It asserts no timing.
set -euo pipefail

SOURCE_ROOT=${ZAPFS_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_ROOT=${ZAPFS_BUILD_ROOT:?ZAPFS_BUILD_ROOT must name the build directory}
WORK=$(mktemp -d /tmp/zapfs-bench-smoke.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cat >"$WORK/small.conf" <<'HOST'
kernel 6.10
max-adapter 15
max-domain 15
card 0-15 CEX8C
usage-domains 0-15
control-domains 0-15
HOST

ZAPFS_BENCH_HOST="$WORK/small.conf" ZAPFS_BENCH_ADAPTERS=16 ZAPFS_BENCH_DOMAINS=16 \
	ZAPFS_BENCH_BUDGET=0.1 "$SOURCE_ROOT/tests/bench/run-bench" "$BUILD_ROOT" |
	tee "$WORK/out"

fail() {
	echo "bench-smoke: $*" >&2
	exit 1
}
rows=$(grep -cE '^(lookup|stat|cat|readdir|assign|unassign)' "$WORK/out") || true
[ "$rows" = 7 ] || fail "$rows operation rows, not 7"
! grep -q failed "$WORK/out" || fail "an operation failed"
# every row: three medians and two ratios
bad=$(grep -E '^(lookup|stat|cat|readdir|assign|unassign)' "$WORK/out" |
	awk '{ n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) n++; if (n != 5) print }')
[ -z "$bad" ] || fail "rows without three medians and two ratios: $bad"
echo "bench-smoke: 7 operations on zapfs, the floor and tmpfs"
