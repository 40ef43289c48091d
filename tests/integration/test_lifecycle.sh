# The OCI lifecycle and runc's CLI contract (ENGINES.md §2-§7).

test_run_returns_zero_for_true() {
	b=$(new_bundle lc-true)
	bw run -b "$b" lc-true
}

test_run_propagates_exit_code() {
	b=$(new_bundle lc-exit)
	cfg "$b" '.process.args=["sh","-c","exit 7"]'
	rc=0; bw run -b "$b" lc-exit || rc=$?
	expect_eq "exit code" 7 "$rc"
}

# A caller that ignores SIGCHLD (its disposition survives exec) would have the kernel reap the
# container's init on its own: run must still wait for it and report its status.
test_run_propagates_exit_code_when_the_caller_ignores_sigchld() {
	b=$(new_bundle lc-sigchld)
	cfg "$b" '.process.args=["sh","-c","exit 7"]'
	rc=0
	/usr/bin/python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$BULWARK" --root "$BW_ROOT" run -b "$b" lc-sigchld </dev/null || rc=$?
	expect_eq "exit code" 7 "$rc"
}

test_run_reports_128_plus_signal() {
	b=$(new_bundle lc-sig)
	cfg "$b" '.process.args=["sleep","30"]'
	"$BULWARK" --root "$BW_ROOT" run -b "$b" lc-sig </dev/null &
	runner=$!
	for i in $(seq 50); do [ "$(bw state lc-sig 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.1; done
	bw kill lc-sig KILL
	rc=0; wait $runner || rc=$?
	expect_eq "exit code" 137 "$rc"
}

test_run_forwards_signals_to_the_container() {
	b=$(new_bundle lc-fwd)
	cfg "$b" '.process.args=["sh","-c","trap \"exit 42\" TERM; while :; do sleep 0.05; done"]'
	"$BULWARK" --root "$BW_ROOT" run -b "$b" lc-fwd </dev/null &
	runner=$!
	for i in $(seq 50); do [ "$(bw state lc-fwd 2>/dev/null | jq -r .status)" = running ] && break; sleep 0.1; done
	sleep 0.2
	kill -TERM $runner
	rc=0; wait $runner || rc=$?
	expect_eq "exit code" 42 "$rc"
}

test_run_passes_stdio() {
	b=$(new_bundle lc-stdio)
	cfg "$b" '.process.args=["sh","-c","read x; echo got:$x; echo err >&2"]'
	out=$(echo hello | bw run -b "$b" lc-stdio 2>"$WORK/err")
	expect_eq stdout "got:hello" "$out"
	expect_eq stderr "err" "$(cat "$WORK/err")"
}

test_create_start_state_delete() {
	b=$(new_bundle lc-cycle)
	cfg "$b" '.process.args=["sleep","30"]'
	bw create -b "$b" --pid-file "$WORK/pid" lc-cycle </dev/null >/dev/null 2>&1
	pid=$(cat "$WORK/pid")
	[ -d /proc/$pid ] || fail "init not alive"
	st=$(bw state lc-cycle)
	expect_eq status created "$(echo "$st" | jq -r .status)"
	expect_eq pid "$pid" "$(echo "$st" | jq -r .pid)"
	expect_eq bundle "$b" "$(echo "$st" | jq -r .bundle)"
	bw start lc-cycle
	expect_eq status running "$(bw state lc-cycle | jq -r .status)"
	grep -q sleep /proc/$pid/cmdline || fail "init did not exec sleep"
	bw kill lc-cycle KILL
	for i in $(seq 50); do [ "$(bw state lc-cycle | jq -r .status)" = stopped ] && break; sleep 0.1; done
	expect_eq status stopped "$(bw state lc-cycle | jq -r .status)"
	expect_eq "pid when stopped" 0 "$(bw state lc-cycle | jq -r .pid)"
	bw delete lc-cycle
	[ ! -e "$BW_ROOT/lc-cycle" ] || fail "state dir left"
}

test_pid_file_has_no_trailing_newline() {
	b=$(new_bundle lc-pidfile)
	bw create -b "$b" --pid-file "$WORK/p" lc-pidfile </dev/null >/dev/null
	expect_eq "pid file" "$(cat "$WORK/p")" "$(head -c 100 "$WORK/p")"
	[ "$(tail -c1 "$WORK/p" | od -An -c | tr -d ' ')" != '\n' ] || fail "trailing newline"
	bw delete --force lc-pidfile
}

test_delete_force_of_unknown_id_succeeds() {
	bw delete --force no-such-container
}

test_unknown_id_is_reported() {
	for verb in state start "kill" delete; do
		out=$(bw $verb no-such-ctr 2>&1) && fail "$verb succeeded"
		expect_contains "$verb" "container does not exist" "$out"
	done
}

test_kill_on_stopped_container_says_not_running() {
	b=$(new_bundle lc-killstop)
	cfg "$b" '.process.args=["true"]'
	bw create -b "$b" lc-killstop </dev/null
	bw start lc-killstop
	for i in $(seq 50); do [ "$(bw state lc-killstop | jq -r .status)" = stopped ] && break; sleep 0.1; done
	out=$(bw kill lc-killstop 15 2>&1) && fail "kill succeeded"
	expect_contains message "container not running" "$out"
	bw kill --all lc-killstop 9 || fail "kill --all on a stopped container must exit 0"
	bw delete lc-killstop
}

test_kill_accepts_names_and_numbers() {
	b=$(new_bundle lc-killname)
	cfg "$b" '.process.args=["sh","-c","trap \"echo usr1 >/tmp/got; exit 3\" USR1; while :; do sleep 0.05; done"]'
	bw create -b "$b" --pid-file "$WORK/pid" lc-killname </dev/null
	bw start lc-killname
	sleep 0.3
	bw kill lc-killname SIGUSR1
	for i in $(seq 50); do [ "$(bw state lc-killname | jq -r .status)" = stopped ] && break; sleep 0.1; done
	expect_eq status stopped "$(bw state lc-killname | jq -r .status)"
	out=$(bw kill lc-killname NOTASIGNAL 2>&1) && fail "bad signal accepted"
	expect_contains message "invalid signal" "$out"
	bw delete lc-killname
}

# runtime.md start: the startContainer hooks run as part of `start`, then the user-specified
# program. `start` returns once that program runs (as runc's does): a hook that takes its time
# delays `start`, and the init is the container's program, not the runtime, when it returns.
test_start_returns_once_the_program_runs() {
	b=$(new_bundle lc-startexec)
	cfg "$b" '.process.args=["sleep","30"] | .hooks.startContainer=[{"path":"/bin/sleep","args":["sleep","0.3"]}]'
	bw create -b "$b" --pid-file "$WORK/pid" lc-startexec </dev/null
	pid=$(cat "$WORK/pid")
	bw start lc-startexec || fail "start"
	expect_eq "init's program when start returns" sleep "$(cat /proc/$pid/comm)"
	bw delete --force lc-startexec
}

# A pid namespace's init gets only the signals it has a handler for (pid_namespaces(7)): one
# sent right after `start`, before the program has set its handler, waits briefly for it
# instead of being dropped (the runtime-tools killsig case; runc and crun are slow enough).
test_kill_right_after_start_waits_for_the_handler() {
	b=$(new_bundle lc-killearly)
	mkdir -p "$WORK/out"
	cfg "$b" ".mounts += [{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$WORK/out\",\"options\":[\"rbind\",\"rw\"]}]"
	cfg "$b" '.process.args=["sh","-c","sleep 0.05; trap \"touch /out/got; exit 0\" USR1; while :; do sleep 0.05; done"]'
	bw create -b "$b" lc-killearly </dev/null
	bw start lc-killearly
	bw kill lc-killearly USR1 || fail "kill"
	for i in $(seq 50); do [ "$(bw state lc-killearly | jq -r .status)" = stopped ] && break; sleep 0.1; done
	[ -e "$WORK/out/got" ] || fail "USR1 sent right after start was lost"
	bw delete --force lc-killearly
	# No handler ever: the signal still goes (and the kernel drops it) after the wait.
	b=$(new_bundle lc-killnoh)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" lc-killnoh </dev/null
	bw kill lc-killnoh TERM || fail "kill TERM of an init without a handler"
	expect_eq status running "$(bw state lc-killnoh | jq -r .status)"
	bw delete --force lc-killnoh
}

test_duplicate_id_is_refused_and_keeps_the_first() {
	b=$(new_bundle lc-dup)
	cfg "$b" '.process.args=["sleep","30"]'
	bw create -b "$b" lc-dup </dev/null
	out=$(bw create -b "$b" lc-dup </dev/null 2>&1) && fail "duplicate create succeeded"
	expect_contains message "container with id exists: lc-dup" "$out"
	expect_eq status created "$(bw state lc-dup | jq -r .status)"
	bw delete --force lc-dup
}

test_delete_refuses_running_without_force() {
	b=$(new_bundle lc-delrun)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" lc-delrun </dev/null
	out=$(bw delete lc-delrun 2>&1) && fail "deleted a running container"
	expect_contains message "not stopped" "$out"
	bw delete --force lc-delrun
}

test_delete_of_created_container_kills_init() {
	b=$(new_bundle lc-delcreated)
	bw create -b "$b" --pid-file "$WORK/pid" lc-delcreated </dev/null
	pid=$(cat "$WORK/pid")
	bw delete lc-delcreated
	sleep 0.1
	[ ! -d /proc/$pid ] || grep -q zombie /proc/$pid/status 2>/dev/null || [ "$(awk '{print $3}' /proc/$pid/stat 2>/dev/null)" = Z ] || fail "init $pid still alive"
}

test_list_shows_containers() {
	b=$(new_bundle lc-list)
	cfg "$b" '.process.args=["sleep","30"]'
	bw create -b "$b" lc-list </dev/null
	bw list | grep -q "^lc-list .*created" || fail "not in list: $(bw list)"
	expect_eq "json" lc-list "$(bw list --format json | jq -r '.[0].id')"
	expect_eq "quiet" lc-list "$(bw list -q)"
	bw delete --force lc-list
}

test_missing_executable_uses_runc_wording_and_leaves_nothing() {
	b=$(new_bundle lc-noexec)
	cfg "$b" '.process.args=["no-such-binary"]'
	out=$(bw create -b "$b" --pid-file "$WORK/lc-noexec.pid" lc-noexec </dev/null 2>&1) && fail "create succeeded"
	expect_contains message 'exec: "no-such-binary": executable file not found in $PATH' "$out"
	[ ! -e "$WORK/lc-noexec.pid" ] || fail "pid file written on failure"
	cfg "$b" '.process.args=["/no/such"]'
	out=$(bw create -b "$b" lc-noexec </dev/null 2>&1) && fail "create succeeded"
	expect_contains message 'stat /no/such: no such file or directory' "$out"
	bw delete --force lc-noexec
}

test_log_file_gets_json_error_line() {
	b=$(new_bundle lc-log)
	cfg "$b" '.process.args=["no-such-binary"]'
	"$BULWARK" --root "$BW_ROOT" --log "$WORK/log.json" --log-format json create -b "$b" lc-log </dev/null 2>/dev/null && fail "create succeeded"
	line=$(tail -n1 "$WORK/log.json")
	expect_eq level error "$(echo "$line" | jq -r .level)"
	expect_contains msg "executable file not found" "$(echo "$line" | jq -r .msg)"
	echo "$line" | jq -r .time | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' || fail "bad time"
}

test_flags_accept_equals_form_and_empty_environment() {
	b=$(new_bundle lc-envless)
	env -i "$BULWARK" --root="$BW_ROOT" --log-format=json create --bundle="$b" lc-envless </dev/null
	env -i XDG_RUNTIME_DIR= "$BULWARK" --root "$BW_ROOT" delete --force lc-envless
}

test_version_and_help() {
	"$BULWARK" --version | head -1 | grep -Eq '^bulwark version [0-9]+\.[0-9]+\.[0-9]+$' || fail "version line"
	for v in create start run exec state kill delete list ps spec features sandbox pause resume update events; do
		"$BULWARK" $v --help >/dev/null || fail "$v --help"
	done
}

# Without systemd (this host; the VM booted with systemd runs test_systemd_cgroup.sh), the driver
# is refused in one line, found by looking for systemd's sockets, and nothing is left; the other
# verbs take the global flag as engines pass it; a systemd path without the flag is refused.
test_systemd_cgroup_without_systemd_is_one_line() {
	[ ! -S /run/systemd/private ] && [ ! -S /run/dbus/system_bus_socket ] || return 0
	b=$(new_bundle sd-none)
	cfg "$b" '.process.args=["true"] | .linux.cgroupsPath="system.slice:bwit:sd-none"'
	out=$(bw --systemd-cgroup create -b "$b" sd-none </dev/null 2>&1) && fail "create accepted"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains message "--systemd-cgroup: systemd is not running on this host" "$out"
	[ ! -e "$BW_ROOT/sd-none" ] || fail "state left behind"
	out=$(bw --cgroup-manager systemd create -b "$b" sd-none </dev/null 2>&1) && fail "accepted"
	expect_contains "--cgroup-manager systemd" "systemd is not running" "$out"
	bw --systemd-cgroup list >/dev/null || fail "list --systemd-cgroup"
	out=$(bw create -b "$b" sd-none </dev/null 2>&1) && fail "a systemd path without the flag"
	expect_contains message "linux.cgroupsPath: \`system.slice:bwit:sd-none\` is a systemd path" "$out"
	[ ! -e "$BW_ROOT/sd-none" ] || fail "state left behind"
}

# `start` returns once the user's program runs (the init keeps the exec fifo open until its
# execve, as runc's does), so a signal sent right after it reaches the program, never a pid
# namespace's init with default dispositions that drops SIGTERM (runtime-tools' killsig). A slow
# startContainer hook widens the window that start used to leave open. The program's own
# start-up (sh reaching its trap) is the program's: the test waits for its marker.
test_kill_right_after_start_reaches_the_program() {
	local i pid
	b=$(new_bundle lc-killsig)
	cfg "$b" '.process.args=["sh","-c","trap \"exit 42\" TERM; touch /dev/shm/ready; while :; do sleep 0.05; done"] | .hooks.startContainer=[{"path":"/bin/sleep","args":["sleep","0.1"]}]'
	for i in $(seq 20); do
		bw create -b "$b" --pid-file "$WORK/pid" lc-killsig </dev/null >/dev/null 2>&1
		pid=$(cat "$WORK/pid")
		bw start lc-killsig
		# Nothing of bulwark's is left in the process: it is the user's program already.
		expect_eq "round $i: exe" /bin/busybox "$(readlink /proc/$pid/exe | sed "s#^$ROOTFS##")"
		for _ in $(seq 100); do [ -e /proc/$pid/root/dev/shm/ready ] && break; sleep 0.01; done
		bw kill lc-killsig TERM
		for _ in $(seq 100); do [ "$(bw state lc-killsig | jq -r .status)" = stopped ] && break; sleep 0.05; done
		expect_eq "round $i: status" stopped "$(bw state lc-killsig | jq -r .status)"
		bw delete lc-killsig
	done
}

# runc's urfave/cli takes a verb's flags after the container id too (runc's own suite runs
# `update ID --memory 1M`, `run ID --pid-file F`, `delete ID --force`).
test_flags_after_the_container_id() {
	b=$(new_bundle lc-flagsafter)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run lc-flagsafter -d --bundle "$b" --pid-file "$WORK/pid" </dev/null || fail "run ID -d"
	[ -s "$WORK/pid" ] || fail "--pid-file after the id ignored"
	bw update lc-flagsafter --pids-limit 42 --memory 64M || fail "update ID --flags"
	expect_eq pids.max 42 "$(cat /sys/fs/cgroup/pids/$CG_PREFIX/lc-flagsafter/pids.max 2>/dev/null ||
		cat /sys/fs/cgroup/$CG_PREFIX/lc-flagsafter/pids.max)"
	bw update --pids-limit 43 lc-flagsafter || fail "update --flag ID"
	bw update lc-flagsafter --pids-limit -1 || fail "update ID --pids-limit -1"
	out=$(bw update lc-flagsafter --l3-cache-schema L3:0=f 2>&1) && fail "RDT schema accepted"
	expect_contains "rdt" "Intel RDT/CAT: l3 cache schema is not enabled" "$out"
	out=$(bw update lc-flagsafter --bogus 1 2>&1) && fail "unknown flag after the id accepted"
	expect_contains "unknown flag" "unknown flag: --bogus" "$out"
	bw list --format json -q >/dev/null || fail "list with flags"
	bw state lc-flagsafter >/dev/null || fail state
	bw delete lc-flagsafter --force || fail "delete ID --force"
}

# `kill -a ID 0` (runc's kill.bats on a stopped container), signal 0 as an existence probe, names
# with and without SIG in any case, and numbers.
test_kill_all_with_signal_zero_and_signal_forms() {
	b=$(new_bundle lc-kill0)
	cfg "$b" '.process.args=["sh","-c","trap \"\" USR1 USR2 HUP; while :; do sleep 0.1; done"]'
	bw run -d -b "$b" lc-kill0 </dev/null
	bw kill lc-kill0 0 || fail "kill ID 0 on a running container"
	bw kill -a lc-kill0 0 || fail "kill -a ID 0 on a running container"
	for s in USR1 SIGUSR2 hup sigusr1 10; do bw kill lc-kill0 "$s" || fail "kill $s"; done
	expect_eq status running "$(bw state lc-kill0 | jq -r .status)"
	bw kill lc-kill0 KILL
	for i in $(seq 50); do [ "$(bw state lc-kill0 | jq -r .status)" = stopped ] && break; sleep 0.1; done
	bw kill -a lc-kill0 0 || fail "kill -a ID 0 on a stopped container"
	out=$(bw kill lc-kill0 0 2>&1) && fail "kill ID 0 on a stopped container succeeded"
	expect_contains message "container not running" "$out"
	bw delete lc-kill0
}

# Ordered by name as runc (it reads the state root sorted), not by directory hash order.
test_list_is_in_name_order_with_runc_fields() {
	for id in lc-l3 lc-l1 lc-l2; do
		b=$(new_bundle $id)
		cfg "$b" '.process.args=["sleep","30"]'
		bw create -b "$b" $id </dev/null
	done
	expect_eq "list -q" "lc-l1 lc-l2 lc-l3" "$(bw list -q | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "table header" "ID PID STATUS BUNDLE CREATED OWNER" "$(bw list | head -1 | tr -s ' ')"
	expect_eq "table rows" "lc-l1 lc-l2 lc-l3" "$(bw list | awk 'NR > 1 { print $1 }' | tr '\n' ' ' | sed 's/ $//')"
	json=$(bw list --format json)
	expect_eq "json ids" "lc-l1 lc-l2 lc-l3" "$(echo "$json" | jq -r '[.[].id] | join(" ")')"
	expect_eq "json keys" 'ociVersion id pid status bundle rootfs created owner' \
		"$(echo "$json" | jq -r '.[0] | keys_unsorted | join(" ")')"
	expect_eq "json status" created "$(echo "$json" | jq -r '.[0].status')"
	expect_eq "json owner" "$(id -un)" "$(echo "$json" | jq -r '.[0].owner')"
	for id in lc-l1 lc-l2 lc-l3; do bw delete --force $id; done
	expect_eq "empty json" "[]" "$(bw list --format json)"
}

# Help in runc's layout on stdout with status 0 (`-h`, `--help`, `help`, `help CMD`, `CMD -h`,
# no command); an unknown topic exits non-zero with urfave/cli's wording; --version carries
# the commit and spec lines that engines log.
test_help_and_version_in_runc_format() {
	for args in -h --help help h ""; do
		out=$("$BULWARK" $args) || fail "bulwark $args exited non-zero"
		expect_eq "bulwark $args line 1" "NAME:" "$(echo "$out" | sed -n 1p)"
		expect_contains "bulwark $args line 2" " - Open Container Initiative runtime" "$(echo "$out" | sed -n 2p)"
		expect_contains "bulwark $args" "COMMANDS:" "$out"
		expect_contains "bulwark $args" "GLOBAL OPTIONS:" "$out"
	done
	for v in create start run exec state kill delete list ps spec features pause resume update events; do
		out=$("$BULWARK" $v -h) || fail "$v -h"
		expect_eq "$v -h line 1" "NAME:" "$(echo "$out" | sed -n 1p)"
		# The name help shows is the one we were called by, as runc's.
		expect_contains "$v -h line 2" "$(basename "$BULWARK") $v - " "$(echo "$out" | sed -n 2p)"
		expect_eq "help $v" "$out" "$("$BULWARK" help $v)"
	done
	out=$("$BULWARK" foo -h 2>&1) && fail "foo -h succeeded"
	expect_contains "foo -h" "No help topic for 'foo'" "$out"
	out=$("$BULWARK" help foo 2>&1) && fail "help foo succeeded"
	expect_contains "help foo" "No help topic for 'foo'" "$out"
	out=$("$BULWARK" -v)
	echo "$out" | sed -n 1p | grep -Eq '^bulwark version [0-9]+\.[0-9]+\.[0-9]+' || fail "version line: $out"
	echo "$out" | sed -n 2p | grep -Eq '^commit: ([0-9a-f]{40}(-dirty)?|unknown)$' || fail "commit line: $out"
	echo "$out" | sed -n 3p | grep -Eq '^spec: [0-9]+\.[0-9]+\.[0-9]+' || fail "spec line: $out"
	# The libraries linked in, as the build's headers and libyajl report them.
	for lib in libseccomp yajl libcap; do
		echo "$out" | grep -Eq "^$lib: [0-9]+\.[0-9]+" || fail "no $lib version: $out"
	done
	expect_contains "libcap version" "libcap: $(awk '/define LIBCAP_MAJOR/ {a=$3} /define LIBCAP_MINOR/ {b=$3} END {print a "." b}' /usr/include/sys/capability.h)" "$out"
}

# --debug as runc: logrus-style `level=debug` lines on stderr, or in the --log file (text or
# JSON) and then not on stderr; the set-up stages carry runc's names.
test_debug_logs_to_stderr_or_the_log_file() {
	b=$(new_bundle lc-debug)
	cfg "$b" '.process.args=["/bin/echo","Hello World"]'
	out=$("$BULWARK" --root "$BW_ROOT" --debug run -b "$b" lc-debug </dev/null 2>&1) || fail "run --debug: $out"
	expect_contains stderr "level=debug" "$out"
	expect_contains stage "nsexec container setup" "$out"
	expect_contains stage "child process in init()" "$out"
	expect_contains stage "init: closing the pipe to signal completion" "$out"
	expect_contains output "Hello World" "$out"
	for fmt in text json; do
		rm -f "$WORK/log.out"
		out=$("$BULWARK" --root "$BW_ROOT" --log "$WORK/log.out" --log-format $fmt --debug run -b "$b" lc-debug </dev/null 2>&1) ||
			fail "run --debug --log: $out"
		case "$out" in *level*) fail "$fmt: debug lines on stderr with --log: $out" ;; esac
		if [ $fmt = json ]; then
			expect_contains "$fmt log" '"level":"debug"' "$(cat "$WORK/log.out")"
		else
			expect_contains "$fmt log" "level=debug" "$(cat "$WORK/log.out")"
		fi
		expect_contains "$fmt stage" "init: closing the pipe to signal completion" "$(cat "$WORK/log.out")"
	done
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" lc-debug </dev/null
	out=$("$BULWARK" --root "$BW_ROOT" --debug exec lc-debug true 2>&1) || fail "exec --debug: $out"
	expect_contains "exec stage" "setns_init: about to exec" "$out"
	out=$(bw exec lc-debug true 2>&1)
	expect_eq "no debug lines without --debug" "" "$out"
	bw delete --force lc-debug
}

# `start` waits for the program's execve, which comes after the container's own startContainer
# hooks: a hook that never ends (no timeout) must not lock kill and delete out meanwhile.
test_start_waiting_on_a_hook_lets_kill_and_delete_in() {
	b=$(new_bundle lc-hookhang)
	cfg "$b" '.process.args=["sleep","30"] | .hooks.startContainer=[{"path":"/bin/sleep","args":["sleep","1000"]}]'
	bw create -b "$b" lc-hookhang </dev/null >/dev/null 2>&1 || fail create
	bw start lc-hookhang & local spid=$!
	sleep 1
	timeout 10 "$BULWARK" --root "$BW_ROOT" kill lc-hookhang KILL || fail "kill locked out by start"
	timeout 10 "$BULWARK" --root "$BW_ROOT" delete --force lc-hookhang || fail "delete locked out by start"
	for _ in $(seq 50); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
	kill -0 $spid 2>/dev/null && { kill -9 $spid; fail "start still waits after the container died"; }
	wait $spid || true
}

# crun's `delete --regex RE` (its test suite cleans up with it): every matching id, nothing else.
test_delete_regex_deletes_the_matching_containers_only() {
	for id in lc-rx-a1 lc-rx-a2 lc-rx-keep; do
		b=$(new_bundle $id)
		cfg "$b" '.process.args=["sleep","30"]'
		bw run -d -b "$b" $id </dev/null || fail "run $id"
	done
	out=$(bw delete --regex 'lc-rx-a' 2>&1) && fail "running containers deleted without --force"
	expect_contains "not stopped" "not stopped" "$out"
	bw delete -f --regex '^lc-rx-a[0-9]$' || fail "delete -f --regex"
	expect_eq "left" "lc-rx-keep" "$(bw list -q | grep lc-rx | tr '\n' ' ' | sed 's/ $//')"
	out=$(bw delete -f --regex '(' 2>&1) && fail "a bad regex accepted"
	expect_contains "bad regex" "--regex: invalid regular expression" "$out"
	bw delete -f lc-rx-keep
}
