# What the container's process gets: user, groups, umask, env, cwd, hostname, rlimits,
# capabilities, no_new_privs, stdio and terminals, hooks, cgroup placement.

test_process_user_groups_umask_env_cwd() {
	b=$(new_bundle pr-user)
	cfg "$b" '.process.user={"uid":1234,"gid":2345,"umask":63,"additionalGids":[7,8]} | .process.cwd="/tmp" | .process.env+=["FOO=bar baz"] | .process.args=["sh","-c","id -u; id -g; id -G; umask; pwd; echo $FOO"]'
	out=$(bw run -b "$b" pr-user </dev/null | tr '\n' ' ')
	expect_eq output "1234 2345 2345 7 8 0077 /tmp bar baz " "$out"
}

# What the caller ignores or blocks never reaches the container's process (ignored signals
# survive execve): run from a shell that ignores INT, QUIT, USR1, PIPE and TERM, the process
# starts with every signal at its default and none blocked; the sandbox's command too.
test_process_signals_ignored_by_the_caller_are_reset() {
	b=$(new_bundle pr-sigs)
	cfg "$b" '.process.args=["cat","/proc/self/status"]'
	out=$(trap '' INT QUIT USR1 PIPE TERM; bw run -b "$b" pr-sigs </dev/null | grep -E '^Sig(Ign|Blk)' | tr '\n\t' '  ')
	expect_eq run "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " "$out"
	out=$(trap '' INT QUIT USR1 PIPE TERM; bw sandbox -- cat /proc/self/status </dev/null | grep -E '^Sig(Ign|Blk)' | tr '\n\t' '  ')
	expect_eq sandbox "SigBlk: 0000000000000000 SigIgn: 0000000000000000 " "$out"
}

test_process_hostname_and_domainname() {
	b=$(new_bundle pr-host)
	cfg "$b" '.hostname="box1" | .domainname="example.test" | .process.args=["sh","-c","hostname; cat /proc/sys/kernel/domainname"]'
	expect_eq names "box1 example.test" "$(bw run -b "$b" pr-host </dev/null | tr '\n' ' ' | sed 's/ $//')"
}

test_process_rlimits_applied() {
	b=$(new_bundle pr-rlim)
	cfg "$b" '.process.rlimits=[{"type":"RLIMIT_NOFILE","hard":512,"soft":256},{"type":"RLIMIT_NPROC","hard":100,"soft":90}] | .process.args=["sh","-c","ulimit -n; ulimit -Hn; ulimit -u"]'
	expect_eq limits "256 512 90" "$(bw run -b "$b" pr-rlim </dev/null | tr '\n' ' ' | sed 's/ $//')"
}

test_process_rlimit_above_hard_limit_fails_clearly() {
	b=$(new_bundle pr-rlimbig)
	hard=$(ulimit -Hn)
	cfg "$b" ".process.rlimits=[{\"type\":\"RLIMIT_NOFILE\",\"hard\":$((hard * 4)),\"soft\":$((hard * 4))}]"
	out=$(bw run -b "$b" pr-rlimbig </dev/null 2>&1) && fail "raising above the hard limit succeeded without CAP_SYS_RESOURCE"
	expect_contains message "process.rlimits[0]: setrlimit RLIMIT_NOFILE" "$out"
	expect_contains message "operation not permitted" "$(echo "$out" | tr A-Z a-z)"
}

test_process_capabilities_exact_and_no_inheritable() {
	b=$(new_bundle pr-caps)
	cfg "$b" '.process.capabilities={"bounding":["CAP_CHOWN","CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]} | .process.args=["sh","-c","grep -E \"^Cap(Inh|Prm|Eff|Bnd|Amb)\" /proc/self/status"]'
	out=$(bw run -b "$b" pr-caps </dev/null)
	expect_contains CapBnd "CapBnd:	0000000000000021" "$out"
	expect_contains CapEff "CapEff:	0000000000000020" "$out"
	expect_contains CapPrm "CapPrm:	0000000000000020" "$out"
	expect_contains CapInh "CapInh:	0000000000000000" "$out"
	expect_contains CapAmb "CapAmb:	0000000000000000" "$out"
}

test_process_unknown_capability_is_an_error() {
	b=$(new_bundle pr-badcap)
	cfg "$b" '.process.capabilities.bounding+=["CAP_NOT_A_CAP"]'
	out=$(bw run -b "$b" pr-badcap </dev/null 2>&1) && fail "accepted"
	expect_contains message 'process.capabilities.bounding[14]: unknown capability "CAP_NOT_A_CAP"' "$out"
}

test_process_no_new_privs_and_seccomp_field() {
	b=$(new_bundle pr-nnp)
	cfg "$b" '.process.args=["sh","-c","grep NoNewPrivs /proc/self/status"]'
	expect_eq nnp "NoNewPrivs:	1" "$(bw run -b "$b" pr-nnp </dev/null)"
	cfg "$b" '.process.noNewPrivileges=false'
	expect_eq nnp "NoNewPrivs:	0" "$(bw run -b "$b" pr-nnp </dev/null)"
}

test_process_oom_score_adj() {
	b=$(new_bundle pr-oom)
	cfg "$b" '.process.oomScoreAdj=321 | .process.args=["cat","/proc/self/oom_score_adj"]'
	expect_eq oom 321 "$(bw run -b "$b" pr-oom </dev/null)"
}

test_process_only_stdio_fds_reach_the_container() {
	b=$(new_bundle pr-fds)
	cfg "$b" '.process.args=["ls","/proc/self/fd"]'
	out=$(bw run -b "$b" pr-fds </dev/null 7</etc/hostname 9>/dev/null | tr '\n' ' ')
	expect_eq fds "0 1 2 3 " "$out" # 3 is ls's own directory fd
}

test_process_preserve_fds_passes_extra_fds() {
	b=$(new_bundle pr-pfds)
	cfg "$b" '.process.args=["sh","-c","cat <&3"]'
	echo passed-through >"$WORK/f3"
	out=$(bw run -b "$b" --preserve-fds 1 pr-pfds </dev/null 3<"$WORK/f3")
	expect_eq fd3 passed-through "$out"
}

test_process_cgroup_placement_in_every_hierarchy() {
	b=$(new_bundle pr-cg)
	cfg "$b" '.process.args=["sleep","30"] | .linux.namespaces-=[{"type":"cgroup"}]'
	bw create -b "$b" --pid-file "$WORK/pid" pr-cg </dev/null
	pid=$(cat "$WORK/pid")
	n_hier=$(grep -c . /proc/$pid/cgroup)
	n_ok=$(grep -c ":/$CG_PREFIX/pr-cg$" /proc/$pid/cgroup)
	expect_eq "hierarchies at cgroupsPath" "$n_hier" "$n_ok"
	bw delete --force pr-cg
	[ -z "$(cgroup_leaks)" ] || fail "cgroup left: $(cgroup_leaks)"
}

test_process_terminal_via_console_socket() {
	b=$(new_bundle pr-tty)
	cfg "$b" '.process.terminal=true | .process.args=["sh","-c","tty; [ -t 0 ] && echo isatty; echo DONE"]'
	python3 "$(dirname "$BASH_SOURCE")/helpers/console_recv.py" "$WORK/pr-tty.sock" "$WORK/pr-tty.out" &
	recv=$!
	for i in $(seq 50); do [ -S "$WORK/pr-tty.sock" ] && break; sleep 0.05; done
	bw create -b "$b" --console-socket "$WORK/pr-tty.sock" pr-tty </dev/null
	bw start pr-tty
	wait $recv
	out=$(cat "$WORK/pr-tty.out")
	expect_contains payload "payload=/dev/ptmx" "$out"
	expect_contains nfds "nfds=1" "$out"
	expect_contains major "major=5" "$out"
	expect_contains tty "/dev/pts/0" "$out"
	expect_contains isatty "isatty" "$out"
	for i in $(seq 50); do [ "$(bw state pr-tty | jq -r .status)" = stopped ] && break; sleep 0.1; done
	bw delete --force pr-tty
}

test_process_terminal_without_socket_is_an_error() {
	b=$(new_bundle pr-ttynosock)
	cfg "$b" '.process.terminal=true'
	out=$(bw create -b "$b" pr-ttynosock </dev/null 2>&1) && fail "accepted"
	expect_contains message "no --console-socket" "$out"
	bw delete --force pr-ttynosock
}

test_process_run_tty_relays_terminal() {
	b=$(new_bundle pr-runtty)
	cfg "$b" '.process.terminal=true | .process.args=["sh","-c","tty; exit 3"]'
	rc=0
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b pr-runtty" /dev/null </dev/null) || rc=$?
	expect_contains tty "/dev/pts/0" "$out"
	expect_eq rc 3 "$rc"
}

# runc's tty.bats "[tty owner]": the pty belongs to process.user's uid; its group stays the
# one devpts gives (gid=5 here, the tty group of runc's spec).
test_process_terminal_is_owned_by_the_process_user() {
	b=$(new_bundle pr-ttyown)
	cfg "$b" '(.mounts[] | select(.destination=="/dev/pts") | .options) += ["gid=5"] | .process.terminal=true | .process.user={"uid":1000,"gid":100} | .process.args=["sh","-c","stat -c %u:%g $(tty)"]'
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b pr-ttyown" /dev/null </dev/null | grep -o '[0-9]*:[0-9]*')
	expect_eq "run: owner" "1000:5" "$out"
	cfg "$b" '.process.user={"uid":0,"gid":0}'
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b pr-ttyown" /dev/null </dev/null | grep -o '[0-9]*:[0-9]*')
	expect_eq "run as root: owner" "0:5" "$out"
	cfg "$b" '.process.terminal=false | .process.args=["sleep","30"]'
	bw run -d -b "$b" pr-ttyown </dev/null
	out=$(script -qec "$BULWARK --root $BW_ROOT exec -t --user 1000:100 pr-ttyown sh -c 'stat -c %u:%g \$(tty)'" /dev/null </dev/null | grep -o '[0-9]*:[0-9]*')
	bw delete --force pr-ttyown
	expect_eq "exec -t: owner" "1000:5" "$out"
}

# A non-root user can reopen the stdio pipes bulwark made for it (/dev/stdout): the relay of the
# caller's terminal. The caller's own pipe stays the caller's (runc would chown it): given away,
# a container process could reopen it for reading and take what the host writes into it.
test_process_stdio_pipes_are_reopenable_by_the_process_user() {
	b=$(new_bundle pr-pipeown)
	cfg "$b" '.process.user={"uid":1000,"gid":1000} | .process.args=["sh","-c","echo out >/dev/stdout && echo err >/dev/stderr; stat -L -c %u /proc/self/fd/1"]'
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b pr-pipeown" /dev/null </dev/null | tr -d '\r')
	# stdout and stderr are two relays: their order on the terminal is not fixed.
	expect_eq "relay pipes reopened" "1000 err out" "$(echo $out | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
	out=$(bw run -b "$b" pr-pipeown </dev/null 2>/dev/null | cat)
	expect_eq "the caller's pipe kept its owner" "0" "$(echo $out)"
	# A file given as stdout is the caller's: its owner stays.
	bw run -b "$b" pr-pipeown </dev/null >"$WORK/pr-pipeown.out" 2>/dev/null || true
	expect_eq "file owner" "0" "$(stat -c %u "$WORK/pr-pipeown.out")"
}

# pr_own_rootfs BUNDLE: a private copy of the rootfs the test may change.
pr_own_rootfs() {
	rm "$1/rootfs"
	cp -a "$ROOTFS" "$1/rootfs"
}

PR_FEW_CAPS='.process.capabilities={"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]}'

# runc's cwd.bats: the runtime enters process.cwd with its own privileges first, so a user
# without CAP_DAC_OVERRIDE starts in a 0700 directory of root's ...
test_process_cwd_is_entered_with_the_runtimes_privileges_first() {
	b=$(new_bundle pr-cwdroot)
	pr_own_rootfs "$b"
	chmod 700 "$b/rootfs/root"
	cfg "$b" "$PR_FEW_CAPS"' | .process.cwd="/root" | .process.user={"uid":42,"gid":42} | .process.args=["sh","-c","pwd; ls . >/dev/null 2>&1 || echo cannot-read"]'
	expect_eq "cwd" "/root cannot-read" "$(bw run -b "$b" pr-cwdroot </dev/null | tr '\n' ' ' | sed 's/ $//')"
	# ... and exec as root into such a container works too.
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" pr-cwdroot </dev/null
	out=$(bw exec --user 0:0 pr-cwdroot pwd 2>&1) || { bw delete --force pr-cwdroot; fail "exec: $out"; }
	bw delete --force pr-cwdroot
	expect_eq "exec cwd" "/root" "$out"
}

# ... and when they are refused, once more as the user: a 0700 directory of the user's whose
# group is not mapped (so root in the user namespace has no DAC override on it).
test_process_cwd_refused_to_root_is_entered_as_the_user() {
	b=$(new_bundle pr-cwduser)
	pr_own_rootfs "$b"
	chown -R 200000:200000 "$b/rootfs"
	mkdir -p "$b/rootfs/data" # the shared rootfs may have it (a mountpoint another test made)
	chown 200042:12345 "$b/rootfs/data"
	chmod 700 "$b/rootfs/data"
	cfg "$b" '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .process.cwd="/data" | .process.user={"uid":42,"gid":42} | .process.args=["pwd"]'
	expect_eq "the owner" "/data" "$(bw run -b "$b" pr-cwduser </dev/null)"
	cfg "$b" '.process.user={"uid":43,"gid":42}'
	out=$(bw run -b "$b" pr-cwduser </dev/null 2>&1) && fail "another user entered: $out"
	expect_contains "another user" "process.cwd: chdir \`/data\`: Permission denied" "$out"
}

# A missing process.cwd is made (0755, the container's root), before root.readonly applies,
# inside the root even through a symlink that points out of it.
test_process_missing_cwd_is_created_inside_the_root() {
	b=$(new_bundle pr-cwdnew)
	pr_own_rootfs "$b"
	ln -s /../../../../.. "$b/rootfs/up"
	cfg "$b" '.root.readonly=true | .process.cwd="/up/new/dir" | .process.user={"uid":42,"gid":42} | .process.args=["sh","-c","pwd; stat -c %a:%u /new/dir"]'
	expect_eq "created" "/new/dir 755:0" "$(bw run -b "$b" pr-cwdnew </dev/null | tr '\n' ' ' | sed 's/ $//')"
	[ -d "$b/rootfs/new/dir" ] || fail "not in the rootfs"
	[ ! -e /new ] || fail "made on the host"
}

# Without HOME in process.env, the process gets the home of its uid in the container's
# /etc/passwd, else "/" (runc, crun); a HOME given is kept. exec does the same.
test_process_home_comes_from_the_containers_passwd() {
	b=$(new_bundle pr-home)
	pr_own_rootfs "$b"
	echo 'app:x:1000:1000:App:/home/app:/bin/sh' >>"$b/rootfs/etc/passwd"
	cfg "$b" '.process.args=["sh","-c","echo $HOME"]'
	expect_eq root /root "$(bw run -b "$b" pr-home </dev/null)"
	cfg "$b" '.process.user={"uid":1000,"gid":1000}'
	expect_eq "uid 1000" /home/app "$(bw run -b "$b" pr-home </dev/null)"
	cfg "$b" '.process.user={"uid":2000,"gid":2000}'
	expect_eq "not in passwd" / "$(bw run -b "$b" pr-home </dev/null)"
	cfg "$b" '.process.user={"uid":1000,"gid":1000} | .process.env+=["HOME=/given"]'
	expect_eq "given" /given "$(bw run -b "$b" pr-home </dev/null)"
	cfg "$b" '.process.env-=["HOME=/given"] | .process.args=["sleep","30"]'
	bw run -d -b "$b" pr-home </dev/null
	out=$(bw exec --user 1000:1000 pr-home sh -c 'echo $HOME' 2>&1)
	bw delete --force pr-home
	expect_eq "exec" /home/app "$out"
}

# /etc/passwd is read inside the root: a symlink out of it stays in it, and a FIFO or a device
# there is not read at all (HOME falls back to "/", nothing hangs).
test_process_home_lookup_stays_in_the_root_and_reads_only_a_file() {
	b=$(new_bundle pr-homeln)
	pr_own_rootfs "$b"
	mkdir -p "$b/rootfs/home/x/etc"
	echo 'root:x:0:0:root:/inside:/bin/sh' >"$b/rootfs/home/x/etc/passwd"
	rm "$b/rootfs/etc/passwd"
	ln -s ../../../../../../../home/x/etc/passwd "$b/rootfs/etc/passwd"
	cfg "$b" '.process.args=["sh","-c","echo $HOME"]'
	expect_eq "through a symlink" /inside "$(bw run -b "$b" pr-homeln </dev/null)"
	rm "$b/rootfs/etc/passwd"
	mkfifo "$b/rootfs/etc/passwd"
	expect_eq "a FIFO" / "$(timeout 20 "$BULWARK" --root "$BW_ROOT" run -b "$b" pr-homeln </dev/null)"
}

# kernel.hostname conflicts with the hostname field, always (runc, crun); kernel.domainname
# works in a UTS namespace unless it contradicts the domainname field (crun).
test_process_uts_sysctls_and_their_fields() {
	b=$(new_bundle pr-utssysctl)
	cfg "$b" '.linux.sysctl={"kernel.hostname":"other"}'
	out=$(bw run -b "$b" pr-utssysctl </dev/null 2>&1) && fail "kernel.hostname accepted: $out"
	expect_contains refused 'linux.sysctl["kernel.hostname"]: conflicts with the field "hostname"' "$out"
	cfg "$b" '.linux.sysctl={"kernel.domainname":"dom.example"} | .process.args=["cat","/proc/sys/kernel/domainname"]'
	expect_eq domainname dom.example "$(bw run -b "$b" pr-utssysctl </dev/null)"
	cfg "$b" '.domainname="other.example"'
	out=$(bw run -b "$b" pr-utssysctl </dev/null 2>&1) && fail "conflicting domainname accepted: $out"
	expect_contains refused 'conflicts with the field "domainname"' "$out"
}

test_hooks_receive_state_and_run_in_order() {
	b=$(new_bundle pr-hooks)
	log=$WORK/hooks.log
	for k in prestart createRuntime poststart poststop; do
		printf '#!/bin/sh\necho %s $(cat | tr -d "\\n") >>%s\n' "$k" "$log" >"$WORK/hook-$k"
		chmod +x "$WORK/hook-$k"
	done
	cfg "$b" ".hooks={\"prestart\":[{\"path\":\"$WORK/hook-prestart\"}],\"createRuntime\":[{\"path\":\"$WORK/hook-createRuntime\"}],\"poststart\":[{\"path\":\"$WORK/hook-poststart\"}],\"poststop\":[{\"path\":\"$WORK/hook-poststop\"}]}"
	bw run -b "$b" pr-hooks </dev/null
	expect_eq order "prestart createRuntime poststart poststop" "$(awk '{print $1}' "$log" | tr '\n' ' ' | sed 's/ $//')"
	state=$(grep '^prestart' "$log" | cut -d' ' -f2-)
	expect_eq id pr-hooks "$(echo "$state" | jq -r .id)"
	expect_eq bundle "$b" "$(echo "$state" | jq -r .bundle)"
	[ "$(echo "$state" | jq -r .pid)" -gt 0 ] || fail "no pid in hook state"
}

test_hook_failure_aborts_create_and_leaves_nothing() {
	b=$(new_bundle pr-hookfail)
	cfg "$b" '.hooks={"createRuntime":[{"path":"/bin/false"}]}'
	out=$(bw create -b "$b" pr-hookfail </dev/null 2>&1) && fail "create succeeded"
	expect_contains message "createRuntime hook #0 (/bin/false): error running hook: exit status 1" "$out"
	[ ! -e "$BW_ROOT/pr-hookfail" ] || fail "state left"
}

test_hook_timeout_is_enforced() {
	b=$(new_bundle pr-hooktime)
	cfg "$b" '.hooks={"prestart":[{"path":"/bin/sleep","args":["sleep","30"],"timeout":1}]}'
	start=$(date +%s)
	out=$(bw create -b "$b" pr-hooktime </dev/null 2>&1) && fail "create succeeded"
	[ $(($(date +%s) - start)) -lt 10 ] || fail "timeout not enforced"
	expect_contains message "timed out after 1 s" "$out"
}

test_user_namespace_maps_root_to_unprivileged_range() {
	b=$(new_bundle pr-userns)
	cfg "$b" '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .process.args=["sh","-c","cat /proc/self/uid_map; id -u; touch /tmp/x && echo writable"]'
	out=$(bw run -b "$b" pr-userns </dev/null | tr -s ' \n' ' ')
	expect_eq userns " 0 200000 65536 0 writable " "$out"
}

test_invalid_config_gives_one_line_and_leaves_nothing() {
	b=$(new_bundle pr-badcfg)
	for filter in '.linux.uidMappings=[{"containerID":0,"hostID":1,"size":0}] | .linux.namespaces+=[{"type":"user"}]' \
		'.process.cwd="relative"' '.ociVersion="2.0.0"' '.linux.namespaces+=[{"type":"bogus"}]' \
		'.process.rlimits=[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]' '.mounts[0].destination="proc"'; do
		cp "$b/config.json" "$WORK/saved.json"
		cfg "$b" "$filter"
		out=$(bw create -b "$b" pr-badcfg </dev/null 2>&1) && fail "accepted: $filter"
		expect_eq "lines for $filter" 1 "$(echo "$out" | wc -l)"
		expect_contains "prefix for $filter" "bulwark: create failed: config.json: " "$out"
		[ ! -e "$BW_ROOT/pr-badcfg" ] || fail "state left for $filter"
		cp "$WORK/saved.json" "$b/config.json"
	done
	echo '{"ociVersion": "1.0.0", "process": ' >"$b/config.json"
	out=$(bw create -b "$b" pr-badcfg </dev/null 2>&1) && fail "accepted malformed JSON"
	expect_contains malformed "config.json: invalid JSON" "$out"
	rm "$b/rootfs"
	base_config >"$b/config.json"
	out=$(bw create -b "$b" pr-badcfg </dev/null 2>&1) && fail "accepted a missing rootfs"
	expect_contains missing-rootfs "root.path" "$out"
}

test_spec_writes_hardened_default_that_runs() {
	mkdir -p "$WORK/hs"
	ln -s "$ROOTFS" "$WORK/hs/rootfs"
	(cd "$WORK/hs" && "$BULWARK" spec)
	out=$("$BULWARK" spec --bundle "$WORK/hs" 2>&1) && fail "spec overwrote config.json"
	expect_contains message "exists" "$out"
	cfg "$WORK/hs" '.process.terminal=false | .linux.cgroupsPath="/'"$CG_PREFIX"'/hs" | .process.args=["sh","-c","id -u; grep -E \"^(CapEff|CapBnd|NoNewPrivs|Seccomp):\" /proc/self/status | tr -d \"\\t\"; touch /x 2>/dev/null || echo ro"]'
	out=$(bw run -b "$WORK/hs" hs </dev/null | tr '\n' ' ')
	expect_eq out "1000 CapEff:0000000000000000 CapBnd:0000000000000000 NoNewPrivs:1 Seccomp:2 ro " "$out"
}

test_sandbox_runs_over_read_only_host_root() {
	out=$("$BULWARK" --root "$BW_ROOT" sandbox -- sh -c 'id -u; touch /etc/bulwark-x 2>/dev/null || echo ro; echo hi >$HOME/f && cat $HOME/f; echo t >/tmp/t && cat /tmp/t; ls /run | wc -l; ip -o link | wc -l' | tr '\n' ' ')
	expect_eq out "1000 ro hi t 0 1 " "$out"
	[ ! -e /etc/bulwark-x ] || fail "wrote to the host"
}

test_sandbox_exit_codes_follow_docker_convention() {
	rc=0; "$BULWARK" --root "$BW_ROOT" sandbox -- sh -c 'exit 9' || rc=$?
	expect_eq "command status" 9 "$rc"
	rc=0; "$BULWARK" --root "$BW_ROOT" sandbox -- /no/such/thing 2>/dev/null || rc=$?
	expect_eq "not found" 127 "$rc"
	rc=0; "$BULWARK" --root "$BW_ROOT" sandbox -- /etc/passwd 2>/dev/null || rc=$?
	expect_eq "not executable" 126 "$rc"
	# Executable, but no format the kernel knows (ENOEXEC): 126 too, as Docker.
	local x=$WORK/noformat
	mkdir -p "$x" && printf 'no shebang
' >"$x/prog" && chmod 755 "$WORK" "$x" "$x/prog"
	rc=0; "$BULWARK" --root "$BW_ROOT" sandbox --workspace "$x" -- "$x/prog" 2>/dev/null || rc=$?
	expect_eq "exec format error" 126 "$rc"
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" sandbox --user nobody -- true 2>&1) || rc=$?
	expect_eq "bad flag" 125 "$rc"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
}

test_sandbox_bind_ro_and_rw() {
	mkdir -p "$WORK/share" && echo data >"$WORK/share/in" && chmod 777 "$WORK/share"
	out=$("$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/share:/mnt:ro" -- sh -c 'cat /mnt/in; touch /mnt/x 2>/dev/null || echo ro')
	expect_eq ro "data ro" "$(echo $out)"
	"$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/share:/mnt:rw" -- sh -c 'echo out >/mnt/out'
	expect_eq rw out "$(cat "$WORK/share/out")"
}

test_seccomp_complain_mode_logs_instead_of_refusing() {
	rc=0; "$BULWARK" --root "$BW_ROOT" sandbox -- unshare -U true 2>/dev/null || rc=$?
	expect_eq "enforced: user namespace creation refused" 1 "$rc"
	"$BULWARK" --root "$BW_ROOT" sandbox --seccomp-complain -- unshare -U true ||
		fail "complain mode still refused"
	b=$(new_bundle pr-complain)
	cfg "$b" '.annotations={"run.bulwark.seccomp":"lenient"} | .linux.seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'
	out=$(bw create -b "$b" pr-complain </dev/null 2>&1) && fail "accepted an unknown mode"
	expect_contains message 'run.bulwark.seccomp: must be "enforce" or "complain"' "$out"
}

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

# After --timeout's SIGTERM and the --kill-after grace, SIGKILL ends the whole tree.
test_sandbox_timeout_kills_a_tree_that_ignores_sigterm() {
	start=$(date +%s%N)
	rc=0; sbx --timeout 1s --kill-after 1s -- sh -c 'trap "" TERM; (trap "" TERM; sleep 60) & sleep 60' 2>/dev/null || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_eq "exit status" 124 "$rc"
	[ "$ms" -ge 2000 ] && [ "$ms" -lt 6000 ] || fail "took ${ms} ms, expected 2 s (--timeout 1s + --kill-after 1s)"
	start=$(date +%s%N)
	rc=0; sbx --timeout 1s --kill-after 0 -- sh -c 'trap "" TERM; (trap "" TERM; sleep 60) & sleep 60' 2>/dev/null || rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	expect_eq "exit status, --kill-after 0" 124 "$rc"
	[ "$ms" -lt 5000 ] || fail "--kill-after 0: took ${ms} ms"
}

test_sandbox_memory_limit_oom_kills() {
	rc=0; sbx --memory 32m -- sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1 || rc=$?
	expect_eq "OOM-killed" 137 "$rc"
}

test_sandbox_pids_limit_stops_a_fork_bomb() {
	# The shell's own wording differs (dash: "Cannot fork", bash: "Resource temporarily
	# unavailable"); what matters is that the 17th task is refused and the sandbox ends.
	rc=0; out=$(sbx --pids 16 --timeout 20s -- sh -c 'for i in $(seq 40); do sleep 5 & done; echo all-started' 2>&1) || rc=$?
	case "$out" in *all-started*) fail "40 tasks started under --pids 16" ;; esac
	case "$out" in *[Ff]ork* | *"temporarily unavailable"*) ;; *) fail "no fork failure: $out" ;; esac
	[ "$rc" -ne 124 ] || fail "the sandbox did not end by itself"
}

test_sandbox_limit_flags_are_validated() {
	for bad in "--memory -5" "--memory 12q" "--cpus 0" "--cpus x" "--pids 0" "--nofile 5" "--timeout 5x" "--timeout -1s"; do
		rc=0; out=$(sbx $bad -- true 2>&1) || rc=$?
		expect_eq "status for $bad" 125 "$rc"
		expect_eq "one line for $bad" 1 "$(echo "$out" | wc -l)"
	done
	expect_eq nofile 512 "$(sbx --nofile 512 -- sh -c 'ulimit -n')"
}

# runtime.md lifecycle steps 9 and 13: a failing poststart or poststop hook is a warning; the
# hooks after it still run and the container's lifecycle goes on.
test_hooks_poststart_and_poststop_failures_warn_and_the_rest_run() {
	b=$(new_bundle pr-hookwarn)
	log=$WORK/hookwarn.log
	cfg "$b" ".process.args=[\"sh\",\"-c\",\"exit 5\"] | .hooks={\"poststart\":[{\"path\":\"/bin/false\"},{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo poststart2 >>$log\"]}],\"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo why; exit 4\"]},{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"echo poststop2 >>$log\"]}]}"
	rc=0
	bw run -b "$b" pr-hookwarn </dev/null 2>"$WORK/err" || rc=$?
	expect_eq "the container's exit status" 5 $rc
	expect_eq "hooks after the failed ones" "poststart2 poststop2" "$(tr '\n' ' ' <"$log" | sed 's/ $//')"
	expect_contains "poststart warning" "warning: poststart hook #0 (/bin/false): error running hook: exit status 1" "$(cat "$WORK/err")"
	expect_contains "poststop warning" 'poststop hook #0 (/bin/sh): error running hook: exit status 4, output: "why' "$(cat "$WORK/err")"
}

# The state on each hook's stdin is the runtime-spec's State: "created" from prestart to
# startContainer (runtime.md: after step 2), "running" for poststart, "stopped" without a pid
# for poststop.
test_hooks_state_per_phase() {
	b=$(new_bundle pr-hookstate)
	d=$WORK/hookstate
	mkdir -p "$d"
	hook() { printf '{"path":"/bin/sh","args":["sh","-c","cat >%s"]}' "$1"; }
	cfg "$b" ".annotations={\"k\":\"v\"} | .hooks={\"prestart\":[$(hook $d/prestart)],\"createRuntime\":[$(hook $d/createRuntime)],\"createContainer\":[$(hook $d/createContainer)],\"startContainer\":[$(hook /tmp/pr-hookstate.startContainer)],\"poststart\":[$(hook $d/poststart)],\"poststop\":[$(hook $d/poststop)]}"
	bw run -b "$b" pr-hookstate </dev/null
	mv "$ROOTFS/tmp/pr-hookstate.startContainer" "$d/startContainer"
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		s=$(cat "$d/$k")
		expect_eq "$k: id" pr-hookstate "$(echo "$s" | jq -r .id)"
		expect_eq "$k: bundle" "$b" "$(echo "$s" | jq -r .bundle)"
		expect_eq "$k: annotations" v "$(echo "$s" | jq -r .annotations.k)"
		expect_eq "$k: ociVersion" 1.0.2-dev "$(echo "$s" | jq -r .ociVersion)"
	done
	for k in prestart createRuntime createContainer startContainer; do
		expect_eq "$k: status" created "$(jq -r .status "$d/$k")"
		expect_eq "$k: keys" annotations,bundle,id,ociVersion,pid,status "$(jq -r 'keys|join(",")' "$d/$k")"
	done
	expect_eq "poststart: status" running "$(jq -r .status "$d/poststart")"
	expect_eq "same pid throughout" 1 "$(cat "$d"/prestart "$d"/startContainer "$d"/poststart | jq -r .pid | sort -u | wc -l)"
	expect_eq "poststop: status" stopped "$(jq -r .status "$d/poststop")"
	expect_eq "poststop: no pid" null "$(jq -r .pid "$d/poststop")"
}

# Hooks without `env` get the environment of whoever runs them (runc, crun): the runtime's for
# the host-side hooks, the container process's for createContainer and startContainer; an
# explicit env replaces it. Host-side hooks start in the bundle, createContainer in the rootfs.
test_hooks_env_and_working_directory() {
	b=$(new_bundle pr-hookenv)
	d=$WORK/hookenv
	mkdir -p "$d"
	show='echo \"$BW_HOOK_MARK:$TERM:$(pwd)\"'
	cfg "$b" ".hooks={\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$show >$d/inherit\"]},{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$show >$d/explicit\"],\"env\":[\"TERM=dumb\"]}],\"createContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$show >$d/cc\"]}],\"startContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"$show >/tmp/pr-hookenv.sc\"]}]}"
	(cd / && BW_HOOK_MARK=fromruntime TERM=vt100 "$BULWARK" --root "$BW_ROOT" run -b "$b" pr-hookenv </dev/null)
	expect_eq "prestart without env" "fromruntime:vt100:$b" "$(cat "$d/inherit")"
	expect_eq "prestart with env" ":dumb:$b" "$(cat "$d/explicit")"
	expect_eq "createContainer" ":xterm:$(readlink -f "$b/rootfs")" "$(cat "$d/cc")"
	expect_eq "startContainer" ":xterm:/" "$(cat "$ROOTFS/tmp/pr-hookenv.sc")"
	rm -f "$ROOTFS/tmp/pr-hookenv.sc"
}

# What hooks print is not the container's output nor ours (runc collects it); a failure
# message quotes it.
test_hook_output_is_collected_and_quoted_on_failure() {
	b=$(new_bundle pr-hookout)
	cfg "$b" '.process.args=["echo","payload"] | .hooks={"prestart":[{"path":"/bin/sh","args":["sh","-c","echo noise; echo noise >&2"]}],"startContainer":[{"path":"/bin/sh","args":["sh","-c","echo noise; echo noise >&2"]}]}'
	out=$(bw run -b "$b" pr-hookout </dev/null 2>&1)
	expect_eq "run's output" payload "$out"
	b=$(new_bundle pr-hookout2)
	cfg "$b" '.hooks={"createRuntime":[{"path":"/bin/sh","args":["sh","-c","echo the reason >&2; exit 2"]}]}'
	out=$(bw create -b "$b" pr-hookout2 </dev/null 2>&1) && fail "create succeeded"
	expect_contains message 'createRuntime hook #0 (/bin/sh): error running hook: exit status 2, output: "the reason' "$out"
	[ ! -e "$BW_ROOT/pr-hookout2" ] || fail "state left"
}

# Before start a failing hook is fatal (runtime.md lifecycle steps 3-5): create fails naming
# the hook, and nothing is left (state, cgroup, init; the runner checks mounts and cgroups).
test_hooks_failing_before_start_fail_create_in_every_phase() {
	local k id
	for k in prestart createRuntime createContainer; do
		id=pr-hf-$(echo $k | tr A-Z a-z)
		b=$(new_bundle $id)
		cfg "$b" ".process.args=[\"sleep\",\"30\"] | .hooks.$k=[{\"path\":\"/bin/true\"},{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"exit 9\"]},{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"touch $WORK/$id.ran\"]}]"
		out=$(bw create -b "$b" $id </dev/null 2>&1) && fail "$k: create succeeded"
		expect_contains "$k: message" "$k hook #1 (/bin/sh): error running hook: exit status 9" "$out"
		[ ! -e "$WORK/$id.ran" ] || fail "$k: a hook after the failed one ran"
		[ ! -e "$BW_ROOT/$id" ] || fail "$k: state left"
	done
}
