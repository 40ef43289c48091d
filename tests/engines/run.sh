#!/usr/bin/env bash
# Engine suite: Docker (dockerd 20.10), containerd (ctr 1.6) and Podman 4.3 from Debian's archive
# drive the runtime under test ($BULWARK, a path or a command name) the way their users do. Every
# daemon gets its own root, state and socket under one temporary directory; nothing touches the
# host firewall. Prints one ok/FAIL line per matrix cell and "engines: N passed, N failed" last.
# Usage: BULWARK=/path/to/runtime tests/engines/run.sh [docker] [ctr] [podman] [cri]
# Env: CELL_FILTER=REGEX (run only matching cells), ENGINES_TRACE=FILE (log every runtime call),
#      ENGINES_NO_INSTALL=1 (do not apt-get), RUNTIME_ARGS="--debug" (docker runtimeArgs), VERBOSE=1,
#      ENGINES_CGROUP_DRIVER=cgroupfs|systemd (the engines' cgroup driver; systemd needs systemd as
#      PID 1 and cgroup v2, i.e. the VM: tests/vm/run-vm-suite.sh --systemd --engines, and runs the
#      short matrix of systemd.sh).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

[ "$(id -u)" = 0 ] || { echo "the engine suite needs root" >&2; exit 1; }
if [ -z "${BULWARK:-}" ]; then
	BULWARK=$top/build/runtime/bulwark
	[ -x "$BULWARK" ] || BULWARK=$top/build/bulwark
fi
case $BULWARK in */*) ;; *) BULWARK=$(command -v "$BULWARK" || echo "$BULWARK") ;; esac
BULWARK=$(readlink -f "$BULWARK")
[ -x "$BULWARK" ] || { echo "no runtime binary at $BULWARK" >&2; exit 1; }
ENGINES=${*:-docker ctr podman cri}
want() { [[ " $ENGINES " == *" $1 "* ]]; }
CG_DRIVER=${ENGINES_CGROUP_DRIVER:-cgroupfs}
case $CG_DRIVER in
cgroupfs) ;;
systemd)
	[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -S /run/systemd/private ] &&
		[ -f /sys/fs/cgroup/cgroup.controllers ] || {
		echo "ENGINES_CGROUP_DRIVER=systemd needs systemd as PID 1 and cgroup v2 (run it in the VM: tests/vm/run-vm-suite.sh --systemd --engines)"
		echo "engines: 0 passed, 1 failed"
		exit 1
	}
	;;
*) echo "ENGINES_CGROUP_DRIVER: cgroupfs or systemd, not '$CG_DRIVER'" >&2; exit 1 ;;
esac

. "$here/lib.sh"
. "$here/install.sh"
engines_install || { echo "engines: 0 passed, 1 failed (installation)"; exit 1; }

T=$(mktemp -d /tmp/bw-engines.XXXXXX)
chmod 755 "$T"
export T
TMO=${TMO:-60}
DOCKER_BIN=/usr/bin/docker # the docker.io client, not whatever else is first in PATH
CTR_NS=bwengines           # containerd namespace, and so the cgroup parent of ctr containers
IMG_TAR=$T/img/bb-rootfs.tar
IMG_DOCKER=bwtest/bb:latest
IMG_CTR=docker.io/bwtest/bb:latest
IMG_PODMAN=localhost/bwtest/bb:latest
# podman passes no --root (its cleanup process would not pass one either): the runtime's default.
PM_RTROOT=/run/$(basename "$BULWARK")

# The runtime's name decides what the engines do with it (podman only passes --log to names in
# runtime_supports_json); docker reserves "runc", so runc is registered there as "runc-deb".
RT_NAME=$(basename "$BULWARK")
DOCKER_RT_NAME=$RT_NAME
[ "$RT_NAME" = runc ] && DOCKER_RT_NAME=runc-deb
RUNTIME_ARGS=${RUNTIME_ARGS:---debug}

# ---- host state we must restore -------------------------------------------------------------
HOST_PATHS="/run/containerd /run/containerd/s /run/containerd/runc /run/docker /var/lib/docker \
/var/lib/containerd /opt/containerd /var/lib/containers /run/containers /run/libpod /etc/docker/key.json \
/etc/containers/networks /run/runc /run/bulwark /var/lib/cni $PM_RTROOT"
declare -A HOST_HAD
for p in $HOST_PATHS; do [ -e "$p" ] && HOST_HAD[$p]=1; done
CG_PARENTS="/docker /$CTR_NS /libpod_parent"
declare -A CG_HAD
for c in $CG_PARENTS; do
	for h in /sys/fs/cgroup/*/; do [ -d "$h${c#/}" ] && CG_HAD[$h${c#/}]=1; done
done
IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)
IPT_BEFORE=$( (iptables-save 2>/dev/null || true) | grep -v '^#' | sort)
DAEMON_PIDS=()

stop_pid() { # PID: TERM, then KILL after 15 s
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	sleep 0.2
}

cleanup() {
	local p h c m
	trap - EXIT INT TERM
	if [ -S "$T/docker/docker.sock" ]; then
		ids=$(dk ps -aq 2>/dev/null)
		[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
		dk network rm bwt-net >/dev/null 2>&1
	fi
	if [ -S "$T/containerd/containerd.sock" ]; then
		for c in $(cr task ls -q 2>/dev/null); do cr task rm -f "$c" >/dev/null 2>&1; done
		for c in $(cr container ls -q 2>/dev/null); do cr container rm "$c" >/dev/null 2>&1; done
	fi
	[ -f "$T/podman/containers.conf" ] && pm rm -fa -t 0 >/dev/null 2>&1
	for ((i = ${#DAEMON_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${DAEMON_PIDS[$i]}"; done
	for p in $(helper_pids); do stop_pid "$p"; done
	# systemd driver: a scope an engine left (a failed cell) must not outlive the run.
	[ "$CG_DRIVER" = systemd ] && for u in $(sd_our_units); do
		systemctl stop "$u" >/dev/null 2>&1
		systemctl reset-failed "$u" >/dev/null 2>&1
	done
	# Mounts the engines left under our directory (overlay homes made private, netns files).
	awk -v t="$T/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	ip link del br-bwtest >/dev/null 2>&1
	for c in $CG_PARENTS; do
		for h in /sys/fs/cgroup/*/; do
			[ -d "$h${c#/}" ] && [ -z "${CG_HAD[$h${c#/}]:-}" ] &&
				find "$h${c#/}" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	rm -rf "/run/containerd/runc/$CTR_NS" 2>/dev/null
	# podman import leaves its blob-info cache in the system location, whatever --root says
	[ -z "${HOST_HAD[/var/lib/containers]:-}" ] && rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
	# the runtime's own cache in the default root podman made it use (bulwark: compiled seccomp)
	[ -z "${HOST_HAD[$PM_RTROOT]:-}" ] && rm -rf "$PM_RTROOT/.cache"
	# What the engines made outside our directory: empty directories go, anything else is
	# reported (it could be someone else's).
	for p in $(printf '%s\n' $HOST_PATHS | sort -u); do
		[ -e "$p" ] && [ -z "${HOST_HAD[$p]:-}" ] || continue
		if [ -d "$p" ]; then find "$p" -depth -type d -empty -delete 2>/dev/null; else rm -f "$p"; fi
		[ -e "$p" ] && echo "WARNING: left on the host: $p ($(find "$p" | head -n 5 | tr '\n' ' '))" >&2
	done
	echo "$IP_FORWARD" >/proc/sys/net/ipv4/ip_forward
	ipt_after=$( (iptables-save 2>/dev/null || true) | grep -v '^#' | sort)
	[ "$IPT_BEFORE" = "$ipt_after" ] || echo "WARNING: iptables rules changed during the run" >&2
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the image: a busybox-static root filesystem as a tar, made offline ---------------------
make_image() {
	local r=$T/img/rootfs a
	mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run,var/tmp,home}
	cp "$(command -v busybox)" "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	chmod 1777 "$r/tmp" "$r/var/tmp"
	tar -C "$r" --numeric-owner -cf "$IMG_TAR" .
}

# ---- the runtime as registered: the binary itself, or a call-logging wrapper ----------------
register_path() {
	if [ -z "${ENGINES_TRACE:-}" ]; then
		RT_PATH=$BULWARK
		return
	fi
	mkdir -p "$T/bin"
	RT_PATH=$T/bin/$RT_NAME
	cat >"$RT_PATH" <<EOF
#!/bin/bash
# Logs each call (argv, exit code, the last --log line on failure), runs the runtime as a child.
log=$ENGINES_TRACE
echo "\$(date +%T.%N) [\$\$] \$*" >>"\$log"
"$BULWARK" "\$@"
rc=\$?
if [ \$rc != 0 ]; then
	prev=""; lf=""
	for a in "\$@"; do [ "\$prev" = --log ] && lf=\$a; case \$a in --log=*) lf=\${a#--log=} ;; esac; prev=\$a; done
	echo "\$(date +%T.%N) [\$\$] rc=\$rc \${lf:+log: \$(tail -n 1 "\$lf" 2>/dev/null)}" >>"\$log"
fi
exit \$rc
EOF
	chmod 755 "$RT_PATH"
}

# ---- daemons ---------------------------------------------------------------------------------
# Each client as one command line (script(1) needs it as a string) and as a function.
CR_LINE="ctr -a $T/containerd/containerd.sock -n $CTR_NS"
DK_LINE="env DOCKER_HOST=unix://$T/docker/docker.sock DOCKER_CONFIG=$T/docker/client $DOCKER_BIN"
PM_LINE="env CONTAINERS_CONF=$T/podman/containers.conf CONTAINERS_STORAGE_CONF=$T/podman/storage.conf \
podman --root $T/podman/storage --runroot $T/podman/runroot --tmpdir $T/podman/tmp \
--storage-driver overlay --cgroup-manager $CG_DRIVER --events-backend file \
--runtime $RT_NAME"
cr() { timeout -k 5 "$TMO" $CR_LINE "$@"; }
dk() { timeout -k 5 "$TMO" $DK_LINE "$@"; }
pm() { timeout -k 5 "$TMO" $PM_LINE "$@"; }

start_containerd() {
	local d=$T/containerd
	mkdir -p "$d"
	sed -e "s|@DIR@|$d|g" "$here/containerd.toml" >"$d/config.toml"
	containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 &
	DAEMON_PIDS+=($!)
	wait_for 30 cr version >/dev/null 2>&1 || { tail -n 20 "$d/containerd.log"; return 1; }
}

start_dockerd() {
	local d=$T/docker args
	mkdir -p "$d/client"
	args=$(printf '"%s",' $RUNTIME_ARGS)
	cat >"$d/daemon.json" <<EOF
{
  "data-root": "$d/data", "exec-root": "$d/exec", "pidfile": "$d/dockerd.pid",
  "hosts": ["unix://$d/docker.sock"], "containerd": "$T/containerd/containerd.sock",
  "runtimes": { "$DOCKER_RT_NAME": { "path": "$RT_PATH", "runtimeArgs": [${args%,}] } },
  "default-runtime": "$DOCKER_RT_NAME",
  "exec-opts": ["native.cgroupdriver=$CG_DRIVER"], "storage-driver": "overlay2",
  "iptables": false, "ip6tables": false, "ip-forward": false, "ip-masq": false, "bridge": "none",
  "userland-proxy": false, "features": { "buildkit": false }
}
EOF
	dockerd --config-file "$d/daemon.json" >"$d/dockerd.log" 2>&1 &
	DAEMON_PIDS+=($!)
	wait_for 60 dk version >/dev/null 2>&1 || { tail -n 20 "$d/dockerd.log"; return 1; }
}

setup_podman() {
	local d=$T/podman nofile nproc
	mkdir -p "$d"/{storage,runroot,tmp,networks}
	# No CAP_SYS_RESOURCE here: podman's default 1048576 rlimits cannot be set (ENGINES.md §9).
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
	[ "$nofile" = unlimited ] && nofile=1048576
	sed -e "s|@DIR@|$d|g" -e "s|@NAME@|$RT_NAME|g" -e "s|@PATH@|$RT_PATH|g" \
		-e "s|@NOFILE@|$nofile|g" -e "s|@NPROC@|$nproc|g" -e "s|@CGMGR@|$CG_DRIVER|g" "$here/containers.conf" >"$d/containers.conf"
	printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "%s"\n' \
		"$d/storage" "$d/runroot" >"$d/storage.conf"
}

# ---- go --------------------------------------------------------------------------------------
echo "runtime under test: $BULWARK ($("$BULWARK" --version 2>&1 | head -n 1)), engines: $ENGINES, cgroup driver: $CG_DRIVER"
t_step=$SECONDS
took() { echo "-- $1: $((SECONDS - t_step)) s"; t_step=$SECONDS; } # the seconds of each step
mkdir -p "$T/img"
make_image
register_path
setup_ok=1
# podman's import runs beside the daemons' start (the VM's emulated CPUs spend most of it waiting).
if want podman; then
	setup_podman
	pm import -q "$IMG_TAR" "$IMG_PODMAN" >"$T/podman/import.log" 2>&1 &
	pm_import=$!
	DAEMON_PIDS+=($pm_import)
fi
if want docker || want ctr; then
	if ! start_containerd; then
		setup_ok=0
		echo "FAIL containerd did not start"
	elif ! start_dockerd; then
		setup_ok=0
		echo "FAIL dockerd did not start"
	else
		dk import "$IMG_TAR" "$IMG_DOCKER" >/dev/null &&
			dk save -o "$T/img/bb-docker-archive.tar" "$IMG_DOCKER" ||
			{ setup_ok=0; echo "FAIL docker import/save"; }
		if want ctr && [ $setup_ok = 1 ]; then
			cr image import "$T/img/bb-docker-archive.tar" >/dev/null || { setup_ok=0; echo "FAIL ctr image import"; }
		fi
	fi
fi
if want podman && ! wait "$pm_import"; then
	setup_ok=0
	echo "FAIL podman import: $(tail -n 3 "$T/podman/import.log")"
fi
[ $setup_ok = 1 ] || FAILN=$((FAILN + 1))
took "set-up (image, daemons, imports)"

. "$here/matrix.sh"
[ "$CG_DRIVER" = systemd ] && . "$here/systemd.sh" # the short matrix: its cells replace the ones above
if [ $setup_ok = 1 ]; then
	want docker && { echo "== docker $(dk version -f '{{.Server.Version}}') (runtime \"$DOCKER_RT_NAME\")"; docker_matrix; took docker; }
	want ctr && { echo "== containerd $(containerd --version | awk '{print $3}') via ctr"; ctr_matrix; took ctr; }
	want podman && { echo "== podman $(podman --version | awk '{print $3}') (runtime \"$RT_NAME\")"; podman_matrix; took podman; }
fi
if want cri; then
	. "$here/cri.sh"
	echo "== containerd CRI RuntimeClass configuration"
	cri_matrix
	took cri
fi

if [ -n "${ENGINES_HOLD:-}" ]; then # debugging: keep everything up until the file goes away
	touch "$T/hold"
	echo "holding: T=$T; rm $T/hold to finish"
	while [ -e "$T/hold" ]; do sleep 1; done
fi
[ $FAILN -gt 0 ] && [ ${#FAILED[@]} -gt 0 ] && echo "failed: ${FAILED[*]}"
echo "engines: $PASS passed, $FAILN failed"
[ $FAILN -eq 0 ]
