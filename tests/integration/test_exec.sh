# `exec` into running containers: namespaces, cgroup, user, env, cwd, caps, terminal, detach.

start_sleeper() { # id bundle-filter
	b=$(new_bundle "$1")
	cfg "$b" '.process.args=["sleep","60"]'
	[ -n "${2:-}" ] && cfg "$b" "$2"
	bw run -d -b "$b" "$1" </dev/null >/dev/null 2>&1
}

test_exec_runs_in_the_container_namespaces_and_cgroup() {
	start_sleeper ex-ns
	pid=$(bw state ex-ns | jq -r .pid)
	out=$(bw exec ex-ns sh -c 'hostname; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; readlink /proc/self/ns/net; readlink /proc/self/ns/cgroup')
	expect_eq hostname bwtest "$(echo "$out" | sed -n 1p)"
	expect_eq pidns "$(readlink /proc/$pid/ns/pid)" "$(echo "$out" | sed -n 2p)"
	expect_eq mntns "$(readlink /proc/$pid/ns/mnt)" "$(echo "$out" | sed -n 3p)"
	expect_eq netns "$(readlink /proc/$pid/ns/net)" "$(echo "$out" | sed -n 4p)"
	expect_eq cgroupns "$(readlink /proc/$pid/ns/cgroup)" "$(echo "$out" | sed -n 5p)"
	bw exec --detach --pid-file "$WORK/e.pid" ex-ns sleep 5
	epid=$(cat "$WORK/e.pid")
	expect_eq "exec in every hierarchy at cgroupsPath" "$(grep -c . /proc/$epid/cgroup)" "$(grep -c ":/$CG_PREFIX/ex-ns$" /proc/$epid/cgroup)"
	bw delete --force ex-ns
}

test_exec_returns_exit_code_and_stdio() {
	start_sleeper ex-rc
	out=$(echo in | bw exec ex-rc sh -c 'read x; echo "got $x"; exit 5') && fail "exit 5 reported as success"
	rc=0; echo in | bw exec ex-rc sh -c 'read x; echo "got $x"; exit 5' >/dev/null || rc=$?
	expect_eq rc 5 "$rc"
	expect_eq out "got in" "$out"
	bw delete --force ex-rc
}

test_exec_user_cwd_env_flags() {
	start_sleeper ex-user
	out=$(bw exec --user 1000:1001 --cwd /tmp --env A=1 --env B=two ex-user sh -c 'id -u; id -g; pwd; echo $A$B' | tr '\n' ' ')
	expect_eq out "1000 1001 /tmp 1two " "$out"
	bw delete --force ex-user
}

# One value per name, the last given winning (runc): `exec --env` overrides the config's PATH,
# and the executable is looked up in that PATH.
test_exec_env_overrides_the_configs_value() {
	start_sleeper ex-envov
	out=$(bw exec --env PATH=/usr/bin:/bin --env X=1 --env X=2 ex-envov sh -c 'echo $PATH $X; env | grep -c ^PATH=')
	bw delete --force ex-envov
	expect_eq env "/usr/bin:/bin 2 1" "$(echo $out)"
}

test_exec_process_json_and_detach_pid_file() {
	start_sleeper ex-proc
	cat >"$WORK/process.json" <<JSON
{"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["sh", "-c", "echo from-json > /tmp/marker; sleep 30"],
 "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": true}
JSON
	bw exec --process "$WORK/process.json" --detach --pid-file "$WORK/exec.pid" ex-proc
	epid=$(cat "$WORK/exec.pid")
	[ -d /proc/$epid ] || fail "exec pid not alive"
	grep -q sleep /proc/$epid/cmdline || sleep 0.3
	for i in $(seq 30); do bw exec ex-proc cat /tmp/marker 2>/dev/null | grep -q from-json && break; sleep 0.1; done
	expect_eq marker from-json "$(bw exec ex-proc cat /tmp/marker)"
	expect_eq "ps lists both" 2 "$(bw ps --format json ex-proc | jq length)"
	bw delete --force ex-proc
}

test_exec_cap_adds_to_bounding_effective_permitted_only() {
	start_sleeper ex-cap '.process.capabilities={"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}'
	out=$(bw exec --cap CAP_CHOWN ex-cap grep -E '^Cap(Inh|Eff|Bnd|Amb)' /proc/self/status)
	expect_contains CapBnd "CapBnd:	0000000000000021" "$out"
	expect_contains CapEff "CapEff:	0000000000000021" "$out"
	expect_contains CapInh "CapInh:	0000000000000000" "$out"
	expect_contains CapAmb "CapAmb:	0000000000000000" "$out"
	bw delete --force ex-cap
}

test_exec_missing_binary_and_stopped_container() {
	start_sleeper ex-miss
	out=$(bw exec ex-miss no-such-cmd 2>&1) && fail "exec of a missing binary succeeded"
	expect_contains message 'exec: "no-such-cmd": executable file not found in $PATH' "$out"
	bw kill ex-miss KILL
	for i in $(seq 50); do [ "$(bw state ex-miss | jq -r .status)" = stopped ] && break; sleep 0.1; done
	out=$(bw exec ex-miss true 2>&1) && fail "exec into a stopped container succeeded"
	expect_contains message "cannot exec in a stopped container" "$out"
	bw delete --force ex-miss
}

test_exec_with_tty_through_console_socket() {
	start_sleeper ex-tty
	python3 "$(dirname "$BASH_SOURCE")/helpers/console_recv.py" "$WORK/ex-tty.sock" "$WORK/ex-tty.out" &
	recv=$!
	for i in $(seq 50); do [ -S "$WORK/ex-tty.sock" ] && break; sleep 0.05; done
	bw exec --tty --detach --console-socket "$WORK/ex-tty.sock" ex-tty sh -c 'tty; echo DONE'
	wait $recv
	expect_contains tty "/dev/pts/" "$(cat "$WORK/ex-tty.out")"
	expect_contains payload "payload=/dev/ptmx" "$(cat "$WORK/ex-tty.out")"
	bw delete --force ex-tty
}

test_exec_into_user_namespaced_container() {
	start_sleeper ex-userns '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":300000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":300000,"size":65536}]'
	out=$(bw exec ex-userns sh -c 'id -u; cat /proc/self/uid_map' | tr -s ' \n' ' ')
	expect_eq out "0 0 300000 65536 " "$out"
	bw delete --force ex-userns
}

test_pause_resume_and_exec_refused_while_paused() {
	start_sleeper ex-pause
	bw pause ex-pause
	expect_eq status paused "$(bw state ex-pause | jq -r .status)"
	out=$(bw exec ex-pause true 2>&1) && fail "exec into a paused container succeeded"
	expect_contains message "paused" "$out"
	bw resume ex-pause
	expect_eq status running "$(bw state ex-pause | jq -r .status)"
	bw delete --force ex-pause
}

# runc's exit statuses: the process's own status when it ran, 255 when exec itself failed.
test_exec_failure_exits_255_and_the_process_status_passes_through() {
	start_sleeper ex-255
	rc=0; bw exec ex-255 false || rc=$?
	expect_eq "false" 1 "$rc"
	rc=0; bw exec ex-255 sh -c 'exit 42' || rc=$?
	expect_eq "exit 42" 42 "$rc"
	rc=0; bw exec ex-255 no-such-binary 2>/dev/null || rc=$?
	expect_eq "missing binary" 255 "$rc"
	rc=0; bw exec --pid-file /non-existent/directory ex-255 true 2>/dev/null || rc=$?
	expect_eq "bad pid file" 255 "$rc"
	# ...and the process it started is ended, not left running unwaited (runc's terminate).
	for d in "" --detach; do
		rc=0; bw exec $d --pid-file /non-existent/directory ex-255 sleep 4321 2>/dev/null || rc=$?
		expect_eq "bad pid file $d" 255 "$rc"
		sleep 0.2
		# The pattern through a file: grep's own command line must not match.
		left=$(grep -laFf <(printf '4321\n') /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
		[ -z "$left" ] || fail "exec $d with a bad --pid-file left its process: $left"
	done
	rc=0; bw exec no_such_container true 2>/dev/null || rc=$?
	expect_eq "missing container" 255 "$rc"
	bw delete --force ex-255
}

# Refused with runc's wording; --ignore-paused starts the process, which runs once resumed (and
# the resume is not locked out by the waiting exec).
test_exec_ignore_paused_runs_after_resume() {
	start_sleeper ex-ipause
	bw pause ex-ipause
	rc=0; out=$(bw exec ex-ipause echo ok 2>&1) || rc=$?
	expect_eq "refused exec" 255 "$rc"
	expect_contains message "cannot exec in a paused container (use --ignore-paused to override)" "$out"
	(sleep 1.5; bw resume ex-ipause) &
	resumer=$!
	out=$(timeout 20 "$BULWARK" --root "$BW_ROOT" exec --ignore-paused ex-ipause echo ok 2>&1) ||
		fail "exec --ignore-paused: $out"
	wait $resumer || fail "resume failed"
	expect_eq output ok "$out"
	expect_eq status running "$(bw state ex-ipause | jq -r .status)"
	bw delete --force ex-ipause
}

# --cgroup [CTRL:]PATH joins an existing sub-cgroup of the container's cgroup, and nothing
# outside it: "..", controllers the host lacks and missing sub-cgroups are refused.
test_exec_cgroup_joins_a_sub_cgroup_only() {
	start_sleeper ex-subcg
	local dirs d
	dirs=$(awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do [ -d "$m/$CG_PREFIX/ex-subcg" ] && echo "$m/$CG_PREFIX/ex-subcg"; done)
	for bad in .. ../ex-other sub/../.. /../..; do
		out=$(bw exec --cgroup "$bad" ex-subcg true 2>&1) && fail "--cgroup $bad accepted"
		expect_contains "--cgroup $bad" "is not a sub cgroup path" "$out"
	done
	out=$(bw exec --cgroup nonexistent ex-subcg true 2>&1) && fail "missing sub-cgroup accepted"
	expect_contains "missing sub-cgroup" "/nonexistent/cgroup.procs: no such file or directory" "$out"
	out=$(bw exec --cgroup whaaat:/ ex-subcg true 2>&1) && fail "unknown controller accepted"
	expect_contains "unknown controller" "unknown controller" "$out"
	out=$(bw exec --cgroup a:b:c ex-subcg true 2>&1) && fail "a:b:c accepted"
	expect_contains "a:b:c" "invalid --cgroup argument" "$out"
	for d in $dirs; do
		mkdir "$d/sub"
		if [ -f "$d/cpuset.cpus" ]; then # a v1 cpuset takes no task before it has both
			cat "$d/cpuset.cpus" >"$d/sub/cpuset.cpus"
			cat "$d/cpuset.mems" >"$d/sub/cpuset.mems"
		fi
	done
	bw exec --detach --pid-file "$WORK/sub.pid" --cgroup sub ex-subcg sleep 5 || fail "--cgroup sub"
	epid=$(cat "$WORK/sub.pid")
	expect_eq "every hierarchy in sub" "$(grep -c . /proc/$epid/cgroup)" "$(grep -c ":/$CG_PREFIX/ex-subcg/sub$" /proc/$epid/cgroup)"
	bw exec --detach --pid-file "$WORK/root.pid" --cgroup / ex-subcg sleep 5 || fail "--cgroup /"
	epid=$(cat "$WORK/root.pid")
	expect_eq "--cgroup / is the container's own" "$(grep -c . /proc/$epid/cgroup)" "$(grep -c ":/$CG_PREFIX/ex-subcg$" /proc/$epid/cgroup)"
	if [ ! -f /sys/fs/cgroup/cgroup.controllers ]; then
		bw exec --detach --pid-file "$WORK/mem.pid" --cgroup memory:sub ex-subcg sleep 5 || fail "--cgroup memory:sub"
		epid=$(cat "$WORK/mem.pid")
		grep -q ":memory:/$CG_PREFIX/ex-subcg/sub$" /proc/$epid/cgroup || fail "memory: $(cat /proc/$epid/cgroup)"
		grep -q ":pids:/$CG_PREFIX/ex-subcg$" /proc/$epid/cgroup || fail "pids moved too: $(cat /proc/$epid/cgroup)"
	fi
	# A sub-cgroup the container froze is refused at once (the process would stop there
	# before reporting back, with exec waiting and holding the container's lock).
	local froze= f
	bw exec --detach --cgroup sub ex-subcg sleep 60 || fail "--cgroup sub (sleep 60)"
	for d in $dirs; do
		if [ -f "$d/sub/freezer.state" ]; then echo FROZEN >"$d/sub/freezer.state" && froze="$froze $d/sub/freezer.state"
		elif [ -f "$d/sub/cgroup.freeze" ]; then echo 1 >"$d/sub/cgroup.freeze" && froze="$froze $d/sub/cgroup.freeze"
		fi
	done
	if [ -n "$froze" ]; then
		out=$(timeout 20 "$BULWARK" --root "$BW_ROOT" exec --cgroup sub ex-subcg true 2>&1) &&
			fail "exec into a frozen sub-cgroup ran"
		expect_contains "frozen sub-cgroup" "--cgroup: container's cgroup unexpectedly frozen" "$out"
	fi
	# ... and delete --force thaws what the container froze below its cgroup: a v1-frozen task
	# does not die of SIGKILL, and its cgroup would stay behind.
	bw delete --force ex-subcg || fail "delete --force with a frozen sub-cgroup"
}

# The config's warnings were create's to give: exec of the same process prints only what the
# process prints (runc's suite compares exec output exactly, `runc spec` has such warnings).
test_exec_does_not_repeat_the_configs_warnings() {
	start_sleeper ex-quiet '.process.capabilities.ambient=["CAP_KILL"]'
	out=$(bw exec ex-quiet echo hi 2>&1) || fail "exec: $out"
	expect_eq "exec output" hi "$out"
	bw delete --force ex-quiet
}
