# Ephemeral sessions (issue 7): the lifetime watchdog (run.bulwark.lifetime) and the audit log
# (--audit). The runner also checks that no watchdog or agent process outlives its test.

# Running and not a zombie (a reparented init waits for a reaper that is not ours).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# A created-and-started container whose runtime processes are all gone is still killed and
# released at its lifetime: process, cgroup and state.
test_lifetime_kills_and_releases_a_detached_container() {
	b=$(new_bundle eph-life)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"2s"} | .process.args=["sleep","60"]'
	bw create -b "$b" eph-life </dev/null >/dev/null 2>&1
	bw start eph-life
	pid=$(bw state eph-life | jq .pid)
	kill -0 "$pid" || fail "not running"
	cgdir=$(find /sys/fs/cgroup/pids -type d -path "*$CG_PREFIX/eph-life" | head -1)
	[ -n "$cgdir" ] || fail "no cgroup"
	for _ in $(seq 100); do [ -d "$BW_ROOT/eph-life" ] || break; sleep 0.1; done
	[ ! -d "$BW_ROOT/eph-life" ] || fail "state still there after 10 s"
	alive "$pid" && fail "process $pid still alive"
	[ ! -d "$cgdir" ] || fail "cgroup $cgdir left"
}

# A container that ends by itself before its lifetime keeps the engine's normal path: the
# watchdog leaves, delete cleans up.
test_lifetime_watchdog_leaves_when_the_container_exits_first() {
	b=$(new_bundle eph-short)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"1h"} | .process.args=["true"]'
	bw create -b "$b" eph-short </dev/null >/dev/null 2>&1
	w=$(jq -r '.bulwark.cleanup[]? | select(.kind == "watchdog") | .pid' "$BW_ROOT/eph-short/state.json")
	[ -n "$w" ] || fail "no watchdog recorded"
	bw start eph-short
	for _ in $(seq 50); do alive "$w" || break; sleep 0.1; done
	alive "$w" && fail "watchdog $w stayed after the init exited"
	bw delete eph-short
}

test_lifetime_bad_value_is_one_line_and_creates_nothing() {
	b=$(new_bundle eph-bad)
	for v in 0s soon -5m 400d; do
		cfg "$b" ".annotations={\"run.bulwark.lifetime\":\"$v\"}"
		rc=0; out=$(bw create -b "$b" eph-bad </dev/null 2>&1) || rc=$?
		[ "$rc" -ne 0 ] || fail "accepted lifetime $v"
		expect_contains "error for $v" "run.bulwark.lifetime" "$out"
		expect_eq "one line for $v" 1 "$(echo "$out" | wc -l)"
	done
	[ ! -d "$BW_ROOT/eph-bad" ] || fail "state left"
}

# Every lifecycle event is one JSON line: created (limits, network), started, exited with
# its status, deleted.
test_audit_log_records_the_lifecycle() {
	b=$(new_bundle eph-audit)
	cfg "$b" '.process.args=["sh","-c","exit 3"] | .linux.resources={"memory":{"limit":67108864},"pids":{"limit":50}}'
	rc=0; "$BULWARK" --root "$BW_ROOT" --audit "$WORK/audit.jsonl" run -b "$b" eph-audit </dev/null || rc=$?
	expect_eq status 3 "$rc"
	expect_eq events "created started exited deleted" "$(jq -r .event "$WORK/audit.jsonl" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "ids" "eph-audit" "$(jq -r .sandbox "$WORK/audit.jsonl" | sort -u)"
	expect_eq "limits" "67108864 50" "$(jq -r 'select(.event=="created") | "\(.limits.memory) \(.limits.pids)"' "$WORK/audit.jsonl")"
	expect_eq "exit status" 3 "$(jq -r 'select(.event=="exited") | .status' "$WORK/audit.jsonl")"
	jq -se '.[0].time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")' "$WORK/audit.jsonl" >/dev/null || fail "no timestamp"
}

# create and delete as separate invocations: the path given at create is kept for the rest.
test_audit_log_path_is_remembered_after_create() {
	b=$(new_bundle eph-aud2)
	"$BULWARK" --root "$BW_ROOT" --audit "$WORK/a2.jsonl" create -b "$b" eph-aud2 </dev/null >/dev/null 2>&1
	bw delete --force eph-aud2
	expect_eq events "created deleted" "$(jq -r .event "$WORK/a2.jsonl" | tr '\n' ' ' | sed 's/ $//')"
}

# An audit log that cannot be written means no container (fail closed).
test_audit_log_unwritable_refuses_to_create() {
	b=$(new_bundle eph-aud3)
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --audit /proc/no/such/file run -b "$b" eph-aud3 </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "started without its audit log"
	expect_contains error "audit log" "$out"
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --audit relative.jsonl run -b "$b" eph-aud3 </dev/null 2>&1) || rc=$?
	expect_contains error "absolute" "$out"
	ln -s /etc/passwd "$WORK/link.jsonl"
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --audit "$WORK/link.jsonl" run -b "$b" eph-aud3 </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "followed a symlink"
	[ ! -d "$BW_ROOT/eph-aud3" ] || fail "state left"
}

# The lifetime's expiry is an audit event too.
test_audit_log_records_expiry() {
	b=$(new_bundle eph-aud4)
	cfg "$b" '.annotations={"run.bulwark.lifetime":"1s"} | .process.args=["sleep","60"]'
	"$BULWARK" --root "$BW_ROOT" --audit "$WORK/a4.jsonl" create -b "$b" eph-aud4 </dev/null >/dev/null 2>&1
	bw start eph-aud4
	for _ in $(seq 100); do [ -d "$BW_ROOT/eph-aud4" ] || break; sleep 0.1; done
	expect_eq events "created started expired deleted" "$(jq -r .event "$WORK/a4.jsonl" | tr '\n' ' ' | sed 's/ $//')"
}

# The watchdog's own descriptors (the init's pidfd, the owner's) stay its own: a poststop
# hook its teardown runs gets neither (it could signal a process it was never given).
test_lifetime_teardown_hooks_get_no_watchdog_fds() {
	b=$(new_bundle eph-hookfd)
	cat >"$WORK/hook-fds" <<'HOOK'
#!/bin/sh
ls -l /proc/$$/fd/ >"$(dirname "$0")/hook-fds.out" 2>&1
HOOK
	chmod 755 "$WORK/hook-fds"
	cfg "$b" ".annotations={\"run.bulwark.lifetime\":\"1s\"} | .process.args=[\"sleep\",\"60\"] | .hooks={\"poststop\":[{\"path\":\"$WORK/hook-fds\"}]}"
	bw run -d -b "$b" eph-hookfd </dev/null >/dev/null 2>&1
	for _ in $(seq 100); do [ -s "$WORK/hook-fds.out" ] && [ ! -d "$BW_ROOT/eph-hookfd" ] && break; sleep 0.1; done
	[ -s "$WORK/hook-fds.out" ] || fail "the poststop hook did not run at the lifetime"
	if grep -q 'pidfd\|socket' "$WORK/hook-fds.out"; then
		fail "the hook inherited the watchdog's fds: $(cat "$WORK/hook-fds.out")"
	fi
}
