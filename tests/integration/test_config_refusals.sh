# Hostile config.json values (issue #11 classes 4 and 6): each is refused with one line naming
# the field, a non-zero exit, and nothing left behind (the runner's leak check covers state
# dirs, cgroups, mounts and helper processes); hooks that close their stdin early do not kill
# bulwark by SIGPIPE.

# cfgref_bundle ID: a bundle whose container would write `id -u` to $WORK/out/ID/ran (a host
# directory bound at /out), so a refusal can prove the process never ran.
cfgref_bundle() {
	local b
	b=$(new_bundle "$1")
	mkdir -p "$WORK/out/$1"
	chmod 777 "$WORK/out/$1"
	cfg "$b" ".mounts += [{\"destination\":\"/out\",\"type\":\"bind\",\"source\":\"$WORK/out/$1\",\"options\":[\"rbind\",\"rw\"]}]"
	cfg "$b" '.process.args=["sh","-c","id -u >/out/ran"]'
	echo "$b"
}

# cfgref_expect_gone ID: no state dir, no cgroup directory in any hierarchy.
cfgref_expect_gone() {
	[ ! -e "$BW_ROOT/$1" ] || fail "state dir of $1 left behind"
	local left
	left=$(find /sys/fs/cgroup -type d -path "*/$CG_PREFIX/$1" 2>/dev/null)
	[ -z "$left" ] || fail "cgroup of $1 left behind: $left"
}

# cfgref_refused WHAT NEEDLE CMD...: CMD fails with exactly one line on stderr that contains
# NEEDLE (the field) and no control characters.
cfgref_refused() {
	local what=$1 needle=$2 out rc=0
	shift 2
	out=$("$@" </dev/null 2>&1 >/dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "$what: accepted"
	# 255: runc's status for an exec that failed (bulwark's too); else below 128, no signal.
	[ "$rc" -lt 128 ] || [ "$rc" -eq 255 ] || fail "$what: killed by signal $((rc - 128))"
	expect_eq "$what: error lines" 1 "$(printf '%s\n' "$out" | wc -l)"
	expect_contains "$what: error" "$needle" "$out"
	if printf '%s' "$out" | LC_ALL=C grep -q '[[:cntrl:]]'; then
		fail "$what: control characters in the message: $(printf '%s' "$out" | od -c | head -3)"
	fi
	echo "$out"
}

# The kernel reads (uid_t)-1 as "unchanged": uid 4294967295 used to run the process as root.
test_cfgref_uid_minus_one_as_uint32_is_refused_and_nothing_runs() {
	local id=cfgref-uid f
	b=$(cfgref_bundle $id)
	for f in uid gid; do
		cfg "$b" ".process.user={\"uid\":0,\"gid\":0} | .process.user.$f=4294967295"
		cfgref_refused "$f" "process.user.$f: must be <= 2147483647" bw run -b "$b" $id
		cfgref_expect_gone $id
	done
	cfg "$b" '.process.user={"uid":1000,"gid":1000,"additionalGids":[4294967295]}'
	cfgref_refused additionalGids "process.user.additionalGids[0]" bw run -b "$b" $id
	cfgref_expect_gone $id
	[ ! -e "$WORK/out/$id/ran" ] || fail "the process ran (as uid $(cat "$WORK/out/$id/ran"))"
	# The highest valid id still works.
	cfg "$b" '.process.user={"uid":2147483647,"gid":2147483647}'
	bw run -b "$b" $id </dev/null || fail "uid 2147483647 refused"
	expect_eq "ran as" 2147483647 "$(cat "$WORK/out/$id/ran")"
	bw delete --force $id 2>/dev/null || true
}

test_cfgref_exec_user_minus_one_is_refused_and_nothing_runs() {
	local id=cfgref-exu
	b=$(cfgref_bundle $id)
	cfg "$b" '.process.args=["sleep","60"]'
	bw run -d -b "$b" $id </dev/null >/dev/null 2>&1 || fail "run -d"
	cfgref_refused "exec --user" "--user" bw exec --user 4294967295 $id sh -c 'id -u >/out/ran'
	cfgref_refused "exec --user :gid" "--user" bw exec --user 0:4294967295 $id sh -c 'id -u >/out/ran'
	cfgref_refused "exec --additional-gids" "--additional-gids" \
		bw exec --user 1000 --additional-gids 4294967295 $id sh -c 'id -u >/out/ran'
	cat >"$WORK/p.json" <<JSON
{"user": {"uid": 4294967295, "gid": 0}, "args": ["sh", "-c", "id -u >/out/ran"], "cwd": "/"}
JSON
	cfgref_refused "exec --process" "user.uid: must be <= 2147483647" \
		bw exec --process "$WORK/p.json" $id
	[ ! -e "$WORK/out/$id/ran" ] || fail "an exec ran (as uid $(cat "$WORK/out/$id/ran"))"
	expect_eq "container still running" running "$(bw state $id | jq -r .status)"
	bw delete --force $id
}

# Over NAME_MAX the id used to pass validation and fail at mkdir ("File name too long").
test_cfgref_container_id_over_255_bytes_is_refused_naming_the_id() {
	local long
	long=$(printf 'a%.0s' $(seq 256))
	b=$(cfgref_bundle cfgref-long)
	out=$(cfgref_refused "256-byte id" "invalid container id \"aaaa" bw run -b "$b" "$long")
	expect_contains "reason" "(256 bytes): must be at most 255 bytes" "$out"
	[ ! -e "$BW_ROOT/$long" ] || fail "state dir left"
	bw run -b "$b" "${long:0:255}" </dev/null || fail "a 255-byte id is refused"
	bw delete --force "${long:0:255}" 2>/dev/null || true
}

# Control characters in ids and paths are escaped in the message (one line, no terminal codes).
test_cfgref_control_characters_in_messages_are_escaped() {
	b=$(cfgref_bundle cfgref-ctl)
	out=$(cfgref_refused "id with ESC and newline" 'invalid container id "a\x1b[2Jb\x0ac"' \
		bw run -b "$b" $'a\e[2Jb\nc')
	cfg "$b" '.root.path="nosuch\n\u001b[2J"'
	out=$(cfgref_refused "root.path with controls" 'root.path' bw run -b "$b" cfgref-ctl)
	expect_contains "escaped path" 'nosuch\x0a\x1b[2J' "$out"
	bw --log "$WORK/log.json" --log-format json run -b "$b" cfgref-ctl </dev/null 2>/dev/null &&
		fail "accepted"
	jq -e . "$WORK/log.json" >/dev/null || fail "--log line is not JSON: $(cat "$WORK/log.json")"
	expect_eq "--log lines" 1 "$(wc -l <"$WORK/log.json")"
	cfgref_expect_gone cfgref-ctl
}

# runc writes "max" for any negative pids.limit: -5 lifted the limit without a word.
test_cfgref_pids_limit_below_minus_one_is_refused() {
	b=$(cfgref_bundle cfgref-pids)
	cfg "$b" '.linux.resources.pids={"limit":-5}'
	cfgref_refused "pids -5" "linux.resources.pids.limit: must be > 0, or -1 or 0 for unlimited" \
		bw run -b "$b" cfgref-pids
	cfgref_expect_gone cfgref-pids
	[ ! -e "$WORK/out/cfgref-pids/ran" ] || fail "the process ran"
	# -1 and 0 (what Docker sends) still mean unlimited.
	for v in -1 0; do
		cfg "$b" ".linux.resources.pids={\"limit\":$v} | .process.args=[\"sleep\",\"30\"]"
		bw run -d -b "$b" cfgref-pids </dev/null >/dev/null || fail "pids.limit $v refused"
		expect_eq "pids.max for $v" max "$(cat /sys/fs/cgroup/pids/$CG_PREFIX/cfgref-pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/$CG_PREFIX/cfgref-pids/pids.max)"
		bw delete --force cfgref-pids
	done
	cfgref_refused "update --pids-limit -5" "--pids-limit" bw update --pids-limit -5 nosuch
}

# The host's / as a rootfs, however it is named, would give the container the host.
test_cfgref_rootfs_that_is_the_host_root_is_refused() {
	local id=cfgref-root p
	b=$(new_bundle $id)
	# Should the refusal ever break, nothing is mounted or written on the host.
	cfg "$b" '.mounts=[] | .process.args=["true"] | .root.readonly=true'
	ln -s / "$b/hostroot"
	ln -s ../../../../../../../../.. "$b/up"
	for p in / // /tmp/.. /. hostroot up "$b/hostroot/tmp/.."; do
		cfg "$b" ".root.path=\"$p\""
		out=$(cfgref_refused "root.path $p" "root.path: invalid rootfs" bw run -b "$b" $id)
		expect_contains "root.path $p: reason" "the host's root directory" "$out"
		cfgref_expect_gone $id
	done
}

test_cfgref_relative_rootfs_leaving_the_bundle_is_refused() {
	local id=cfgref-rel
	b=$(new_bundle $id)
	cfg "$b" '.mounts=[] | .process.args=["true"]'
	cfg "$b" ".root.path=\"../$id/rootfs\""
	cfgref_refused "root.path ../" "root.path: invalid rootfs: a relative path must stay inside the bundle" \
		bw run -b "$b" $id
	cfgref_expect_gone $id
}

# A symlink the bundle's author placed (new_bundle makes rootfs one) is resolved once, at
# create: the state records, and the container gets, the directory it named then.
test_cfgref_symlinked_rootfs_is_resolved_once_at_create() {
	local id=cfgref-link
	b=$(new_bundle $id)
	cfg "$b" '.process.args=["sleep","30"]'
	bw create -b "$b" $id </dev/null >/dev/null || fail "create with a symlinked rootfs"
	expect_eq "state rootfs" "$(readlink -f "$ROOTFS")" "$(bw state $id | jq -r .rootfs)"
	# Re-pointing the link after create changes nothing for the container.
	mkdir -p "$WORK/other/bin"
	ln -sfn "$WORK/other" "$b/rootfs"
	bw start $id || fail "start"
	pid=$(bw state $id | jq -r .pid)
	[ -e "/proc/$pid/root/bin/busybox" ] || fail "the container's root is not the resolved rootfs"
	bw delete --force $id
}

# A hook that closes its stdin without reading and exits. bulwark writes the state right after
# the fork, so it usually lands in the pipe before the hook closes it; when the hook wins (a
# loaded host), the write fails with EPIPE, which was SIGPIPE: `create` died with 141 and left
# its state behind. These check the outcome either way (the hook's status decides);
# test_cfgref_log_fifo_reader_gone_does_not_kill_create forces the EPIPE.
cfgref_hook_bundle() { # ID KIND EXIT
	local b
	b=$(new_bundle "$1")
	# startContainer hooks run in the container: the script lives in the (per-run) rootfs.
	cat >"$ROOTFS/hook-$1.sh" <<HOOK
#!/bin/sh
exec 0<&-
sleep 0.1
exit $3
HOOK
	chmod 755 "$ROOTFS/hook-$1.sh"
	local path=/hook-$1.sh
	[ "$2" = startContainer ] || path=$ROOTFS/hook-$1.sh
	cfg "$b" ".process.args=[\"sleep\",\"30\"] | .hooks.$2=[{\"path\":\"$path\"}]"
	echo "$b"
}

test_cfgref_hook_closing_stdin_early_does_not_kill_create() {
	local kind id
	for kind in prestart createRuntime startContainer; do
		id=cfgref-hk-$(echo $kind | tr A-Z a-z)
		b=$(cfgref_hook_bundle $id $kind 0)
		rc=0
		bw create -b "$b" $id </dev/null >/dev/null 2>"$WORK/err" || rc=$?
		expect_eq "$kind: create exit status ($(cat "$WORK/err"))" 0 $rc
		rc=0
		bw start $id 2>"$WORK/err" || rc=$?
		expect_eq "$kind: start exit status ($(cat "$WORK/err"))" 0 $rc
		sleep 0.3
		expect_eq "$kind: container" running "$(bw state $id | jq -r .status)"
		bw delete --force $id
	done
}

test_cfgref_failing_hook_closing_stdin_fails_create_cleanly() {
	local kind id
	for kind in prestart createRuntime; do
		id=cfgref-hkf-$(echo $kind | tr A-Z a-z)
		b=$(cfgref_hook_bundle $id $kind 3)
		cfgref_refused "$kind hook exit 3" "$kind hook #0" bw create -b "$b" $id >"$WORK/out.txt"
		expect_contains "$kind: reason" "exit status 3" "$(cat "$WORK/out.txt")"
		cfgref_expect_gone $id
	done
}

# Peers of ours that stop reading early: `events` ends quietly when its reader goes away.
test_cfgref_events_reader_closing_early_does_not_kill_bulwark() {
	local id=cfgref-ev
	b=$(new_bundle $id)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" $id </dev/null >/dev/null || fail "run -d"
	rc=0
	timeout 20 "$BULWARK" --root "$BW_ROOT" events --interval 1 $id 2>"$WORK/err" | head -c 1 >/dev/null
	rc=${PIPESTATUS[0]}
	expect_eq "events exit status ($(cat "$WORK/err"))" 0 "$rc"
	bw delete --force $id
}

# A deterministic EPIPE: --log is a FIFO whose only reader the first prestart hook kills; the
# debug line announcing the second hook is written to a pipe nobody reads. That was SIGPIPE (exit 141, the
# state, cgroup and init left behind); now the log line is lost and the create goes on.
test_cfgref_log_fifo_reader_gone_does_not_kill_create() {
	local id=cfgref-fifo
	b=$(new_bundle $id)
	mkfifo "$WORK/log.fifo"
	sleep 60 <"$WORK/log.fifo" &
	reader=$!
	cat >"$WORK/kill-reader.sh" <<HOOK
#!/bin/sh
kill $reader
while kill -0 $reader 2>/dev/null; do sleep 0.05; done
HOOK
	chmod 755 "$WORK/kill-reader.sh"
	cfg "$b" ".process.args=[\"sleep\",\"30\"] | .hooks.prestart=[{\"path\":\"$WORK/kill-reader.sh\"},{\"path\":\"/bin/true\"}]"
	rc=0
	"$BULWARK" --root "$BW_ROOT" --debug --log "$WORK/log.fifo" create -b "$b" $id </dev/null \
		>/dev/null 2>"$WORK/err" || rc=$?
	wait $reader 2>/dev/null || true
	expect_eq "create exit status ($(cat "$WORK/err"))" 0 $rc
	expect_eq "state" created "$(bw state $id | jq -r .status)"
	bw delete --force $id
}

# memory.limit 1: the kernel takes it (v1 writes it while the cgroup is empty), then the init is
# OOM-killed before execve and all one saw was "receive sync message: Connection reset by
# peer". runc 1.1.5: "unable to set memory limit to 1 (current usage: ...)".
test_cfgref_memory_limit_too_low_for_the_init_names_the_field() {
	b=$(cfgref_bundle cfgref-mem)
	cfg "$b" '.linux.resources.memory={"limit":1}'
	out=$(cfgref_refused "memory.limit 1" "linux.resources.memory.limit: 1 bytes is too low" \
		bw run -b "$b" cfgref-mem)
	expect_contains "reason" "OOM killer" "$out"
	cfgref_expect_gone cfgref-mem
	[ ! -e "$WORK/out/cfgref-mem/ran" ] || fail "the process ran"
}

# RLIMIT_AS 1: the kernel kills the process inside execve (past its point of no return) with
# SIGSEGV: exit 139 and no message, with runc 1.1.5 as well. The init now adds up what
# execve maps and refuses first, naming the rlimit.
test_cfgref_rlimit_as_too_small_to_exec_names_the_rlimit() {
	local r
	b=$(cfgref_bundle cfgref-rlas)
	for r in RLIMIT_AS RLIMIT_DATA; do
		cfg "$b" ".process.rlimits=[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024},{\"type\":\"$r\",\"hard\":1,\"soft\":1}]"
		out=$(cfgref_refused "$r 1" "process.rlimits[1] ($r): soft limit 1 is below the" \
			bw run -b "$b" cfgref-rlas)
		expect_contains "$r: names the executable" '"/bin/sh"' "$out"
		cfgref_expect_gone cfgref-rlas
	done
	[ ! -e "$WORK/out/cfgref-rlas/ran" ] || fail "the process ran"
	# Room enough: the limit is applied, and the process runs under it.
	cfg "$b" '.process.rlimits=[{"type":"RLIMIT_AS","hard":268435456,"soft":268435456}] | .process.args=["sh","-c","ulimit -v >/out/ran"]'
	bw run -b "$b" cfgref-rlas </dev/null || fail "RLIMIT_AS 256 MiB refused"
	expect_eq "ulimit -v" 262144 "$(cat "$WORK/out/cfgref-rlas/ran")"
}

# A relative cgroupsPath "x/a/leaf" made x and x/a in every v1 hierarchy and delete left them.
# The parents create made are recorded in the state and removed at delete when empty; one
# that existed before (here: in the pids hierarchy) is left alone.
test_cfgref_relative_cgroups_path_parents_are_removed_at_delete() {
	local top=cfgref-rel-$$ id=cfgref-rel own pre
	b=$(new_bundle $id)
	cfg "$b" ".process.args=[\"sleep\",\"30\"] | .linux.cgroupsPath=\"$top/a/$id\""
	own=$(awk -F: '$2 == "pids" {print $3}' /proc/self/cgroup)
	pre=/sys/fs/cgroup/pids${own%/}/$top
	mkdir -p "$pre"
	bw run -d -b "$b" $id </dev/null >/dev/null || fail "run -d"
	made=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "$top" 2>/dev/null | wc -l)
	[ "$made" -ge 2 ] || fail "expected $top in several hierarchies, got $made"
	bw delete --force $id
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -path "*/$top*" 2>/dev/null)
	expect_eq "left after delete" "$pre" "$left"
	rmdir "$pre"
	# A failed create removes what it made too.
	cfg "$b" '.process.args=["/nonexistent"]'
	bw run -b "$b" $id </dev/null >/dev/null 2>&1 && fail "ran /nonexistent"
	left=$(find /sys/fs/cgroup -maxdepth 6 -type d -path "*/$top*" 2>/dev/null)
	expect_eq "left after a failed create" "" "$left"
}

# The refusal is for bundles: `sandbox --rootfs /` (however spelled) is the sandbox's default
# view of the host, read-only and with the host's /run hidden, as without --rootfs.
test_cfgref_sandbox_rootfs_slash_is_the_default_view() {
	local p out
	for p in / /tmp/..; do
		out=$(bw sandbox --rootfs "$p" -- sh -c 'ls -A /run | wc -l; touch /etc/x 2>/dev/null || echo ro') ||
			fail "sandbox --rootfs $p: exit $?"
		expect_eq "sandbox --rootfs $p" "0 ro" "$(echo $out)"
	done
}
