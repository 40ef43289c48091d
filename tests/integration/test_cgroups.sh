# Cgroup limits in real containers (issue 3): every resource read back from the cgroup files,
# placement in every hierarchy, fork bomb / memory hog / CPU spinner contained, devices, freeze,
# update, events, ps, kill --all, and nothing left behind. Detects v1/hybrid vs v2 (unified) and
# asserts the files of the mode it runs in: the same tests run on the host and in tests/vm.

CGT_ROOT=/sys/fs/cgroup
cgt_v2() { [ -f $CGT_ROOT/cgroup.controllers ]; }

# cgt_dir CTRL ID: the container's cgroup directory serving CTRL (v1 controller name).
cgt_dir() {
	if cgt_v2; then
		echo "$CGT_ROOT/$CG_PREFIX/$2"
	elif [ "$1" = hugetlb ] && ! mountpoint -q $CGT_ROOT/hugetlb; then
		echo "$CGT_ROOT/unified/$CG_PREFIX/$2" # hybrid host: hugetlb lives on the cgroup2 mount
	else
		echo "$CGT_ROOT/$1/$CG_PREFIX/$2"
	fi
}
# cgt_get CTRL ID FILE: a cgroup file's content.
cgt_get() { cat "$(cgt_dir "$1" "$2")/$3"; }
# cgt_key CTRL ID FILE KEY: the value of KEY in a "key value" file.
cgt_key() { awk -v k="$4" '$1 == k { print $2 }' "$(cgt_dir "$1" "$2")/$3"; }

# Every directory of the container's cgroup, in every mounted hierarchy.
cgt_dirs_of() {
	awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do [ -d "$m/$CG_PREFIX/$1" ] && echo "$m/$CG_PREFIX/$1"; done
	return 0
}
cgt_expect_gone() {
	local left
	left=$(cgt_dirs_of "$1")
	[ -z "$left" ] || fail "cgroup of $1 left behind: $(echo "$left" | tr '\n' ' ')"
	[ ! -e "$BW_ROOT/$1" ] || fail "state dir of $1 left behind"
}

# cgt_bundle ID [RESOURCES-JSON]: a bundle with /out bound to $WORK/out/ID and resources merged.
cgt_bundle() {
	local b
	b=$(new_bundle "$1")
	mkdir -p "$WORK/out/$1"
	cfg "$b" ".mounts += [{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$WORK/out/$1\",\"options\":[\"rbind\",\"rw\"]}]"
	[ -z "${2:-}" ] || cfg "$b" ".linux.resources += $2"
	echo "$b"
}

cgt_status() { bw state "$1" 2>/dev/null | jq -r .status; }
cgt_is() { [ "$(cgt_status "$1")" = "$2" ]; }
# cgt_start ID BUNDLE ARGS-JSON: create + start a container running ARGS, detached.
cgt_start() {
	cfg "$2" ".process.args=$3"
	bw create -b "$2" "$1" </dev/null >"$WORK/out/$1.log" 2>&1 || fail "create $1: $(cat "$WORK/out/$1.log")"
	bw start "$1" || fail "start $1"
	wait_for 5 cgt_is "$1" running || fail "$1 not running"
}
cgt_pid() { bw state "$1" | jq -r .pid; }
cgt_stop() {
	bw delete --force "$1" || fail "delete --force $1"
	cgt_expect_gone "$1"
}

# The resources of test_cg_resources_read_back.
CGT_RES='{"memory":{"limit":67108864,"reservation":33554432,"swap":134217728},
 "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0","mems":"0"},
 "pids":{"limit":20},"blockIO":{"weight":300},
 "hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}'

# cgt_io_weight_file DIR: the proportional I/O weight file a cgroup directory offers (BFQ's,
# CFQ's or blk-iocost's), or nothing: many block devices run none/mq-deadline/kyber only.
cgt_io_weight_file() {
	local f
	for f in io.bfq.weight io.weight blkio.weight blkio.bfq.weight; do
		[ -f "$1/$f" ] && { echo "$f"; return 0; }
	done
	return 0
}

test_cg_resources_read_back() {
	b=$(cgt_bundle cg-res "$CGT_RES")
	cfg "$b" '.linux.resources.devices += [{"allow":true,"type":"c","major":10,"minor":200,"access":"rw"},{"allow":true,"type":"b","major":7,"minor":0,"access":"r"}]'
	id=cg-res
	# blockIO.weight needs a proportional I/O scheduler. Where the host has none, the config is
	# refused with one line naming the field (fail closed), nothing is left, and the rest of the
	# resources are read back from a container without the weight.
	cfg "$b" '.process.args=["sleep","30"]'
	# Not through a pipe: a created init holds its stderr open until it runs.
	if ! bw create -b "$b" $id </dev/null >/dev/null 2>"$WORK/out/$id.err"; then
		out=$(cat "$WORK/out/$id.err")
		expect_eq "blockIO.weight refusal: lines" 1 "$(printf '%s\n' "$out" | wc -l)"
		expect_contains "blockIO.weight refusal" \
			"linux.resources.blockIO.weight: no proportional I/O scheduler" "$out"
		cgt_expect_gone $id
		cfg "$b" 'del(.linux.resources.blockIO)'
		cgt_start $id "$b" '["sleep","30"]'
		expect_eq "weight file where bulwark said there is none" "" \
			"$(cgt_io_weight_file "$(cgt_dir blkio $id)")"
		noweight=1
	else
		bw start $id || fail "start $id"
		wait_for 5 cgt_is $id running || fail "$id not running"
		noweight=0
	fi
	if cgt_v2; then
		expect_eq memory.max 67108864 "$(cgt_get memory $id memory.max)"
		expect_eq memory.low 33554432 "$(cgt_get memory $id memory.low)"
		expect_eq "memory.swap.max (swap - limit)" 67108864 "$(cgt_get memory $id memory.swap.max)"
		expect_eq "cpu.weight (shares 512)" 20 "$(cgt_get cpu $id cpu.weight)"
		expect_eq cpu.max "50000 100000" "$(cgt_get cpu $id cpu.max)"
		expect_eq cpuset.cpus 0 "$(cgt_get cpuset $id cpuset.cpus)"
		expect_eq cpuset.mems 0 "$(cgt_get cpuset $id cpuset.mems)"
		expect_eq pids.max 20 "$(cgt_get pids $id pids.max)"
		d=$(cgt_dir blkio $id)
		if [ $noweight = 1 ]; then
			:
		elif [ -f "$d/io.bfq.weight" ]; then
			expect_eq io.bfq.weight "default 300" "$(cat "$d/io.bfq.weight")"
		else
			expect_eq "io.weight (blkio 300)" "default $((1 + (300 - 10) * 9999 / 990))" "$(cat "$d/io.weight")"
		fi
		expect_eq hugetlb.2MB.max 4194304 "$(cgt_get hugetlb $id hugetlb.2MB.max)"
	else
		expect_eq memory.limit_in_bytes 67108864 "$(cgt_get memory $id memory.limit_in_bytes)"
		expect_eq memory.soft_limit_in_bytes 33554432 "$(cgt_get memory $id memory.soft_limit_in_bytes)"
		if [ -f "$(cgt_dir memory $id)/memory.memsw.limit_in_bytes" ]; then
			expect_eq memory.memsw.limit_in_bytes 134217728 "$(cgt_get memory $id memory.memsw.limit_in_bytes)"
		fi
		expect_eq cpu.shares 512 "$(cgt_get cpu $id cpu.shares)"
		expect_eq cpu.cfs_quota_us 50000 "$(cgt_get cpu $id cpu.cfs_quota_us)"
		expect_eq cpu.cfs_period_us 100000 "$(cgt_get cpu $id cpu.cfs_period_us)"
		expect_eq cpuset.cpus 0 "$(cgt_get cpuset $id cpuset.cpus)"
		expect_eq cpuset.mems 0 "$(cgt_get cpuset $id cpuset.mems)"
		expect_eq pids.max 20 "$(cgt_get pids $id pids.max)"
		d=$(cgt_dir blkio $id)
		if [ $noweight = 1 ]; then
			:
		elif [ -f "$d/blkio.weight" ]; then
			expect_eq blkio.weight 300 "$(cat "$d/blkio.weight")"
		else
			expect_eq blkio.bfq.weight 300 "$(cat "$d/blkio.bfq.weight")"
		fi
		expect_eq "hugetlb 2MB limit" 4194304 "$(cgt_get hugetlb $id hugetlb.2MB.max 2>/dev/null ||
			cgt_get hugetlb $id hugetlb.2MB.limit_in_bytes)"
		# The configured rules first, then the defaults; nothing else (no "a *:* rwm").
		want="c 10:200 rw
b 7:0 r
c 1:3 rwm
c 1:5 rwm
c 1:7 rwm
c 1:8 rwm
c 1:9 rwm
c 5:0 rwm
c 5:1 rwm
c 5:2 rwm
c 136:* rwm"
		expect_eq devices.list "$(echo "$want" | sort)" "$(cgt_get devices $id devices.list | sort)"
	fi
	cgt_stop $id
}

test_cg_placed_at_cgroups_path_in_every_hierarchy() {
	b=$(cgt_bundle cg-place)
	cgt_start cg-place "$b" '["sh","-c","sleep 30 & sleep 30"]'
	pid=$(cgt_pid cg-place)
	nh=$(awk '$9 == "cgroup" || $9 == "cgroup2" { print $3 }' /proc/self/mountinfo | sort -u | wc -l)
	for p in $pid $(pgrep -P "$pid"); do
		lines=$(cat /proc/$p/cgroup)
		expect_eq "hierarchies listed for pid $p" "$nh" "$(echo "$lines" | wc -l)"
		bad=$(echo "$lines" | grep -v ":/$CG_PREFIX/cg-place\$" || true)
		[ -z "$bad" ] || fail "pid $p not at /$CG_PREFIX/cg-place: $bad"
	done
	echo "$lines" | grep -q "^0::/$CG_PREFIX/cg-place\$" || fail "no unified 0:: line: $lines"
	if ! cgt_v2 && grep -q 'name=systemd' /proc/self/mountinfo; then
		echo "$lines" | grep -q ":name=systemd:/$CG_PREFIX/cg-place\$" || fail "not in name=systemd: $lines"
	fi
	# Inside, with a cgroup namespace, the container sees itself at the root.
	expect_contains "state cgroup path" "/$CG_PREFIX/cg-place" "$(cat "$BW_ROOT/cg-place/state.json" 2>/dev/null || bw state cg-place)"
	cgt_stop cg-place
}

test_cg_fork_bomb_stopped_at_pids_max() {
	# A quota keeps the failing forks from eating the (shared) CPUs. The bomb's processes come
	# and go (a subshell whose fork fails exits), so pids.current is sampled while it churns;
	# pids.events "max" is the counter that proves the limit was hit, and it only grows. Under
	# software emulation with a 20% quota the bomb needs a while to get there.
	b=$(cgt_bundle cg-bomb '{"pids":{"limit":16},"cpu":{"quota":20000,"period":100000}}')
	cgt_start cg-bomb "$b" '["sh","-c","b() { b | b & }; b; sleep 30"]'
	wait_for 40 eval '[ "$(cgt_key pids cg-bomb pids.events max)" -gt 0 ]' ||
		fail "pids.max never hit: current $(cgt_get pids cg-bomb pids.current)"
	local i cur
	for i in 1 2 3 4 5 6 7 8 9 10; do
		cur=$(cgt_get pids cg-bomb pids.current)
		[ "$cur" -le 16 ] || fail "pids.current $cur above the limit 16"
		sleep 0.05
	done
	bw kill --all cg-bomb KILL || fail "kill --all of the bomb"
	wait_for 10 cgt_is cg-bomb stopped || fail "bomb not stopped after kill --all"
	wait_for 5 eval '[ "$(cgt_get pids cg-bomb pids.current)" = 0 ]' ||
		fail "pids after kill --all: $(cgt_get pids cg-bomb pids.current)"
	bw delete cg-bomb || fail "delete after kill"
	cgt_expect_gone cg-bomb
	# The same bomb, removed at once by delete --force.
	b=$(cgt_bundle cg-bomb2 '{"pids":{"limit":16},"cpu":{"quota":20000,"period":100000}}')
	cgt_start cg-bomb2 "$b" '["sh","-c","b() { b | b & }; b; sleep 30"]'
	wait_for 40 eval '[ "$(cgt_key pids cg-bomb2 pids.events max)" -gt 0 ]' ||
		fail "bomb2 never hit pids.max: current $(cgt_get pids cg-bomb2 pids.current)"
	cgt_stop cg-bomb2
}

# runc's events: stats lines every interval and an {"type":"oom","id":ID} line when the kernel
# OOM-kills a process of the container. Readers watch the stream for the word "oom" (runc's own
# events test does): no line may say it before a kill, and the kill of a process other than the
# init (an exec'd hog) is reported while the container keeps running.
test_cg_events_say_oom_only_after_an_oom_kill() {
	b=$(cgt_bundle cg-evhog '{"memory":{"limit":33554432,"swap":33554432}}')
	cgt_start cg-evhog "$b" '["sleep","60"]'
	"$BULWARK" --root "$BW_ROOT" events --interval 100ms cg-evhog >"$WORK/out/cg-evhog.events" 2>&1 &
	ev=$!
	wait_for 5 eval '[ "$(grep -c "\"type\":\"stats\"" "$WORK/out/cg-evhog.events")" -ge 3 ]' ||
		{ kill $ev; fail "no stats lines: $(head -c 300 "$WORK/out/cg-evhog.events")"; }
	if grep -q oom "$WORK/out/cg-evhog.events"; then
		kill $ev
		fail "a line says oom before any kill: $(grep -m1 -o '.\{0,60\}oom.\{0,40\}' "$WORK/out/cg-evhog.events")"
	fi
	bw exec -d cg-evhog sh -c 'x=$(dd if=/dev/urandom bs=1M count=256)' || { kill $ev; fail "exec -d the hog"; }
	wait_for 20 grep -q '"type":"oom"' "$WORK/out/cg-evhog.events" || true
	kill $ev; wait $ev 2>/dev/null || true
	grep -qx '{"type":"oom","id":"cg-evhog"}' "$WORK/out/cg-evhog.events" ||
		fail "no oom line after the hog: $(tail -c 300 "$WORK/out/cg-evhog.events")"
	expect_eq "the init after the hog's kill" running "$(cgt_status cg-evhog)"
	cgt_stop cg-evhog
}

test_cg_memory_hog_is_oom_killed() {
	b=$(cgt_bundle cg-oom '{"memory":{"limit":33554432,"swap":33554432}}')
	# The hog waits until `events` has printed once (its baseline): an OOM before that first
	# reading would count as old news (a loaded machine starts `events` late).
	cgt_start cg-oom "$b" '["sh","-c","while [ ! -e /out/go ]; do sleep 0.1; done; dd if=/dev/zero of=/dev/null bs=64M count=1; echo $? >/out/rc; sleep 30"]'
	"$BULWARK" --root "$BW_ROOT" events --interval 1 cg-oom >"$WORK/out/cg-oom.events" 2>&1 &
	ev=$!
	wait_for 20 test -s "$WORK/out/cg-oom.events" || { kill $ev; fail "events printed nothing"; }
	touch "$WORK/out/cg-oom/go"
	wait_for 20 test -s "$WORK/out/cg-oom/rc" || { kill $ev; fail "the hog never ended"; }
	expect_eq "hog exit status" 137 "$(cat "$WORK/out/cg-oom/rc")"
	wait_for 5 grep -q '"type":"oom"' "$WORK/out/cg-oom.events" || true
	kill $ev; wait $ev 2>/dev/null || true
	grep -q '"type":"oom","id":"cg-oom"' "$WORK/out/cg-oom.events" ||
		fail "events printed no oom event: $(head -c 300 "$WORK/out/cg-oom.events")"
	if cgt_v2; then
		[ "$(cgt_key memory cg-oom memory.events oom_kill)" -ge 1 ] || fail "memory.events oom_kill is 0"
	else
		[ "$(cgt_key memory cg-oom memory.oom_control oom_kill)" -ge 1 ] || fail "memory.oom_control oom_kill is 0"
	fi
	st=$(bw events --stats cg-oom) || fail "events --stats"
	expect_eq "stats memory limit" 33554432 "$(echo "$st" | jq '.data.memory.usage.limit')"
	cgt_stop cg-oom
	# A hog as the init: the runtime reports 128+SIGKILL.
	b=$(cgt_bundle cg-oom2 '{"memory":{"limit":33554432,"swap":33554432}}')
	cfg "$b" '.process.args=["dd","if=/dev/zero","of=/dev/null","bs=64M","count=1"]'
	rc=0; bw run -b "$b" cg-oom2 </dev/null >/dev/null 2>&1 || rc=$?
	expect_eq "run exit status of an OOM-killed init" 137 "$rc"
	bw delete --force cg-oom2
	cgt_expect_gone cg-oom2
}

test_cg_cpu_spinner_is_throttled() {
	b=$(cgt_bundle cg-spin '{"cpu":{"quota":10000,"period":100000}}')
	cgt_start cg-spin "$b" '["sh","-c","while :; do :; done"]'
	sleep 1
	t1=$(cgt_key cpu cg-spin cpu.stat nr_throttled)
	sleep 1
	t2=$(cgt_key cpu cg-spin cpu.stat nr_throttled)
	[ "$t1" -gt 0 ] && [ "$t2" -gt "$t1" ] || fail "nr_throttled did not grow: $t1 -> $t2"
	st=$(bw events --stats cg-spin)
	[ "$(echo "$st" | jq '.data.cpu.throttling.throttledPeriods')" -gt 0 ] || fail "stats throttling: $st"
	cgt_stop cg-spin
}

# The default parent (/bulwark: every sandbox, and containers without a cgroupsPath) gets half
# the default CPU weight when bulwark makes it, so the sandboxes together yield to host
# services under contention (issue 13 §3; cgroups/cg_lifecycle.c).
test_cg_default_parent_yields_to_host_services() {
	local hier file want
	if cgt_v2; then hier=$CGT_ROOT file=cpu.weight want=50
	else
		hier=$(awk '$9 == "cgroup" && $NF ~ /(^|,)cpu(,|$)/ { print $5; exit }' /proc/self/mountinfo)
		file=cpu.shares want=512
	fi
	[ -n "$hier" ] || fail "no cpu hierarchy mounted"
	# Another run's sandbox may hold the parent for a moment: it must be made by this test.
	wait_for 30 sh -c "[ ! -d $hier/bulwark ] || rmdir $hier/bulwark 2>/dev/null" ||
		fail "$hier/bulwark stays busy: $(ls $hier/bulwark)"
	"$BULWARK" --root "$BW_ROOT" sandbox --timeout 30s -- sleep 3 >"$WORK/parent.out" 2>&1 &
	wait_for 10 sh -c "ls -d $hier/bulwark/sandbox-* >/dev/null 2>&1" || fail "no sandbox cgroup: $(cat "$WORK/parent.out")"
	expect_eq "the parent's $file" "$want" "$(cat "$hier/bulwark/$file")"
	expect_eq "the sandbox's own $file" "$want" "$(cat "$hier"/bulwark/sandbox-*/"$file")"
	wait $! || fail "sandbox: $(cat "$WORK/parent.out")"
}

# A device rule of type "a" that is not the whole wildcard with every access (any device, read
# only; major 1, mknod only) keeps to what it says. On cgroup v1 the kernel reads only a line's
# first letter, and "a 1:* m" written as such allows every device: the write to a host-made
# kmsg node (char 1:11, harmless) shows it.
test_cg_device_rules_of_type_a_allow_only_what_they_say() {
	local rules
	mkdir -p "$WORK/adevs"
	mount -t tmpfs -o dev,mode=755,size=64k cgt-adevs "$WORK/adevs"
	mknod "$WORK/adevs/kmsg" c 1 11
	for rules in '[{"allow":true,"access":"r"}]' \
		'[{"allow":false,"access":"rwm"},{"allow":true,"type":"a","major":1,"access":"m"}]'; do
		b=$(cgt_bundle cg-adev "{\"devices\":$rules}")
		cfg "$b" ".mounts += [{\"destination\":\"/hostdevs\",\"type\":\"bind\",\"source\":\"$WORK/adevs\",\"options\":[\"rbind\",\"rw\"]}]"
		cfg "$b" '.process.args=["sh","-c","echo bulwark-it: a-rule >/hostdevs/kmsg && echo WROTE; mknod /tmp/k c 1 11 && echo MADE; true"]'
		out=$(bw run -b "$b" cg-adev </dev/null 2>&1) || { umount "$WORK/adevs"; fail "run ($rules): $out"; }
		case "$out" in *WROTE*) umount "$WORK/adevs"; fail "$rules: wrote to a char device the rules do not allow: $out" ;; esac
		expect_contains "$rules: write refused" "Operation not permitted" "$out"
		case "$rules" in *'"m"'*) expect_contains "$rules: mknod of major 1 allowed" "MADE" "$out" ;; esac
	done
	umount "$WORK/adevs"
	cgt_expect_gone cg-adev
}

test_cg_device_access_denied() {
	# A block node made on the host and bound in (on a tmpfs mounted "dev": the guest's /tmp is
	# nodev): mknod is not the only way in, the cgroup must refuse the open. linux.devices: one
	# entry allowed by resources.devices (kmsg, w), one not (loop0: its node is made before the
	# rules go in, and then the cgroup refuses the open).
	[ -b /dev/loop0 ] || modprobe loop 2>/dev/null || true
	[ -b /dev/loop0 ] || fail "no /dev/loop0 on this machine"
	mkdir -p "$WORK/devs"
	mount -t tmpfs -o dev,mode=755,size=64k cgt-devs "$WORK/devs"
	mknod "$WORK/devs/sda" b 8 0
	b=$(cgt_bundle cg-dev '{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":11,"access":"w"}]}')
	cfg "$b" ".mounts += [{\"destination\":\"/hostdevs\",\"type\":\"bind\",\"source\":\"$WORK/devs\",\"options\":[\"rbind\",\"rw\"]}]"
	cfg "$b" '.linux.devices = [{"path":"/dev/loop0","type":"b","major":7,"minor":0,"fileMode":432},{"path":"/dev/kmsg","type":"c","major":1,"minor":11,"fileMode":432}]'
	rc=0; (cgt_start cg-dev "$b" '["sh","-c","sleep 30"]') || rc=$?
	umount "$WORK/devs" # the container keeps its own copy of the mount
	[ $rc = 0 ] || exit $rc
	e() { bw exec cg-dev sh -c "$1" 2>&1; }
	out=$(e 'head -c1 /hostdevs/sda >/dev/null') && fail "opened the host-made sda node: $out"
	expect_contains "open /hostdevs/sda" "Operation not permitted" "$out"
	out=$(e 'head -c1 /dev/loop0 >/dev/null') && fail "opened a linux.devices node that is not allowed"
	expect_contains "open /dev/loop0" "Operation not permitted" "$out"
	out=$(e 'mknod /tmp/sdb b 8 16') && fail "mknod of a block device succeeded"
	expect_contains "mknod" "Operation not permitted" "$out"
	e 'echo bulwark-it: device test >/dev/kmsg' || fail "write to /dev/kmsg (allowed w) failed"
	out=$(e 'head -c1 /dev/kmsg') && fail "read of /dev/kmsg (only w allowed) succeeded"
	expect_contains "read /dev/kmsg" "Operation not permitted" "$out"
	expect_eq "/dev/null and /dev/zero" 4 "$(e 'echo x >/dev/null && head -c4 /dev/zero | wc -c')"
	cgt_stop cg-dev
}

test_cg_pause_freezes_and_resume_continues() {
	b=$(cgt_bundle cg-pause)
	cgt_start cg-pause "$b" '["sh","-c","i=0; while :; do i=$((i+1)); echo $i >/out/c; sleep 0.05; done"]'
	wait_for 5 test -s "$WORK/out/cg-pause/c" || fail "counter not running"
	bw pause cg-pause || fail pause
	expect_eq status paused "$(cgt_status cg-pause)"
	if cgt_v2; then
		expect_eq cgroup.freeze 1 "$(cgt_get freezer cg-pause cgroup.freeze)"
		expect_eq "cgroup.events frozen" 1 "$(cgt_key freezer cg-pause cgroup.events frozen)"
	else
		expect_eq freezer.state FROZEN "$(cgt_get freezer cg-pause freezer.state)"
	fi
	c1=$(cat "$WORK/out/cg-pause/c")
	sleep 0.6
	expect_eq "counter while paused" "$c1" "$(cat "$WORK/out/cg-pause/c")"
	bw resume cg-pause || fail resume
	expect_eq status running "$(cgt_status cg-pause)"
	sleep 0.6
	c2=$(cat "$WORK/out/cg-pause/c")
	[ "$c2" -gt "$c1" ] || fail "counter did not move after resume: $c1 -> $c2"
	# A paused container can still be removed.
	bw pause cg-pause || fail "pause again"
	cgt_stop cg-pause
}

test_cg_update_changes_limits() {
	b=$(cgt_bundle cg-upd '{"memory":{"limit":67108864},"cpu":{"shares":512,"quota":50000,"period":100000},"pids":{"limit":20}}')
	cgt_start cg-upd "$b" '["sleep","30"]'
	id=cg-upd
	bw update --memory 100m --memory-reservation 50m --cpu-share 256 --cpu-quota 20000 \
		--cpu-period 50000 --pids-limit 30 --cpuset-cpus 0 $id || fail "update with flags"
	check() { # mem low shares quota period pids
		if cgt_v2; then
			expect_eq "memory.max" "$1" "$(cgt_get memory $id memory.max)"
			expect_eq "memory.low" "$2" "$(cgt_get memory $id memory.low)"
			expect_eq "cpu.weight" "$(( 1 + (($3 - 2) * 9999) / 262142 ))" "$(cgt_get cpu $id cpu.weight)"
			expect_eq "cpu.max" "$4 $5" "$(cgt_get cpu $id cpu.max)"
		else
			expect_eq "memory.limit_in_bytes" "$1" "$(cgt_get memory $id memory.limit_in_bytes)"
			expect_eq "memory.soft_limit_in_bytes" "$2" "$(cgt_get memory $id memory.soft_limit_in_bytes)"
			expect_eq "cpu.shares" "$3" "$(cgt_get cpu $id cpu.shares)"
			expect_eq "cpu.cfs_quota_us" "$4" "$(cgt_get cpu $id cpu.cfs_quota_us)"
			expect_eq "cpu.cfs_period_us" "$5" "$(cgt_get cpu $id cpu.cfs_period_us)"
		fi
		expect_eq "pids.max" "$6" "$(cgt_get pids $id pids.max)"
	}
	check 104857600 52428800 256 20000 50000 30
	echo '{"memory":{"limit":83886080},"pids":{"limit":40}}' | bw update --resources - $id ||
		fail "update --resources -"
	check 83886080 52428800 256 20000 50000 40
	echo '{"cpu":{"shares":1024,"quota":30000}}' >"$WORK/res.json"
	bw update --resources="$WORK/res.json" $id || fail "update --resources=FILE"
	check 83886080 52428800 1024 30000 50000 40
	# Docker's payload: zeros and empty strings mean "leave unchanged".
	echo '{"memory":{"limit":0,"reservation":0,"swap":0,"kernel":0,"kernelTCP":0},
	  "cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0,"cpus":"","mems":""},
	  "blockIO":{"weight":0},"pids":{"limit":0}}' | bw update --resources - $id ||
		fail "update with Docker's zero payload"
	check 83886080 52428800 1024 30000 50000 40
	expect_eq "cpuset.cpus after zero payload" 0 "$(cgt_get cpuset $id cpuset.cpus)"
	# A bad value is refused naming the field, and changes nothing.
	out=$(bw update --resources - $id <<<'{"cpu":{"cpus":"99"}}' 2>&1) && fail "cpus 99 accepted"
	expect_contains "update error" "linux.resources.cpu.cpus" "$out"
	check 83886080 52428800 1024 30000 50000 40
	cgt_stop $id
}

# config-linux.md memory.kernelTCP: the kernel TCP buffer limit, on v1 where the kernel still has
# memory.kmem.tcp.limit_in_bytes (create and update); elsewhere it has no file and is ignored.
test_cg_memory_kernel_tcp_limit() {
	b=$(cgt_bundle cg-ktcp '{"memory":{"limit":67108864,"kernelTCP":16777216}}')
	cgt_start cg-ktcp "$b" '["sleep","30"]'
	if cgt_v2 || [ ! -f "$(cgt_dir memory cg-ktcp)/memory.kmem.tcp.limit_in_bytes" ]; then
		cgt_stop cg-ktcp
		return 0 # cgroup v2, or a kernel without it: nothing to read back
	fi
	expect_eq "memory.kmem.tcp.limit_in_bytes" 16777216 \
		"$(cgt_get memory cg-ktcp memory.kmem.tcp.limit_in_bytes)"
	bw update --kernel-memory-tcp 8388608 cg-ktcp || fail "update --kernel-memory-tcp"
	expect_eq "memory.kmem.tcp.limit_in_bytes after update" 8388608 \
		"$(cgt_get memory cg-ktcp memory.kmem.tcp.limit_in_bytes)"
	cgt_stop cg-ktcp
}

test_cg_events_stats_and_ps_json() {
	b=$(cgt_bundle cg-ev '{"memory":{"limit":67108864},"pids":{"limit":50}}')
	cgt_start cg-ev "$b" '["sh","-c","sleep 30 & sleep 30 & head -c 4000000 /dev/zero | tail -c 1 >/dev/null; wait"]'
	sleep 0.3
	st=$(bw events --stats cg-ev) || fail "events --stats"
	echo "$st" | jq -e . >/dev/null || fail "not JSON: $st"
	expect_eq type stats "$(echo "$st" | jq -r .type)"
	expect_eq id cg-ev "$(echo "$st" | jq -r .id)"
	[ "$(echo "$st" | jq .data.memory.usage.usage)" -gt 0 ] || fail "memory usage 0: $st"
	expect_eq "memory limit" 67108864 "$(echo "$st" | jq .data.memory.usage.limit)"
	[ "$(echo "$st" | jq .data.cpu.usage.total)" -gt 0 ] || fail "cpu usage 0: $st"
	expect_eq "pids current" 3 "$(echo "$st" | jq .data.pids.current)"
	expect_eq "pids limit" 50 "$(echo "$st" | jq .data.pids.limit)"
	ps=$(bw ps --format json cg-ev) || fail "ps --format json"
	expect_eq "ps pid count" 3 "$(echo "$ps" | jq length)"
	init=$(cgt_pid cg-ev)
	echo "$ps" | jq -e "index($init) != null" >/dev/null || fail "init $init not in $ps"
	for p in $(echo "$ps" | jq '.[]'); do
		grep -q "/$CG_PREFIX/cg-ev\$" /proc/$p/cgroup || fail "ps pid $p is not a host pid of cg-ev"
	done
	cgt_stop cg-ev
}

test_cg_kill_all() {
	b=$(cgt_bundle cg-killall)
	# The init ignores TERM, its children (started before the trap) do not: --all reaches them.
	cgt_start cg-killall "$b" '["sh","-c","sleep 30 & sleep 30 & trap \"\" TERM; while :; do sleep 1; done"]'
	wait_for 5 eval '[ "$(bw ps --format json cg-killall | jq length)" -ge 3 ]' || fail "children missing"
	bw kill --all cg-killall TERM || fail "kill --all TERM"
	wait_for 5 eval '[ "$(bw ps --format json cg-killall | jq length)" -le 2 ]' ||
		fail "children alive after kill --all TERM: $(bw ps --format json cg-killall)"
	expect_eq status running "$(cgt_status cg-killall)"
	bw kill --all cg-killall KILL || fail "kill --all KILL"
	wait_for 5 cgt_is cg-killall stopped || fail "not stopped after kill --all KILL"
	wait_for 5 eval '[ -z "$(cgt_get pids cg-killall cgroup.procs)" ]' ||
		fail "cgroup.procs after kill --all: $(cgt_get pids cg-killall cgroup.procs)"
	bw delete cg-killall || fail delete
	cgt_expect_gone cg-killall
}

test_cg_removed_after_kill9_mid_create() {
	b=$(cgt_bundle cg-crash '{"pids":{"limit":20},"memory":{"limit":67108864}}')
	cfg "$b" '.process.args=["sleep","30"]'
	cfg "$b" ".hooks.createRuntime=[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo \$\$ >$WORK/hook.pid; exec sleep 30\"]}]"
	"$BULWARK" --root "$BW_ROOT" create -b "$b" cg-crash </dev/null >/dev/null 2>&1 &
	creator=$!
	wait_for 10 test -s "$WORK/hook.pid" || { kill -9 $creator; fail "the hook never ran"; }
	[ -n "$(cgt_dirs_of cg-crash)" ] || fail "no cgroup made before the hook"
	kill -9 $creator
	wait $creator 2>/dev/null || true
	kill -9 "$(cat "$WORK/hook.pid")" 2>/dev/null || true
	[ -n "$(cgt_dirs_of cg-crash)" ] || fail "cgroup vanished on its own"
	bw delete --force cg-crash || fail "delete --force after the crash"
	cgt_expect_gone cg-crash
}

test_cg_create_delete_cycles_leave_nothing() {
	n=${CG_CYCLES:-100}
	b=$(cgt_bundle cg-cyc '{"memory":{"limit":67108864},"pids":{"limit":20},"cpu":{"shares":512,"cpus":"0"}}')
	cfg "$b" '.process.args=["true"]'
	for i in $(seq "$n"); do
		bw create -b "$b" cg-cyc </dev/null >/dev/null 2>"$WORK/err" || fail "create #$i: $(cat "$WORK/err")"
		bw delete --force cg-cyc || fail "delete #$i"
	done
	cgt_expect_gone cg-cyc
}

test_cg_bad_values_name_the_field_and_leave_nothing() {
	try() { # FIELD RESOURCES
		b=$(cgt_bundle cg-bad "$2")
		out=$(bw create -b "$b" cg-bad </dev/null 2>&1 >/dev/null) && { bw delete --force cg-bad; fail "$1: accepted"; }
		expect_eq "$1: error lines" 1 "$(printf '%s\n' "$out" | wc -l)"
		expect_contains "$1: error" "$1" "$out"
		cgt_expect_gone cg-bad
		rm -rf "$WORK/bundles/cg-bad"
	}
	try linux.resources.memory.limit '{"memory":{"limit":-2}}'
	try linux.resources.cpu.cpus '{"cpu":{"cpus":"99"}}'
	try linux.resources.unified.memory.nosuchfile '{"unified":{"memory.nosuchfile":"1"}}'
	try linux.resources.blockIO.weight '{"blockIO":{"weight":5}}'
}

test_cg_unified_map_and_io_throttle() {
	[ -b /dev/loop0 ] || modprobe loop 2>/dev/null || true
	[ -b /dev/loop0 ] || fail "no /dev/loop0 on this machine"
	if cgt_v2; then
		uni='{"memory.high":"52428800","pids.max":"33"}'
	else
		uni='{"hugetlb.2MB.max":"2097152"}' # a hybrid host's cgroup2 mount has only hugetlb
	fi
	b=$(cgt_bundle cg-uni "{\"unified\":$uni,\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":7,\"minor\":0,\"rate\":1048576}],\"throttleWriteIOPSDevice\":[{\"major\":7,\"minor\":0,\"rate\":100}]}}")
	cgt_start cg-uni "$b" '["sleep","30"]'
	if cgt_v2; then
		expect_eq "unified memory.high" 52428800 "$(cgt_get memory cg-uni memory.high)"
		expect_eq "unified pids.max" 33 "$(cgt_get pids cg-uni pids.max)"
		expect_eq io.max "7:0 rbps=1048576 wbps=max riops=max wiops=100" "$(cgt_get blkio cg-uni io.max)"
	else
		expect_eq "unified hugetlb.2MB.max" 2097152 "$(cat "$CGT_ROOT/unified/$CG_PREFIX/cg-uni/hugetlb.2MB.max")"
		expect_eq blkio.throttle.read_bps_device "7:0 1048576" "$(cgt_get blkio cg-uni blkio.throttle.read_bps_device)"
		expect_eq blkio.throttle.write_iops_device "7:0 100" "$(cgt_get blkio cg-uni blkio.throttle.write_iops_device)"
	fi
	# An update of the swap alone (v2: memory.swap.max = swap - the current memory.max).
	bw update --memory 64m --memory-swap 96m cg-uni || fail "update memory+swap"
	if cgt_v2; then
		expect_eq memory.swap.max 33554432 "$(cgt_get memory cg-uni memory.swap.max)"
	elif [ -f "$(cgt_dir memory cg-uni)/memory.memsw.limit_in_bytes" ]; then
		expect_eq memory.memsw.limit_in_bytes 100663296 "$(cgt_get memory cg-uni memory.memsw.limit_in_bytes)"
	fi
	cgt_stop cg-uni
}

# A pre-existing frozen cgroup would stop the init before it reports back: create and run are
# refused (runc's wording) instead of waiting forever, and the cgroup is left as it was.
test_cg_create_refuses_a_frozen_cgroup() {
	local dir state val
	if cgt_v2; then
		dir=$CGT_ROOT/$CG_PREFIX/cg-frozen state=cgroup.freeze val=1
	else
		dir=$CGT_ROOT/freezer/$CG_PREFIX/cg-frozen state=freezer.state val=FROZEN
	fi
	mkdir -p "$dir"
	echo $val >"$dir/$state"
	b=$(cgt_bundle cg-frozen)
	for verb in create "run -d"; do
		rc=0
		out=$(timeout 20 "$BULWARK" --root "$BW_ROOT" $verb -b "$b" cg-frozen </dev/null 2>&1) || rc=$?
		[ $rc -ne 124 ] || fail "$verb hung on a frozen cgroup"
		[ $rc -ne 0 ] || fail "$verb succeeded in a frozen cgroup"
		expect_contains "$verb error" "container's cgroup unexpectedly frozen" "$out"
		[ ! -e "$BW_ROOT/cg-frozen" ] || fail "$verb left its state behind"
	done
	[ -d "$dir" ] || fail "the pre-existing cgroup was removed"
	echo 0 >"$dir/$state" 2>/dev/null || echo THAWED >"$dir/$state"
	rmdir "$dir"
	cgt_expect_gone cg-frozen
}

# A create refused because its cgroup already holds processes (another container's) must not
# kill them or remove that cgroup on its way out.
test_cg_refused_create_leaves_a_busy_cgroup_alone() {
	b=$(cgt_bundle cg-busy1)
	cgt_start cg-busy1 "$b" '["sleep","30"]'
	pid=$(cgt_pid cg-busy1)
	b2=$(cgt_bundle cg-busy2)
	cfg "$b2" ".linux.cgroupsPath=\"/$CG_PREFIX/cg-busy1\""
	out=$(bw create -b "$b2" cg-busy2 </dev/null 2>&1) && fail "create into a busy cgroup succeeded"
	expect_contains error "already has processes" "$out"
	sleep 0.3
	kill -0 "$pid" 2>/dev/null || fail "the refused create killed the other container's init"
	expect_eq "other container" running "$(cgt_status cg-busy1)"
	[ -n "$(cgt_dirs_of cg-busy1)" ] || fail "the other container's cgroup was removed"
	[ ! -e "$BW_ROOT/cg-busy2" ] || fail "state of the refused container left behind"
	cgt_stop cg-busy1
}

# run.bulwark.cgroup-shared=allow turns that refusal into runc's warning (runc's "should warn
# about a non-empty cgroup"); any other value is refused before the cgroup is touched.
test_cg_shared_cgroup_only_when_the_config_allows_it() {
	b=$(cgt_bundle cg-sh1)
	cgt_start cg-sh1 "$b" '["sleep","30"]'
	pid=$(cgt_pid cg-sh1)
	b2=$(cgt_bundle cg-sh2)
	cfg "$b2" ".linux.cgroupsPath=\"/$CG_PREFIX/cg-sh1\" | .process.args=[\"true\"]"
	cfg "$b2" '.annotations["run.bulwark.cgroup-shared"]="yes"'
	out=$(bw create -b "$b2" cg-sh2 </dev/null 2>&1) && { bw delete --force cg-sh2; fail "create with cgroup-shared=yes succeeded"; }
	expect_eq "bad value: one line" "bulwark: create failed: annotations.run.bulwark.cgroup-shared: \`yes\` is not \"allow\"" "$out"
	kill -0 "$pid" 2>/dev/null || fail "the refused create killed the other container's init"
	[ ! -e "$BW_ROOT/cg-sh2" ] || fail "state of the refused container left behind"
	cfg "$b2" '.annotations["run.bulwark.cgroup-shared"]="allow"'
	# To a file: the created container's init holds its stdio until start.
	bw create -b "$b2" cg-sh2 </dev/null >"$WORK/cg-sh2.out" 2>&1 || fail "create with cgroup-shared=allow: $(cat "$WORK/cg-sh2.out")"
	expect_contains "warned" "already has processes: the container shares it" "$(cat "$WORK/cg-sh2.out")"
	expect_eq "other container" running "$(cgt_status cg-sh1)"
	cgt_stop cg-sh1
	bw delete --force cg-sh2 || fail "delete cg-sh2"
	[ ! -e "$BW_ROOT/cg-sh2" ] || fail "state of cg-sh2 left"
}

# runc refuses linux.resources.unified on cgroup v1; a hybrid host's cgroup2 mount serves a few
# controllers, and a key of a v1 controller is refused saying so.
test_cg_unified_key_of_a_v1_controller_is_refused() {
	cgt_v2 && return 0
	b=$(cgt_bundle cg-univ1 '{"unified":{"memory.min":"131072"}}')
	cfg "$b" '.process.args=["true"]'
	out=$(bw run -d -b "$b" cg-univ1 </dev/null 2>&1) && fail "unified memory.min accepted on v1"
	expect_contains error "invalid configuration" "$out"
	expect_contains error "linux.resources.unified.memory.min" "$out"
	cgt_expect_gone cg-univ1
}

# runc's events: --interval takes Go durations (100ms, 1.5s, 1m30s); a stats line comes first.
test_cg_events_interval_takes_go_durations() {
	b=$(cgt_bundle cg-evint)
	cgt_start cg-evint "$b" '["sleep","30"]'
	timeout 1.2 "$BULWARK" --root "$BW_ROOT" events --interval 100ms cg-evint >"$WORK/ev.log" || true
	n=$(grep -c '"type":"stats","id":"cg-evint"' "$WORK/ev.log")
	[ "$n" -ge 5 ] || fail "expected >= 5 stats lines in 1.2 s at 100ms, got $n"
	timeout 0.5 "$BULWARK" --root "$BW_ROOT" events cg-evint --interval 1m30s >"$WORK/ev2.log" || true
	expect_eq "first line at once" 1 "$(grep -c '"type":"stats"' "$WORK/ev2.log")"
	for bad in 5x 0s -1s; do
		out=$(timeout 2 "$BULWARK" --root "$BW_ROOT" events --interval "$bad" cg-evint 2>&1) &&
			fail "--interval $bad accepted"
		case "$bad" in 5x) expect_contains "$bad" "invalid duration" "$out" ;;
		*) expect_contains "$bad" "duration interval must be greater than 0" "$out" ;; esac
	done
	cgt_stop cg-evint
}

# runc thaws a paused container for SIGKILL to its init: a task frozen by the v1 freezer would
# not die until `resume`.
test_cg_kill_sigkill_of_a_paused_container_stops_it() {
	b=$(cgt_bundle cg-pkill)
	cgt_start cg-pkill "$b" '["sleep","30"]'
	bw pause cg-pkill || fail pause
	bw kill cg-pkill KILL || fail "kill KILL"
	wait_for 5 cgt_is cg-pkill stopped || fail "still $(cgt_status cg-pkill) after SIGKILL"
	bw delete cg-pkill || fail delete
	cgt_expect_gone cg-pkill
}

# On v1 and hybrid hosts a helper the runtime forks moves itself into the new cgroup and clones
# the init there (cgroups/cg_clone.c, issue 18): the runtime never enters it. A foreground
# run's runtime shares the caller's cgroups, not the container's, and the cgroup holds the
# container's processes only; an exec'd process (which moves itself) lands where the init is. pids.max 1 leaves no room for the runtime beside the
# init: the init is then moved in afterwards, as before.
test_cg_runtime_is_not_left_in_the_container_cgroup() {
	b=$(cgt_bundle cg-own)
	cfg "$b" '.process.args=["sleep","30"]'
	"$BULWARK" --root "$BW_ROOT" run -b "$b" cg-own </dev/null >"$WORK/out/cg-own.log" 2>&1 &
	local rt=$!
	wait_for 10 cgt_is cg-own running || fail "cg-own not running: $(cat "$WORK/out/cg-own.log")"
	pid=$(cgt_pid cg-own)
	expect_eq "the runtime's cgroups (the caller's)" "$(cat /proc/$$/cgroup)" "$(cat /proc/$rt/cgroup)"
	for p in $(cat "$(cgt_dir memory cg-own)/cgroup.procs") $(cat "$(cgt_dir pids cg-own)/cgroup.procs"); do
		[ "$p" = "$pid" ] || fail "pid $p ($(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)) in the container's cgroup"
	done
	grep -q ":/$CG_PREFIX/cg-own\$" /proc/$pid/cgroup || fail "init not in its cgroup: $(cat /proc/$pid/cgroup)"
	# An exec'd process moves itself in (v1) before it joins anything: the same cgroups.
	# (Both seen from inside, through the container's cgroup namespace.)
	out=$(bw exec cg-own cat /proc/self/cgroup 2>&1) || fail "exec: $out"
	expect_eq "exec'd process's cgroups" "$(bw exec cg-own cat /proc/1/cgroup)" "$out"
	bw kill cg-own KILL || fail "kill cg-own"
	wait "$rt" || true
	bw delete --force cg-own 2>/dev/null || true
	cgt_expect_gone cg-own

	b=$(cgt_bundle cg-one '{"pids":{"limit":1}}')
	cgt_start cg-one "$b" '["sleep","30"]'
	pid=$(cgt_pid cg-one)
	bad=$(grep -v ":/$CG_PREFIX/cg-one\$" /proc/$pid/cgroup || true)
	[ -z "$bad" ] || fail "init with pids.max 1 not in its cgroup: $bad"
	expect_eq "pids.current" 1 "$(cgt_get pids cg-one pids.current)"
	cgt_stop cg-one
}

# The helper that clones the init into its v1 cgroups is charged there (cgroups/cg_clone.c): a
# tiny memory limit on a cgroup above the container's gets the helper OOM-killed, never the
# runtime, which fails the create in one line naming the cause and leaves nothing behind.
test_cg_tight_memory_limit_above_fails_cleanly() {
	cgt_v2 && return 0 # cgroup2 clones straight into the cgroup: no helper
	local par=$CGT_ROOT/memory/$CG_PREFIX/cg-anc rc=0 out
	mkdir -p "$par"
	echo 131072 >"$par/memory.limit_in_bytes"
	b=$(cgt_bundle cg-anc-c)
	cfg "$b" ".linux.cgroupsPath=\"/$CG_PREFIX/cg-anc/c\""
	out=$(bw run -b "$b" cg-anc-c </dev/null 2>&1) || rc=$?
	[ $rc -ne 0 ] || fail "run under a 128 KiB parent limit succeeded"
	expect_contains "names the cause" "memory limit of a cgroup above" "$out"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	[ ! -e "$BW_ROOT/cg-anc-c" ] || fail "state left behind"
	left=$(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do [ ! -d "$m/$CG_PREFIX/cg-anc/c" ] || echo "$m"; done)
	[ -z "$left" ] || fail "cgroup left in: $left"
	rmdir "$par"
}

# Two creates racing for one cgroupsPath: never both, unasked (the second finds the first's
# init once it is in: cgroups/cg_lifecycle.c, the leaf's lock). The loser names the cause and
# leaves the winner's cgroup and init alone.
test_cg_racing_creates_of_one_cgroup_never_share_it() {
	local i a b rca rcb won
	for i in 1 2 3 4 5 6; do
		a=$(cgt_bundle cg-ra$i) b=$(cgt_bundle cg-rb$i)
		cfg "$a" ".linux.cgroupsPath=\"/$CG_PREFIX/cg-race$i\" | .process.args=[\"sleep\",\"30\"]"
		cfg "$b" ".linux.cgroupsPath=\"/$CG_PREFIX/cg-race$i\" | .process.args=[\"sleep\",\"30\"]"
		bw create -b "$a" cg-ra$i </dev/null >"$WORK/out/ra.log" 2>&1 &
		rca=$!
		bw create -b "$b" cg-rb$i </dev/null >"$WORK/out/rb.log" 2>&1 &
		rcb=$!
		won=0
		wait $rca && won=$((won + 1))
		wait $rcb && won=$((won + 1))
		expect_eq "round $i: creates that got the cgroup" 1 "$won"
		expect_contains "round $i: the loser says why" "already has processes" "$(cat "$WORK/out/ra.log" "$WORK/out/rb.log")"
		for id in cg-ra$i cg-rb$i; do
			if [ -d "$BW_ROOT/$id" ]; then
				expect_eq "round $i: the winner's init runs" created "$(cgt_status $id)"
				bw delete --force $id || fail "delete $id"
			fi
		done
		left=$(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u |
			while read -r m; do [ ! -d "$m/$CG_PREFIX/cg-race$i" ] || echo "$m"; done)
		[ -z "$left" ] || fail "round $i: cgroup left in $left"
	done
}
