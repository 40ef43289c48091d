#!/bin/bash
# cgroup-bench.sh: what cgroups cost per container, as ratios measured in one run (timings on a
# shared machine are noisy: only ratios taken together mean anything, none is a pass/fail).
#  1. the cgroup slice of create: cg_create (resources applied) + cg_destroy alone (a small
#     driver linked with the runtime's library), as a share of bulwark's create+delete;
#  2. create+delete (the container is created, never started) with and without
#     linux.resources, bulwark against runc (and crun where it runs: a v2 host, i.e. the VM);
#  3. `update` latency (memory + pids + cpu) on a created container, against the same runtimes.
# Usage: tests/bench/cgroup-bench.sh [--vm] [N]   (BULWARK=path, default build/runtime/bulwark; N=20)
#   --vm: run the same bench inside the Debian-kernel VM (cgroup v2, tests/vm/run-in-vm.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=''
[ "${1:-}" = --vm ] && { vm=1; shift; }
N=${1:-20}
BULWARK=${BULWARK:-$top/build/runtime/bulwark}
[ -x "$BULWARK" ] || BULWARK=$top/build/bulwark
BULWARK=$(readlink -f "$BULWARK")
build=$(dirname "$BULWARK")
[ "$(basename "$build")" = runtime ] && build=$(dirname "$build")

if [ -n "$vm" ]; then
	exec "$top/tests/vm/run-in-vm.sh" -t 540 --rw "$build" --rw "$top" -e BULWARK="$BULWARK" \
		-- "$0" "$N"
fi
[ "$(id -u)" = 0 ] || { echo "cgroup-bench: needs root" >&2; exit 1; }

W=$(mktemp -d /tmp/cgbench.XXXXXX)
chmod 755 "$W"
# A copy of the binary next to the bundles: in the VM the build dir is a 9p share without a
# page cache (cache=mmap), which would charge every exec of bulwark, but not runc's, a 9p read.
cp "$BULWARK" "$W/bulwark"
cleanup() {
	for r in bulwark runc crun; do
		for id in $(ls "$W/state-$r" 2>/dev/null); do rt "$r" delete --force "$id" >/dev/null 2>&1 || true; done
	done
	find /sys/fs/cgroup -maxdepth 2 -type d -name cgbench -exec rmdir {} + 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# ---- bundles: busybox, sleep as the process; the same cgroupsPath for all (runs are sequential)
res='{"devices":[{"allow":false,"access":"rwm"}],
 "memory":{"limit":134217728,"reservation":67108864},
 "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"},
 "pids":{"limit":64}}'
mk_bundle() { # DIR RESOURCES-or-null
	mkdir -p "$1"/rootfs/{bin,proc,dev,sys,tmp} # a real directory: runc refuses a symlink
	cp /bin/busybox "$1/rootfs/bin/"
	ln -s busybox "$1/rootfs/bin/sleep"
	jq --argjson r "$2" '.process.args=["sleep","60"] | .root.path="rootfs" |
		.linux.cgroupsPath="/cgbench/c" |
		if $r == null then del(.linux.resources) else .linux.resources=$r end' \
		"$here/config.json" >"$1/config.json"
}
mk_bundle "$W/with" "$res"
mk_bundle "$W/without" null

# ---- runtimes: crun refuses hybrid hosts, so it runs only on v1-free (unified) hosts
declare -A RT=([bulwark]=$W/bulwark)
command -v runc >/dev/null && RT[runc]=$(command -v runc)
[ -f /sys/fs/cgroup/cgroup.controllers ] && command -v crun >/dev/null && RT[crun]=$(command -v crun)
names=(bulwark)
for r in runc crun; do [ -n "${RT[$r]:-}" ] && names+=("$r"); done
rt() { local r=$1; shift; "${RT[$r]}" --root "$W/state-$r" "$@"; }

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ms() { awk -v n="$1" 'BEGIN { printf "%.2f", n / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (b > 0 ? "%.2fx" : "n/a"), a / b }'; }

# create+delete of one container, in ns
cycle() { # RUNTIME BUNDLE
	local t0
	t0=$(now)
	rt "$1" create -b "$2" cgb </dev/null >/dev/null 2>"$W/err" || { echo "cgroup-bench: $1 create: $(cat "$W/err")" >&2; exit 1; }
	rt "$1" delete --force cgb >/dev/null 2>&1 || { echo "cgroup-bench: $1 delete failed" >&2; exit 1; }
	echo $(($(now) - t0))
}

mode=v1/hybrid
[ -f /sys/fs/cgroup/cgroup.controllers ] && mode=v2
echo "cgroup-bench: cgroup $mode, kernel $(uname -r), N=$N, runtimes: ${names[*]}, load $(cut -d' ' -f1 /proc/loadavg)"

# warm-up (page cache, BPF/seccomp caches)
for r in "${names[@]}"; do cycle "$r" "$W/with" >/dev/null; cycle "$r" "$W/without" >/dev/null; done

declare -A T
for i in $(seq "$N"); do # interleaved: load changes hit every runtime alike
	for r in "${names[@]}"; do
		cycle "$r" "$W/with" >>"$W/$r.with"
		cycle "$r" "$W/without" >>"$W/$r.without"
	done
done
for r in "${names[@]}"; do
	T[$r.with]=$(median <"$W/$r.with")
	T[$r.without]=$(median <"$W/$r.without")
done

# update latency: memory, pids and cpu alternating between two values, on a created container
for r in "${names[@]}"; do
	rt "$r" create -b "$W/with" cgb </dev/null >/dev/null 2>&1
	for i in $(seq "$N"); do
		m=$((i % 2 ? 100663296 : 134217728)) p=$((i % 2 ? 48 : 64)) q=$((i % 2 ? 40000 : 50000))
		t0=$(now)
		rt "$r" update --memory "$m" --pids-limit "$p" --cpu-quota "$q" cgb >/dev/null 2>"$W/err" ||
			{ echo "cgroup-bench: $r update: $(cat "$W/err")" >&2; exit 1; }
		echo $(($(now) - t0)) >>"$W/$r.update"
		t0=$(now)
		rt "$r" state cgb >/dev/null
		echo $(($(now) - t0)) >>"$W/$r.state"
	done
	rt "$r" delete --force cgb >/dev/null 2>&1
	T[$r.update]=$(median <"$W/$r.update")
	T[$r.state]=$(median <"$W/$r.state")
done

# the cgroup slice alone (the library's cg_create + cg_destroy, same resources)
slice=''
if [ -f "$build/libbulwark-core.a" ] && command -v gcc >/dev/null &&
	gcc -std=gnu11 -O2 -D_GNU_SOURCE -I"$top" -I"$build" -o "$W/cg_setup_timer" \
		"$here/cg_setup_timer.c" "$build/libbulwark-core.a" $(pkg-config --libs yajl libcap libseccomp) 2>"$W/err"; then
	read -r c_us d_us < <("$W/cg_setup_timer" "$W/with" "$((N * 5))")
	read -r c0_us d0_us < <("$W/cg_setup_timer" "$W/without" "$((N * 5))")
	slice=1
else
	echo "cgroup-bench: cannot build the cgroup slice driver: $(head -c 300 "$W/err")" >&2
fi

echo
printf '%-8s %22s %22s %12s %12s\n' runtime "create+delete (limits)" "create+delete (none)" update state
for r in "${names[@]}"; do
	printf '%-8s %20sms %20sms %10sms %10sms\n' "$r" "$(ms "${T[$r.with]}")" "$(ms "${T[$r.without]}")" \
		"$(ms "${T[$r.update]}")" "$(ms "${T[$r.state]}")"
done
echo
echo "ratios (one run, same machine, same moment):"
echo "  bulwark limits/no limits, create+delete: $(ratio "${T[bulwark.with]}" "${T[bulwark.without]}")"
for r in "${names[@]}"; do
	[ "$r" = bulwark ] && continue
	echo "  bulwark/$r create+delete with limits: $(ratio "${T[bulwark.with]}" "${T[$r.with]}"), without: $(ratio "${T[bulwark.without]}" "${T[$r.without]}"), update: $(ratio "${T[bulwark.update]}" "${T[$r.update]}")"
done
# update = a process start + reading the state + the cgroup writes; state has the first two.
for r in "${names[@]}"; do
	echo "  $r update/state (the cgroup writes over a verb's fixed cost): $(ratio "${T[$r.update]}" "${T[$r.state]}")"
done
if [ -n "$slice" ]; then
	cd_ns=$(((c_us + d_us) * 1000))
	echo "  cgroup slice (cg_create+cg_destroy ${c_us}+${d_us} us with limits, ${c0_us}+${d0_us} us without)"
	echo "    share of bulwark create+delete with limits: $(awk -v a="$cd_ns" -v b="${T[bulwark.with]}" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
	echo "    resources' own cost (with - without): $((c_us - c0_us)) us, $(awk -v a="$(((c_us - c0_us) * 1000))" -v b="${T[bulwark.with]}" 'BEGIN { printf "%.1f%%", 100 * a / b }') of create+delete"
fi
