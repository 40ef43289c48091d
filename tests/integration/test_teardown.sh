# Teardown that no signal can skip (issue 11, class 5): whatever order SIGTERM, SIGINT, SIGHUP
# and SIGKILL reach a sandbox's process and its watchdog, the sandbox's processes are gone
# within 2 s of the owner's death and nothing is left. The command ignores every catchable
# signal. The runner's leak check covers the state root, mounts and helper processes; these
# tests also check the sandbox's own cgroups (/bulwark/<id>, outside the runner's prefix).

TD_CMD='trap "" TERM INT HUP QUIT USR1 USR2; while :; do sleep 1; done'

td_wd() { jq -r '.bulwark.cleanup[]? | select(.kind == "watchdog") | .pid' "$BW_ROOT/$TD_ID/state.json" 2>/dev/null; }
td_alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# td_start [SANDBOX FLAGS]: a sandbox running TD_CMD; sets TD_MAIN TD_ID TD_WD TD_INIT TD_CGS.
td_start() {
	local before
	before=$(ls "$BW_ROOT" 2>/dev/null | grep sandbox- | tr '\n' ' ')
	"$BULWARK" --root "$BW_ROOT" sandbox "$@" -- sh -c "$TD_CMD" </dev/null >/dev/null 2>&1 &
	TD_MAIN=$!
	TD_ID=""
	for _ in $(seq 100); do
		for d in $(ls "$BW_ROOT" 2>/dev/null | grep sandbox-); do
			case " $before " in *" $d "*) ;; *) TD_ID=$d ;; esac
		done
		[ -n "$TD_ID" ] && [ -s "$BW_ROOT/$TD_ID/state.json" ] && [ ! -e "$BW_ROOT/$TD_ID/exec.fifo" ] && break
		sleep 0.05
	done
	[ -n "$TD_ID" ] || fail "sandbox did not start"
	TD_WD=$(td_wd)
	TD_INIT=$(jq -r .pid "$BW_ROOT/$TD_ID/state.json")
	TD_CGS=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "$TD_ID")
	[ -n "$TD_WD" ] && td_alive "$TD_WD" || fail "no watchdog"
	td_alive "$TD_INIT" || fail "no init"
	[ -n "$TD_CGS" ] || fail "no cgroup for $TD_ID"
}

# Every process of the sandbox is gone (no live task in any of its cgroups, init dead).
td_procs_gone() {
	td_alive "$TD_INIT" && return 1
	local d
	for d in $TD_CGS; do
		[ -d "$d" ] && [ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ] && return 1
	done
	return 0
}

# td_gone_by T0 WHAT: the sandbox's processes are gone within 2 s of T0 (date +%s%N).
td_gone_by() {
	while ! td_procs_gone; do
		[ $(( ($(date +%s%N) - $1) / 1000000 )) -lt 2000 ] || fail "$2: processes of $TD_ID still there 2 s after the owner's death"
		sleep 0.05
	done
}

# Several sandboxes at once: td_save N keeps the current one's variables, td_use N restores.
td_save() { S_MAIN[$1]=$TD_MAIN S_ID[$1]=$TD_ID S_WD[$1]=$TD_WD S_INIT[$1]=$TD_INIT S_CGS[$1]=$TD_CGS; }
td_use() { TD_MAIN=${S_MAIN[$1]} TD_ID=${S_ID[$1]} TD_WD=${S_WD[$1]} TD_INIT=${S_INIT[$1]} TD_CGS=${S_CGS[$1]}; }
declare -a S_MAIN S_ID S_WD S_INIT S_CGS S_T0 2>/dev/null || true

# Nothing of the sandbox is left: state, cgroups, veth, helper processes.
td_nothing_left() {
	local d
	for _ in $(seq 60); do [ -e "$BW_ROOT/$TD_ID" ] || break; sleep 0.05; done
	[ ! -e "$BW_ROOT/$TD_ID" ] || fail "$1: state of $TD_ID left"
	for d in $TD_CGS; do [ ! -d "$d" ] || fail "$1: cgroup $d left"; done
	local veth
	veth=$(python3 -c 'import sys
h = 14695981039346656037
for c in sys.argv[1].encode(): h = ((h ^ c) * 1099511628211) & (2**64 - 1)
print("bw-%012x" % (h & 0xffffffffffff))' "$TD_ID")
	[ -z "$(ip -o link show 2>/dev/null | grep " $veth[@:]")" ] || fail "$1: veth $veth left"
	# The id through a file: grep's own command line must not match.
	d=$(grep -laFf <(echo "$TD_ID") /proc/[0-9]*/cmdline 2>/dev/null | tr '\n' ' ')
	[ -z "$d" ] || fail "$1: processes of $TD_ID left: $d"
}

# td_finish WHAT: reap the owner (our child), then nothing may be left.
td_finish() {
	wait "$TD_MAIN" 2>/dev/null || true
	td_nothing_left "$1"
}

# td_round FIRST S1 "S2..." WHAT: one sandbox per S2, started together; FIRST (watchdog or
# owner) gets S1, the other one S2. A signal the owner survives (it forwards TERM/INT/HUP to
# the command, which ignores them) is followed by SIGKILL: the owner's death is the moment the
# 2 s start from.
td_round() {
	local first=$1 s1=$2 i n=0 s2 w
	local sigs=($3)
	for s2 in "${sigs[@]}"; do td_start; td_save $n; n=$((n + 1)); done
	for i in $(seq 0 $((n - 1))); do
		td_use $i
		s2=${sigs[$i]}
		if [ "$first" = watchdog ]; then
			kill -s "$s1" "$TD_WD"
		else
			kill -s "$s1" "$TD_MAIN"
			# Right after: a KILL may catch the watchdog in the middle of its teardown.
			kill -s "$s2" "$TD_WD" 2>/dev/null || true
		fi
		S_T0[$i]=$(date +%s%N)
	done
	sleep 0.3
	for i in $(seq 0 $((n - 1))); do
		td_use $i
		s2=${sigs[$i]}
		local what="$first $s1 then ${sigs[$i]}"
		if [ "$first" = watchdog ] && [ "$s1" = KILL ]; then
			for _ in $(seq 40); do w=$(td_wd); [ -n "$w" ] && [ "$w" != "$TD_WD" ] && td_alive "$w" && break; sleep 0.05; done
			[ "$w" != "$TD_WD" ] && td_alive "$w" || fail "$what: watchdog not replaced"
		elif [ "$first" = watchdog ]; then
			td_alive "$TD_WD" || fail "$what: watchdog left on SIG$s1"
		fi
		[ "$first" = watchdog ] && kill -s "$s2" "$TD_MAIN"
		S_T0[$i]=$(date +%s%N)
	done
	sleep 0.3
	for i in $(seq 0 $((n - 1))); do
		td_use $i
		local what="$first $s1 then ${sigs[$i]}"
		if { [ "$first" = watchdog ] && [ "${sigs[$i]}" != KILL ]; } || { [ "$first" = owner ] && [ "$s1" != KILL ]; }; then
			td_alive "$TD_MAIN" && td_alive "$TD_INIT" || fail "$what: the sandbox ended on a signal its command ignores"
			kill -KILL "$TD_MAIN"
			S_T0[$i]=$(date +%s%N)
		fi
	done
	for i in $(seq 0 $((n - 1))); do
		td_use $i
		local what="$first $s1 then ${sigs[$i]}"
		td_gone_by "${S_T0[$i]}" "$what"
		wait "$TD_MAIN" 2>/dev/null || true
	done
	# Both killed: nobody was left to release it; the next `bulwark list` does.
	[ "$first" = owner ] && [ "$s1" = KILL ] && bw list -q >/dev/null
	for i in $(seq 0 $((n - 1))); do
		td_use $i
		td_nothing_left "$first $s1 then ${sigs[$i]}"
	done
}

# The watchdog is hit first: TERM/INT/HUP are ignored, KILL gets it replaced; then the owner.
test_teardown_any_signal_to_watchdog_then_owner() {
	for s1 in TERM INT HUP KILL; do td_round watchdog "$s1" "TERM INT HUP KILL"; done
}

# The owner is hit first, its watchdog right after.
test_teardown_any_signal_to_owner_then_watchdog() {
	for s1 in TERM INT HUP KILL; do td_round owner "$s1" "TERM INT HUP KILL"; done
}

# Both at once by SIGKILL, with a firewall (veth, agent) or not: the kernel ends the sandbox
# with its owner; the state, cgroups and veth go at the next `bulwark list` (which does not
# list it) or the next `bulwark sandbox`.
test_teardown_owner_and_watchdog_killed_at_once() {
	for by in "list:" "list:--allow 192.0.2.1:443/tcp" "sandbox:"; do
		local flags=${by#*:} what="both killed ${by#*:}, then ${by%%:*}"
		td_start $flags
		kill -STOP "$TD_WD" # so that it cannot begin the release between the two signals
		kill -KILL "$TD_MAIN" "$TD_WD"
		td_gone_by "$(date +%s%N)" "$what"
		wait "$TD_MAIN" 2>/dev/null || true
		if [ "${by%%:*}" = list ]; then
			out=$(bw list -q)
			case "$out" in *"$TD_ID"*) fail "$what: still listed: $out" ;; esac
		else
			bw sandbox -- true || fail "$what: the next sandbox failed"
		fi
		td_nothing_left "$what"
	done
}

# The watchdog does not answer to the sandbox's name, and shows no host path in its command
# line (every user's to read): it holds the container's state directory open instead (where
# the runner's leak check finds helpers).
test_teardown_watchdog_has_its_own_name() {
	td_start
	# The creator's pid namespace is recorded with the helpers: a sweep from another one must
	# not take them for dead (the watchdog started before the init records it too).
	expect_eq "pid namespace recorded" "$(stat -Lc '%d:%i' /proc/self/ns/pid)" \
		"$(jq -r '.bulwark.cleanup[]? | select(.kind == "pidns") | "\(.dev):\(.ino)"' "$BW_ROOT/$TD_ID/state.json")"
	comm=$(cat "/proc/$TD_WD/comm")
	cmdline=$(tr '\0' ' ' <"/proc/$TD_WD/cmdline")
	expect_eq comm bulwark-watch "$comm"
	expect_contains cmdline "bulwark-watchdog $TD_ID " "$cmdline"
	case "$cmdline" in *"$BW_ROOT"*) fail "cmdline shows the state root: $cmdline" ;; esac
	expect_eq "holds its state" "$BW_ROOT/$TD_ID" "$(find /proc/$TD_WD/fd -lname "$BW_ROOT/*" -printf '%l\n')"
	case "$cmdline" in *"bulwark sandbox"* | *" sandbox "*) fail "cmdline looks like the sandbox: $cmdline" ;; esac
	pat="bulwark --root $BW_ROOT sandbox"
	found=$(pgrep -f -- "$pat" | tr '\n' ' ')
	kill -KILL "$TD_MAIN"
	t0=$(date +%s%N)
	case " $found " in *" $TD_WD "*) fail "pgrep -f '$pat' finds the watchdog" ;; esac
	case " $found " in *" $TD_MAIN "*) ;; *) fail "pgrep -f '$pat' does not find the sandbox itself" ;; esac
	td_gone_by "$t0" "owner killed"
	td_finish "owner killed"
}

# What the watchdog holds once started (it is spawned sharing the runtime's memory until its
# exec): only /dev/null on 0-2 and the pidfds of the init and the owner on 3 and 4, a session of
# its own (not the sandbox process's), no longer the sandbox process's child, no signal left blocked, termination ignored.
# (and, O_PATH, the container's state directory: unused, it names the container)
test_teardown_watchdog_holds_only_its_pidfds() {
	td_start
	fds=$(ls "/proc/$TD_WD/fd" | sort -n | tr '\n' ' ')
	expect_eq "watchdog fds" "0 1 2 3 4 5 " "$fds"
	expect_eq "fd 5" "$BW_ROOT/$TD_ID" "$(readlink "/proc/$TD_WD/fd/5")"
	for fd in 0 1 2; do expect_eq "fd $fd" /dev/null "$(readlink "/proc/$TD_WD/fd/$fd")"; done
	for fd in 3 4; do expect_eq "fd $fd" "anon_inode:[pidfd]" "$(readlink "/proc/$TD_WD/fd/$fd")"; done
	expect_eq "pidfd 3" "$TD_INIT" "$(awk '/^Pid:/ {print $2}' "/proc/$TD_WD/fdinfo/3")"
	expect_eq "pidfd 4" "$TD_MAIN" "$(awk '/^Pid:/ {print $2}' "/proc/$TD_WD/fdinfo/4")"
	read -r _ _ _ ppid _ sid _ <"/proc/$TD_WD/stat"
	read -r _ _ _ _ _ owner_sid _ <"/proc/$TD_MAIN/stat"
	[ "$ppid" != "$TD_MAIN" ] || fail "the watchdog is still the sandbox process's child"
	[ "$sid" != "$owner_sid" ] || fail "the watchdog is in the sandbox process's session"
	expect_eq SigBlk 0000000000000000 "$(awk '/^SigBlk:/ {print $2}' "/proc/$TD_WD/status")"
	ign=$(awk '/^SigIgn:/ {print $2}' "/proc/$TD_WD/status")
	(((0x$ign >> 14) & 1)) || fail "SIGTERM is not ignored (SigIgn $ign)"
	kill -KILL "$TD_MAIN"
	t0=$(date +%s%N)
	td_gone_by "$t0" "owner killed"
	td_finish "owner killed"
}

# run.bulwark.lifetime holds though its watchdog is SIGKILLed: a foreground `run` replaces it
# at once; for a detached container the next `bulwark list` does (or, past the deadline,
# releases the container itself).
test_teardown_lifetime_holds_when_the_watchdog_is_killed() {
	b=$(new_bundle td-life-run)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"2s"} | .process.args=["sleep","60"]'
	bw run --bundle "$b" td-life-run </dev/null >/dev/null 2>&1 &
	runner=$!
	for _ in $(seq 60); do [ -s "$BW_ROOT/td-life-run/state.json" ] && break; sleep 0.05; done
	TD_ID=td-life-run
	w=$(td_wd)
	[ -n "$w" ] || fail "no watchdog"
	kill -KILL "$w"
	t0=$(date +%s)
	rc=0; timeout 10 tail --pid="$runner" -f /dev/null || rc=$?
	[ "$rc" = 0 ] || fail "run outlived its lifetime"
	[ $(( $(date +%s) - t0 )) -le 4 ] || fail "run ended late"
	wait "$runner" 2>/dev/null || true
	[ ! -e "$BW_ROOT/td-life-run" ] || fail "state left"

	# Past the deadline, `bulwark list` releases it (and does not list it).
	b=$(new_bundle td-life-late)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"1s"} | .process.args=["sleep","60"]'
	bw run -d --bundle "$b" td-life-late </dev/null >/dev/null 2>&1 || fail "run -d td-life-late"
	TD_ID=td-life-late
	kill -KILL "$(td_wd)"
	sleep 1.3
	case "$(bw list -q)" in *td-life-late*) fail "listed past its lifetime" ;; esac
	[ ! -e "$BW_ROOT/td-life-late" ] || fail "td-life-late outlived its lifetime"

	# Before the deadline, `bulwark list` gives it a new watchdog, which keeps the deadline.
	b=$(new_bundle td-life-det)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"2s"} | .process.args=["sleep","60"]'
	bw run -d --bundle "$b" td-life-det </dev/null >/dev/null 2>&1 || fail "run -d td-life-det"
	TD_ID=td-life-det
	kill -KILL "$(td_wd)"
	t0=$(date +%s%N)
	bw list -q >/dev/null
	w=$(td_wd)
	td_alive "$w" || fail "no replacement watchdog"
	for _ in $(seq 80); do [ -e "$BW_ROOT/td-life-det" ] || break; sleep 0.05; done
	[ ! -e "$BW_ROOT/td-life-det" ] || fail "detached container outlived its lifetime"
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 1500 ] || fail "released before its deadline"
}

# A caller's `ulimit -f` never kills bulwark silently by SIGXFSZ (rc 153) at the sealed self-copy:
# under a soft limit the copy lifts it for itself and the command gets the caller's limit back;
# a hard limit it may not raise, or a state file that cannot be written, fails with one line
# naming the limit. Output goes through pipes: the limit covers regular files only.
test_teardown_file_size_limit_never_kills_silently() {
	out=$(bash -c "ulimit -S -f 64; \"$BULWARK\" --root \"$BW_ROOT\" sandbox -- sh -c 'ulimit -f' 2>&1; echo rc=\$?" 2>&1 | cat)
	expect_eq "soft 64 KB" "$(printf '128\nrc=0')" "$out"
	out=$(bash -c "ulimit -S -f 0; \"$BULWARK\" --root \"$BW_ROOT\" sandbox -- true 2>&1; echo rc=\$?" 2>&1 | cat)
	case "$out" in *rc=153* | *"size limit"*) fail "soft 0: killed by SIGXFSZ: $out" ;; esac
	expect_contains "soft 0" "File too large" "$out"
	# A hard limit below our size. The read-only overlay of the binary copies nothing
	# (runtime/sealed.c): create goes on (to the missing bundle here).
	out=$(bash -c "ulimit -f 64; \"$BULWARK\" --root \"$BW_ROOT\" create --bundle \"$WORK/no-such-bundle\" fsz 2>&1; echo rc=\$?" 2>&1 | cat)
	case "$out" in
	*"no-such-bundle"*) ;;
	*"sealed runtime copy"*) ;; # no overlay on this kernel: the memfd copy, below
	*) fail "hard 64 KB: $out" ;;
	esac
	# The memfd copy (the binary deleted since it started: no overlay can show it) is raised
	# for with CAP_SYS_RESOURCE, else refused.
	cp "$BULWARK" "$WORK/fsz-bulwark"
	out=$(bash -c "exec 7<\"$WORK/fsz-bulwark\"; rm \"$WORK/fsz-bulwark\"; ulimit -f 64; (exec /proc/self/fd/7 --root \"$BW_ROOT\" create --bundle \"$WORK/no-such-bundle\" fsz) 2>&1; echo rc=\$?" 2>&1 | cat)
	if (( (16#$(awk '/^CapEff/ {print $2}' /proc/self/status) >> 24) & 1 )); then
		case "$out" in *"sealed runtime copy"*) fail "hard 64 KB, CAP_SYS_RESOURCE: $out" ;; esac
	else
		expect_eq "hard 64 KB" "$(printf 'bulwark: sealed runtime copy (CVE-2019-5736): RLIMIT_FSIZE (ulimit -f) is 65536 bytes, below the runtime'"'"'s own size (%s bytes), and cannot be raised: Operation not permitted\nrc=1' "$(stat -c %s "$BULWARK")")" "$out"
	fi
}

# From another pid namespace every recorded pid looks dead: `list` and the next sandbox's sweep
# there must leave a live sandbox alone (and still list it).
test_teardown_sweep_from_another_pid_namespace_leaves_live_sandboxes() {
	td_start
	out=$(unshare -p -f --mount-proc "$BULWARK" --root "$BW_ROOT" list -q)
	expect_contains "list from another pid namespace" "$TD_ID" "$out"
	unshare -p -f --mount-proc "$BULWARK" --root "$BW_ROOT" sandbox -- true || fail "sandbox from another pid namespace failed"
	sleep 0.3
	td_alive "$TD_MAIN" && td_alive "$TD_INIT" && td_alive "$TD_WD" || fail "the sandbox was torn down from another pid namespace"
	[ -e "$BW_ROOT/$TD_ID/state.json" ] || fail "its state was removed"
	expect_contains "list from its own pid namespace" "$TD_ID" "$(bw list -q)"
	kill -KILL "$TD_MAIN"
	td_gone_by "$(date +%s%N)" "owner killed"
	td_finish "owner killed"
}

# A stopped owner does not stop the --timeout: its watchdog keeps the deadline (2 s after the
# SIGKILL would have come: --timeout + --kill-after + 2 s), and not earlier.
test_teardown_timeout_holds_when_the_owner_is_stopped() {
	td_start --timeout 1s --kill-after 1s
	kill -STOP "$TD_MAIN"
	t0=$(date +%s%N)
	gone=no
	for _ in $(seq 140); do td_procs_gone && gone=yes && break; sleep 0.05; done
	t1=$(date +%s%N)
	kill -CONT "$TD_MAIN"
	[ "$gone" = yes ] || fail "the sandbox outlived its --timeout + --kill-after by 5 s while its owner was stopped"
	[ $(( (t1 - t0) / 1000000 )) -ge 3000 ] || fail "the watchdog killed before --timeout + --kill-after + 2 s: $(( (t1 - t0) / 1000000 )) ms"
	rc=0; wait "$TD_MAIN" || rc=$?
	expect_eq "owner's exit status" 124 "$rc"
	td_nothing_left "owner stopped"
}

# A stopped watchdog counts as dead: `list` kills it and starts a replacement that keeps the
# deadline, or, past the deadline, releases the container.
test_teardown_lifetime_holds_when_the_watchdog_is_stopped() {
	b=$(new_bundle td-stop-late)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"1s"} | .process.args=["sleep","60"]'
	bw run -d --bundle "$b" td-stop-late </dev/null >/dev/null 2>&1 || fail "run -d td-stop-late"
	TD_ID=td-stop-late
	w=$(td_wd)
	kill -STOP "$w"
	sleep 1.3
	case "$(bw list -q)" in *td-stop-late*) fail "listed past its lifetime" ;; esac
	[ ! -e "$BW_ROOT/td-stop-late" ] || fail "td-stop-late outlived its lifetime"
	for _ in $(seq 40); do td_alive "$w" || break; sleep 0.05; done
	td_alive "$w" && fail "the stopped watchdog was left"

	b=$(new_bundle td-stop-det)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"2s"} | .process.args=["sleep","60"]'
	bw run -d --bundle "$b" td-stop-det </dev/null >/dev/null 2>&1 || fail "run -d td-stop-det"
	TD_ID=td-stop-det
	w=$(td_wd)
	kill -STOP "$w"
	t0=$(date +%s%N)
	bw list -q >/dev/null
	w2=$(td_wd)
	[ "$w2" != "$w" ] && td_alive "$w2" || fail "no replacement for the stopped watchdog"
	for _ in $(seq 40); do td_alive "$w" || break; sleep 0.05; done
	td_alive "$w" && fail "the stopped watchdog was left"
	for _ in $(seq 80); do [ -e "$BW_ROOT/td-stop-det" ] || break; sleep 0.05; done
	[ ! -e "$BW_ROOT/td-stop-det" ] || fail "detached container outlived its lifetime"
	[ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 1500 ] || fail "released before its deadline"
}

# The command cannot switch off the backstop: pid 1 of the sandbox is bulwark's own init, so
# prctl(PR_SET_PDEATHSIG, 0) in the command only concerns the command. Owner and watchdog
# SIGKILLed together (one cgroup kill of a CI job): the sandbox still ends within 2 s.
test_teardown_payload_cannot_switch_off_the_death_signal() {
	local TD_CMD='exec /usr/bin/python3 -c "import ctypes, os; ctypes.CDLL(None).prctl(1, 0, 0, 0, 0); os.execvp(\"sleep\", [\"sleep\", \"60\"])"'
	td_start
	sleep 0.5
	kill -KILL "$TD_MAIN" "$TD_WD"
	td_gone_by "$(date +%s%N)" "PR_SET_PDEATHSIG cleared by the command, owner and watchdog killed"
	wait "$TD_MAIN" 2>/dev/null || true
	bw list -q >/dev/null
	td_nothing_left "owner and watchdog killed"
}

# Inside: pid 1 is bulwark's init (non-dumpable, not the command), the command its child; what
# the owner reports is the command's exit, exactly: code, or 128 + signal and the signal's name.
test_teardown_sandbox_init_is_ours_and_reports_the_command_exactly() {
	out=$(bw sandbox -- sh -c 'echo "$$ $PPID $(cat /proc/1/comm)"; cat /proc/1/environ >/dev/null 2>&1 || echo non-dumpable')
	expect_eq "pid, parent, pid 1's name" "$(printf '2 1 bulwark-init\nnon-dumpable')" "$out"
	for c in "exit 7:7:null" "kill -TERM \$\$:143:SIGTERM" "kill -SEGV \$\$:139:SIGSEGV" "kill -KILL \$\$:137:SIGKILL" "exit 0:0:null"; do
		rc=0
		bw sandbox --report "$WORK/rep.json" -- sh -c "${c%%:*}" || rc=$?
		expect_eq "exit status of '${c%%:*}'" "$(echo "$c" | cut -d: -f2)" "$rc"
		expect_eq "report of '${c%%:*}'" "$(echo "$c" | cut -d: -f2) $(echo "$c" | cut -d: -f3)" "$(jq -r '"\(.exit_code) \(.signal)"' "$WORK/rep.json")"
	done
	# A signal to the owner reaches the command (before, the kernel dropped a SIGTERM to a
	# namespace init with no handler).
	"$BULWARK" --root "$BW_ROOT" sandbox -- sleep 30 </dev/null >/dev/null 2>&1 &
	owner=$!
	sleep 1
	kill -TERM "$owner"
	rc=0; timeout 5 tail --pid="$owner" -f /dev/null || rc=$?
	[ "$rc" = 0 ] || fail "SIGTERM to the owner did not end sleep"
	rc=0; wait "$owner" || rc=$?
	expect_eq "exit status of sleep on SIGTERM" 143 "$rc"
	# A timeout is still a timeout: sleep ends on the SIGTERM, or on the SIGKILL with no grace.
	rc=0
	bw sandbox --timeout 1s --report "$WORK/rep.json" -- sleep 30 2>/dev/null || rc=$?
	expect_eq "timeout exit status" 124 "$rc"
	expect_eq "timeout report" "124 SIGTERM true" "$(jq -r '"\(.exit_code) \(.signal) \(.timed_out)"' "$WORK/rep.json")"
	rc=0
	bw sandbox --timeout 1s --kill-after 0 --report "$WORK/rep.json" -- sleep 30 2>/dev/null || rc=$?
	expect_eq "timeout exit status, --kill-after 0" 124 "$rc"
	expect_eq "timeout report, --kill-after 0" "124 SIGKILL true" "$(jq -r '"\(.exit_code) \(.signal) \(.timed_out)"' "$WORK/rep.json")"
}

# With -t the command leads its own session on the sandbox's terminal, pid 1 outside it: ^C
# typed on the caller's terminal interrupts the command (as pid 1, sleep ignored it).
test_teardown_sandbox_tty_interrupt_reaches_the_command() {
	command -v script >/dev/null || fail "script(1) is needed"
	t0=$(date +%s)
	rc=0
	(sleep 2; printf '\003'; sleep 4) | timeout 12 script -qec "\"$BULWARK\" --root \"$BW_ROOT\" sandbox -t -- sleep 30" /dev/null >/dev/null || rc=$?
	expect_eq "exit status after ^C" 130 "$rc"
	[ $(( $(date +%s) - t0 )) -le 8 ] || fail "^C did not end the command"
}

# `list` hides a container only once its teardown succeeded: one whose state cannot be removed
# (an immutable file in it) is still listed, until `delete --force` releases what is left.
test_teardown_list_shows_what_it_could_not_release() {
	td_start
	# Both dead before either can act: a watchdog that saw its owner die first would begin the
	# release itself (kill sends the two signals one after the other).
	kill -STOP "$TD_WD"
	kill -KILL "$TD_MAIN" "$TD_WD"
	td_gone_by "$(date +%s%N)" "owner and watchdog killed"
	wait "$TD_MAIN" 2>/dev/null || true
	touch "$BW_ROOT/$TD_ID/pin"
	chattr +i "$BW_ROOT/$TD_ID/pin" || fail "chattr +i on the state root's filesystem"
	trap 'chattr -i "$BW_ROOT/$TD_ID/pin" 2>/dev/null || true' EXIT
	out=$(bw list -q 2>/dev/null)
	chattr -i "$BW_ROOT/$TD_ID/pin"
	expect_contains "list while its teardown fails" "$TD_ID" "$out"
	bw delete --force "$TD_ID" || fail "delete --force"
	out=$(bw list -q)
	case "$out" in *"$TD_ID"*) fail "still listed once released: $out" ;; esac
	td_nothing_left "released by delete --force"
}

# --timeout as `timeout -k`: SIGTERM at the deadline, so a command that handles it can write its
# results and exit (124 anyway, its own status in the report); one that ignores it is killed
# with everything in the sandbox --kill-after later, and not before.
test_teardown_timeout_sends_sigterm_then_sigkill_after_the_grace() {
	d=$WORK/grace
	mkdir -p "$d"
	rc=0
	t0=$(date +%s%N)
	bw sandbox --workspace "$d:rw" --timeout 1s --report "$WORK/g1.json" -- \
		sh -c 'trap "echo results >'"$d"'/written; exit 3" TERM; while :; do sleep 0.1; done' 2>/dev/null || rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	expect_eq "handled SIGTERM: exit status" 124 "$rc"
	expect_eq "handled SIGTERM: written on SIGTERM" results "$(cat "$d/written" 2>/dev/null)"
	expect_eq "handled SIGTERM: report" "124 3 null true" "$(jq -r '"\(.exit_code) \(.command_exit_code) \(.signal) \(.timed_out)"' "$WORK/g1.json")"
	[ "$ms" -lt 5000 ] || fail "a command that exits on SIGTERM waited for the grace period ($ms ms)"
	# Ignores SIGTERM, and a background child too: both end at --timeout + --kill-after.
	rc=0
	t0=$(date +%s%N)
	bw sandbox --timeout 1s --kill-after 2s --report "$WORK/g2.json" -- \
		sh -c 'trap "" TERM; (trap "" TERM; while :; do sleep 0.1; done) & while :; do sleep 0.1; done' 2>/dev/null || rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	expect_eq "ignored SIGTERM: exit status" 124 "$rc"
	expect_eq "ignored SIGTERM: report" "124 SIGKILL true" "$(jq -r '"\(.exit_code) \(.signal) \(.timed_out)"' "$WORK/g2.json")"
	[ "$ms" -ge 3000 ] && [ "$ms" -lt 6000 ] || fail "ignored SIGTERM: killed after $ms ms, expected 3 s (--timeout 1s + --kill-after 2s)"
	# --kill-after 0: no grace, the handler never runs.
	rm -f "$d/written"
	rc=0
	bw sandbox --workspace "$d:rw" --timeout 1s --kill-after 0 -- \
		sh -c 'trap "echo results >'"$d"'/written; exit 3" TERM; while :; do sleep 0.1; done' 2>/dev/null || rc=$?
	expect_eq "--kill-after 0: exit status" 124 "$rc"
	[ ! -e "$d/written" ] || fail "--kill-after 0 sent SIGTERM first"
	# Refused in one line before anything starts.
	for bad in "--kill-after 1s" "--timeout 1s --kill-after -1s" "--timeout 1s --kill-after soon"; do
		rc=0
		out=$(bw sandbox $bad -- true 2>&1) || rc=$?
		expect_eq "$bad: exit status" 125 "$rc"
		expect_eq "$bad: one line" 1 "$(echo "$out" | wc -l)"
		expect_contains "$bad: names the flag" "--kill-after" "$out"
	done
}

# The owner SIGKILLed mid-create, the moment the sandbox's cgroup exists (its init not up
# yet): the watchdog, started before the cgroup was made, releases the sandbox with no later
# command (before, nothing watched that moment: the state and cgroup stayed). Builtins only in
# the wait, to kill within microseconds of the cgroup's mkdir.
test_teardown_owner_killed_mid_create_is_released() {
	local round id main d i
	for round in 1 2 3 4 5; do
		"$BULWARK" --root "$BW_ROOT" sandbox -- true </dev/null >/dev/null 2>&1 &
		main=$!
		id=""
		for ((i = 0; i < 200000; i++)); do
			for d in "$BW_ROOT"/sandbox-*; do [ -d "$d" ] && id=${d##*/}; done
			[ -n "$id" ] && { [ -d "/sys/fs/cgroup/pids/bulwark/$id" ] || [ -d "/sys/fs/cgroup/bulwark/$id" ]; } && break
			kill -0 "$main" 2>/dev/null || break
		done
		kill -KILL "$main" 2>/dev/null || true
		wait "$main" 2>/dev/null || true
		[ -n "$id" ] || fail "round $round: no sandbox seen"
		wait_for 5 sh -c "[ ! -e '$BW_ROOT/$id' ] && [ -z \"\$(find /sys/fs/cgroup -maxdepth 4 -type d -name '$id')\" ]" ||
			fail "round $round: left: state [$(ls -A "$BW_ROOT/$id" 2>/dev/null | tr '\n' ' ')] cgroups [$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$id" | tr '\n' ' ')]"
	done
}

# A remover killed halfway leaves its renamed-away ".gone~" directory (never a lock-less one
# under the id): the next `list` or sandbox start finishes it, and it is never a container.
test_teardown_half_removed_state_is_finished_by_the_next_list() {
	mkdir -p "$BW_ROOT/.gone~4242~1/sub"
	echo '{}' >"$BW_ROOT/.gone~4242~1/state.json"
	: >"$BW_ROOT/.gone~4242~1/sub/x"
	mkdir -p "$BW_ROOT/.keep"
	out=$(bw list)
	case $out in *gone*) fail "list shows a tombstone: $out" ;; esac
	[ ! -e "$BW_ROOT/.gone~4242~1" ] || fail "tombstone left after list"
	[ -d "$BW_ROOT/.keep" ] || fail "list removed a directory that is no tombstone"
	rmdir "$BW_ROOT/.keep"
	mkdir -p "$BW_ROOT/.gone~4243~1"
	"$BULWARK" --root "$BW_ROOT" sandbox -- true || fail "sandbox after a tombstone"
	[ ! -e "$BW_ROOT/.gone~4243~1" ] || fail "tombstone left after a sandbox start"
	out=$(bw create -b /nonexistent 'x~y' 2>&1) && fail "an id with ~ accepted: $out"
	true
}

# A delete that waited on the lock of a container whose remover died halfway (renamed away,
# not yet removed) must not act on a new container that took the id meanwhile.
test_teardown_waiting_delete_spares_a_new_container_of_the_same_id() {
	b=$(new_bundle td-reuse)
	cfg "$b" '.process.args=["sleep","60"]'
	bw create -b "$b" td-reuse </dev/null >/dev/null 2>&1 || fail "create"
	old=$(bw state td-reuse | jq .pid)
	exec 8<"$BW_ROOT/td-reuse/lock"
	flock -x 8
	"$BULWARK" --root "$BW_ROOT" delete --force td-reuse >"$WORK/del.out" 2>&1 8<&- &
	del=$!
	sleep 0.3
	kill -9 "$old"
	mv "$BW_ROOT/td-reuse" "$BW_ROOT/.gone~1~1"
	bw create -b "$b" td-reuse </dev/null >/dev/null 2>&1 8<&- || fail "create of the new one"
	new=$(bw state td-reuse | jq .pid)
	exec 8<&-
	wait "$del" || true
	[ -d "$BW_ROOT/td-reuse" ] || fail "the waiting delete removed the new container: $(cat "$WORK/del.out")"
	kill -0 "$new" || fail "the waiting delete killed the new container's init"
	bw delete --force td-reuse
	bw list -q >/dev/null
	[ ! -e "$BW_ROOT/.gone~1~1" ] || fail "tombstone left"
}
