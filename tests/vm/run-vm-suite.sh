#!/bin/bash
# run-vm-suite.sh: the cgroup v2 (and AppArmor) integration tests, inside one Debian-kernel VM,
# with the same runner as on the host (tests/integration/run.sh FILTER). Prints the runner's
# "N passed, N failed" line last and exits non-zero on any failure or when the VM gave no status.
#   tests/vm/run-vm-suite.sh [--systemd [--cgroup MODE] [--engines]] [BULWARK]   (default: $BULWARK, else build/runtime/bulwark)
# --systemd boots the VM with systemd as PID 1 (run-in-vm.sh --systemd) and runs the systemd
# cgroup driver's tests (^test_sd_) there instead; --cgroup hybrid (or legacy) boots that systemd
# on the cgroup v1 hierarchies (run-in-vm.sh --cgroup), where the same tests assert the v1 files. --systemd --engines runs the engine suite
# (tests/engines/run.sh) there instead, with the engines' systemd cgroup driver
# (ENGINES_CGROUP_DRIVER=systemd: its short matrix); BULWARK may then be a command name (runc, the
# control run). Prints its "engines: N passed, N failed" line last.
# Environment: VM_SUITE_FILTER (grep pattern over test names, default the cgroup tests),
# VM_SUITE_APPARMOR=0 (leave the AppArmor tests out), VM_ENGINES (--engines: the engines, default
# "docker ctr podman cri"), CELL_FILTER (--engines: the cells, as in tests/engines/run.sh),
# CG_CYCLES (create/delete cycles in the VM, default 40), VM_SUITE_TIMEOUT (seconds, default
# 1800 for both: a guard against a hung guest, not a budget; an unloaded run took ~270 before
# the checkpoint tests, which add ~4-6 min under load, and the delegated-cgroup and rootless
# overlay tests ~2 more: a loaded machine ran past 1000).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
systemd=() engines=''
if [ "${1:-}" = --systemd ]; then
	systemd=(--systemd)
	shift
	if [ "${1:-}" = --cgroup ] && [ $# -ge 2 ]; then
		systemd+=(--cgroup "$2")
		shift 2
	fi
	[ "${1:-}" = --engines ] && { engines=1; shift; }
fi
[ "${1:-}" != --engines ] || { echo "vm-suite: --engines needs --systemd first"; echo "vm-suite: 0 passed, 1 failed"; exit 1; }

bin=${1:-${BULWARK:-}}
if [ -z "$bin" ]; then
	for c in "$top/build/runtime/bulwark" "$top/build/bulwark"; do
		[ -x "$c" ] && { bin=$c; break; }
	done
fi
# The engines' control run names a runtime on the PATH (runc).
[ -z "$engines" ] || case $bin in */* | '') ;; *) bin=$(command -v "$bin" || echo "$bin") ;; esac
bin=$(readlink -f "${bin:-$top/build/runtime/bulwark}")
[ -x "$bin" ] || { echo "vm-suite: no bulwark binary at $bin"; echo "vm-suite: 0 passed, 1 failed"; exit 1; }
build=$(dirname "$bin")
# The binary's directory (and the build dir above a runtime/ subdir) must be seen by the guest.
[ "$(basename "$build")" = runtime ] && build=$(dirname "$build")
case $build/ in /tmp/* | /run/* | /dev/shm/*)
	echo "vm-suite: note: $build is hidden in the guest but for --rw, which is passed" ;;
esac
rw=(--rw "$top")
case $build/ in /usr/* | /bin/* | /sbin/*) ;; *) rw+=(--rw "$build") ;; esac # not a system dir (runc)

# What runs in the guest (TCG runs containers ~5-7x slower than the host): every cgroup test,
# with fewer create/delete cycles than on the host (about 4 minutes), and the AppArmor tests
# (they define themselves only where AppArmor is enabled, i.e. there), and the rootless tests
# (pure cgroup v2 and AppArmor, unlike this host; about a minute). VM_SUITE_APPARMOR=0 leaves
# the AppArmor ones out. The checkpoint/restore tests (test_criu_: Debian's CRIU 3.17 cannot dump
# on the host's 6.18 kernel, docs/checkpoint.md) run here too, `session checkpoint`'s
# (test_criu_session_*, tests/integration/test_session_checkpoint.sh) among them.
filter='^test_cg_\|^test_apparmor_\|^test_rootless_\|^test_criu_'
[ "${VM_SUITE_APPARMOR:-1}" = 0 ] && filter='^test_cg_\|^test_rootless_\|^test_criu_'
[ ${#systemd[@]} -eq 0 ] || filter='^test_sd_'
filter=${VM_SUITE_FILTER:-$filter}
suite="cgroup v2"
[ ${#systemd[@]} -eq 0 ] || suite="systemd"
[ ${#systemd[@]} -le 1 ] || suite="systemd, cgroup ${systemd[2]}"
cmd=("$top/tests/integration/run.sh" "$filter")
envs=(-e BULWARK="$bin" -e CG_CYCLES="${CG_CYCLES:-40}")
if [ -n "$engines" ]; then
	suite="engines, systemd driver"
	# The engines are installed on the host (the guest has no network) before the VM boots.
	. "$top/tests/engines/install.sh"
	engines_install || { echo "vm-suite: installing the engines failed"; echo "vm-suite ($suite): 0 passed, 1 failed"; exit 1; }
	cmd=("$top/tests/engines/run.sh" ${VM_ENGINES:-docker ctr podman cri})
	envs=(-e BULWARK="$bin" -e ENGINES_CGROUP_DRIVER=systemd -e ENGINES_NO_INSTALL=1 -e TMO=180
		-e CELL_FILTER="${CELL_FILTER:-}" -e VERBOSE="${VERBOSE:-0}")
fi
timeout=${VM_SUITE_TIMEOUT:-1800}

start=$(date +%s)
out=$(mktemp /tmp/vm-suite.XXXXXX)
"$here/run-in-vm.sh" "${systemd[@]}" -t "$timeout" -m 2G "${rw[@]}" "${envs[@]}" -- "${cmd[@]}" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
secs=$(($(date +%s) - start))
line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
rm -f "$out"
if [ -z "$line" ]; then
	echo "vm-suite: the runner gave no result (exit $rc after ${secs}s)"
	echo "vm-suite ($suite): 0 passed, 1 failed"
	exit 1
fi
echo "vm-suite: ${secs}s in all (boot included), VM exit status $rc"
if [ "$line" = "0 passed, 0 failed" ]; then # a filter that selects nothing must not pass
	echo "vm-suite: no test matched"
	echo "vm-suite ($suite): 0 passed, 1 failed"
	exit 1
fi
echo "vm-suite ($suite): $line"
[ "$rc" = 0 ] && [[ $line == *" 0 failed" ]]
