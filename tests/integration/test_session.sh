# bulwark session (issue 17): long-lived sandboxes with exec, pause, idle release and a maximum
# lifetime, in real sessions. The runner checks after each test that no state, cgroup, mount,
# id range or helper process (the supervisor and watchdog name the state root) is left.

ses() { "$BULWARK" --root "$BW_ROOT" session "$@"; }

# The supervisor's pid, from the state (a "session" entry of its cleanup record).
ses_supervisor() {
	jq -r '.bulwark.cleanup[]? | select(.kind == "session") | .pid' "$BW_ROOT/$1/state.json"
}

# Every process whose command line names the state root, or that holds a file below it open
# (the supervisor shows only "bulwark-session NAME"), and the session's init.
ses_processes() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$BW_ROOT" && echo "${f#/proc/}" | cut -d/ -f1
	done
	find /proc/[0-9]*/fd -maxdepth 1 -lname "$BW_ROOT/*" 2>/dev/null | cut -d/ -f3 | sort -u
}

ses_gone() { [ ! -e "$BW_ROOT/$1" ] && [ -z "$(ses_processes)" ]; }

test_session_exec_returns_the_commands_status() {
	expect_eq create s-codes "$(ses create s-codes)"
	rc=0; ses exec s-codes -- true || rc=$?
	expect_eq "true" 0 "$rc"
	rc=0; ses exec s-codes -- sh -c 'exit 3' || rc=$?
	expect_eq "exit 3" 3 "$rc"
	rc=0; ses exec s-codes -- /nonexistent 2>/dev/null || rc=$?
	expect_eq "not found" 127 "$rc"
	rc=0; ses exec s-codes -- /etc/passwd 2>/dev/null || rc=$?
	expect_eq "not executable" 126 "$rc"
	rc=0; out=$(ses exec no-such-session -- true 2>&1) || rc=$?
	expect_eq "unknown session" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names it" "no-such-session" "$out"
	# --timeout kills the command and what it started in that exec.
	start=$(date +%s%N)
	rc=0; ses exec --timeout 1s s-codes -- sh -c 'sleep 101 & sleep 102' || rc=$?
	expect_eq "timeout" 124 "$rc"
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ] || fail "timeout took too long"
	out=$(ses exec s-codes -- ps -eo args)
	case "$out" in *"sleep 10"*) fail "the timed-out exec's processes survive: $out" ;; esac
	ses rm s-codes
}

test_session_exec_runs_as_the_session_user_confined() {
	ses create --user 1234 --env FROM_CREATE=1 s-id >/dev/null
	out=$(ses exec s-id -- sh -c 'id -u; grep -E "^(CapEff|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t"; echo $FROM_CREATE')
	expect_eq "identity" "1234 CapPrm:0000000000000000 CapEff:0000000000000000 NoNewPrivs:1 Seccomp:2 1" "$(echo $out)"
	out=$(ses exec --env FROM_CREATE=2 --env NEW=x --cwd /tmp s-id -- sh -c 'echo $FROM_CREATE $NEW; pwd')
	expect_eq "env and cwd" "2 x /tmp" "$(echo $out)"
	# The session's init is not the user's to signal or ptrace.
	out=$(ses exec s-id -- sh -c 'kill -9 1; kill -TERM 1; sleep 0.2; cat /proc/1/comm; cat /proc/1/environ 2>&1 >/dev/null | grep -c denied')
	expect_eq "init survives" "bulwark-session 1" "$(echo $out)"
	ses rm s-id
}

test_session_files_and_background_processes_persist() {
	ses create s-keep >/dev/null
	# A backgrounded process keeps no pipe of ours open: the exec (and a reader of its output
	# through a pipe) returns at once.
	ses exec s-keep -- sh -c 'echo kept >/tmp/f; sleep 1000 & echo started' | cat >"$WORK/keep.out" &
	reader=$!
	if ! wait_for 5 eval '! kill -0 $reader 2>/dev/null'; then
		ses rm s-keep
		fail "the exec's output pipe is held by its background process"
	fi
	expect_eq "first exec" started "$(cat "$WORK/keep.out")"
	out=$(ses exec s-keep -- sh -c 'cat /tmp/f; ps -eo args | grep -c "^sleep 1000"')
	expect_eq "file and process persist" "kept 1" "$(echo $out)"
	ses rm s-keep
	wait_for 2 ses_gone s-keep || fail "left: $(ls "$BW_ROOT") $(ses_processes)"
}

test_session_exec_report_is_the_sandbox_document() {
	ses create s-rep >/dev/null
	rc=0; ses exec --report "$WORK/r.json" s-rep -- sh -c 'exit 3' || rc=$?
	expect_eq "status" 3 "$rc"
	python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$SRC_DIR/docs/report.schema.json" "$WORK/r.json" || fail "schema: $(cat "$WORK/r.json")"
	expect_eq "fields" "s-rep 3 3 false sh" \
		"$(jq -r '[.sandbox, .exit_code, .command_exit_code, .timed_out, .command[0]] | map(tostring) | join(" ")' "$WORK/r.json")"
	rc=0; out=$(ses exec --timeout 1s --report - s-rep -- sleep 30) || rc=$?
	expect_eq "timeout report" "124 true" "$rc $(echo "$out" | jq -r .timed_out)"
	ses rm s-rep
}

# The cgroup's counters are the whole session's: the report gives what they counted while the
# command ran (deltas, and the memory peak through a window reset at its start), never the
# session's totals since create, and says which value is which ("scope").
test_session_exec_report_counts_the_session_during_the_command() {
	ses create --memory 512m --pids 300 s-win >/dev/null
	ses exec --report "$WORK/big.json" s-win -- sh -c \
		'dd if=/dev/zero of=/dev/null bs=96M count=1 2>/dev/null; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done'
	ses exec --report "$WORK/small.json" s-win -- true
	python3 -c 'import json, sys, jsonschema
s = json.load(open(sys.argv[1]))
for f in sys.argv[2:]: jsonschema.validate(json.load(open(f)), s)' \
		"$SRC_DIR/docs/report.schema.json" "$WORK/big.json" "$WORK/small.json" ||
		fail "schema: $(cat "$WORK/big.json")"
	big_cpu=$(jq '.cpu_time_ms.user + .cpu_time_ms.system' "$WORK/big.json")
	small_cpu=$(jq '.cpu_time_ms.user + .cpu_time_ms.system' "$WORK/small.json")
	[ "$big_cpu" -ge 100 ] || fail "the busy command's CPU time: $big_cpu ms"
	[ "$small_cpu" -lt $((big_cpu / 2)) ] || fail "true's CPU time $small_cpu ms is the session's total ($big_cpu)"
	big_peak=$(jq .peak_memory_bytes "$WORK/big.json")
	small_peak=$(jq .peak_memory_bytes "$WORK/small.json")
	[ "$big_peak" -ge $((96 << 20)) ] || fail "the 96M command's peak: $big_peak"
	[ "$small_peak" -lt $((48 << 20)) ] || fail "true's peak $small_peak is the session's since create"
	expect_eq "limits are the session's" "536870912 300 true false" \
		"$(jq -r '[.budgets.memory.limit, .budgets.pids.limit, .budgets.memory.peak == .peak_memory_bytes, .budgets.pids.hit] | map(tostring) | join(" ")' "$WORK/big.json")"
	expect_eq "scope" "cpu_time_ms peak_memory_bytes|denials" \
		"$(jq -r '[(.scope.session_during_command[0:2] | join(" ")), .scope.not_collected[-2]] | join("|")' "$WORK/small.json")"
	ses rm s-win
}

# Two reporting execs at once: the second never resets the first's memory window (on cgroup
# v1 the reset is the whole cgroup's, so the second reports no peak while the first's is open).
test_session_exec_report_windows_do_not_disturb_each_other() {
	ses create s-win2 >/dev/null
	ses exec --report "$WORK/a.json" s-win2 -- sh -c \
		'dd if=/dev/zero of=/dev/null bs=80M count=1 2>/dev/null; sleep 3' &
	a=$!
	sleep 1.5
	ses exec --report "$WORK/b.json" s-win2 -- true
	wait $a
	a_peak=$(jq .peak_memory_bytes "$WORK/a.json")
	b_peak=$(jq .peak_memory_bytes "$WORK/b.json")
	ses rm s-win2
	[ "$a_peak" != null ] && [ "$a_peak" -ge $((80 << 20)) ] || fail "the first exec's peak: $a_peak"
	[ "$b_peak" = null ] || [ "$b_peak" -lt $((40 << 20)) ] || fail "the second exec's peak: $b_peak"
}

# The supervisor, the init and the watchdog live as long as the session: what they show in
# /proc/PID/cmdline and environ (to every host user; to the session, pid 1's) holds none of
# the caller's flags, host paths or environment.
test_session_helpers_show_no_flags_paths_or_environment() {
	local secret="s3cr3t-$RANDOM$RANDOM" ws="$WORK/ws-hidden-$RANDOM" mark="caller-env-$RANDOM$RANDOM"
	mkdir -p "$ws"
	printf '%s\n' "$secret" "$ws" "$mark" >"$WORK/needles"
	CALLER_MARK=$mark ses create --env "SESSION_SECRET=$secret" --workspace "$ws" s-title >/dev/null
	sup=$(ses_supervisor s-title)
	expect_eq "supervisor" "bulwark-session s-title" "$(tr '\0' ' ' </proc/$sup/cmdline | sed 's/ *$//')"
	expect_eq "supervisor environ" "" "$(tr -d '\0' </proc/$sup/environ)"
	# Every process's cmdline and environ that uid 65534 may read, on the host.
	(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env -i sh -c \
		'for p in /proc/[0-9]*; do cat $p/cmdline $p/environ; echo; done 2>/dev/null') |
		tr '\0' '\n' >"$WORK/host.txt"
	grep -q "^bulwark-session$" "$WORK/host.txt" || fail "the supervisor was not seen"
	grep -q "^bulwark-watchdog$" "$WORK/host.txt" || fail "the watchdog was not seen"
	# The state root too: the watchdog's is in a pipe, not in its command line.
	if { cat "$WORK/needles"; echo "$BW_ROOT"; } | grep -Ff - "$WORK/host.txt" >"$WORK/found.txt"; then
		ses rm s-title
		fail "seen by uid 65534: $(head -3 "$WORK/found.txt")"
	fi
	# Every cmdline, and pid 1's environ, as the session's user.
	ses exec s-title -- sh -c 'tr "\0" " " </proc/1/cmdline; echo; for p in /proc/[0-9]*; do cat $p/cmdline; echo; done; cat /proc/1/environ' \
		>"$WORK/inside.txt" 2>/dev/null || true
	expect_eq "init" "bulwark-session s-title" "$(head -1 "$WORK/inside.txt" | sed 's/ *$//')"
	if tr '\0' '\n' <"$WORK/inside.txt" | grep -Ff "$WORK/needles" >"$WORK/found.txt"; then
		ses rm s-title
		fail "seen in the session: $(head -3 "$WORK/found.txt")"
	fi
	expect_eq "the command has its --env" "$secret" "$(ses exec s-title -- sh -c 'echo $SESSION_SECRET')"
	ses rm s-title
}

test_session_pause_freezes_its_processes() {
	ses create s-frz >/dev/null
	ses exec s-frz -- sh -c 'while :; do date +%s%N >/tmp/tick; sleep 0.05; done >/dev/null 2>&1 &'
	sleep 0.3
	ses pause s-frz
	expect_eq "ls paused" paused "$(ses ls --format json | jq -r '.[] | select(.name == "s-frz") | .status')"
	rc=0; out=$(ses exec s-frz -- true 2>&1) || rc=$?
	expect_eq "exec while paused" "125" "$rc"
	expect_contains "says paused" "paused" "$out"
	a=$(cat /proc/$(ses_init s-frz)/root/tmp/tick 2>/dev/null || echo x)
	sleep 0.5
	b=$(cat /proc/$(ses_init s-frz)/root/tmp/tick 2>/dev/null || echo y)
	expect_eq "no tick while paused" "$a" "$b"
	ses resume s-frz
	sleep 0.3
	c=$(ses exec s-frz -- cat /tmp/tick)
	[ "$c" != "$a" ] || fail "no tick after resume"
	ses rm s-frz
}

ses_init() { jq -r .pid "$BW_ROOT/$1/state.json"; }

test_session_ls_shows_status_age_idle_and_limits() {
	ses create --memory 300m --idle-timeout 1m --lifetime 1h s-ls >/dev/null
	out=$(ses ls)
	expect_contains "header" "NAME" "$out"
	line=$(echo "$out" | grep '^s-ls ')
	expect_contains "text row" "running" "$line"
	expect_contains "idle timeout" "60s" "$line"
	expect_contains "limits" "memory=300m" "$line"
	expect_eq "json" "s-ls running 60000 3600000 true" \
		"$(ses ls --format json | jq -r '.[] | select(.name == "s-ls") | [.name, .status, .idle_timeout_ms, .lifetime_ms, (.limits | test("memory=300m"))] | map(tostring) | join(" ")')"
	ses rm s-ls
	expect_eq "empty" "[]" "$(ses ls --format json)"
}

test_session_lifetime_destroys_it() {
	ses create --lifetime 2s s-life >/dev/null
	ses exec s-life -- true || fail "exec"
	[ -e "$BW_ROOT/s-life" ] || fail "gone too early"
	wait_for 5 ses_gone s-life || fail "still there after its lifetime: $(ls "$BW_ROOT")"
}

test_session_idle_timeout_waits_for_a_running_exec() {
	ses create --idle-timeout 2s s-idle >/dev/null
	# An exec longer than the idle timeout keeps it alive however long it runs.
	ses exec s-idle -- sleep 3 || fail "the long exec was cut"
	[ -e "$BW_ROOT/s-idle" ] || fail "released while an exec ran"
	ses exec s-idle -- true || fail "exec right after"
	wait_for 5 ses_gone s-idle || fail "not released when idle: $(ls "$BW_ROOT")"
	rc=0; ses exec s-idle -- true 2>/dev/null || rc=$?
	expect_eq "exec after release" 125 "$rc"
}

test_session_supervisor_sigkill_destroys_it_within_2s() {
	# With egress: the watchdog's teardown also unplumbs (the helper beside the binary).
	local nat_before=$(nft list table ip bulwark-nat >/dev/null 2>&1 && echo yes)
	ses create --allow 192.0.2.1:80/tcp s-kill >/dev/null
	ses exec s-kill -- sh -c 'sleep 1000 &'
	init=$(ses_init s-kill)
	cg=$(grep -m1 -o '/[^:]*$' /proc/$init/cgroup)
	sup=$(ses_supervisor s-kill)
	[ -n "$sup" ] || fail "no supervisor recorded"
	kill -9 "$sup"
	wait_for 2 ses_gone s-kill || fail "left after 2 s: $(ls "$BW_ROOT") $(ses_processes)"
	# (A zombie is dead: this host's PID 1 may not reap what the supervisor left it.)
	[ ! -e "/proc/$init" ] || grep -q '^State:.*Z' "/proc/$init/status" 2>/dev/null ||
		fail "the init survives: $(grep ^State "/proc/$init/status" 2>/dev/null)"
	[ -n "$(cgroup_leaks)" ] && fail "cgroup left: $(cgroup_leaks)"
	if [ -z "$nat_before" ]; then
		wait_for 3 sh -c '! nft list table ip bulwark-nat' || fail "the NAT table is left"
	fi
	true
}

test_session_twenty_sessions_stay_isolated_and_are_released() {
	for i in $(seq 1 20); do ses create "s-many-$i" >/dev/null || fail "create $i"; done
	for i in $(seq 1 20); do ses exec "s-many-$i" -- sh -c "echo $i >/tmp/mine; sleep 1000 &"; done
	nets=""
	for i in $(seq 1 20); do
		out=$(ses exec "s-many-$i" -- sh -c 'cat /tmp/mine; ps -eo comm | grep -c "^sleep"; readlink /proc/self/ns/net')
		set -- $out
		expect_eq "session $i sees its own file and process" "$i 1" "$1 $2"
		nets="$nets $3"
	done
	expect_eq "20 network namespaces" 20 "$(echo $nets | tr ' ' '\n' | sort -u | wc -l)"
	for i in $(seq 1 20); do ses rm "s-many-$i"; done
	wait_for 3 ses_gone none || fail "left: $(ls "$BW_ROOT") $(ses_processes)"
}

test_session_refuses_bad_input_with_one_line() {
	for args in "a/b" "../x" "--lifetime 2x s-bad" "--idle-timeout 0 s-bad" "--nope s-bad" \
		"--timeout 1s s-bad" "--report - s-bad" "--memory lots s-bad" "s-bad extra"; do
		rc=0; out=$(ses create $args 2>&1) || rc=$?
		expect_eq "create $args" "125 1" "$rc $(echo "$out" | wc -l)"
	done
	ses create s-bad >/dev/null
	rc=0; out=$(ses create s-bad 2>&1) || rc=$?
	expect_eq "name clash" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says exists" "exists" "$out"
	rc=0; out=$(ses exec --timeout soon s-bad -- true 2>&1) || rc=$?
	expect_eq "exec bad timeout" "125 1" "$rc $(echo "$out" | wc -l)"
	ses rm s-bad
	expect_eq "nothing left" "" "$(ls -A "$BW_ROOT" | grep -v '^\.' || true)"
}

test_session_rootless_create_exec_rm() {
	local root=$WORK/rl-ses
	mkdir -p "$root" && chown 65534:65534 "$root" && chmod 700 "$root"
	rls() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$root" session "$@"); }
	rls create s-rl >/dev/null 2>&1 || fail "create"
	out=$(rls exec s-rl -- sh -c 'id -u; grep -E "^(CapEff|Seccomp):" /proc/self/status | tr -d "\t"; echo x >/tmp/f; cat /proc/1/environ 2>&1 >/dev/null | grep -c denied')
	expect_eq "confined" "1000 CapEff:0000000000000000 Seccomp:2 1" "$(echo $out)"
	expect_eq "persists" x "$(rls exec s-rl -- cat /tmp/f)"
	echo rl-in >"$WORK/rl-in.txt" && chmod 644 "$WORK/rl-in.txt"
	rls cp "$WORK/rl-in.txt" s-rl:/tmp/in.txt || fail "rootless cp in"
	expect_eq "copied in" rl-in "$(rls exec s-rl -- cat /tmp/in.txt)"
	rls cp s-rl:/tmp/f "$root/f.out" || fail "rootless cp out"
	expect_eq "copied out, the caller's" "x 65534" "$(cat "$root/f.out") $(stat -c %u "$root/f.out")"
	rm -f "$root/f.out"
	rls rm s-rl
	expect_eq "nothing left" "" "$(ls -A "$root" | grep -v '^\.' || true)"
}

# `ls` shows what a rootless session without a writable cgroup enforces (as its --report's
# rootless_limits says): no memory or CPU bound, tasks by RLIMIT_NPROC; not root's defaults.
test_session_rootless_ls_shows_the_limits_it_enforces() {
	local root=$WORK/rl-ses
	mkdir -p "$root" && chown 65534:65534 "$root" && chmod 700 "$root"
	rls() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$root" session "$@"); }
	rls create s-rl >/dev/null 2>&1 || fail "create"
	local want="memory=none cpus=none pids=1024(RLIMIT_NPROC) disk=1g"
	expect_contains "text" "$want" "$(rls ls | grep '^s-rl ')"
	expect_eq "json" "$want" "$(rls ls --format json | jq -r '.[] | select(.name == "s-rl") | .limits')"
	rls rm s-rl
	expect_eq "nothing left" "" "$(ls -A "$root" | grep -v '^\.' || true)"
}

# An unprivileged user's session on a workspace in its own 0700 home, with the default state
# root: created, used and removed as that user; what cannot be done rootless is one line.
test_session_rootless_workspace_in_a_0700_home() {
	local home=$WORK/rl-home
	mkdir -p "$home/proj" && echo hi >"$home/proj/f"
	chown -R 65534:65534 "$home" && chmod 700 "$home"
	rlh() { (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env -i HOME="$home" PATH=/usr/bin:/bin "$BULWARK" --root "$home/state" session "$@"); }
	rlh create --workspace "$home/proj:rw" s-home >/dev/null 2>"$WORK/err" || fail "create: $(cat "$WORK/err")"
	out=$(rlh exec s-home -- sh -c 'pwd; cat f; echo made >g')
	expect_eq "workspace" "$home/proj hi" "$(echo $out)"
	expect_eq "written, the user's" "made 65534" "$(cat "$home/proj/g") $(stat -c %u "$home/proj/g")"
	# No cgroup to count with: the report claims nothing of it (no "hit": false either).
	rlh exec --report "$home/r.json" s-home -- true
	expect_eq "rootless report" "null null null 0" \
		"$(jq -r '[.budgets, .cpu_time_ms, .peak_memory_bytes, .exit_code] | map(tostring) | join(" ")' "$home/r.json")"
	rm -f "$home/r.json"
	rlh rm s-home
	expect_eq "nothing left" "" "$(ls -A "$home/state" | grep -v '^\.cache$' || true)"
	# An overlay workspace (built by the session's init in its user namespace): changes stay in
	# the session, and --keep-changes gets them at rm.
	rlh create --workspace "$home/proj:overlay" --keep-changes "$home/keep" s-home2 >/dev/null 2>"$WORK/err" ||
		fail "create overlay: $(cat "$WORK/err")"
	rlh exec s-home2 -- sh -c 'echo changed >f; echo new >n' || fail "exec overlay"
	expect_eq "inside" "changed new" "$(echo $(rlh exec s-home2 -- cat f n))"
	rlh rm s-home2
	expect_eq "the directory untouched" hi "$(cat "$home/proj/f")"
	expect_eq "kept" "changed new" "$(echo $(cat "$home/keep/f" "$home/keep/n"))"
	expect_eq "nothing left" "" "$(ls -A "$home/state" | grep -v '^\.cache$' || true)"
}

# A kernel without Landlock, as far as the command can tell: landlock_create_ruleset fails
# with ENOSYS (a seccomp filter of the test's own).
ses_without_landlock() {
	cat >"$WORK/no_landlock.py" <<'PY'
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
def stmt(code, k, jt=0, jf=0): return struct.pack("HBBI", code, jt, jf, k)
prog = b"".join([stmt(0x20, 0), stmt(0x15, 444, 0, 1),  # ld nr; jeq landlock_create_ruleset
                 stmt(0x06, 0x00050000 | 38), stmt(0x06, 0x7fff0000)])  # ENOSYS; allow
buf = ctypes.create_string_buffer(prog)
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fp = Fprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fp), 0, 0) != 0:
    sys.exit("seccomp: %s" % os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])
PY
	chmod 644 "$WORK/no_landlock.py"
	python3 "$WORK/no_landlock.py" "$@"
}

# Rootless, the session's init must be dumpable for `session exec` to join it, which only its
# own Landlock domain makes safe: without Landlock the session is refused at create (one line,
# nothing left), not made and then refused every exec.
test_session_rootless_without_landlock_is_refused_at_create() {
	local root=$WORK/rl-noll
	mkdir -p "$root" && chown 65534:65534 "$root" && chmod 700 "$root"
	rc=0; out=$(cd / && ses_without_landlock setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all env -u XDG_RUNTIME_DIR "$BULWARK" --root "$root" session create s-noll 2>&1) || rc=$?
	expect_eq "refused" "125 1" "$rc $(echo "$out" | grep -vc 'warning: sandbox: rootless')"
	expect_contains "names Landlock" "Landlock is not available" "$out"
	expect_eq "nothing left" "" "$(ls -A "$root" | grep -v '^\.cache$' || true)"
}

test_session_exec_t_gives_a_terminal() {
	ses create s-tty >/dev/null
	out=$(script -qec "$BULWARK --root $BW_ROOT session exec -t s-tty -- sh -c 'test -t 0 && test -t 1 && echo tty \$TERM'" /dev/null | tr -d '\r\0^@')
	expect_contains "-t" "tty xterm" "$out"
	expect_eq "without -t" "no" "$(ses exec s-tty -- sh -c 'test -t 1 && echo yes || echo no')"
	ses rm s-tty
}

test_session_rm_force_releases_a_session_whose_supervisor_is_stuck() {
	ses create s-stuck >/dev/null
	sup=$(ses_supervisor s-stuck)
	kill -STOP "$sup"
	ses rm --force s-stuck || fail "rm --force"
	wait_for 2 ses_gone s-stuck || fail "left: $(ls "$BW_ROOT") $(ses_processes)"
	rc=0; out=$(ses rm s-stuck 2>&1) || rc=$?
	expect_eq "rm of a gone session" "125 1" "$rc $(echo "$out" | wc -l)"
}

test_session_overlay_workspace_changes_are_kept_at_rm() {
	mkdir -p "$WORK/s-ws" && echo orig >"$WORK/s-ws/a"
	ses create --workspace "$WORK/s-ws:overlay" --keep-changes "$WORK/s-keep" s-ws >/dev/null
	ses exec s-ws -- sh -c 'echo mod >>a; echo new >b'
	expect_eq "seen by the next exec" "orig mod new" "$(echo $(ses exec s-ws -- cat a b))"
	expect_eq "the directory untouched" "orig" "$(cat "$WORK/s-ws/a")"
	ses rm s-ws
	expect_eq "changes kept" "orig mod new" "$(echo $(cat "$WORK/s-keep/a" "$WORK/s-keep/b"))"
	holders=$(grep -l ' bulwark-workspace ' /proc/[0-9]*/mountinfo 2>/dev/null || true)
	[ -z "$holders" ] || fail "overlay still mounted in: $holders"
}

# session cp: files in and out, resolved inside the session (a symlink it planted to a host
# path gives the session's file, never the host's), at most --disk of data, and counted as
# activity.
test_session_cp_in_and_out_within_the_disk_budget() {
	ses create --disk 4m s-cp >/dev/null
	mkdir -p "$WORK/cp-in/sub" "$WORK/cp-out"
	echo one >"$WORK/cp-in/a.txt"
	echo two >"$WORK/cp-in/sub/b.txt"
	ses cp "$WORK/cp-in" s-cp:/tmp/tree || fail "cp in"
	expect_eq "copied in, the session user's" "one two 1000" \
		"$(ses exec s-cp -- sh -c 'cat /tmp/tree/a.txt /tmp/tree/sub/b.txt; stat -c %u /tmp/tree/a.txt' | tr '\n' ' ' | sed 's/ $//')"
	# The host's own file at the same path must not come out through a planted symlink.
	echo host-secret >"$WORK/cp-host-secret"
	ses exec s-cp -- sh -c "echo result >/tmp/r.txt; mkdir -p $WORK; echo session-side >$WORK/cp-host-secret; ln -s $WORK/cp-host-secret /tmp/link" || fail "exec"
	ses cp s-cp:/tmp/r.txt "$WORK/cp-out/" || fail "cp out"
	expect_eq "copied out" result "$(cat "$WORK/cp-out/r.txt")"
	ses cp s-cp:/tmp/link/. "$WORK/cp-out/l" 2>/dev/null || true
	ses cp s-cp:/tmp/link "$WORK/cp-out/l2" 2>/dev/null || true
	case "$(cat "$WORK/cp-out/l" "$WORK/cp-out/l2" 2>/dev/null)" in *host-secret*) fail "the host's file came out" ;; esac
	expect_eq "host file untouched" host-secret "$(cat "$WORK/cp-host-secret")"
	# More than --disk: refused, nothing left.
	head -c 5000000 /dev/zero >"$WORK/cp-big"
	rc=0; out=$(ses cp "$WORK/cp-big" s-cp:/tmp/big 2>&1) || rc=$?
	expect_eq "over the budget" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_eq "nothing half-made" "" "$(ses exec s-cp -- ls /tmp | grep big || true)"
	rc=0; out=$(ses cp "$WORK/cp-big" no-such:/tmp/x 2>&1) || rc=$?
	expect_eq "unknown session" 125 "$rc"
	expect_contains "names it" "no-such" "$out"
	ses rm s-cp
}

# docs/examples/agent_session.py works as printed: a multi-step task in one session.
test_session_agent_example_runs() {
	printf '#!/bin/sh\nexec "%s" --root "%s" "$@"\n' "$BULWARK" "$BW_ROOT" >"$WORK/bw-example"
	chmod 755 "$WORK/bw-example"
	out=$(python3 "$SRC_DIR/docs/examples/agent_session.py" --bulwark "$WORK/bw-example") || fail "example: $out"
	expect_contains "step 2 read step 1's file" "step total: exit 0" "$out"
	expect_contains "stuck step stopped" "step stuck: timed out" "$out"
	expect_contains "result copied out" "result: 42" "$out"
	expect_eq "session removed" "" "$(ls -A "$BW_ROOT" | grep -v '^\.' || true)"
}

# A command's stdin is /dev/null unless -i; with -i it is a pipe cut when the command ends, so
# nothing it leaves running keeps reading the caller's later input.
test_session_exec_stdin_is_cut_when_the_command_ends() {
	ses create s-in >/dev/null
	echo SECRET | ses exec s-in -- sh -c 'cat >/tmp/x'
	expect_eq "no -i: /dev/null" "" "$(ses exec s-in -- cat /tmp/x)"
	echo SECRET | ses exec -i s-in -- sh -c 'cat >/tmp/x'
	expect_eq "-i: relayed" SECRET "$(ses exec s-in -- cat /tmp/x)"
	out=$( (echo a; sleep 2; echo b) | { ses exec -i s-in -- sh -c 'read l; echo "got $l"; (cat >/tmp/s) &'; while read -r l; do echo "caller got $l"; done; })
	expect_eq "the caller keeps its later input" "got a caller got b" "$(echo $out)"
	expect_eq "nothing read after the end" "" "$(ses exec s-in -- cat /tmp/s)"
	ses rm s-in
}

# A paused session is idle: its idle timeout releases it (the frozen init is thawed to die).
test_session_paused_session_is_released_when_idle() {
	ses create --idle-timeout 2s s-pidle >/dev/null
	ses exec s-pidle -- sh -c 'sleep 1000 &'
	ses pause s-pidle
	wait_for 10 ses_gone s-pidle || fail "a paused idle session is still there: $(ls "$BW_ROOT") $(ses_processes)"
	[ -z "$(cgroup_leaks)" ] || fail "cgroup left: $(cgroup_leaks)"
}
