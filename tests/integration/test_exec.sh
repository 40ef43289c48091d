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
