#!/bin/bash
# guest-checks.sh: run inside the VM (selftest.sh does it): checks that the guest gives the runtime
# tests what this host lacks: all cgroup v2 controllers, nested limits, AppArmor loading and
# enforcing a profile, and runc running a busybox bundle under a memory limit.
set -u
fails=0
check() { # check NAME CMD...: run CMD, report
	local name=$1
	shift
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc = 0 ]; then echo "ok   $name"; else echo "FAIL $name"; fi
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/     /'
	[ $rc = 0 ] || fails=$((fails + 1))
}

controllers() {
	local c got
	got=$(cat /sys/fs/cgroup/cgroup.controllers)
	echo "controllers: $got"
	for c in cpuset cpu io memory hugetlb pids rdma misc; do
		[[ " $got " == *" $c "* ]] || { echo "missing $c"; return 1; }
		grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || { echo "$c not enabled"; return 1; }
	done
}

nested_limits() {
	local g=/sys/fs/cgroup/vmcheck
	mkdir -p $g/leaf || return 1
	echo "+memory +pids" >$g/cgroup.subtree_control &&
		echo 67108864 >$g/leaf/memory.max && echo 16 >$g/leaf/pids.max &&
		echo "leaf: memory.max $(cat $g/leaf/memory.max) pids.max $(cat $g/leaf/pids.max)" &&
		[ "$(cat $g/leaf/memory.max)" = 67108864 ] && [ "$(cat $g/leaf/pids.max)" = 16 ]
	local rc=$?
	rmdir $g/leaf $g
	return $rc
}

apparmor_enforces() {
	[ "$(cat /sys/module/apparmor/parameters/enabled)" = Y ] || return 1
	cat >/tmp/aa-prof <<'EOF'
profile bw-vm-check flags=(attach_disconnected) {
  file,
  deny /etc/hostname r,
}
EOF
	apparmor_parser -r /tmp/aa-prof || return 1
	grep -q '^bw-vm-check (enforce)' /sys/kernel/security/apparmor/profiles || return 1
	cat /etc/hostname >/dev/null || return 1
	# Under the profile the read must be denied.
	echo "profiles: $(cat /sys/kernel/security/apparmor/profiles)"
	if aa-exec -p bw-vm-check -- cat /etc/hostname; then
		echo "read allowed under bw-vm-check"
		return 1
	fi
}

runc_memory_limit() {
	local b=/tmp/bundle out
	mkdir -p $b/rootfs/bin $b/rootfs/proc $b/rootfs/sys $b/rootfs/dev || return 1
	cp /bin/busybox $b/rootfs/bin/ && ln -s busybox $b/rootfs/bin/sh && ln -s busybox $b/rootfs/bin/cat
	(cd $b && runc spec) || return 1
	# runc spec already adds a cgroup namespace under cgroup v2 (adding one again is an error).
	jq '.process.terminal = false | .process.args = ["cat", "/sys/fs/cgroup/memory.max"]
		| .linux.resources.memory = {limit: 67108864}' $b/config.json >$b/c.json &&
		mv $b/c.json $b/config.json || return 1
	out=$(runc run -b $b vmcheck) || { echo "$out"; return 1; }
	echo "memory.max in the container: $out"
	[ "$out" = 67108864 ]
}

check "cgroup2: all 8 controllers available and enabled" controllers
check "cgroup2: nested memory.max and pids.max" nested_limits
check "apparmor: enabled, parser loads a profile, it denies" apparmor_enforces
check "runc: busybox bundle with a 64 MiB memory limit" runc_memory_limit
exit $((fails > 0))
