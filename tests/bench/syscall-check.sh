#!/usr/bin/env bash
# Regression check of the start path, cheap enough for CI (a few seconds): the system calls of
# one `bulwark sandbox -- true` and one `bulwark run` of /bin/true (busybox bundle), counted
# with strace -f, against tests/bench/syscall-baseline.txt. System calls are what the start
# costs on a VM (each one, and every page fault, is a trip through the hypervisor), and unlike
# times they do not move with the load of a shared machine. The watchdog is left out (it starts
# in parallel and may be stopped at any point of its own start-up); what is left varies by a
# few calls between runs. Fails when a count exceeds its baseline by more than 5% + 20, or
# when any process of the start writes another's pid into a cgroup.procs file (below).
# Counts depend on the host (cgroup hierarchies, kernel): baselines are kept per host class
# (cgroup layout and kernel version); on a class without one the counts are printed and the
# check passes. Usage: tests/bench/syscall-check.sh [--update]   (BULWARK=path; needs root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BULWARK=$(readlink -f "${BULWARK:-$here/../../build/runtime/bulwark}")
BASELINE=$here/syscall-baseline.txt
update=0
[ "${1:-}" = --update ] && update=1
command -v strace >/dev/null || { echo "syscall-check: skipped: strace is not installed"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "syscall-check: needs root" >&2; exit 1; }

# The host class: cgroup layout (v2, or v1 with its number of hierarchies) and kernel x.y.
if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then cg=v2; else
	cg=v1-$(awk '$9 ~ /^cgroup2?$/ {n++} END {print n + 0}' /proc/self/mountinfo)
fi
class="$cg-$(uname -r | cut -d. -f1,2)"

work=$(mktemp -d /tmp/bw-sccheck.XXXXXX)
state=$(mktemp -d /run/bw-sccheck-state.XXXXXX)
trap 'rm -rf "$work" "$state"' EXIT
chmod 755 "$work"
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/"{proc,dev,sys,tmp}
cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
ln -s busybox "$work/bundle/rootfs/bin/true"
cp "$here/config.json" "$work/bundle/config.json"

# count NAME CMD...: system calls of CMD and its children, the watchdog's excepted.
count() {
	local name=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "syscall-check: $name: the command failed: $*" >&2; exit 1; }
	strace -f -qq -o "$work/$name.trace" "$@" >/dev/null 2>&1
	awk '/execve\("\/proc\/self\/exe", \["bulwark-watchdog"/ {wd[$1] = 1}
		{ pid[NR] = $1; line[NR] = $0 }
		END { for (i = 1; i <= NR; i++) if (!(pid[i] in wd) && line[i] !~ /^[0-9]+ +(<\.\.\.|\+\+\+|---)/) n++; print n + 0 }' \
		"$work/$name.trace"
}

sandbox=$(count sandbox "$BULWARK" --root "$state" sandbox -- true)
run=$(count run "$BULWARK" --root "$state" run -b "$work/bundle" bw-sccheck)
echo "system calls on $class: sandbox $sandbox, run $run"

if [ $update = 1 ]; then
	{ grep -v "^$class " "$BASELINE" 2>/dev/null || true
	  echo "$class sandbox $sandbox"
	  echo "$class run $run"; } | sort >"$BASELINE.new"
	mv "$BASELINE.new" "$BASELINE"
	echo "baseline updated: $BASELINE"
	exit 0
fi
rc=0
for what in sandbox run; do
	base=$(awk -v c="$class" -v w="$what" '$1 == c && $2 == w {print $3}' "$BASELINE" 2>/dev/null || true)
	if [ -z "$base" ]; then
		echo "  $what: no baseline for $class (record one with --update): not checked"
		continue
	fi
	now=${!what}
	limit=$((base + base / 20 + 20))
	if [ "$now" -gt "$limit" ]; then
		echo "  $what: $now system calls, baseline $base (limit $limit): REGRESSION"
		echo "  top calls now:"
		sed -E 's/^[0-9]+ +//; s/\(.*//' "$work/$what.trace" | grep -Ev '^(<\.\.\.|\+\+\+|---)' |
			sort | uniq -c | sort -rn | head -12 | sed 's/^/    /'
		rc=1
	else
		echo "  $what: $now system calls, baseline $base (limit $limit): ok"
		[ "$now" -ge $((base * 4 / 5)) ] || echo "  $what: far below the baseline: update it (--update)"
	fi
done
# No process of a start moves another one into a cgroup (a pid written to cgroup.procs): that
# takes the kernel's global threadgroup lock, an RCU grace period (13-15 ms here) after an idle
# spell, which no count shows. The init is born in its cgroups (cgroups/cg_clone.c).
for what in sandbox run; do
	moves=$(grep -c 'cgroup\.procs", O_WRONLY' "$work/$what.trace" || true)
	if [ "$moves" -gt 0 ]; then
		echo "  $what: $moves write(s) of a cgroup.procs file: REGRESSION (the init must be born in its cgroups)"
		grep 'cgroup\.procs", O_WRONLY' "$work/$what.trace" | head -3 | sed 's/^/    /'
		rc=1
	else
		echo "  $what: no process moved into a cgroup by another: ok"
	fi
done
exit $rc
