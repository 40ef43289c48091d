# Conformance with the OCI runtime spec (config.md, config-linux.md, runtime.md), each test
# written from the spec's text; issue #12 (runtime-tools validation). docs/conformance.md has
# the suite's counts.

CONF_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers
# What glibc's static start-up needs, plus write and exit: the program's own calls.
CONF_STATIC_CALLS='["arch_prctl","brk","mprotect","set_tid_address","set_robust_list","rseq","prlimit64","readlink","getrandom","write","exit_group","exit"]'

# conf_hello_bundle NAME: conf_hello at /home/conf_hello (read-only bind), cwd /tmp.
conf_hello_bundle() {
	if [ ! -x "$WORK/conf-bin/conf_hello" ]; then
		mkdir -p "$WORK/conf-bin"
		gcc -static -O2 -o "$WORK/conf-bin/conf_hello" "$CONF_HELPERS/conf_hello.c"
	fi
	local b
	b=$(new_bundle "$1")
	cfg "$b" ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$WORK/conf-bin\",\"options\":[\"bind\",\"ro\"]}]
		| .process.args = [\"/home/conf_hello\"] | .process.cwd = \"/tmp\""
	echo "$b"
}

# config.md, linux.seccomp: the filter applies to the container process. It may allow no more
# than the program needs: everything the runtime does (chdir to process.cwd, the user switch,
# the exec fifo) happens before it, execve is the only call left.
test_conf_seccomp_filter_allowing_only_the_program_and_execve() {
	b=$(conf_hello_bundle conf-scmp-min)
	cfg "$b" ".linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ERRNO\",
		\"syscalls\":[{\"names\":($CONF_STATIC_CALLS + [\"execve\"]),\"action\":\"SCMP_ACT_ALLOW\"}]}
		| .process.noNewPrivileges = true"
	out=$(bw run -b "$b" conf-scmp-min 2>&1) || fail "run failed: $out"
	expect_eq "output (getppid refused by the filter)" "hello
getppid=001" "$out"
}

# Without noNewPrivileges the kernel wants CAP_SYS_ADMIN to load the filter; the runtime may
# hold it until then, and dropping it (capset) is then the one call besides execve.
test_conf_seccomp_filter_without_no_new_privileges_comes_after_user_switch() {
	b=$(conf_hello_bundle conf-scmp-nonnp)
	cfg "$b" ".linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ERRNO\",
		\"syscalls\":[{\"names\":($CONF_STATIC_CALLS + [\"execve\",\"capset\"]),\"action\":\"SCMP_ACT_ALLOW\"}]}
		| .process.noNewPrivileges = false | .process.user = {\"uid\": 65534, \"gid\": 65534}"
	out=$(bw run -b "$b" conf-scmp-nonnp 2>&1) || fail "run failed: $out"
	expect_eq "output (getppid refused by the filter)" "hello
getppid=001" "$out"
}

# The held CAP_SYS_ADMIN must not reach the process: its sets are the config's.
test_conf_seccomp_without_no_new_privileges_leaves_exact_capabilities() {
	b=$(new_bundle conf-scmp-caps)
	cfg "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW"} | .process.noNewPrivileges = false
		| .process.args = ["sh","-c","grep -E \"^Cap(Eff|Prm|Inh|Amb)\" /proc/self/status"]'
	out=$(bw run -b "$b" conf-scmp-caps 2>&1) || fail "run failed: $out"
	# The base config's 14 capabilities: chown dac_override fowner fsetid kill setgid setuid
	# setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap.
	expect_contains "effective" "CapEff:	00000000a80425fb" "$out"
	expect_contains "permitted" "CapPrm:	00000000a80425fb" "$out"
	expect_contains "inheritable" "CapInh:	0000000000000000" "$out"
	expect_contains "ambient" "CapAmb:	0000000000000000" "$out"
}

# A profile refusing calls the runtime itself could use (getcwd, openat2) constrains only the
# container: process.cwd is still entered (runtime-tools' linux_seccomp case).
test_conf_seccomp_refusing_getcwd_and_openat2_still_enters_cwd() {
	b=$(new_bundle conf-scmp-cwd)
	cfg "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
		"syscalls":[{"names":["getcwd","openat2"],"action":"SCMP_ACT_ERRNO"}]}
		| .process.noNewPrivileges = false | .process.cwd = "/tmp"
		| .process.args = ["readlink","/proc/self/cwd"]'
	out=$(bw run -b "$b" conf-scmp-cwd 2>&1) || fail "run failed: $out"
	expect_eq "cwd" "/tmp" "$out"
}

# Tools start from `runc spec`: its config (a terminal, a read-only root, ambient capabilities
# that are not inheritable) runs as written, only process.args changed. The kernel cannot raise
# those ambient capabilities (capabilities(7)); like runc, they are skipped, silently (tools read
# the container's first line of output): only --debug says so.
test_conf_runc_spec_config_runs_unchanged() {
	local runc b=$WORK/bundles/conf-runc-spec
	runc=$(command -v runc) || fail "runc is not installed"
	mkdir -p "$b" && ln -s "$ROOTFS" "$b/rootfs"
	(cd "$b" && "$runc" spec)
	cfg "$b" '.process.args = ["sh","-c","echo ok; grep -E \"^Cap(Eff|Amb)\" /proc/self/status"]'
	rc=0
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b conf-runc-spec" /dev/null </dev/null) ||
		rc=$?
	out=$(tr -d '\r' <<<"$out")
	expect_eq rc 0 "$rc"
	expect_contains "ran" "ok" "$out"
	# CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE
	expect_contains "effective" "CapEff:	0000000020000420" "$out"
	expect_contains "ambient" "CapAmb:	0000000000000000" "$out"
	case $out in *warning*) fail "a warning on the container's output: $out" ;; esac
	out=$(script -qec "$BULWARK --root $BW_ROOT --debug run -b $b conf-runc-spec2" /dev/null \
		</dev/null | tr -d '\r') || true
	expect_contains "debug" "process.capabilities.ambient: CAP_KILL CAP_NET_BIND_SERVICE CAP_AUDIT_WRITE not raised" "$out"
}

# config-linux.md, Devices: "the runtime MUST make the listed devices available" with the given
# type, major/minor, fileMode, uid and gid, whatever linux.resources.devices allows (here: no
# device at all, so each node exists but opening it is refused).
test_conf_linux_devices_exist_with_type_numbers_mode_and_owner() {
	b=$(new_bundle conf-devs)
	cfg "$b" '.linux.devices = [
		{"path":"/dev/test1","type":"c","major":10,"minor":666,"fileMode":432,"uid":0,"gid":0},
		{"path":"/dev/test2","type":"b","major":8,"minor":666,"fileMode":432,"uid":1000,"gid":1001},
		{"path":"/dev/sub/test3","type":"p","fileMode":384,"uid":2,"gid":3}]
		| .process.args = ["sh","-c","stat -c \"%n %F %t:%T %a %u:%g\" /dev/test1 /dev/test2 /dev/sub/test3; head -c1 /dev/test1 2>&1; true"]'
	out=$(bw run -b "$b" conf-devs 2>&1) || fail "run failed: $out"
	expect_contains "char device" "/dev/test1 character special file a:29a 660 0:0" "$out"
	expect_contains "block device" "/dev/test2 block special file 8:29a 660 1000:1001" "$out"
	expect_contains "fifo" "/dev/sub/test3 fifo 0:0 600 2:3" "$out"
	expect_contains "open refused by the devices cgroup" "Operation not permitted" "$out"
}

# config-linux.md, rootfsPropagation: "private", "shared", "slave" or "unbindable" (the
# schema's enum); `bulwark spec` writes one of them, and the result still runs.
test_conf_spec_rootfs_propagation_is_a_schema_value() {
	mkdir -p "$WORK/conf-spec"
	(cd "$WORK/conf-spec" && "$BULWARK" spec)
	prop=$(jq -r '.linux.rootfsPropagation' "$WORK/conf-spec/config.json")
	case $prop in private | shared | slave | unbindable) ;; *) fail "rootfsPropagation: $prop" ;; esac
	ln -s "$ROOTFS" "$WORK/conf-spec/rootfs"
	cfg "$WORK/conf-spec" '.process.terminal=false | .linux.cgroupsPath="/'"$CG_PREFIX"'/conf-spec"
		| .process.args=["awk","$5 == \"/\"","/proc/self/mountinfo"]'
	out=$(bw run -b "$WORK/conf-spec" conf-spec </dev/null) || fail "run failed: $out"
	[ -n "$out" ] || fail "no root mount in mountinfo"
	case $out in *shared:*) fail "/ propagates to a peer group: $out" ;; esac
}

# config-linux.md, Namespaces: "If a namespace type is not specified in the namespaces array,
# the container MUST inherit the runtime namespace of that type." Mount namespace included:
# the process is in root.path (chroot), and bulwark mounts nothing in the runtime's namespace.
test_conf_unlisted_namespaces_are_the_runtimes() {
	b=$(new_bundle conf-ns-inherit)
	cfg "$b" '.linux.namespaces = [] | del(.hostname) | .mounts = [] | del(.linux.maskedPaths)
		| del(.linux.readonlyPaths) | .process.args = ["sleep","30"]'
	# To a file: the container's stdio is create's, a pipe would stay open.
	bw create -b "$b" conf-ns-inherit >"$WORK/conf-ns.out" 2>&1 ||
		fail "create failed: $(cat "$WORK/conf-ns.out")"
	expect_contains "warning" "no mount namespace" "$(cat "$WORK/conf-ns.out")"
	pid=$(bw state conf-ns-inherit | jq -r .pid)
	for ns in mnt pid net ipc uts cgroup user; do
		expect_eq "$ns namespace" "$(readlink /proc/self/ns/$ns)" "$(readlink /proc/$pid/ns/$ns)"
	done
	expect_eq "root" "$(readlink -f "$b/rootfs")" "$(readlink /proc/$pid/root)"
	expect_eq "mounts on the rootfs in the runtime's namespace" 0 \
		"$(grep -c " $(readlink -f "$b/rootfs")" /proc/self/mountinfo || true)"
	# The exec'd process is chrooted too: nothing is mounted on the rootfs's /proc.
	out=$(bw exec conf-ns-inherit sh -c 'ls /proc | wc -l' 2>&1)
	bw delete -f conf-ns-inherit
	expect_eq "entries in the exec'd process's /proc" 0 "$out"
}

# ...and what would need a mount there is refused by name, not made in the runtime's namespace.
test_conf_no_mount_namespace_refuses_mounts_by_name() {
	b=$(new_bundle conf-ns-mounts)
	cfg "$b" '.linux.namespaces |= map(select(.type != "mount"))'
	out=$(bw create -b "$b" conf-ns-mounts 2>&1) && fail "created: $out"
	expect_contains "error" "mounts: needs a mount namespace" "$out"
	bw state conf-ns-mounts >/dev/null 2>&1 && fail "state left behind"
	true
}

# startContainer hooks are programs of the container's and run under its seccomp filter, as
# runc and crun run them (runc's seccomp.bats "startContainer hook"); their failure fails
# `start` (runtime.md lifecycle step 7) and says which hook.
test_conf_start_container_hook_runs_under_the_seccomp_filter() {
	b=$(new_bundle conf-schook)
	cfg "$b" '.process.args = ["true"] | .process.noNewPrivileges = false
		| .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW",
			"syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}
		| .hooks = {"startContainer":[{"path":"/bin/sh","args":["sh","-c","mkdir /dev/shm/foo"]}]}'
	bw create -b "$b" conf-schook </dev/null >/dev/null 2>&1 || fail "create failed"
	out=$(bw start conf-schook 2>&1) && fail "start succeeded: $out"
	expect_contains "start's error" "startContainer hook #0 (/bin/sh): error running hook: killed by signal 31 (bad system call)" "$out"
	expect_eq "container" stopped "$(bw state conf-schook | jq -r .status)"
	bw delete conf-schook
}

# Two conditions on one syscall argument: the rule applies when either holds (runc and crun
# make each a rule of its own); errnoRet is the rule's errno, and a rule without one refuses
# with EPERM even under a defaultErrnoRet.
test_conf_seccomp_two_conditions_on_one_argument_are_ored() {
	b=$(new_bundle conf-scmp-or)
	cfg "$b" '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":6,
			"syscalls":[{"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":100,
				"args":[{"index":1,"value":10,"op":"SCMP_CMP_EQ"},{"index":1,"value":12,"op":"SCMP_CMP_EQ"}]},
				{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":28,"op":"SCMP_CMP_EQ"}]}]}
		| .process.args = ["sh","-c","trap \"\" USR1 USR2 WINCH HUP; for s in USR1 USR2 WINCH HUP; do kill -$s $$ 2>&1 && echo $s:sent; done"]'
	out=$(bw run -b "$b" conf-scmp-or 2>&1) || fail "run failed: $out"
	# runc and crun ignore defaultErrnoRet beside SCMP_ACT_ALLOW: so do we, with a warning.
	expect_contains warning "defaultErrnoRet: ignored: SCMP_ACT_ALLOW takes no return value" "$out"
	expect_eq "USR1 and USR2 refused with errnoRet, WINCH with EPERM, HUP sent" \
		"Network is down|Network is down|Operation not permitted|HUP:sent" \
		"$(echo "$out" | grep -v '^bulwark: warning' | sed 's/.*: //' | tr '\n' '|' | sed 's/|$//')"
}

# config-linux.md, default devices: /dev/null, zero, full, random, urandom and tty MUST exist.
# In a user namespace mapping the container's root to an unprivileged host uid (runtime-tools'
# linux_ns_nopath: 0 -> 1000), with the host's /dev/null as the process's stdin (as the suite
# gives it), the host's nodes keep their owner and mode: making stdio usable by the mapped root
# must not chown a shared device (crun 1.8.1 chowns the host's /dev/null to 1000:1000 here).
test_conf_userns_default_devices_leave_host_nodes_alone() {
	local devs="/dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty" before after
	before=$(stat -c '%n %u:%g %a' $devs)
	b=$(new_bundle conf-userns-dev)
	cfg "$b" '.linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":1000,"size":1000}]
		| .linux.gidMappings = [{"containerID":0,"hostID":1000,"size":1000}]
		| .process.args = ["sh","-c","for d in null zero full random urandom tty; do [ -c /dev/$d ] || exit 3; done; echo x >/dev/null"]'
	out=$(bw run -b "$b" conf-userns-dev </dev/null 2>&1) || fail "run failed: $out"
	after=$(stat -c '%n %u:%g %a' $devs)
	expect_eq "host device nodes after the run" "$before" "$after"
}

# crun's command line, which its own test suite and some tools use: the global
# `--cgroup-manager cgroupfs|systemd` and `create`/`run` `--config FILE` (relative: to the
# bundle). Anything but cgroupfs is refused by name here (systemd: there is no systemd on this
# host, see test_systemd_cgroup.sh for the VM; never "disabled").
test_conf_crun_cgroup_manager_and_config_flags() {
	b=$(new_bundle conf-crunflags)
	cfg "$b" '.process.args=["echo","from-default"]'
	jq '.process.args=["echo","from-alt"]' "$b/config.json" >"$b/alt.json"
	out=$(bw --cgroup-manager cgroupfs run -b "$b" --config alt.json conf-crunflags </dev/null 2>&1) ||
		fail "crun flags refused: $out"
	expect_eq "relative --config" from-alt "$out"
	out=$(bw run -b "$b" -f "$b/alt.json" conf-crunflags </dev/null 2>&1) || fail "-f: $out"
	expect_eq "absolute -f" from-alt "$out"
	out=$(bw run -b "$b" conf-crunflags </dev/null 2>&1) || fail "default config: $out"
	expect_eq "default" from-default "$out"
	out=$(bw run -b "$b" --config missing.json conf-crunflags </dev/null 2>&1) &&
		fail "a missing --config ran"
	expect_contains "missing" "--config" "$out"
	for m in disabled systemd bogus; do
		out=$(bw --cgroup-manager $m run -b "$b" conf-crunflags </dev/null 2>&1) &&
			fail "--cgroup-manager $m accepted"
		expect_contains "$m refused" "cgroup" "$out"
	done
	[ ! -e "$BW_ROOT/conf-crunflags" ] || fail "state left behind"
}
