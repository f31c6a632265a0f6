# shellcheck shell=bash
# What zapfs needs on Debian 12 to build, test and demo; sourced by tests/run
# and contrib/demo.
zapfs_packages=(
	meson ninja-build pkg-config gcc libc6-dev python3
	libfuse3-dev fuse3 libudev-dev uthash-dev libcmocka-dev libkmod-dev
	uuid-runtime util-linux procps
	mdevctl libvirt-clients
)

install_missing_packages() {
	local missing=() p
	for p in "${zapfs_packages[@]}"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ "$(id -u)" != 0 ]; then
		echo "missing packages and not root: apt-get install ${missing[*]}" >&2
		return 1
	fi
	apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" >/dev/null
}
