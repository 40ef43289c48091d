# Installs the engines from Debian's archive when they are missing (CI starts from a fresh
# machine). Services must not start: a policy-rc.d that refuses them is put in place for the
# installation when the host has none, and removed afterwards.
engines_install() {
	local pkgs=(docker.io containerd podman conmon busybox-static iproute2 util-linux bsdutils)
	local missing=() p rc=0 made_policy=0
	[ "${ENGINES_NO_INSTALL:-0}" = 1 ] && return 0
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
		>/tmp/bw-engines-apt.log 2>&1 || rc=$?
	if [ $rc != 0 ]; then
		# A stale package index on a fresh machine: refresh once and retry.
		apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
			>/tmp/bw-engines-apt.log 2>&1 && rc=0
	fi
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	[ $rc = 0 ] || tail -n 20 /tmp/bw-engines-apt.log >&2
	rm -f /tmp/bw-engines-apt.log
	return $rc
}
