#!/usr/bin/env bash
# Integration test runner: sources tests/integration/test_*.sh, runs every test_* function in
# its own subshell, then checks that it left nothing behind (state dirs, cgroups, mounts,
# processes). Prints "N passed, N failed" last. Needs root.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BULWARK=${BULWARK:-$here/../../build/runtime/bulwark}
BULWARK=$(readlink -f "$BULWARK")
export BULWARK
# The direct-mode network helper of the same build (installed to libexecdir otherwise).
helper=$(dirname "$BULWARK")/../netns/bulwark-net
[ -z "${BULWARK_NET_HELPER:-}" ] && [ -x "$helper" ] && BULWARK_NET_HELPER=$(readlink -f "$helper")
export BULWARK_NET_HELPER
# The source tree (schemas, examples).
SRC_DIR=$(cd "$here/../.." && pwd)
export SRC_DIR
filter=${1:-}
[ "$(id -u)" = 0 ] || { echo "integration tests need root" >&2; exit 1; }
[ -x "$BULWARK" ] || { echo "no bulwark binary at $BULWARK" >&2; exit 1; }

WORK=$(mktemp -d /tmp/bwit.XXXXXX)
chmod 755 "$WORK" # user-namespaced containers must reach the rootfs below it
export WORK
# Per-run state root and cgroup prefix: runs in parallel (or in a VM) never see each other.
export BW_ROOT=${BW_ROOT:-/run/bulwark-it.$$}
export CG_PREFIX=${CG_PREFIX:-bwit-$$}
ROOTFS=$WORK/rootfs
export ROOTFS
. "$here/lib.sh"
make_rootfs "$ROOTFS"
mkdir -p "$WORK/bundles"

for f in "$here"/test_*.sh; do . "$f"; done
tests=$(declare -F | awk '{print $3}' | grep '^test_' | grep -- "${filter}" || true)

# Leaked mounts would be on the test's own paths (other software may mount elsewhere meanwhile).
test_mounts() { grep -cE " ($WORK|$BW_ROOT)[/ ]" /proc/self/mountinfo; }
mounts_before=$(test_mounts)
# Helper processes (watchdog, network agent) carry the state root in their command line; a
# session's supervisor, which shows only its name, holds its state directory open.
helper_leaks() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		[ "${f%/cmdline}" = "/proc/$$" ] && continue
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$BW_ROOT" && echo "${f#/proc/}" | cut -d/ -f1
	done
	find /proc/[0-9]*/fd -maxdepth 1 -lname "$BW_ROOT/*" 2>/dev/null | cut -d/ -f3 | grep -vx "$$" | sort -u
}
pass=0 failn=0 failed=()
for t in $tests; do
	start=$(date +%s%N)
	# Output goes to a file, not a pipe: a container a failing test left running must not
	# keep the runner waiting for end-of-file (the leak check below removes it).
	(cd "$WORK" || exit 1; set -e; $t) >"$WORK/test.out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$WORK/test.out")
	# Whatever the test did, nothing may remain.
	leaks=""
	[ -n "$(ls -A "$BW_ROOT" 2>/dev/null | grep -v '^\.cache$')" ] && leaks+=" state:$(ls "$BW_ROOT" | tr '\n' ' ')"
	# The host's sandbox id ranges (runtime/idpool.h): none may stay held by this run's state.
	[ -n "$(grep -ls "^$BW_ROOT/" /run/bulwark-idpool/* 2>/dev/null)" ] && leaks+=" idpool:$(grep -ls "^$BW_ROOT/" /run/bulwark-idpool/* | tr '\n' ' ')"
	[ -n "$(cgroup_leaks)" ] && leaks+=" cgroups:$(cgroup_leaks | head -3 | tr '\n' ' ')"
	[ "$(test_mounts)" -gt "$mounts_before" ] && leaks+=" mounts"
	hl=$(helper_leaks)
	[ -n "$hl" ] && leaks+=" processes:$(echo $hl)" && kill -9 $hl 2>/dev/null
	if [ -n "$leaks" ]; then
		for id in $(ls "$BW_ROOT" 2>/dev/null); do "$BULWARK" --root "$BW_ROOT" delete --force "$id" >/dev/null 2>&1; done
		cgroup_leaks | sort -r | xargs -r rmdir 2>/dev/null
	fi
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 0 ] && [ -z "$leaks" ]; then
		pass=$((pass + 1))
		echo "ok   $t (${ms} ms)"
	else
		failn=$((failn + 1))
		failed+=("$t")
		echo "FAIL $t (${ms} ms)${leaks:+ leaked:$leaks}"
		echo "$out" | tail -n 15 | sed 's/^/    /'
	fi
	rm -rf "$WORK/bundles"/*
done
rm -rf "$WORK"
rm -rf "$BW_ROOT"
find /sys/fs/cgroup -maxdepth 2 -type d -name "$CG_PREFIX" -exec rmdir {} + 2>/dev/null
[ $failn -gt 0 ] && echo "failed: ${failed[*]}"
echo "integration: $pass passed, $failn failed"
[ $failn -eq 0 ]
