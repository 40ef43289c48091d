# Terminal injection (issue #11): a process in a sandbox or container, started from a root shell
# on a terminal, pushes a command line into that terminal with ioctl(TIOCSTI); the caller's shell
# would run it after bulwark exits. Real pseudo-terminals (script(1)); the attacker is
# helpers/tty_inject.c. Each attack asserts both the attacker's view (every ioctl refused) and the
# terminal's (nothing arrives). Where a refusal could come from either the new session or the
# seccomp guard, a probe that only a filter can refuse (EPERM vs the kernel's ENOTTY on a pipe)
# and a privileged container (for which the kernel itself allows TIOCSTI on an inherited
# terminal) show the seccomp part on its own. Since test_stdio_tty.sh's fix no terminal of the
# caller's reaches fds 0-2 of a process without process.terminal (they are relayed pipes), so
# the privileged container gets one on purpose, with --preserve-fds.

TTY_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers
TTY_ATTACK_REFUSED="fd0=notty fd1=notty fd2=notty devtty=ENXIO"
TTY_ATTACK_REFUSED_NOSTDIN=$TTY_ATTACK_REFUSED
TTY_PROBE_REFUSED="sti=EPERM sti_hi=EPERM linux=EPERM linux_hi=EPERM winsz=ENOTTY"
TTY_PROBE_UNFILTERED="sti=ENOTTY sti_hi=ENOTTY linux=ENOTTY linux_hi=ENOTTY winsz=ENOTTY"

# The static attacker in $WORK/tty-bin (bound at /home in containers, at its own path in
# sandboxes) and the driver that plays the caller's shell: it runs the command on the terminal,
# then reads one line from it, which is what an interactive shell would execute next.
tty_setup() {
	if [ ! -x "$WORK/tty-bin/tty_inject" ]; then
		mkdir -p "$WORK/tty-bin"
		gcc -static -O2 -o "$WORK/tty-bin/tty_inject" "$TTY_HELPERS/tty_inject.c"
	fi
	cat >"$WORK/tty-bin/drive.sh" <<'EOF'
"$@"
echo "rc=$?"
if read -r -t 1 line; then echo "TERMINAL=[$line]"; else echo "TERMINAL=nothing"; fi
EOF
}

# on_pty CMD...: runs CMD on a fresh pseudo-terminal (its stdin, stdout, stderr and controlling
# terminal) as the driver above; prints the terminal's output without CRs. script's own stdin
# must stay open (at EOF script would send an end-of-file to the terminal, which would hide
# injected input from the driver's read), hence the silent process substitution.
on_pty() {
	local cmd="" a keep
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	exec 7< <(sleep 60)
	keep=$!
	timeout 60 script -qec "bash $WORK/tty-bin/drive.sh$cmd" /dev/null <&7 | tr -d '\r'
	exec 7<&-
	kill "$keep" 2>/dev/null || true
}

# tty_expect_safe OUT WANT: the attacker saw WANT and the terminal received nothing.
tty_expect_safe() {
	expect_contains "attacker's view" "$2" "$1"
	expect_contains "terminal" "TERMINAL=nothing" "$1"
	case $1 in *"TERMINAL=[INJECTED]"*) fail "injected into the caller's terminal: $1" ;; esac
}

sbx_tty() { bw sandbox --bind "$WORK/tty-bin" "$@"; }

# tty_bundle NAME [JQ]: the busybox container with the attacker at /home.
tty_bundle() {
	local b
	b=$(new_bundle "$1")
	cfg "$b" ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$WORK/tty-bin\",\"options\":[\"bind\",\"ro\"]}]"
	[ -n "${2:-}" ] && cfg "$b" "$2"
	echo "$b"
}

test_tty_sandbox_cannot_inject_into_the_callers_terminal() {
	tty_setup
	out=$(on_pty "$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/tty-bin" -- "$WORK/tty-bin/tty_inject" attack INJECTED)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED"
	expect_contains "sandbox exit" "rc=0" "$out"
}

test_tty_sandbox_with_stdin_redirected_cannot_inject() {
	tty_setup
	out=$(on_pty sh -c "exec \"\$@\" </dev/null" sh "$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/tty-bin" -- "$WORK/tty-bin/tty_inject" attack INJECTED)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED_NOSTDIN"
	# All three redirected: the terminal is only reachable as /dev/tty (the classic attack).
	out=$(on_pty sh -c "exec \"\$@\" </dev/null >$WORK/tty-out 2>&1" sh "$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/tty-bin" -- "$WORK/tty-bin/tty_inject" attack INJECTED)
	tty_expect_safe "$out" "rc=0"
	expect_eq "attacker's view" "fd0=notty fd1=notty fd2=notty devtty=ENXIO" "$(cat "$WORK/tty-out")"
}

test_tty_run_without_terminal_cannot_inject() {
	tty_setup
	b=$(tty_bundle tty-run '.process.args=["/home/tty_inject","attack","INJECTED"] | .process.terminal=false')
	out=$(on_pty "$BULWARK" --root "$BW_ROOT" run -b "$b" tty-run)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED"
	out=$(on_pty sh -c "exec \"\$@\" </dev/null" sh "$BULWARK" --root "$BW_ROOT" run -b "$b" tty-run2)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED_NOSTDIN"
}

test_tty_exec_without_t_cannot_inject() {
	tty_setup
	trap 'bw delete --force tty-exec >/dev/null 2>&1' EXIT
	b=$(tty_bundle tty-exec '.process.args=["sleep","60"]')
	bw run -d -b "$b" tty-exec </dev/null >/dev/null 2>&1
	out=$(on_pty "$BULWARK" --root "$BW_ROOT" exec tty-exec /home/tty_inject attack INJECTED)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED"
	out=$(on_pty sh -c "exec \"\$@\" </dev/null" sh "$BULWARK" --root "$BW_ROOT" exec tty-exec /home/tty_inject attack INJECTED)
	tty_expect_safe "$out" "$TTY_ATTACK_REFUSED_NOSTDIN"
	bw delete --force tty-exec
}

# The session half of the fix, on its own: every process leads a new session, so the caller's
# terminal is nobody's controlling terminal inside (/dev/tty: ENXIO above).
test_tty_sandbox_run_and_exec_processes_lead_their_own_session() {
	tty_setup
	expect_eq sandbox leader "$(on_pty "$BULWARK" --root "$BW_ROOT" sandbox --bind "$WORK/tty-bin" -- "$WORK/tty-bin/tty_inject" session | head -1)"
	trap 'bw delete --force tty-sid >/dev/null 2>&1' EXIT
	b=$(tty_bundle tty-sid '.process.args=["sleep","60"]')
	bw run -d -b "$b" tty-sid </dev/null >/dev/null 2>&1
	expect_eq "run -d" 1 "$(awk '{print ($6 == pid)}' pid="$(bw state tty-sid | jq .pid)" "/proc/$(bw state tty-sid | jq .pid)/stat")"
	expect_eq exec leader "$(on_pty "$BULWARK" --root "$BW_ROOT" exec tty-sid /home/tty_inject session | head -1)"
	bw delete --force tty-sid
}

# The seccomp half, where only a filter can answer EPERM: the default profile of `sandbox` (and
# of its rw-workspace variant), and the default profile of `bulwark spec` without the guard.
test_tty_default_profiles_refuse_tiocsti_and_tioclinux() {
	tty_setup
	expect_eq "sandbox" "$TTY_PROBE_REFUSED" "$(sbx_tty -- "$WORK/tty-bin/tty_inject" probe </dev/null)"
	mkdir -p "$WORK/tty-ws"
	expect_eq "sandbox, rw workspace" "$TTY_PROBE_REFUSED" \
		"$(sbx_tty --workspace "$WORK/tty-ws:rw" -- "$WORK/tty-bin/tty_inject" probe </dev/null)"
	mkdir -p "$WORK/tty-spec"
	bw spec --bundle "$WORK/tty-spec"
	b=$(tty_bundle tty-prof ".process.args=[\"/home/tty_inject\",\"probe\"]
		| .linux.seccomp = $(jq .linux.seccomp "$WORK/tty-spec/config.json")
		| .annotations[\"run.bulwark.tty-guard\"] = \"false\"")
	expect_eq "spec profile, no guard" "$TTY_PROBE_REFUSED" "$(bw run -b "$b" tty-prof </dev/null)"
}

# An engine's profile that allows every ioctl, and no profile at all: the guard alone refuses
# (in exec'd processes too); with run.bulwark.tty-guard=false the same probe reaches the kernel.
test_tty_guard_refuses_under_any_engine_profile() {
	tty_setup
	b=$(tty_bundle tty-allow '.process.args=["/home/tty_inject","probe"]
		| .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW"}')
	expect_eq "allow-all profile" "$TTY_PROBE_REFUSED" "$(bw run -b "$b" tty-allow </dev/null)"
	cfg "$b" 'del(.linux.seccomp)'
	expect_eq "no profile" "$TTY_PROBE_REFUSED" "$(bw run -b "$b" tty-none </dev/null)"
	cfg "$b" '.annotations["run.bulwark.tty-guard"] = "false"'
	expect_eq "opted out" "$TTY_PROBE_UNFILTERED" "$(bw run -b "$b" tty-off </dev/null)"
	cfg "$b" '.annotations["run.bulwark.tty-guard"] = "off"'
	rc=0; out=$(bw run -b "$b" tty-bad </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "bad annotation value accepted"
	expect_contains "bad value" 'run.bulwark.tty-guard: must be "true" or "false", not "off"' "$out"
	trap 'bw delete --force tty-exg >/dev/null 2>&1' EXIT
	b=$(tty_bundle tty-exg '.process.args=["sleep","60"] | .linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW"}')
	bw run -d -b "$b" tty-exg </dev/null >/dev/null 2>&1
	expect_eq "exec" "$TTY_PROBE_REFUSED" "$(bw exec tty-exg /home/tty_inject probe </dev/null)"
	bw delete --force tty-exg
}

# Why the session is not enough: with CAP_SYS_ADMIN the kernel lets TIOCSTI through on any
# terminal fd, controlling or not. A privileged container handed the caller's terminal as fd 3
# (--preserve-fds; stdin from /dev/null, so that bulwark's relay reads nothing from the
# terminal) injects for real once the guard is off; with the guard, nothing arrives.
test_tty_guard_stops_a_privileged_container() {
	tty_setup
	b=$(tty_bundle tty-priv '.process.args=["/home/tty_inject","attack","INJECTED"]
		| .process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])')
	out=$(on_pty sh -c 'exec "$@" 3<>/dev/tty </dev/null' sh "$BULWARK" --root "$BW_ROOT" run --preserve-fds 1 -b "$b" tty-priv)
	tty_expect_safe "$out" "devtty=ENXIO fd3=EPERM"
	cfg "$b" '.annotations["run.bulwark.tty-guard"] = "false"'
	out=$(on_pty sh -c 'exec "$@" 3<>/dev/tty </dev/null' sh "$BULWARK" --root "$BW_ROOT" run --preserve-fds 1 -b "$b" tty-priv2)
	expect_contains "without the guard the attack works (the test can see it)" "TERMINAL=[INJECTED]" "$out"
	expect_contains "still no controlling terminal" "devtty=ENXIO" "$out"
}
