# The systemd cgroup driver (--systemd-cgroup, docs/cgroups.md): the container's cgroup is a
# transient scope that systemd makes. These need systemd as PID 1: run them in the VM booted with
# systemd (tests/vm/run-vm-suite.sh --systemd, pure cgroup v2; --systemd --cgroup hybrid, the v1
# controllers with name=systemd v1 and cgroup2 at /sys/fs/cgroup/unified). The hierarchy is
# probed, and each test asserts the files that hierarchy has. Anywhere else this file defines no
# tests, so nothing here is reported as passed without having run.
[ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -S /run/systemd/private ] || return 0
# SD_V2: pure cgroup v2; else the v1 hierarchies (systemd's own tree is name=systemd's).
SD_V2=''
[ -f /sys/fs/cgroup/cgroup.controllers ] && SD_V2=1
SD_CG=/sys/fs/cgroup
[ -n "$SD_V2" ] || SD_CG=/sys/fs/cgroup/systemd
[ -d "$SD_CG" ] || return 0

# sd_unit ID: the scope of container ID made with cgroupsPath system.slice:$CG_PREFIX:ID.
sd_unit() { echo "$CG_PREFIX-$1.scope"; }
sd_dir() { echo "$SD_CG/system.slice/$(sd_unit "$1")"; }
# sd_v1dir CONTROLLER ID: the scope's directory in a v1 controller's hierarchy.
sd_v1dir() { echo "/sys/fs/cgroup/$1/system.slice/$(sd_unit "$2")"; }
sd_bundle() { # sd_bundle ID [RESOURCES-JSON]
	local b
	b=$(new_bundle "$1")
	cfg "$b" ".linux.cgroupsPath=\"system.slice:$CG_PREFIX:$1\""
	[ -z "${2:-}" ] || cfg "$b" ".linux.resources += $2"
	echo "$b"
}
sdbw() { bw --systemd-cgroup "$@"; }
sd_active() { systemctl is-active "$1" 2>/dev/null; }
sd_prop() { systemctl show -p "$2" --value "$1"; }
# sd_expect_gone UNIT DIR: the unit is no longer loaded (nor failed) and its cgroup is gone.
sd_expect_gone() {
	local st
	st=$(systemctl show -p LoadState,ActiveState --value "$1" | tr '\n' ' ')
	case $st in "not-found inactive "* | "loaded inactive "*) ;; *) fail "unit $1 left: $st" ;; esac
	[ -z "$(systemctl list-units --all --no-legend "$1" 2>/dev/null)" ] ||
		fail "unit $1 still listed: $(systemctl list-units --all --no-legend "$1")"
	[ ! -e "$2" ] || fail "cgroup $2 left behind"
}
# sd_create ID BUNDLE: create with the driver; the output goes to a file, never to a pipe the
# container's init would hold open. Prints the output; the exit status is create's.
sd_create() {
	local rc=0
	sdbw create -b "$2" "$1" </dev/null >"$WORK/$1.create" 2>&1 || rc=$?
	cat "$WORK/$1.create"
	return $rc
}
sd_status_is() { [ "$(bw state "$1" 2>/dev/null | jq -r .status)" = "$2" ]; }

test_sd_scope_life_cycle() {
	local u d pid out
	b=$(sd_bundle sd-life '{"memory":{"limit":67108864,"swap":134217728},"pids":{"limit":20},
		"cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0"}}')
	cfg "$b" '.process.args=["sleep","60"]'
	u=$(sd_unit sd-life) d=$(sd_dir sd-life)
	out=$(sd_create sd-life "$b") || fail "create: $out"
	expect_eq "unit active after create" active "$(sd_active "$u")"
	pid=$(bw state sd-life | jq -r .pid)
	if [ -n "$SD_V2" ]; then
		expect_eq "init's cgroup" "0::/system.slice/$u" "$(cat /proc/"$pid"/cgroup)"
	else
		# systemd made the scope where it manages (name=systemd, the controllers it
		# delegates), bulwark in the others: the init is in it in every hierarchy. (On a
		# legacy host no cgroup2 is mounted: its "0::/" line names no hierarchy in use.)
		local lines
		lines=$(cat /proc/"$pid"/cgroup)
		[ -d /sys/fs/cgroup/unified ] || lines=$(echo "$lines" | grep -v '^0::')
		echo "$lines" | grep -q "^[0-9]*:name=systemd:/system.slice/$u\$" ||
			fail "init not in the name=systemd scope: $lines"
		[ -z "$(echo "$lines" | grep -v ":/system.slice/$u\$")" ] ||
			fail "init outside the scope in: $(echo "$lines" | grep -v ":/system.slice/$u\$")"
		[ "$(echo "$lines" | grep -c .)" -ge 8 ] || fail "too few hierarchies: $lines"
	fi
	expect_eq "unit delegated" yes "$(sd_prop "$u" Delegate)"
	expect_eq "unit slice" system.slice "$(sd_prop "$u" Slice)"
	# The properties systemd holds, and the files (written by systemd and by us).
	expect_eq TasksMax 20 "$(sd_prop "$u" TasksMax)"
	expect_eq CPUQuotaPerSecUSec 500ms "$(sd_prop "$u" CPUQuotaPerSecUSec)"
	if [ -n "$SD_V2" ]; then
		expect_eq MemoryMax 67108864 "$(sd_prop "$u" MemoryMax)"
		expect_eq MemorySwapMax 67108864 "$(sd_prop "$u" MemorySwapMax)"
		expect_eq CPUWeight 20 "$(sd_prop "$u" CPUWeight)"
		expect_eq AllowedCPUs 0 "$(sd_prop "$u" AllowedCPUs)"
		expect_eq memory.max 67108864 "$(cat "$d/memory.max")"
		expect_eq memory.swap.max 67108864 "$(cat "$d/memory.swap.max")"
		expect_eq pids.max 20 "$(cat "$d/pids.max")"
		expect_eq cpu.max "50000 100000" "$(cat "$d/cpu.max")"
		expect_eq cpu.weight 20 "$(cat "$d/cpu.weight")"
		expect_eq cpuset.cpus 0 "$(cat "$d/cpuset.cpus")"
	else
		expect_eq MemoryLimit 67108864 "$(sd_prop "$u" MemoryLimit)"
		expect_eq CPUShares 512 "$(sd_prop "$u" CPUShares)"
		expect_eq memory.limit_in_bytes 67108864 \
			"$(cat "$(sd_v1dir memory sd-life)/memory.limit_in_bytes")"
		expect_eq pids.max 20 "$(cat "$(sd_v1dir pids sd-life)/pids.max")"
		expect_eq cpu.cfs_quota_us 50000 "$(cat "$(sd_v1dir cpu sd-life)/cpu.cfs_quota_us")"
		expect_eq cpu.shares 512 "$(cat "$(sd_v1dir cpu sd-life)/cpu.shares")"
		expect_eq cpuset.cpus 0 "$(cat "$(sd_v1dir cpuset sd-life)/cpuset.cpus")"
		grep -qx 'c 1:3 rwm' "$(sd_v1dir devices sd-life)/devices.list" ||
			fail "devices.list: $(cat "$(sd_v1dir devices sd-life)/devices.list")"
		expect_eq DevicePolicy strict "$(sd_prop "$u" DevicePolicy)"
	fi
	sdbw start sd-life || fail start
	wait_for 5 sd_status_is sd-life running || fail "not running"
	out=$(sdbw exec sd-life cat /proc/self/cgroup 2>&1) || fail "exec: $out"
	# The container's cgroup namespace: "/" in every hierarchy.
	if [ -n "$SD_V2" ]; then
		expect_eq "exec'd process's cgroup" "0::/" "$out"
	else
		[ -z "$(echo "$out" | grep -v ':/$')" ] || fail "exec'd process's cgroup: $out"
	fi
	sdbw pause sd-life || fail pause
	expect_eq status paused "$(bw state sd-life | jq -r .status)"
	if [ -n "$SD_V2" ]; then
		expect_eq cgroup.freeze 1 "$(cat "$d/cgroup.freeze")"
	else
		expect_eq freezer.state FROZEN "$(cat "$(sd_v1dir freezer sd-life)/freezer.state")"
	fi
	sdbw resume sd-life || fail resume
	if [ -n "$SD_V2" ]; then
		expect_eq cgroup.freeze 0 "$(cat "$d/cgroup.freeze")"
	else
		expect_eq freezer.state THAWED "$(cat "$(sd_v1dir freezer sd-life)/freezer.state")"
	fi
	sdbw update --memory 134217728 --memory-swap 268435456 --pids-limit 30 --cpu-quota 20000 sd-life ||
		fail update
	expect_eq "TasksMax after update" 30 "$(sd_prop "$u" TasksMax)"
	expect_eq "CPUQuotaPerSecUSec after update" 200ms "$(sd_prop "$u" CPUQuotaPerSecUSec)"
	if [ -n "$SD_V2" ]; then
		expect_eq "MemoryMax after update" 134217728 "$(sd_prop "$u" MemoryMax)"
		expect_eq "memory.max after update" 134217728 "$(cat "$d/memory.max")"
		expect_eq "pids.max after update" 30 "$(cat "$d/pids.max")"
		expect_eq "cpu.max after update" "20000 100000" "$(cat "$d/cpu.max")"
	else
		expect_eq "MemoryLimit after update" 134217728 "$(sd_prop "$u" MemoryLimit)"
		expect_eq "memory.limit_in_bytes after update" 134217728 \
			"$(cat "$(sd_v1dir memory sd-life)/memory.limit_in_bytes")"
		expect_eq "pids.max after update" 30 "$(cat "$(sd_v1dir pids sd-life)/pids.max")"
		expect_eq "cpu.cfs_quota_us after update" 20000 \
			"$(cat "$(sd_v1dir cpu sd-life)/cpu.cfs_quota_us")"
	fi
	expect_eq "events --stats: pids" 1 "$(sdbw events --stats sd-life | jq .data.pids.current)"
	sdbw kill sd-life KILL || fail kill
	wait_for 5 sd_status_is sd-life stopped || fail "not stopped after kill"
	sdbw delete sd-life || fail delete
	sd_expect_gone "$u" "$d"
	[ ! -e "$BW_ROOT/sd-life" ] || fail "state left"
}

test_sd_default_path_and_nested_slice() {
	local d
	b=$(new_bundle sd-def)
	cfg "$b" '.process.args=["sleep","60"] | del(.linux.cgroupsPath)'
	out=$(sd_create sd-def "$b") || fail "create (default path): $out"
	expect_eq "default unit" active "$(sd_active bulwark-sd-def.scope)"
	[ -d "$SD_CG/system.slice/bulwark-sd-def.scope" ] || fail "no cgroup in system.slice"
	sdbw delete --force sd-def || fail "delete sd-def"
	sd_expect_gone bulwark-sd-def.scope "$SD_CG/system.slice/bulwark-sd-def.scope"

	b=$(new_bundle sd-nest)
	cfg "$b" ".process.args=[\"sleep\",\"60\"] | .linux.cgroupsPath=\"bwitsd-nest.slice:$CG_PREFIX:sd-nest\""
	out=$(sd_create sd-nest "$b") || fail "create (nested slice): $out"
	d=$SD_CG/bwitsd.slice/bwitsd-nest.slice/$CG_PREFIX-sd-nest.scope
	[ -d "$d" ] || fail "no cgroup at $d"
	expect_eq "nested unit" active "$(sd_active "$CG_PREFIX-sd-nest.scope")"
	sdbw delete --force sd-nest || fail "delete sd-nest"
	sd_expect_gone "$CG_PREFIX-sd-nest.scope" "$d"
	systemctl stop bwitsd-nest.slice bwitsd.slice
}

test_sd_malformed_paths_refused_and_leave_nothing() {
	local p out
	b=$(new_bundle sd-bad)
	cfg "$b" '.process.args=["true"]'
	for p in "nocolons" "a:b" "system:$CG_PREFIX:x" "a--b.slice:$CG_PREFIX:x" \
		"-a.slice:$CG_PREFIX:x" "system.slice:$CG_PREFIX:bad/name" "system.slice:$CG_PREFIX:" \
		"system.slice:$CG_PREFIX:x.slice" "system.slice:$CG_PREFIX:a b" "system.slice:p:q:r"; do
		cfg "$b" ".linux.cgroupsPath=$(jq -Rn --arg p "$p" '$p')"
		if out=$(sd_create sd-bad "$b"); then
			bw delete --force sd-bad
			fail "create accepted cgroupsPath [$p]"
		fi
		expect_eq "one line for [$p]" 1 "$(echo "$out" | wc -l)"
		expect_contains "error for [$p]" "linux.cgroupsPath" "$out"
		[ ! -e "$BW_ROOT/sd-bad" ] || fail "state left for [$p]"
	done
	[ -z "$(systemctl list-units --all --no-legend "$CG_PREFIX-*" 'p-*' 2>/dev/null)" ] ||
		fail "units left: $(systemctl list-units --all --no-legend "$CG_PREFIX-*" 'p-*')"
}

# A limit that only fails once the scope exists (a CPU the host lacks: the file refuses it) and a
# unit name that is taken: one line each, and no unit of theirs left.
test_sd_refused_after_unit_start_leaves_no_unit() {
	local out
	b=$(sd_bundle sd-cpu '{"cpu":{"cpus":"99"}}')
	cfg "$b" '.process.args=["true"]'
	out=$(sd_create sd-cpu "$b") && fail "create with cpus 99 passed"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains error "linux.resources.cpu.cpus" "$out"
	sd_expect_gone "$(sd_unit sd-cpu)" "$(sd_dir sd-cpu)"
	[ ! -e "$BW_ROOT/sd-cpu" ] || fail "state left"

	b=$(sd_bundle sd-one)
	cfg "$b" '.process.args=["sleep","60"]'
	out=$(sd_create sd-one "$b") || fail "create sd-one: $out"
	b2=$(new_bundle sd-two)
	cfg "$b2" ".process.args=[\"true\"] | .linux.cgroupsPath=\"system.slice:$CG_PREFIX:sd-one\""
	out=$(sd_create sd-two "$b2") && fail "a second container took unit sd-one"
	expect_contains error "already exists" "$out"
	[ ! -e "$BW_ROOT/sd-two" ] || fail "state of sd-two left"
	expect_eq "the first container's unit" active "$(sd_active "$(sd_unit sd-one)")"
	sdbw delete --force sd-one || fail "delete sd-one"
	sd_expect_gone "$(sd_unit sd-one)" "$(sd_dir sd-one)"
}

test_sd_delete_force_of_half_made_container() {
	local creator
	b=$(sd_bundle sd-crash '{"pids":{"limit":20},"memory":{"limit":67108864}}')
	cfg "$b" '.process.args=["sleep","30"]'
	cfg "$b" ".hooks.createRuntime=[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo \$\$ >$WORK/hook.pid; exec sleep 30\"]}]"
	"$BULWARK" --root "$BW_ROOT" --systemd-cgroup create -b "$b" sd-crash </dev/null >/dev/null 2>&1 &
	creator=$!
	wait_for 20 test -s "$WORK/hook.pid" || { kill -9 $creator; fail "the hook never ran"; }
	expect_eq "unit before the crash" active "$(sd_active "$(sd_unit sd-crash)")"
	kill -9 $creator
	wait $creator 2>/dev/null || true
	kill -9 "$(cat "$WORK/hook.pid")" 2>/dev/null || true
	sdbw delete --force sd-crash || fail "delete --force after the crash"
	sd_expect_gone "$(sd_unit sd-crash)" "$(sd_dir sd-crash)"
	[ ! -e "$BW_ROOT/sd-crash" ] || fail "state left"
}

# A create that dies after recording its unit's name but before systemd refused it that name
# (another container's) leaves a record naming the other's unit: its delete --force must stop
# nothing of the other's (systemd is asked whose the unit is: its Description). The record is
# made here by rewriting a live container's. An update through such a record is refused.
test_sd_delete_with_another_containers_unit_recorded_spares_it() {
	local pid
	b=$(sd_bundle sd-own)
	cfg "$b" '.process.args=["sleep","60"]'
	out=$(sd_create sd-own "$b") || fail "create sd-own: $out"
	pid=$(bw state sd-own | jq -r .pid)
	b2=$(sd_bundle sd-cr)
	cfg "$b2" '.process.args=["sleep","60"]'
	out=$(sd_create sd-cr "$b2") || fail "create sd-cr: $out"
	[ -f "$BW_ROOT/sd-cr/systemd-unit" ] || fail "no unit record in the state"
	sd_unit sd-own >"$BW_ROOT/sd-cr/systemd-unit"
	# update too: the other's limits are not this record's to change.
	rc=0; out=$(sdbw update --memory 123731968 sd-cr 2>&1) || rc=$?
	[ $rc != 0 ] || fail "update through another container's unit succeeded"
	expect_contains "update names the owner" "belongs to another container" "$out"
	expect_eq "the other container's memory limit" infinity "$(sd_prop "$(sd_unit sd-own)" MemoryMax)"
	sdbw delete --force sd-cr || fail "delete --force sd-cr"
	[ ! -e "$BW_ROOT/sd-cr" ] || fail "state of sd-cr left"
	expect_eq "the other container's unit" active "$(sd_active "$(sd_unit sd-own)")"
	kill -0 "$pid" || fail "the other container's init was killed"
	systemctl stop "$(sd_unit sd-cr)" 2>/dev/null || true
	sdbw delete --force sd-own || fail "delete sd-own"
	sd_expect_gone "$(sd_unit sd-own)" "$(sd_dir sd-own)"
}

# The unit's Description names the state directory, whole: a state root longer than any fixed
# buffer must still be recognised as this container's own (update and delete checked it against
# a 512-byte copy, which cut it and called the unit another container's).
test_sd_long_state_root_is_still_ours() {
	local root u out
	root=$WORK/sd-$(printf 'r%.0s' {1..200})/$(printf 's%.0s' {1..200})/$(printf 't%.0s' {1..120})
	mkdir -p "$root"
	b=$(sd_bundle sd-long)
	cfg "$b" '.process.args=["sleep","60"]'
	u=$(sd_unit sd-long)
	# (to a file: the container's init would hold a pipe open)
	"$BULWARK" --root "$root" --systemd-cgroup create -b "$b" sd-long </dev/null >"$WORK/sd-long.create" 2>&1 ||
		fail "create: $(cat "$WORK/sd-long.create")"
	out=$("$BULWARK" --root "$root" --systemd-cgroup update --pids-limit 33 sd-long 2>&1) ||
		fail "update: $out"
	expect_eq "TasksMax after update" 33 "$(sd_prop "$u" TasksMax)"
	out=$("$BULWARK" --root "$root" --systemd-cgroup delete --force sd-long 2>&1) ||
		fail "delete: $out"
	sd_expect_gone "$u" "$(sd_dir sd-long)"
	[ ! -e "$root/sd-long" ] || fail "state left"
	rm -rf "$WORK/sd-rrr"*
}

# The container's device rules hold where systemd re-realizes the scope (a daemon-reload, the
# SetUnitProperties of an update): on a v1 devices hierarchy systemd rewrites devices.allow/deny
# from DevicePolicy/DeviceAllow, which bulwark sets from the same rules; on v2 bulwark's eBPF
# program holds (systemd attaches none of its own without a DevicePolicy). /dev/kmsg: write
# allowed, read denied; the rest of the allow list is bulwark's default one.
test_sd_device_rules_hold_after_reload_and_update() {
	local u out step
	b=$(sd_bundle sd-dev '{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}')
	cfg "$b" '.process.args=["sleep","120"]'
	cfg "$b" '.linux.devices = [{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":432}]'
	u=$(sd_unit sd-dev)
	out=$(sd_create sd-dev "$b") || fail "create: $out"
	e() { sdbw exec sd-dev sh -c "$1" 2>&1; }
	for step in create daemon-reload update; do
		case $step in
		daemon-reload) systemctl daemon-reload || fail "daemon-reload" ;;
		update) sdbw update --pids-limit 25 --memory 100663296 sd-dev || fail update
			expect_eq "TasksMax after update" 25 "$(sd_prop "$u" TasksMax)" ;;
		esac
		out=$(e 'head -c1 /dev/kmsg') && fail "$step: read of /dev/kmsg (only w allowed) succeeded"
		expect_contains "$step: read /dev/kmsg" "Operation not permitted" "$out"
		out=$(e 'mknod /tmp/sda b 8 0') && fail "$step: mknod of a block device succeeded"
		expect_contains "$step: mknod" "Operation not permitted" "$out"
		e 'echo bulwark-it: sd device test >/dev/kmsg' ||
			fail "$step: write to /dev/kmsg (allowed w) failed"
		expect_eq "$step: /dev/null and /dev/zero" 4 \
			"$(e 'echo x >/dev/null && head -c4 /dev/zero | wc -c')"
		[ -n "$SD_V2" ] && continue
		out=$(cat "$(sd_v1dir devices sd-dev)/devices.list")
		expect_contains "$step: devices.list" "c 1:11 w" "$out"
		echo "$out" | grep -q '^a ' && fail "$step: devices.list allows all: $out"
		expect_eq "$step: DevicePolicy" strict "$(sd_prop "$u" DevicePolicy)"
		expect_contains "$step: DeviceAllow" "/dev/char/1:11 w" "$(sd_prop "$u" DeviceAllow)"
	done
	sdbw delete --force sd-dev || fail "delete"
	sd_expect_gone "$u" "$(sd_dir sd-dev)"
}

# linux.resources.unified values that systemd manages hold where systemd re-realizes the scope
# (a daemon-reload, an update): they are sent as its properties too (MemoryHigh, MemoryMin...),
# or systemd would write its own "max" over the files. Pure cgroup v2 only (unified is refused
# on v1 hierarchies).
[ -z "$SD_V2" ] || test_sd_unified_limits_hold_after_reload_and_update() {
	local u d out step
	b=$(sd_bundle sd-uni '{"unified":{"memory.high":"67108864","memory.min":"1048576","cpu.max":"50000 100000"}}')
	cfg "$b" '.process.args=["sleep","120"]'
	u=$(sd_unit sd-uni) d=$(sd_dir sd-uni)
	out=$(sd_create sd-uni "$b") || fail "create: $out"
	for step in create daemon-reload update; do
		case $step in
		daemon-reload) systemctl daemon-reload || fail "daemon-reload" ;;
		update) sdbw update --pids-limit 30 sd-uni || fail update ;;
		esac
		expect_eq "$step: memory.high" 67108864 "$(cat "$d/memory.high")"
		expect_eq "$step: memory.min" 1048576 "$(cat "$d/memory.min")"
		expect_eq "$step: cpu.max" "50000 100000" "$(cat "$d/cpu.max")"
		expect_eq "$step: MemoryHigh" 67108864 "$(sd_prop "$u" MemoryHigh)"
	done
	sdbw delete --force sd-uni || fail "delete"
	sd_expect_gone "$u" "$d"
}

# Rules systemd's DeviceAllow cannot say are refused in one line before any unit exists. Defined
# on a v1 devices hierarchy only: on v2 the rules are bulwark's eBPF program alone.
[ -n "$SD_V2" ] || test_sd_device_rules_without_systemd_form_refused() {
	local r out
	for r in '[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":10,"minor":229,"access":"rwm"}]' \
		'[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","minor":3,"access":"r"}]'; do
		b=$(sd_bundle sd-devno "{\"devices\":$r}")
		cfg "$b" '.process.args=["true"]'
		out=$(sd_create sd-devno "$b") && { bw delete --force sd-devno; fail "create accepted $r"; }
		expect_eq "one line for $r" 1 "$(echo "$out" | wc -l)"
		expect_contains "error for $r" "linux.resources.devices" "$out"
		expect_contains "error for $r" "systemd" "$out"
		[ ! -e "$BW_ROOT/sd-devno" ] || fail "state left for $r"
		sd_expect_gone "$(sd_unit sd-devno)" "$(sd_dir sd-devno)"
	done
}
