#!/usr/bin/env bash
# sandbox-bench.sh: `bulwark sandbox -- true` start-to-exit against bubblewrap doing the least it
# can and against `docker run --rm` of the same command, interleaved in one run (issue 7's
# targets: <= 1.5x bwrap, <= 0.1x docker run). Prints medians, p90s and the ratios, and the peak
# RSS of bulwark against bwrap. Only ratios measured together mean anything; none is pass/fail.
# Usage: tests/bench/sandbox-bench.sh [--exec] [N]   (BULWARK=path, default build/runtime/bulwark;
# N=20). --exec: `bulwark session exec NAME -- true` instead, against `bulwark exec` into a plain
# busybox container and `docker exec` into a running container (issue 17's target: <= 1.2x
# `bulwark exec`).
# Docker: a running dockerd on the default socket is used as it is; otherwise containerd and
# dockerd are started under a temporary directory (no host firewall changes, no bridge) and
# stopped afterwards. The image is a busybox-static rootfs `docker import`ed offline. When
# Docker cannot run, the reason is printed and the bwrap comparison still runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
MODE=run
if [ "${1:-}" = --exec ]; then
	MODE=exec
	shift
fi
N=${1:-20}
BULWARK=${BULWARK:-$top/build/runtime/bulwark}
[ -x "$BULWARK" ] || BULWARK=$top/build/bulwark
BULWARK=$(readlink -f "$BULWARK")
[ "$(id -u)" = 0 ] || { echo "sandbox-bench: needs root" >&2; exit 1; }
[ -x "$BULWARK" ] || { echo "sandbox-bench: no bulwark at $BULWARK" >&2; exit 1; }

# ---- packages: bubblewrap, busybox-static, docker.io (services kept from starting) ------------
install_missing() {
	local p missing=() made_policy=0
	for p in bubblewrap busybox-static docker.io containerd; do
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
		>/tmp/bw-sandbox-bench-apt.log 2>&1 || tail -n 5 /tmp/bw-sandbox-bench-apt.log >&2
	[ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
	rm -f /tmp/bw-sandbox-bench-apt.log
}
install_missing
command -v bwrap >/dev/null || { echo "sandbox-bench: bubblewrap is not installed" >&2; exit 1; }

T=$(mktemp -d /tmp/bw-sbench.XXXXXX)
chmod 755 "$T"
STATE=$(mktemp -d /run/bw-sbench-state.XXXXXX) # tmpfs, where a state root lives in real use
DOCKER_BIN=/usr/bin/docker # the docker.io client, not whatever else is first in PATH
DK=() DAEMONS=() IMG="" DOCKER_WHY="" DCTR=""
HOST_PATHS="/run/containerd /run/containerd/s /run/containerd/runc /run/docker /var/lib/docker \
/var/lib/containerd /opt/containerd /etc/docker /etc/docker/key.json"
declare -A HOST_HAD
for p in $HOST_PATHS; do [ -e "$p" ] && HOST_HAD[$p]=1; done
declare -A CG_HAD
for h in /sys/fs/cgroup/*/; do [ -d "${h}docker" ] && CG_HAD[${h}docker]=1; done

stop_pid() { # PID: TERM, then KILL after 15 s
	local i
	kill -0 "$1" 2>/dev/null || return 0
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
	local i p m h
	trap - EXIT INT TERM
	if [ "$MODE" = exec ]; then
		"$BULWARK" --root "$STATE" session rm --force benchsess >/dev/null 2>&1 || true
		"$BULWARK" --root "$STATE" delete --force benchctr >/dev/null 2>&1 || true
		[ -z "$DCTR" ] || "${DK[@]}" rm -f "$DCTR" >/dev/null 2>&1 || true
	fi
	if [ ${#DK[@]} -gt 0 ] && [ -n "$IMG" ]; then
		"${DK[@]}" rmi -f "$IMG" >/dev/null 2>&1 || true
	fi
	for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop_pid "${DAEMONS[$i]}"; done
	awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ ${#DAEMONS[@]} -gt 0 ]; then
		for h in /sys/fs/cgroup/*/; do
			[ -d "${h}docker" ] && [ -z "${CG_HAD[${h}docker]:-}" ] &&
				find "${h}docker" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		for p in $(printf '%s\n' $HOST_PATHS | sort -ru); do
			[ -e "$p" ] && [ -z "${HOST_HAD[$p]:-}" ] || continue
			if [ -d "$p" ]; then find "$p" -depth -type d -empty -delete 2>/dev/null; else rm -f "$p"; fi
			[ -e "$p" ] && echo "WARNING: left on the host: $p" >&2
		done
	fi
	rm -rf "$T" "$STATE"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

wait_for() { # SECONDS COMMAND...
	local i n=$(($1 * 10))
	shift
	for i in $(seq $n); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

# ---- Docker: the system's daemon if one answers, else our own under $T --------------------
start_docker() {
	local d=$T/docker
	if [ ! -x "$DOCKER_BIN" ] || ! command -v dockerd >/dev/null || ! command -v containerd >/dev/null; then
		DOCKER_WHY="docker.io or containerd is not installed"
		return 1
	fi
	if "$DOCKER_BIN" version >/dev/null 2>&1; then
		DK=("$DOCKER_BIN")
		echo "docker: using the running daemon on the default socket"
		return 0
	fi
	mkdir -p "$T/containerd" "$d/client"
	sed -e "s|@DIR@|$T/containerd|g" "$top/tests/engines/containerd.toml" >"$T/containerd/config.toml"
	containerd --config "$T/containerd/config.toml" >"$T/containerd/log" 2>&1 &
	DAEMONS+=($!)
	if ! wait_for 30 ctr -a "$T/containerd/containerd.sock" version; then
		DOCKER_WHY="containerd did not start: $(tail -n 1 "$T/containerd/log")"
		return 1
	fi
	cat >"$d/daemon.json" <<EOF
{
  "data-root": "$d/data", "exec-root": "$d/exec", "pidfile": "$d/dockerd.pid",
  "hosts": ["unix://$d/docker.sock"], "containerd": "$T/containerd/containerd.sock",
  "exec-opts": ["native.cgroupdriver=cgroupfs"], "storage-driver": "overlay2",
  "iptables": false, "ip6tables": false, "ip-forward": false, "ip-masq": false, "bridge": "none",
  "userland-proxy": false, "features": { "buildkit": false }
}
EOF
	dockerd --config-file "$d/daemon.json" >"$d/dockerd.log" 2>&1 &
	DAEMONS+=($!)
	DK=(env "DOCKER_HOST=unix://$d/docker.sock" "DOCKER_CONFIG=$d/client" "$DOCKER_BIN")
	if ! wait_for 60 "${DK[@]}" version; then
		DOCKER_WHY="dockerd did not start: $(tail -n 1 "$d/dockerd.log")"
		return 1
	fi
	echo "docker: started containerd and dockerd under $T (runtime: $("${DK[@]}" info -f '{{.DefaultRuntime}}'))"
}

make_rootfs() {
	local r=$T/img/rootfs a
	mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root}
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in true sh sleep; do ln -s busybox "$r/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
}

make_image() {
	tar -C "$T/img/rootfs" --numeric-owner -cf "$T/img/rootfs.tar" .
	IMG=bwbench/busybox:$(basename "$T" | tr 'A-Z.' 'a-z-')
	"${DK[@]}" import "$T/img/rootfs.tar" "$IMG" >/dev/null
}

# --exec: a session, a plain container and (if Docker runs) a docker container, all idle.
exec_targets() {
	local b=$T/bundle
	"$BULWARK" --root "$STATE" session create benchsess >/dev/null
	mkdir -p "$b"
	ln -s ../img/rootfs "$b/rootfs"
	"$BULWARK" spec --bundle "$b"
	python3 - "$b/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["sleep", "100000"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"))
PY
	"$BULWARK" --root "$STATE" create --bundle "$b" benchctr
	"$BULWARK" --root "$STATE" start benchctr
	cmds=(
		"session=$BULWARK --root $STATE session exec benchsess -- true"
		"exec=$BULWARK --root $STATE exec benchctr true"
	)
	ratios=(--ratio session/exec)
	if start_docker && make_image &&
		DCTR=$("${DK[@]}" run -d --network none "$IMG" sleep 100000); then
		cmds+=("docker=${DK[*]} exec $DCTR true")
		ratios+=(--ratio session/docker --ratio exec/docker)
	else
		[ -n "$DOCKER_WHY" ] || DOCKER_WHY="docker run of the imported image failed"
		echo "docker: skipped: $DOCKER_WHY"
	fi
	echo "bulwark: $BULWARK; N=$N, interleaved"
	python3 "$here/interleave.py" -n "$N" "${ratios[@]}" "${cmds[@]}"
	echo "target (issue 17): session/exec <= 1.2x"
}

make_rootfs
if [ "$MODE" = exec ]; then
	exec_targets
	exit 0
fi
cmds=(
	"bulwark=$BULWARK --root $STATE sandbox -- true"
	"bwrap=bwrap --ro-bind / / --dev /dev --proc /proc --unshare-all true"
)
ratios=(--ratio bulwark/bwrap)
if start_docker && make_image && "${DK[@]}" run --rm --network none "$IMG" true; then
	cmds+=("docker=${DK[*]} run --rm --network none $IMG true")
	ratios+=(--ratio bulwark/docker)
else
	[ -n "$DOCKER_WHY" ] || DOCKER_WHY="docker run of the imported image failed"
	echo "docker: skipped: $DOCKER_WHY"
fi
gcc -O2 -o "$T/rsswrap" "$here/rsswrap.c"
echo "bulwark: $BULWARK; bwrap $(bwrap --version | awk '{print $2}'); N=$N, interleaved"
python3 "$here/interleave.py" -n "$N" --rss "$T/rsswrap" --rss-of bulwark --rss-of bwrap \
	"${ratios[@]}" "${cmds[@]}"
echo "targets (issue 7): bulwark/bwrap <= 1.5x, bulwark/docker <= 0.1x"
