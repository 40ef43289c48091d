# Landlock in real containers (run.bulwark.landlock*, docs/landlock.md): what the plan refuses
# fails with EACCES inside the container, what it grants still works, and a request the kernel
# cannot honour starts nothing. The AppArmor tests are in test_lsm_apparmor.sh.

# lsm_bundle NAME: the base bundle with Landlock on (default mode).
lsm_bundle() {
	local b
	b=$(new_bundle "$1")
	cfg "$b" '.annotations["run.bulwark.landlock"]="default"'
	echo "$b"
}

test_landlock_keeps_allowed_paths_working() {
	b=$(lsm_bundle ll-ok)
	cfg "$b" '.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev"]}]'
	cfg "$b" '.process.args=["sh","-c","cat /etc/passwd >/dev/null && echo x >/tmp/f && cat /tmp/f && head -c1 /dev/urandom >/dev/null && echo >/dev/null && ls / >/dev/null && echo ok"]'
	out=$(bw run -b "$b" ll-ok 2>&1) || fail "run failed: $out"
	expect_eq output "x
ok" "$out"
}

test_landlock_refuses_writes_below_dev_that_the_mount_would_allow() {
	b=$(lsm_bundle ll-dev)
	cfg "$b" '.process.args=["sh","-c","touch /dev/planted; echo rc=$?"]'
	out=$(bw run -b "$b" ll-dev 2>&1)
	expect_contains message "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
	# Without Landlock the same write works: the refusal is Landlock's.
	b=$(new_bundle ll-dev2)
	cfg "$b" '.process.args=["sh","-c","touch /dev/planted; echo rc=$?"]'
	expect_eq "without landlock" "rc=0" "$(bw run -b "$b" ll-dev2 2>&1)"
}

test_landlock_refuses_proc_writes() {
	b=$(lsm_bundle ll-proc)
	cfg "$b" '.process.args=["sh","-c","echo 500 >/proc/self/oom_score_adj; echo rc=$?; cat /proc/self/status >/dev/null && echo read-ok"]'
	out=$(bw run -b "$b" ll-proc 2>&1)
	expect_contains message "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
	expect_contains read "read-ok" "$out"
}

test_landlock_writable_root_gets_no_new_top_level_entries() {
	b=$(lsm_bundle ll-root)
	cfg "$b" '.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","nodev"]}]'
	cfg "$b" '.process.args=["sh","-c","mkdir /planted 2>/dev/null; echo top=$?; mkdir /tmp/d /root/d && echo below-ok; rmdir /root/d"]'
	out=$(bw run -b "$b" ll-root 2>&1)
	expect_eq output "top=1
below-ok" "$out"
}

test_landlock_refuses_reopening_a_host_file_through_proc_fd() {
	b=$(lsm_bundle ll-fd)
	echo host-secret >"$WORK/host-file"
	cfg "$b" '.process.args=["sh","-c","cat <&3; cat /proc/self/fd/3 2>&1; echo rc=$?"]'
	out=$(bw run -b "$b" --preserve-fds 1 ll-fd 3<"$WORK/host-file" 2>&1)
	# The inherited fd itself is readable; opening the file again by path is outside the rules.
	expect_contains inherited "host-secret" "$out"
	expect_contains reopen "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
}

test_landlock_refuses_tcp_connect_to_unlisted_ports() {
	b=$(lsm_bundle ll-net)
	cfg "$b" '.annotations["run.bulwark.landlock.net"]="connect:9"'
	cfg "$b" '.process.args=["sh","-c","nc 127.0.0.1 10 </dev/null; nc 127.0.0.1 9 </dev/null; true"]'
	out=$(bw run -b "$b" ll-net 2>&1) || true
	case "$out" in
	# A kernel without TCP rules (Landlock ABI < 4) must refuse to start, not run unfiltered.
	*"run.bulwark.landlock.net: needs Landlock ABI 4, the kernel has ABI"*) return 0 ;;
	esac
	expect_contains "port 10" "Permission denied" "$out"
	expect_contains "port 9 (listed, nothing listens)" "Connection refused" "$out"
}

test_landlock_applies_to_a_non_root_user_without_no_new_privs() {
	b=$(lsm_bundle ll-user)
	cfg "$b" '.process.user={"uid":65534,"gid":65534} | .process.noNewPrivileges=false'
	# Raising one's own oom_score_adj needs no privilege: only Landlock refuses it.
	cfg "$b" '.process.args=["sh","-c","grep NoNewPrivs /proc/self/status; echo 500 >/proc/self/oom_score_adj; echo rc=$?"]'
	out=$(bw run -b "$b" ll-user 2>&1)
	expect_contains nnp "NoNewPrivs:	0" "$out"
	expect_contains message "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
	b=$(new_bundle ll-user2)
	cfg "$b" '.process.user={"uid":65534,"gid":65534} | .process.noNewPrivileges=false'
	cfg "$b" '.process.args=["sh","-c","echo 500 >/proc/self/oom_score_adj; echo rc=$?"]'
	expect_eq "without landlock" "rc=0" "$(bw run -b "$b" ll-user2 2>&1)"
}

test_landlock_confines_exec_processes_too() {
	b=$(lsm_bundle ll-exec)
	cfg "$b" '.process.args=["sleep","30"]'
	bw create -b "$b" ll-exec </dev/null || fail "create"
	bw start ll-exec || fail "start"
	out=$(bw exec ll-exec sh -c 'touch /dev/planted; echo rc=$?' 2>&1)
	bw kill ll-exec KILL
	for i in $(seq 50); do [ "$(bw state ll-exec | jq -r .status)" = stopped ] && break; sleep 0.1; done
	bw delete ll-exec
	expect_contains status "rc=1" "$out"
}

test_landlock_unknown_mode_starts_nothing() {
	b=$(new_bundle ll-bad)
	cfg "$b" '.annotations["run.bulwark.landlock"]="strict"'
	out=$(bw run -b "$b" ll-bad 2>&1) && fail "run succeeded"
	expect_contains message 'run.bulwark.landlock: unknown mode "strict"' "$out"
	bw state ll-bad >/dev/null 2>&1 && fail "state left behind"
	true
}

test_landlock_bad_port_starts_nothing() {
	b=$(lsm_bundle ll-badport)
	cfg "$b" '.annotations["run.bulwark.landlock.net"]="connect:http"'
	out=$(bw run -b "$b" ll-badport 2>&1) && fail "run succeeded"
	expect_contains message 'run.bulwark.landlock.net: "connect:http": not a port or range' "$out"
}
