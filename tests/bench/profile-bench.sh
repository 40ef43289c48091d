#!/usr/bin/env bash
# What the default seccomp profile costs. (a) Startup of `bulwark run /bin/true` with the default
# profile, compiled-filter cache cold (removed before each run) and warm, against crun with the
# same profile. (b) Syscall overhead inside the container (tests/bench/sysloop.c) with bulwark's
# default profile, Docker's profile and no filter. Prints medians and ratios; a measurement, never
# a pass/fail. crun 1.8 refuses this hybrid-cgroup host, so everything runs in a private mount
# namespace where the cgroup2 "unified" mount is detached (as tests/bench/bench.sh does).
# Usage: tests/bench/profile-bench.sh [RUNS] [SYSCALLS]   (BULWARK=path/to/bulwark)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export BULWARK=$(readlink -f "${BULWARK:-$here/../../build/runtime/bulwark}")
RUNS=${1:-10}
CALLS=${2:-200000}
DOCKER_CONFIG=${DOCKER_CONFIG:-/work/shared/reference/engine-configs/docker.config.json}
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && [ -z "${BENCH_IN_NS:-}" ]; then
	exec unshare -m --propagation private env BENCH_IN_NS=1 bash -c \
		'umount -l /sys/fs/cgroup/unified && exec bash "$0" "$@"' "$0" "$RUNS" "$CALLS"
fi
CRUN=$(command -v crun || true)

work=$(mktemp -d /tmp/bwpbench.XXXXXX)
chmod 755 "$work"
trap 'for r in "$work"/state-*; do for id in $(ls "$r" 2>/dev/null); do
	[ "$id" = .cache ] || "$BULWARK" --root "$r" delete --force "$id" >/dev/null 2>&1 || true; done; done
	rm -rf "$work"' EXIT

# The bundle: bench config, busybox rootfs with the static sysloop, a chosen seccomp profile.
mkdir -p "$work"/rootfs/{bin,proc,dev,sys,tmp} "$work/spec"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/true"
gcc -static -O2 -o "$work/rootfs/bin/sysloop" "$here/sysloop.c"
"$BULWARK" spec --bundle "$work/spec"
jq '.linux.seccomp' "$work/spec/config.json" >"$work/prof-default.json"
jq '.linux.seccomp' "$DOCKER_CONFIG" >"$work/prof-docker.json"
echo null >"$work/prof-none.json"

# bundle NAME PROFILE ARGS_JSON: a bundle dir sharing the rootfs.
bundle() {
	mkdir -p "$work/b-$1"
	ln -sfn "$work/rootfs" "$work/b-$1/rootfs"
	jq --slurpfile p "$work/prof-$2.json" --argjson a "$3" \
		'.process.args = $a | .root.path = "rootfs" | if $p[0] == null then del(.linux.seccomp) else .linux.seccomp = $p[0] end' \
		"$here/config.json" >"$work/b-$1/config.json"
	echo "$work/b-$1"
}

# ms CMD...: wall milliseconds of one run (fails the bench if the command fails).
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}

median() { sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; print m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }

# ---- (a) startup -----------------------------------------------------------------------------
bt=$(bundle true default '["/bin/true"]')
bw=("$BULWARK" --root "$work/state-bw")
cr=("$CRUN" --root "$work/state-crun")
"${bw[@]}" run -b "$bt" warmup >/dev/null # page cache
[ -n "$CRUN" ] && "${cr[@]}" run -b "$bt" warmup >/dev/null
: >"$work/cold" ; : >"$work/warm" ; : >"$work/crun"
for i in $(seq "$RUNS"); do # interleaved: load changes hit every variant alike
	rm -rf "$work/state-bw/.cache/seccomp"
	ms "${bw[@]}" run -b "$bt" "cold$i" >>"$work/cold"
	ms "${bw[@]}" run -b "$bt" "warm$i" >>"$work/warm"
	[ -n "$CRUN" ] && ms "${cr[@]}" run -b "$bt" "crun$i" >>"$work/crun"
done
cold=$(median <"$work/cold") warm=$(median <"$work/warm")
echo "startup, bulwark run /bin/true with the default seccomp profile ($RUNS runs, median):"
printf '  bulwark, seccomp cache cold  %8.1f ms\n' "$(awk -v v="$cold" 'BEGIN{print v/1000}')"
printf '  bulwark, seccomp cache warm  %8.1f ms\n' "$(awk -v v="$warm" 'BEGIN{print v/1000}')"
echo "  cold/warm $(ratio "$cold" "$warm")"
if [ -n "$CRUN" ]; then
	crun_m=$(median <"$work/crun")
	printf '  crun, same profile           %8.1f ms\n' "$(awk -v v="$crun_m" 'BEGIN{print v/1000}')"
	echo "  bulwark cold/crun $(ratio "$cold" "$crun_m"), bulwark warm/crun $(ratio "$warm" "$crun_m")"
else
	echo "  (no crun installed: no comparison)"
fi

# ---- (b) syscall overhead inside the container -----------------------------------------------
echo "syscall cost inside the container ($CALLS calls per loop, median of 3 runs):"
for p in none default docker; do
	b=$(bundle "loop-$p" "$p" "[\"/bin/sysloop\",\"$CALLS\"]")
	: >"$work/ppid-$p"; : >"$work/uid-$p"
	for i in 1 2 3; do
		out=$("${bw[@]}" run -b "$b" "loop-$p-$i" </dev/null)
		sed -n 's/.*getppid_ns=\([0-9.]*\).*/\1/p' <<<"$out" >>"$work/ppid-$p"
		sed -n 's/.*getuid_ns=\([0-9.]*\).*/\1/p' <<<"$out" >>"$work/uid-$p"
	done
	[ -s "$work/ppid-$p" ] || { echo "sysloop printed nothing with profile $p: $out" >&2; exit 1; }
done
pn=$(median <"$work/ppid-none") un=$(median <"$work/uid-none")
for p in none default docker; do
	pp=$(median <"$work/ppid-$p") uu=$(median <"$work/uid-$p")
	printf '  %-8s getppid %8.1f ns (%s)   getuid %8.1f ns (%s)\n' "$p" "$pp" \
		"$(ratio "$pp" "$pn")" "$uu" "$(ratio "$uu" "$un")"
done
echo "  (ratios against no seccomp filter)"
