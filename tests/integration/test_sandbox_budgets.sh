# bulwark sandbox: what a sandbox may spend (issue 13 §3), in real sandboxes: a default CPU
# quota and a lower weight, --disk / --tmp-size / --home-size on every scratch file system
# (bytes and files), RLIMIT_FSIZE for rw workspaces, and each budget in --report's "budgets".
# Busy loops are kept to about a second: the machine is shared.

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

# bg_cgroup_file CTRL FILE: wait for the one sandbox of this test's state root to run, print
# FILE of its cgroup (v1: the CTRL hierarchy; v2: the unified one), read from the host.
bg_cgroup_file() {
	local ctrl=$1 file=$2 i pid="" line
	for i in $(seq 100); do
		pid=$(jq -r 'select(.status != "creating") | .pid' "$BW_ROOT"/sandbox-*/state.json 2>/dev/null || true)
		[ -n "$pid" ] && [ -e "/proc/$pid/cgroup" ] && break
		sleep 0.05
	done
	[ -n "$pid" ] || fail "no running sandbox in $BW_ROOT"
	if cgroup_v2; then
		line=$(grep '^0::' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup${line#0::}/$file"
	else
		line=$(grep -E "^[0-9]+:([^:]*,)?$ctrl(,[^:]*)?:" "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup/$ctrl${line##*:}/$file"
	fi
}

cgroup_v2() { [ -e /sys/fs/cgroup/cgroup.controllers ]; }

# cpu_files [flags...]: "QUOTA PERIOD WEIGHT" of a running sandbox's cgroup, as v1 or v2 spell
# them (v1 quota -1 and v2 "max" both read "max").
cpu_files() {
	sbx "$@" -- sleep 1 &
	local sb=$!
	if cgroup_v2; then
		out="$(bg_cgroup_file cpu cpu.max) $(bg_cgroup_file cpu cpu.weight)"
	else
		out="$(bg_cgroup_file cpu cpu.cfs_quota_us) $(bg_cgroup_file cpu cpu.cfs_period_us) $(bg_cgroup_file cpu cpu.shares)"
	fi
	wait $sb || fail "sandbox $* failed"
	echo "$out" | sed 's/^-1 /max /'
}

test_sandbox_budget_cpu_default_is_all_but_one_cpu_and_a_lower_weight() {
	n=$(getconf _NPROCESSORS_ONLN)
	cgroup_v2 && weight=50 || weight=512
	quota=max
	[ "$n" -gt 1 ] && quota=$(((n - 1) * 100000))
	expect_eq "default" "$quota 100000 $weight" "$(cpu_files)"
	expect_eq "--cpus 0.5" "50000 100000 $weight" "$(cpu_files --cpus 0.5)"
	expect_eq "--cpus max" "max 100000 $weight" "$(cpu_files --cpus max)"
	# The report says what was in force.
	sbx --cpus 0.5 --report "$WORK/cpu.json" -- true
	expect_eq "report" "0.5 $weight" "$(jq -r '.budgets.cpu | "\(.limit) \(.weight // .shares)"' "$WORK/cpu.json")"
	rc=0; out=$(sbx --cpus lots -- true 2>&1) || rc=$?
	expect_eq "bad --cpus" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names the flag" "--cpus: " "$out"
}

# One busy loop per online CPU for one second: cgroup CPU time (cpuacct / cpu.stat, as the
# report gives it) and wall time.
busy_ratio() {
	sbx "$@" --report "$WORK/busy.json" -- sh -c "$BUSY" sh "$(getconf _NPROCESSORS_ONLN)"
	jq -r '[(.cpu_time_ms.user + .cpu_time_ms.system), .wall_time_ms, .budgets.cpu.hit, (.budgets.cpu.throttled_periods > 0)] | map(tostring) | join(" ")' "$WORK/busy.json"
}
BUSY='for i in $(seq "$1"); do timeout 1 sh -c "while :; do :; done" & done; wait'

test_sandbox_budget_busy_loop_gets_its_cpus_and_no_more() {
	read -r cpu wall hit throttled < <(busy_ratio --cpus 0.5)
	[ $((cpu * 100)) -le $((wall * 60)) ] || fail "--cpus 0.5: ${cpu} ms of CPU in ${wall} ms"
	[ $((cpu * 100)) -ge $((wall * 10)) ] || fail "--cpus 0.5: only ${cpu} ms of CPU in ${wall} ms (the loop did not run?)"
	expect_eq "throttled, and reported as a hit" "true true" "$hit $throttled"
	# The default leaves one CPU to the host: n busy loops get about n - 1 CPUs.
	n=$(getconf _NPROCESSORS_ONLN)
	[ "$n" -gt 1 ] || return 0
	read -r cpu wall hit throttled < <(busy_ratio)
	[ $((cpu * 100)) -le $((wall * (n - 1) * 120)) ] || fail "default: ${cpu} ms of CPU in ${wall} ms on $n CPUs"
}

# df's size and file count of a mount point inside: "BYTES FILES".
DF='for m in "$@"; do echo "$(df -B1 "$m" | awk "NR==2 {print \$2}") $(df -i "$m" | awk "NR==2 {print \$2}")"; done'

test_sandbox_budget_scratch_sizes_and_files_follow_disk() {
	out=$(sbx -- sh -c "$DF" sh /tmp /var/tmp /home)
	expect_eq "defaults" "268435456 65536 268435456 65536 67108864 16384" "$(echo $out)"
	out=$(sbx --home-size 128MiB --tmp-size 8m -- sh -c "$DF" sh /tmp /var/tmp /home)
	expect_eq "--home-size, --tmp-size" "8388608 2048 8388608 2048 134217728 32768" "$(echo $out)"
	# --disk caps the defaults: /tmp, /var/tmp and HOME at most 100 MiB each.
	out=$(sbx --disk 100m -- sh -c "$DF" sh /tmp /var/tmp /home)
	expect_eq "--disk 100m" "104857600 25600 104857600 25600 67108864 16384" "$(echo $out)"
	out=$(sbx --disk 1G --tmp-size 1gb -- sh -c "$DF" sh /tmp)
	expect_eq "a size of --disk itself" "1073741824 262144" "$out"
	# The bounds hold: bytes, then files.
	out=$(sbx --disk 4m -- sh -c 'head -c 5000000 /dev/zero >/tmp/big 2>/dev/null && echo wrote; echo $(stat -c %s /tmp/big)')
	expect_eq "bytes" 4194304 "$out"
	out=$(sbx --home-size 1m -- sh -c 'cd; i=0; while [ $i -lt 400 ]; do true >f$i 2>/dev/null || break; i=$((i+1)); done; echo $i')
	expect_eq "files: 256 in 1 MiB, the root directory one of them" 255 "$out"
}

test_sandbox_budget_size_flags_are_validated() {
	while IFS='|' read -r args want; do
		rc=0; out=$(eval "sbx $args -- true" 2>&1) || rc=$?
		expect_eq "status for $args" "125 1" "$rc $(echo "$out" | wc -l)"
		expect_contains "message for $args" "$want" "$out"
	done <<EOF
--disk 1x|--disk: expected a size of at least 1MiB
--disk 512k|--disk: expected a size of at least 1MiB
--disk -1|--disk: expected a size
--home-size 0|--home-size: expected a size of at least 4KiB
--home-size ' 1g'|--home-size: expected a size
--tmp-size 2g|--tmp-size: 2g is more than --disk (1073741824 bytes)
--disk 64m --home-size 65m|--home-size: 65m is more than --disk
--max-file-size 1k|--max-file-size: expected a size of at least 4KiB
--max-file-size lots|--max-file-size: expected
EOF
	for s in 1GiB 1G 1gb 1073741824; do
		out=$(sbx --disk "$s" --home-size "$s" -- sh -c 'df -B1 /home | awk "NR==2 {print \$2}"')
		expect_eq "--home-size $s" 1073741824 "$out"
	done
}

# The overlay's changes (and so --keep-changes) live in a scratch tmpfs of at most --disk, bytes
# and files.
test_sandbox_budget_overlay_and_keep_changes_follow_disk() {
	d=$WORK/bd-ws
	mkdir -p "$d" && echo x >"$d/a"
	rc=0; sbx --disk 8m --workspace "$d:overlay" --keep-changes "$WORK/bd-keep" --report "$WORK/ov.json" \
		-- sh -c 'head -c 20000000 /dev/zero >big' 2>/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "20 MB written with --disk 8m"
	size=$(stat -c %s "$WORK/bd-keep/big")
	[ "$size" -le 8388608 ] && [ "$size" -ge 7000000 ] || fail "kept $size bytes with --disk 8m"
	expect_eq "report" "8388608 true" "$(jq -r '.budgets.workspace | "\(.limit) \(.hit)"' "$WORK/ov.json")"
	expect_eq "disk hit" true "$(jq -r .budgets.disk.hit "$WORK/ov.json")"
	out=$(sbx --disk 1m --workspace "$d:overlay" -- sh -c 'i=0; while [ $i -lt 400 ]; do true >f$i 2>/dev/null || break; i=$((i+1)); done; echo $i')
	[ "$out" -lt 256 ] && [ "$out" -gt 200 ] || fail "$out files in an overlay with --disk 1m"
	expect_eq "workspace untouched" a "$(ls "$d")"
}

# An rw workspace is the host's disk: each file is bounded by RLIMIT_FSIZE (--max-file-size,
# default --disk); the command killed by SIGXFSZ is a budget hit in the report.
test_sandbox_budget_rw_workspace_files_are_bounded() {
	d=$WORK/bd-rw
	mkdir -p "$d"
	chown 1234:1234 "$d"
	rc=0; sbx --workspace "$d:rw" --max-file-size 1m --report "$WORK/fs.json" -- dd if=/dev/zero of=big bs=64k count=64 2>/dev/null || rc=$?
	expect_eq "killed by SIGXFSZ" 153 "$rc"
	expect_eq "file cut at the limit" 1048576 "$(stat -c %s "$d/big")"
	expect_eq "report" "1048576 true SIGXFSZ" "$(jq -r '"\(.budgets.fsize.limit) \(.budgets.fsize.hit) \(.signal)"' "$WORK/fs.json")"
	rm -f "$d/big"
	rc=0; sbx --workspace "$d:rw" --disk 2m -- sh -c 'head -c 3000000 /dev/zero >big' 2>/dev/null || rc=$?
	expect_eq "default: --disk" "153 2097152" "$rc $(stat -c %s "$d/big")"
	out=$(sbx --max-file-size max -- sh -c 'ulimit -f')
	expect_eq "max" unlimited "$out"
	sbx --report "$WORK/fs2.json" -- true
	expect_eq "no hit" "1073741824 false 0" "$(jq -r '"\(.budgets.fsize.limit) \(.budgets.fsize.hit) \(.budgets.fsize.written)"' "$WORK/fs2.json")"
	# What reached the host's disk is reported: the workspace's 3 MB, a child's 0.5 MB that
	# pid 1 reaped, not the 1 MB in /tmp (memory).
	sbx --workspace "$d:rw" --report "$WORK/fs3.json" -- sh -c '
		head -c 3000000 /dev/zero >w; head -c 1000000 /dev/zero >/tmp/t
		(head -c 500000 /dev/zero >x &); sleep 0.3'
	n=$(jq .budgets.fsize.written "$WORK/fs3.json")
	[ "$n" -ge 3500000 ] && [ "$n" -le 3600000 ] || fail "written: $n bytes for 3.5 MB"
	expect_eq "overlay measure unchanged" null "$(jq .workspace_bytes_written "$WORK/fs3.json")"
}

test_sandbox_budget_report_names_each_budget_hit() {
	rc=0; sbx --memory 32m --pids 16 --report "$WORK/hit.json" -- sh -c '
		head -c 300000 /dev/zero >/tmp/t; head -c 200000 /dev/zero >$HOME/h
		(x=$(head -c 100000000 /dev/zero | tr "\0" a))
		for i in $(seq 30); do sleep 1 & done 2>/dev/null' 2>/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "nothing was refused"
	kd_valid_report "$WORK/hit.json"
	expect_eq "memory" "33554432 true" "$(jq -r '.budgets.memory | "\(.limit) \(.hit)"' "$WORK/hit.json")"
	[ "$(jq .budgets.memory.oom_kills "$WORK/hit.json")" -ge 1 ] || fail "no OOM kill reported"
	expect_eq "pids" "16 true" "$(jq -r '.budgets.pids | "\(.limit) \(.hit)"' "$WORK/hit.json")"
	[ "$(jq .budgets.pids.refused_forks "$WORK/hit.json")" -ge 1 ] || fail "no refused fork reported"
	# Used as statfs saw each tmpfs when the sandbox ended (pages of 4 KiB).
	expect_eq "tmp and home used" "303104 200704 false" "$(jq -r '.budgets | "\(.tmp.used) \(.home.used) \(.tmp.hit)"' "$WORK/hit.json")"
	expect_eq "disk" "1073741824 503808" "$(jq -r '.budgets.disk | "\(.limit) \(.used)"' "$WORK/hit.json")"
	# Nothing hit in a quiet run; the existing fields are unchanged.
	sbx --report "$WORK/quiet.json" -- true
	kd_valid_report "$WORK/quiet.json"
	expect_eq "quiet: no hit" false "$(jq '[.budgets[] | select(. != null) | .hit] | any' "$WORK/quiet.json")"
	expect_eq "old fields" "0 false" "$(jq -r '"\(.exit_code) \(.oom_killed)"' "$WORK/quiet.json")"
}

# Without root and without a cgroup: no CPU limit applies, and the report says so; the disk and
# file-size budgets hold (their use is not measured: the sandbox's mounts cannot be reached from
# outside without root).
test_sandbox_budget_rootless_reports_no_cpu_limit() {
	rl_setup
	mkdir -p "$WORK/rl-bud"
	chown $RL_UID:$RL_UID "$WORK/rl-bud"
	out=$(cd / && rl sandbox --disk 8m --report "$WORK/rl-bud/r.json" -- sh -c 'df -B1 /tmp | awk "NR==2 {print \$2}"; ulimit -f' 2>/dev/null) || fail "sandbox"
	expect_eq "disk and fsize" "8388608 16384" "$(echo $out)"
	expect_eq "report" "null null null 1024 null 8388608 8388608" "$(jq -r '.budgets | "\(.cpu.limit) \(.cpu.shares) \(.memory.limit) \(.pids.limit) \(.tmp) \(.disk.limit) \(.fsize.limit)"' "$WORK/rl-bud/r.json")"
	expect_contains "rootless_limits" "CPU not bounded" "$(jq -r .rootless_limits "$WORK/rl-bud/r.json")"
}

# RLIMIT_FSIZE sees a file's size, not its blocks: fallocate with KEEP_SIZE (blocks past the
# size) is refused in a sandbox with an rw workspace, plain fallocate past the limit gets
# SIGXFSZ, and no real-time or raised priority can get around the CPU quota.
test_sandbox_budget_fallocate_and_rt_priority_cannot_get_around_the_limits() {
	mkdir -p "$WORK/fa"
	chmod 777 "$WORK/fa"
	out=$(cd / && sbx --workspace "$WORK/fa:rw" --max-file-size 1m -- sh -c "cd $WORK/fa; : >big; fallocate -n -l 50M big; echo keep=\$?; fallocate -l 2M big2; echo plain=\$?; grep -E 'Max (realtime|nice) priority' /proc/self/limits | tr -s ' '" 2>&1)
	expect_contains "keep-size refused" "keep=1" "$out"
	expect_contains "plain bounded" "plain=153" "$out"
	expect_contains "nice" "Max nice priority 0 0" "$out"
	expect_contains "rt" "Max realtime priority 0 0" "$out"
	[ "$(du -sk "$WORK/fa" | cut -f1)" -le 1100 ] || fail "fallocate took $(du -sk "$WORK/fa")"
}
