#!/usr/bin/env bash
# Install what building and testing bulwark needs, from Debian's archive (idempotent).
set -euo pipefail
pkgs=(
	# build
	meson ninja-build gcc libc6-dev pkg-config libyajl-dev libcap-dev libseccomp-dev libmd-dev
	libnftables-dev libnl-3-dev libnl-route-3-dev libsystemd-dev
	# unit tests, sanitizers, fuzzing
	libcriterion-dev clang libclang-rt-14-dev
	# the tree stays clang-format clean (tests/run-all.sh checks it)
	clang-format
	# the generated completion scripts are syntax-checked by each shell
	zsh fish
	# integration tests and the bench
	busybox-static jq python3 python3-jsonschema procps iproute2 util-linux runc crun bubblewrap hyperfine
	nftables libcap2-bin apparmor
	# checkpoint/restore (docs/checkpoint.md); it works in the VM (tests/vm), not on a 6.18 host
	criu
	# rootless egress (--allow without root) goes through pasta; subordinate ids through
	# newuidmap/newgidmap
	passt uidmap
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Rootless egress opens /dev/net/tun as the caller: Debian's udev rules make it 0666. A machine
# without udev may have the kernel's 0600 node; the rootless tests then test the refusal only.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" = 600 ] && ! pidof -q systemd-udevd; then
	chmod 0666 /dev/net/tun
fi
