# bulwark's default seccomp profile (docs/seccomp.md, "Expected results inside a container"), rule
# by rule, in real containers: the forbidden call gets the documented errno, its allowed
# counterpart works. Also: malformed profiles are refused by JSON path, and the notify listener.

SCMP_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers
SCMP_EPERM=1 SCMP_ENOSYS=38 SCMP_EAFNOSUPPORT=97 SCMP_EINVAL=22
# Capabilities beyond the base config's: with them the kernel itself would let most probes
# through (or fail them with another errno), so an EPERM can only come from the filter.
# test_seccomp_default_refusals_come_from_the_filter checks that premise without the filter.
SCMP_EXTRA_CAPS='["CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_MODULE","CAP_SYS_PTRACE","CAP_SYS_PACCT","CAP_DAC_READ_SEARCH","CAP_BPF","CAP_PERFMON","CAP_NET_ADMIN","CAP_IPC_LOCK"]'

# scmp_setup: the static probe (in $WORK/scmp-bin, bind-mounted read-only at /home) and the
# default profile as `bulwark spec` embeds it; both built once per run.
scmp_setup() {
	if [ ! -x "$WORK/scmp-bin/sysprobe" ]; then
		mkdir -p "$WORK/scmp-bin"
		gcc -static -O2 -o "$WORK/scmp-bin/sysprobe" "$SCMP_HELPERS/sysprobe.c"
	fi
	if [ ! -s "$WORK/scmp-default.json" ]; then
		mkdir -p "$WORK/scmp-spec"
		"$BULWARK" spec --bundle "$WORK/scmp-spec"
		jq -e '.linux.seccomp' "$WORK/scmp-spec/config.json" >"$WORK/scmp-default.json"
	fi
}

# scmp_bundle NAME [PROFILE_FILE|none]: a root container with the extra capabilities, the probe
# at /home/sysprobe and the given profile (default: bulwark's).
scmp_bundle() {
	scmp_setup
	local b prof=${2:-$WORK/scmp-default.json}
	b=$(new_bundle "$1")
	cfg "$b" ".process.capabilities |= with_entries(.value += $SCMP_EXTRA_CAPS)
		| .mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$WORK/scmp-bin\",\"options\":[\"bind\",\"ro\"]},
			{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"nodev\",\"size=1m\"]}]
		| .process.noNewPrivileges = true"
	if [ "$prof" = none ]; then
		cfg "$b" 'del(.linux.seccomp)'
	else
		cfg "$b" ".linux.seccomp = $(cat "$prof")"
	fi
	echo "$b"
}

# scmp_check NAME BUNDLE < "LABEL EXPECTED_ERRNO PROBE [ARGS]" lines (EXPECTED "!N": any result
# but errno N): runs every probe in one container, then compares each printed errno with the expected one (all mismatches reported).
scmp_check() {
	local id=$1 b=$2 script="" label want probe args out got bad=""
	local -a lines=()
	while read -r label want probe args; do
		[ -n "$label" ] || continue
		lines+=("$label $want")
		script+="echo \"$label=\$(/home/sysprobe $probe $args)\"; "
	done
	cfg "$b" ".process.args=[\"sh\",\"-c\",$(jq -Rn --arg s "$script" '$s')]"
	out=$(bw run -b "$b" "$id" </dev/null 2>&1) || fail "container $id failed: $out"
	for l in "${lines[@]}"; do
		read -r label want <<<"$l"
		got=$(sed -n "s/^$label=//p" <<<"$out")
		case $want in
		!*) [ -n "$got" ] && [ "$got" != "${want#!}" ] ;; # anything but that errno
		*) [ "$got" = "$want" ] ;;
		esac || bad+=" $label: expected errno $want, got [${got:-nothing}];"
	done
	[ -z "$bad" ] || fail "$bad"
}

test_seccomp_default_refuses_namespace_creation() {
	b=$(scmp_bundle scmp-ns)
	scmp_check scmp-ns "$b" <<EOF
unshare_user $SCMP_EPERM unshare_user
unshare_ns $SCMP_EPERM unshare_ns
unshare_nothing $SCMP_EPERM unshare_none
setns $SCMP_EPERM setns
clone_newns $SCMP_EPERM clone 0x00020000
clone_newuser $SCMP_EPERM clone 0x10000000
clone_newnet_with_vm $SCMP_EPERM clone 0x40000100
clone_plain 0 clone 0
clone_thread_like_flags 0 clone 0x00000100
fork 0 fork
clone3_falls_back $SCMP_ENOSYS clone3
EOF
}

test_seccomp_default_refuses_mounts_and_kernel_administration() {
	b=$(scmp_bundle scmp-admin)
	scmp_check scmp-admin "$b" <<EOF
mount $SCMP_EPERM mount
umount2 $SCMP_EPERM umount2
pivot_root $SCMP_EPERM pivot_root
kexec_load $SCMP_EPERM kexec_load
init_module $SCMP_EPERM init_module
finit_module $SCMP_EPERM finit_module
reboot $SCMP_EPERM reboot
swapon $SCMP_EPERM swapon
acct $SCMP_EPERM acct
quotactl $SCMP_EPERM quotactl
open_by_handle_at $SCMP_EPERM open_by_handle_at
syslog_unlisted $SCMP_EPERM nr 103
getpid 0 getpid
open 0 open
write 0 write
EOF
}

test_seccomp_default_refuses_kernel_attack_surface() {
	b=$(scmp_bundle scmp-surface)
	scmp_check scmp-surface "$b" <<EOF
keyctl $SCMP_EPERM keyctl
add_key $SCMP_EPERM add_key
request_key $SCMP_EPERM request_key
bpf $SCMP_EPERM bpf
perf_event_open $SCMP_EPERM perf_event_open
userfaultfd $SCMP_EPERM userfaultfd
io_uring_setup $SCMP_EPERM io_uring_setup
ptrace $SCMP_EPERM ptrace
process_vm_readv $SCMP_EPERM process_vm_readv
above_profile_1000 $SCMP_ENOSYS nr 1000
getpid 0 getpid
EOF
}

test_seccomp_default_restricts_personality_and_socket_families() {
	b=$(scmp_bundle scmp-sock)
	scmp_check scmp-sock "$b" <<EOF
personality_linux 0 personality 0
personality_linux32 0 personality 8
personality_uname26 0 personality 0x20000
personality_query 0 personality 0xffffffff
personality_no_randomize $SCMP_EPERM personality 0x40000
personality_read_implies_exec $SCMP_EPERM personality 0x400000
af_alg $SCMP_EAFNOSUPPORT socket 38 5
af_vsock $SCMP_EAFNOSUPPORT socket 40 1
af_packet $SCMP_EAFNOSUPPORT socket 17 3
af_46 $SCMP_EAFNOSUPPORT socket 46 1
af_upper_bits $SCMP_EAFNOSUPPORT socket 0x100000002 1
inet_raw $SCMP_EPERM socket 2 3
inet6_raw $SCMP_EPERM socket 10 3
inet_stream 0 socket 2 1
inet_dgram 0 socket 2 2
inet_stream_nonblock_cloexec 0 socket 2 0x80801
inet6_stream 0 socket 10 1
unix_stream 0 socket 1 1
unix_dgram 0 socket 1 2
netlink_raw 0 socket 16 3
EOF
}

test_seccomp_default_refusals_come_from_the_filter() {
	# The same capabilities without a filter: no probe gets EPERM from the kernel's own checks,
	# so the EPERMs above are the filter's (harmless arguments: bad magic, missing files, a
	# kernel without kexec answers ENOSYS).
	b=$(scmp_bundle scmp-nofilter none)
	scmp_check scmp-nofilter "$b" <<EOF
unshare_ns 0 unshare_ns
mount 0 mount
reboot $SCMP_EINVAL reboot
kexec_load !$SCMP_EPERM kexec_load
init_module !$SCMP_EPERM init_module
swapon !$SCMP_EPERM swapon
acct !$SCMP_EPERM acct
open_by_handle_at !$SCMP_EPERM open_by_handle_at
bpf !$SCMP_EPERM bpf
keyctl 0 keyctl
ptrace 0 ptrace
inet_raw !$SCMP_EPERM socket 2 3
af_packet !$SCMP_EAFNOSUPPORT socket 17 3
personality_no_randomize 0 personality 0x40000
EOF
}

# ---- malformed profiles ---------------------------------------------------------------------

# scmp_refused NAME JQFILTER PATH MESSAGE: the filter applied to the default profile must make
# `run` fail with one line naming PATH, and the process must never start.
scmp_refused() {
	local id=$1 b out
	b=$(scmp_bundle "$id")
	mkdir -p "$WORK/$id-out"
	cfg "$b" "$2 | .mounts += [{\"destination\":\"/var/tmp\",\"type\":\"bind\",\"source\":\"$WORK/$id-out\",\"options\":[\"bind\"]}]
		| .process.args=[\"sh\",\"-c\",\"touch /var/tmp/started\"]"
	out=$(bw run -b "$b" "$id" </dev/null 2>&1) && fail "$id: container ran: $out"
	expect_contains "$id message" "$3" "$out"
	expect_contains "$id message" "$4" "$out"
	expect_eq "$id error lines" 1 "$(grep -c . <<<"$out")"
	[ ! -e "$WORK/$id-out/started" ] || fail "$id: the container process started"
	[ ! -e "$BW_ROOT/$id" ] || fail "$id: state left in $BW_ROOT"
}

test_seccomp_bad_profile_refused_by_json_path() {
	scmp_refused scmp-badact '.linux.seccomp.syscalls[0].action="SCMP_ACT_BOGUS"' \
		'linux.seccomp.syscalls[0].action' 'SCMP_ACT_BOGUS'
	scmp_refused scmp-badidx '.linux.seccomp.syscalls += [{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]' \
		'linux.seccomp.syscalls[' 'args[0].index'
	scmp_refused scmp-badop '.linux.seccomp.syscalls += [{"names":["kill"],"action":"SCMP_ACT_ERRNO","args":[{"index":1,"value":1,"op":"SCMP_CMP_BOGUS"}]}]' \
		'linux.seccomp.syscalls[' 'SCMP_CMP_BOGUS'
}

# ---- the notify listener --------------------------------------------------------------------

test_seccomp_notify_listener_gets_fd_and_metadata_and_answers() {
	b=$(scmp_bundle scmp-notify)
	local sock=$WORK/scmp-agent.sock log=$WORK/scmp-agent.json
	# mkdir/mkdirat move from the profile's allow rule to a NOTIFY rule of their own.
	cfg "$b" ".linux.seccomp.syscalls |= (map(.names -= [\"mkdir\",\"mkdirat\"]) | map(select(.names | length > 0)))
		| .linux.seccomp.syscalls += [{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_NOTIFY\"}]
		| .linux.seccomp.listenerPath = \"$sock\" | .linux.seccomp.listenerMetadata = \"bw-meta \\\"42\\\"\"
		| .process.args=[\"sh\",\"-c\",\"mkdir /tmp/x; echo rc=\$?; echo hello >/tmp/y && cat /tmp/y; /home/sysprobe getpid\"]"
	python3 "$SCMP_HELPERS/seccomp_agent.py" "$sock" "$log" scmp-notify 'bw-meta "42"' &
	agent=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { kill "$agent"; fail "agent never listened"; }
	out=$(bw run -b "$b" scmp-notify </dev/null 2>&1) || { kill "$agent" 2>/dev/null; fail "run failed: $out"; }
	wait "$agent" || fail "agent failed (rc $?): $(cat "$log" 2>/dev/null)"
	expect_contains "mkdir refused by the agent" "Permission denied" "$out"
	expect_contains "mkdir status" "rc=1" "$out"
	expect_contains "other syscalls" "hello" "$out"
	expect_contains "getpid" "$(printf 'hello\n0')" "$out"
	expect_eq "metadata" 'bw-meta "42"' "$(jq -r .metadata "$log")"
	expect_eq "state.id" scmp-notify "$(jq -r .state.id "$log")"
	expect_eq "fds" '["seccompFd"]' "$(jq -c .fds "$log")"
	[ "$(jq -r .answered "$log")" -ge 1 ] || fail "agent answered no notification"
}

# A listenerPath without any SCMP_ACT_NOTIFY rule: the agent still gets a listener and the
# state (crun does so), so an agent waiting on the socket is never left hanging.
test_seccomp_listener_path_without_notify_rule_still_reaches_the_agent() {
	b=$(new_bundle scmp-lonly)
	local sock=$WORK/scmp-lonly.sock log=$WORK/scmp-lonly.json
	cfg "$b" ".linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$sock\",\"listenerMetadata\":\"m\"}
		| .process.args = [\"sh\",\"-c\",\"mkdir /tmp/lonly && rmdir /tmp/lonly && echo ok\"]"
	python3 "$SCMP_HELPERS/seccomp_agent.py" "$sock" "$log" scmp-lonly m &
	agent=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
	[ -S "$sock" ] || { kill "$agent"; fail "agent never listened"; }
	out=$(timeout 30 "$BULWARK" --root "$BW_ROOT" run -b "$b" scmp-lonly </dev/null 2>&1) || { kill "$agent" 2>/dev/null; fail "run failed: $out"; }
	expect_eq output ok "$out"
	wait "$agent" || fail "agent failed (rc $?): $(cat "$log" 2>/dev/null)"
	expect_eq "fds" '["seccompFd"]' "$(jq -c .fds "$log")"
	expect_eq "state.status" created "$(jq -r .state.status "$log")"
	expect_eq "notifications" 0 "$(jq -r .answered "$log")"
}

# With no agent listening: a profile with a notify rule cannot run (runc's wording, which
# engines look for); one with only a listenerPath runs, with a warning (runc never connects).
test_seccomp_listener_unreachable_fails_only_with_a_notify_rule() {
	b=$(new_bundle scmp-noagent)
	cfg "$b" ".linux.seccomp = {\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"$WORK/nobody.sock\"}
		| .process.args = [\"echo\",\"ran\"]"
	out=$(bw run -b "$b" scmp-noagent </dev/null 2>&1) || fail "run failed: $out"
	expect_contains "warning" "failed to connect with seccomp agent" "$out"
	expect_contains "the container ran" "ran" "$out"
	cfg "$b" '.linux.seccomp.syscalls = [{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]'
	out=$(bw run -b "$b" scmp-noagent2 </dev/null 2>&1) && fail "run succeeded: $out"
	expect_contains "error" "failed to connect with seccomp agent" "$out"
	[ ! -e "$BW_ROOT/scmp-noagent2" ] || fail "state left"
}
