# The caller's terminal as stdio (issue #11, F1 and F4 of the attacker review): a process that
# did not ask for a terminal never gets a file descriptor of the caller's. In the foreground
# (sandbox, run, exec) a terminal among fds 0-2 becomes a pipe that bulwark relays; detached
# (create, run -d) it becomes /dev/null, with one warning. Real pseudo-terminals (script(1));
# the attacker is helpers/tty_inject.c (tty_setup in test_tty_inject.sh builds it), modes hold
# (the key-logger that reopens /proc/PID/fd/0) and setd (TCSETS, TIOCSETD on fds 0-2).

# stdio_pty DELAY INPUT CMDLINE: CMDLINE (bash) on a fresh pty; INPUT and a newline are typed
# into the terminal DELAY seconds after the start. Prints the terminal's output without CRs.
stdio_pty() {
	local keep
	exec 7< <(sleep "$1"; printf '%s\n' "$2"; exec sleep 60)
	keep=$!
	timeout 60 script -qec "$3" /dev/null <&7 | tr -d '\r'
	exec 7<&-
	kill "$keep" 2>/dev/null || true
}

# The payload of the relay tests: what its stdio is, one line read, one line to each output.
stdio_script() {
	cat >"$WORK/tty-bin/relay.sh" <<'EOF2'
for f in 0 1 2; do printf 'fd%s=%s ' $f "$(stat -L -c %F /proc/$$/fd/$f)"; done
echo
read -r l
echo "got=$l"
echo "to-stderr" >&2
exit 5
EOF2
}

STDIO_RELAYED="fd0=fifo fd1=fifo fd2=fifo"

stdio_expect_relayed() {
	expect_contains "$1: the process's stdio" "$STDIO_RELAYED" "$2"
	expect_contains "$1: typed input reaches the process" "got=typed-line" "$2"
	expect_contains "$1: stderr arrives" "to-stderr" "$2"
	expect_contains "$1: exit status" "rc=5" "$2"
}

# F1: the key-logger. A process of the container reopens fd 0 of an exec'd `sleep 6` and keeps
# reading; the user types a password into the host shell 4 s after exec returned.
test_stdio_exec_leaves_no_terminal_to_hold_after_it_returns() {
	tty_setup
	trap 'bw delete --force stdio-ex >/dev/null 2>&1' EXIT
	b=$(tty_bundle stdio-ex '.process.args=["sleep","120"]')
	bw run -d -b "$b" stdio-ex </dev/null >/dev/null 2>&1
	bw exec -d stdio-ex /home/tty_inject hold "sleep 6" 14 </dev/null >"$WORK/stdio-hold" 2>&1
	out=$(stdio_pty 10 secret-password "$BULWARK --root $BW_ROOT exec stdio-ex sleep 6; echo exec-done; sleep 5")
	expect_contains "exec returned" "exec-done" "$out"
	for _ in $(seq 50); do grep -q '^read=\(EOF\|timeout\)' "$WORK/stdio-hold" && break; sleep 0.2; done
	held=$(cat "$WORK/stdio-hold")
	case $held in *secret-password*) fail "the container read what was typed after exec returned: $held" ;; esac
	expect_contains "fd 0 of the exec'd process" "held=pipe" "$held"
	expect_contains "the holder's copy ends with the exec" "read=EOF" "$held"
	bw delete --force stdio-ex
}

# Detached: nobody relays, so the container gets /dev/null for each terminal. Silently (tools
# read bulwark's output; runc's suite merges it with the container's): --debug says so.
test_stdio_detached_container_gets_dev_null_for_a_terminal() {
	tty_setup
	trap 'bw delete --force stdio-rd >/dev/null 2>&1; bw delete --force stdio-cr >/dev/null 2>&1' EXIT
	b=$(tty_bundle stdio-rd '.process.args=["sleep","60"]')
	out=$(stdio_pty 30 x "$BULWARK --root $BW_ROOT --debug run -d -b $b stdio-rd; echo rc=\$?")
	expect_contains "run -d" "rc=0" "$out"
	expect_eq "run -d: one debug line" 1 "$(grep -c 'stdin, stdout and stderr are a terminal and process.terminal is false: the container gets /dev/null' <<<"$out")"
	pid=$(bw state stdio-rd | jq .pid)
	expect_eq "run -d: the container's stdio" "/dev/null /dev/null /dev/null" "$(echo $(readlink "/proc/$pid/fd/0" "/proc/$pid/fd/1" "/proc/$pid/fd/2"))"
	# create, stdout redirected to a file: that one passes through.
	b=$(tty_bundle stdio-cr '.process.args=["sleep","60"]')
	out=$(stdio_pty 30 x "$BULWARK --root $BW_ROOT create -b $b stdio-cr >$WORK/stdio-cr.out; echo rc=\$?")
	expect_contains "create" "rc=0" "$out"
	expect_eq "create: silent" 0 "$(grep -c 'a terminal' <<<"$out")"
	pid=$(bw state stdio-cr | jq .pid)
	expect_eq "create: the container's stdio" "/dev/null $WORK/stdio-cr.out /dev/null" "$(echo $(readlink "/proc/$pid/fd/0" "/proc/$pid/fd/1" "/proc/$pid/fd/2"))"
	bw delete --force stdio-rd
	bw delete --force stdio-cr
}

test_stdio_sandbox_relays_the_terminal_through_pipes() {
	tty_setup
	stdio_script
	out=$(stdio_pty 3 typed-line "$BULWARK --root $BW_ROOT sandbox --bind $WORK/tty-bin -- sh $WORK/tty-bin/relay.sh; echo rc=\$?")
	stdio_expect_relayed sandbox "$out"
}

test_stdio_run_and_exec_relay_the_terminal_through_pipes() {
	tty_setup
	stdio_script
	b=$(tty_bundle stdio-run '.process.args=["sh","/home/relay.sh"]')
	out=$(stdio_pty 3 typed-line "$BULWARK --root $BW_ROOT run -b $b stdio-run; echo rc=\$?")
	stdio_expect_relayed run "$out"
	trap 'bw delete --force stdio-exr >/dev/null 2>&1' EXIT
	b=$(tty_bundle stdio-exr '.process.args=["sleep","60"]')
	bw run -d -b "$b" stdio-exr </dev/null >/dev/null 2>&1
	out=$(stdio_pty 3 typed-line "$BULWARK --root $BW_ROOT exec stdio-exr sh /home/relay.sh; echo rc=\$?")
	stdio_expect_relayed exec "$out"
	bw delete --force stdio-exr
}

# F4: what the payload does to its stdio (echo off, the N_NULL line discipline) changes nothing
# of the caller's terminal: `stty -a` on it is the same before and after.
test_stdio_payload_cannot_change_the_callers_terminal() {
	tty_setup
	b=$(tty_bundle stdio-setd '.process.args=["/home/tty_inject","setd"]')
	for cmd in "sandbox --bind $WORK/tty-bin -- $WORK/tty-bin/tty_inject setd" "run -b $b stdio-setd"; do
		out=$(stdio_pty 30 x "stty -a >$WORK/stty-before; $BULWARK --root $BW_ROOT $cmd; echo rc=\$?; stty -a >$WORK/stty-after")
		expect_contains "${cmd%% *}: the payload's view" "fd0=notty fd1=notty fd2=notty setd=ENOTTY" "$out"
		expect_contains "${cmd%% *}: exit" "rc=0" "$out"
		expect_eq "${cmd%% *}: the caller's terminal is unchanged" "$(cat "$WORK/stty-before")" "$(cat "$WORK/stty-after")"
	done
}

# What is not a terminal passes straight through: the same pipe, the same file. The terminal
# beside them (stdin and stderr here) is still relayed.
test_stdio_non_terminal_stdio_passes_straight_through() {
	tty_setup
	out=$(echo hi | { readlink /proc/self/fd/0; bw sandbox -- sh -c 'readlink /proc/self/fd/0; cat'; })
	expect_eq "a pipe on stdin: the same pipe" 1 "$(head -2 <<<"$out" | sort -u | wc -l)"
	expect_contains "a pipe on stdin: its data" "hi" "$out"
	out=$(stdio_pty 30 x "$BULWARK --root $BW_ROOT sandbox -- sh -c 'stat -L -c %d:%i /proc/self/fd/1; stat -L -c %F /proc/self/fd/0 /proc/self/fd/2' >$WORK/stdio-file; echo rc=\$?")
	expect_contains "sandbox" "rc=0" "$out"
	expect_eq "fd 1 is the caller's file; 0 and 2 relayed" \
		"$(stat -c %d:%i "$WORK/stdio-file") fifo fifo" "$(echo $(cat "$WORK/stdio-file"))"
}

# The drain is bounded: a background child that keeps the relayed stdout open does not keep
# exec waiting (its output after the exit is relayed while it flows, 5 s at most).
test_stdio_exec_returns_while_a_grandchild_keeps_the_pipe() {
	tty_setup
	trap 'bw delete --force stdio-gc >/dev/null 2>&1' EXIT
	b=$(tty_bundle stdio-gc '.process.args=["sleep","60"]')
	bw run -d -b "$b" stdio-gc </dev/null >/dev/null 2>&1
	start=$(date +%s)
	out=$(stdio_pty 30 x "$BULWARK --root $BW_ROOT exec stdio-gc sh -c 'sleep 40 & echo started; exit 3'; echo rc=\$?")
	took=$(($(date +%s) - start))
	expect_contains "output" "started" "$out"
	expect_contains "exit status" "rc=3" "$out"
	[ "$took" -lt 10 ] || fail "exec took ${took}s with a grandchild holding its stdout"
	bw delete --force stdio-gc
}
