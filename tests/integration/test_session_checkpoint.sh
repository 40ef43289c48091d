# bulwark session checkpoint (issue 17; runtime/session/session_checkpoint.c, docs/sessions.md).
# test_session_ckpt_*: everywhere (refusals; on a kernel CRIU cannot work with, its reason).
# test_criu_session_*: run by tests/vm/run-vm-suite.sh (the VM's 6.1 kernel, where CRIU works).

sck() { "$BULWARK" --root "$BW_ROOT" session "$@"; }
sck_criu_works() {
	command -v criu >/dev/null && criu check --no-default-config --log-file=/dev/null >/dev/null 2>&1
}
# Nothing of session $1 is left: no state, no process naming the state root (the runner's leak
# checks cover cgroups, mounts and id ranges).
sck_gone() {
	local f
	[ ! -e "$BW_ROOT/$1" ] || return 1
	for f in /proc/[0-9]*/cmdline; do
		{ tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "bulwark-session $1" && return 1
	done
	return 0
}

# Every session has Landlock unless made with --checkpointable; CRIU cannot carry it over, so
# the checkpoint is refused in one line naming the reason, before anything is touched.
test_session_ckpt_landlock_session_refused() {
	local dir=$WORK/img.${FUNCNAME[0]} out rc=0
	sck create s-ck-ll >/dev/null
	sck exec s-ck-ll -- sh -c 'echo kept >/tmp/f'
	out=$(sck checkpoint s-ck-ll "$dir" 2>&1) || rc=$?
	expect_eq "refused" 125 "$rc"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains "names Landlock" "confined by Landlock (run.bulwark.landlock=default)" "$out"
	expect_contains "says the way" "session create --checkpointable" "$out"
	[ ! -e "$dir" ] || fail "a refused checkpoint made $dir"
	expect_eq "still there" kept "$(sck exec s-ck-ll -- cat /tmp/f)"
	sck rm s-ck-ll
	wait_for 2 sck_gone s-ck-ll || fail "left: $(ls "$BW_ROOT")"
}

test_session_ckpt_refuses_bad_input_with_one_line() {
	local dir=$WORK/img.${FUNCNAME[0]} out rc
	# --checkpointable with a network allowlist: its nft table and DNS agent would not be
	# carried over; refused at create, nothing made.
	rc=0; out=$(sck create --checkpointable --allow 203.0.113.0/24:443/tcp s-ck-net 2>&1) || rc=$?
	expect_eq "allowlist refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names it" "--checkpointable: not with a network allowlist" "$out"
	sck_gone s-ck-net || fail "a refused create left s-ck-net"
	rc=0; out=$(sck checkpoint no-such-session "$dir" 2>&1) || rc=$?
	expect_eq "unknown" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "unknown names it" "no-such-session" "$out"
	rc=0; out=$(sck checkpoint s-only-one 2>&1) || rc=$?
	expect_eq "one argument" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "usage" "expected NAME and DIR" "$out"
	sck create --checkpointable s-ck-bad >/dev/null
	expect_eq "no Landlock, no generated AppArmor" "off off 1" \
		"$("$BULWARK" --root "$BW_ROOT" state s-ck-bad | jq -r '.annotations | "\(.["run.bulwark.landlock"]) \(.["run.bulwark.apparmor"]) \(.["run.bulwark.session.checkpointable"])"')"
	# The rest of the confinement is the session's as ever.
	out=$(sck exec s-ck-bad -- sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t"')
	expect_eq "confined" "CapEff:0000000000000000 NoNewPrivs:1 Seccomp:2" "$(echo $out)"
	# DIR must be new: an existing one (or a symlink) is never written into.
	mkdir -p "$WORK/exists"
	ln -sfn "$WORK/exists" "$WORK/link"
	for d in "$WORK/exists" "$WORK/link"; do
		rc=0; out=$(sck checkpoint s-ck-bad "$d" 2>&1) || rc=$?
		expect_eq "existing $d" "125 1" "$rc $(echo "$out" | wc -l)"
		expect_contains "says so" "exists (a new directory is made for the image)" "$out"
	done
	[ -z "$(ls -A "$WORK/exists")" ] || fail "written into an existing directory: $(ls "$WORK/exists")"
	# No CRIU: one line, and the DIR made for it goes again.
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --criu /nonexistent/criu session checkpoint s-ck-bad "$dir" 2>&1) || rc=$?
	expect_eq "no criu" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says so" "\`/nonexistent/criu\` not found" "$out"
	[ ! -e "$dir" ] || fail "a failed checkpoint left $dir: $(ls -A "$dir")"
	# Never while an exec runs (its processes' parent is outside the session's tree).
	sck exec s-ck-bad -- sleep 3 &
	local ex=$!
	wait_for 3 sh -c "ps -eo args | grep -q '^sleep 3'" || fail "the exec did not start"
	rc=0; out=$(sck checkpoint s-ck-bad "$dir" 2>&1) || rc=$?
	expect_eq "busy" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says why" "has an exec or cp running" "$out"
	[ ! -e "$dir" ] || fail "a refused checkpoint made $dir"
	wait "$ex" || fail "the running exec failed"
	sck rm s-ck-bad
	wait_for 2 sck_gone s-ck-bad || fail "left: $(ls "$BW_ROOT")"
}

# A checkpointable session's pid 1 runs from a real file (CRIU 3.17 cannot restore a memfd
# executable): the session's own read-only copy of bulwark, bound read-only into the session;
# the session can write neither it nor the host's binary, and the copy goes with the session,
# also when the supervisor is SIGKILLed (the watchdog's teardown).
test_session_ckpt_checkpointable_init_runs_from_a_read_only_copy() {
	local pid copy out sup
	sck create --checkpointable s-ck-exe >/dev/null
	pid=$("$BULWARK" --root "$BW_ROOT" state s-ck-exe | jq -r .pid)
	expect_eq "init's executable" /.bulwark-session-init "$(readlink "/proc/$pid/exe")"
	expect_eq "init's argv" bulwark-session-init "$(tr '\0' ' ' <"/proc/$pid/cmdline" | sed 's/ $//')"
	copy=$(ls "$BW_ROOT"/.s-ck-exe.*.init)
	expect_eq "the copy" "555 0 0 $(stat -c %s "$BULWARK")" "$(stat -c '%a %u %g %s' "$copy")"
	cmp -s "$copy" "$BULWARK" || fail "the copy is not the runtime's binary"
	out=$(sck exec s-ck-exe -- sh -c 'echo x >>/.bulwark-session-init 2>/dev/null && echo WROTE; awk "\$5 == \"/.bulwark-session-init\" {print substr(\$6, 1, 3)}" /proc/self/mountinfo; cat /proc/1/exe >/dev/null 2>&1 && echo READ1; kill -9 1; sleep 0.2; cat /proc/1/comm')
	expect_eq "read-only, pid 1 kept" "ro, bulwark-session" "$(echo $out)"
	cmp -s "$copy" "$BULWARK" || fail "the copy changed"
	sck rm s-ck-exe
	wait_for 2 sck_gone s-ck-exe || fail "left: $(ls "$BW_ROOT")"
	[ -z "$(ls -A "$BW_ROOT" | grep '\.init$')" ] || fail "the copy is left: $(ls -A "$BW_ROOT")"
	# The supervisor SIGKILLed: the watchdog releases the session, the copy with it.
	sck create --checkpointable s-ck-exe >/dev/null
	sup=$(jq -r '.bulwark.cleanup[]? | select(.kind == "session") | .pid' "$BW_ROOT/s-ck-exe/state.json")
	kill -9 "$sup"
	wait_for 5 sck_gone s-ck-exe || fail "left after SIGKILL: $(ls "$BW_ROOT")"
	wait_for 2 sh -c "! ls -A '$BW_ROOT' | grep -q '\.init\$'" || fail "the copy is left: $(ls -A "$BW_ROOT")"
}

# A stand-in for CRIU that first does what a session able to write DIR's parent could do mid-
# dump -- moves DIR away and leaves a symlink to another directory in its place -- then writes
# an "image" into the --images-dir it was given and ends the dumped tree, as CRIU does.
sck_swapping_criu() {
	cat >"$1" <<'SH'
#!/bin/sh
img= tree=
while [ $# -gt 0 ]; do
	case $1 in --images-dir) img=$2; shift ;; --tree) tree=$2; shift ;; esac
	shift
done
mv "$SWAP_DIR" "$SWAP_DIR.moved" && ln -s "$SWAP_TO" "$SWAP_DIR" || exit 1
echo inv >"$img/inventory.img" && echo dump >"$img/dump.log" || exit 1
[ -z "$tree" ] || kill -9 "$tree"
SH
	chmod 755 "$1"
}

# DIR is held by fd from the moment it is made: CRIU is given /proc/self/fd/N and bulwark
# writes session.json and config.json through the fd, so a DIR swapped for a symlink mid-dump
# sends nothing to the symlink's target.
test_session_ckpt_dir_swapped_mid_dump_writes_nothing_elsewhere() {
	local dir=$WORK/img.${FUNCNAME[0]} to=$WORK/elsewhere.${FUNCNAME[0]} criu=$WORK/swap-criu
	sck_swapping_criu "$criu"
	mkdir -p "$to"
	sck create --checkpointable s-ck-swap >/dev/null
	SWAP_DIR=$dir SWAP_TO=$to "$BULWARK" --root "$BW_ROOT" --criu "$criu" session checkpoint s-ck-swap "$dir" ||
		fail "the checkpoint failed"
	expect_eq "nothing in the symlink's target" "" "$(ls -A "$to")"
	expect_eq "all in the directory made" "bulwark.seal config.json descriptors.json dump.log inventory.img session.json" \
		"$(ls "$dir.moved" | grep -v '^bulwark-stdio' | tr '\n' ' ' | sed 's/ $//')"
	wait_for 5 sck_gone s-ck-swap || fail "left: $(ls "$BW_ROOT")"
}

# Rootless, --checkpointable would take the Landlock domain that isolates the session's init
# from the session: refused in one line, nothing made.
test_session_ckpt_rootless_checkpointable_refused() {
	local root=$WORK/rl-ck out rc=0
	mkdir -p "$root" && chown 65534:65534 "$root" && chmod 700 "$root"
	out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$root" session create --checkpointable s-rl-ck 2>&1) || rc=$?
	expect_eq "refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says why" "--checkpointable: needs root" "$out"
	expect_eq "nothing left" "" "$(ls -A "$root")"
}

# An image directory as `session checkpoint` leaves it, but for CRIU's files (a stand-in
# inventory.img): the config.json of a live checkpointable session, and its session.json.
srs_fake_dir() {
	local dir=$1
	sck create --checkpointable s-rs-src >/dev/null
	mkdir -m 700 "$dir"
	cp "$BW_ROOT/s-rs-src/config.json" "$dir/config.json"
	sck rm s-rs-src
	wait_for 5 sck_gone s-rs-src || fail "left: $(ls "$BW_ROOT")"
	echo inv >"$dir/inventory.img"
	printf '{"version":1,"name":"s-rs-src","checkpointed":1,"age_seconds":1,"idle_timeout_ms":0,"lifetime_ms":3600000,"lifetime_left_ms":3000000,"disk_bytes":1,"limits":"x"}\n' >"$dir/session.json"
	chmod 600 "$dir"/*
	srs_seal "$dir"
}

# srs_seal DIR: the seal `session checkpoint` writes (runtime/session/session_seal.c), made
# here with this host's key (made as bulwark would when missing): the checks behind the seal
# are then reached with a DIR changed on purpose.
srs_seal() {
	python3 - "$1" "$BW_ROOT" <<'PY'
import hashlib, hmac, os, struct, sys
d, root = sys.argv[1], sys.argv[2]
kd = "/var/lib/bulwark"
try:
    os.makedirs(kd, 0o700, exist_ok=True)
except OSError:
    kd = root
kp = os.path.join(kd, "session-checkpoint.key")
if not os.path.exists(kp):
    fd = os.open(kp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
key = open(kp, "rb").read()
m = hmac.new(key, b"bulwark-session-seal-v1\0", hashlib.sha256)
for n in sorted(os.listdir(d), key=os.fsencode):
    if n in ("bulwark.seal", "restore.log", "stats-restore"):
        continue
    p = os.path.join(d, n)
    if os.path.islink(p) or not os.path.isfile(p):
        continue
    data = open(p, "rb").read()
    m.update(os.fsencode(n) + b"\0" + struct.pack("<Q", len(data)) + data)
fd = os.open(os.path.join(d, "bulwark.seal"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.write(fd, (m.hexdigest() + "\n").encode())
os.close(fd)
PY
}

# Nothing of a refused restore is left: no state, no supervisor, no id slot naming it, no copy
# of bulwark, nothing new in DIR.
srs_nothing_left() {
	local name=$1 dir=$2 before=$3
	[ ! -e "$BW_ROOT/$name" ] || fail "$name's state is left"
	wait_for 2 sck_gone "$name" || fail "$name left: $(ls -A "$BW_ROOT")"
	[ -z "$(ls -A "$BW_ROOT" | grep '\.init$')" ] || fail "a copy is left: $(ls -A "$BW_ROOT")"
	[ -z "$(ls /run/bulwark-session-files 2>/dev/null | grep "^$name\.")" ] ||
		fail "its files are left: $(ls -R /run/bulwark-session-files)"
	! grep -qs "/$name\$" /run/bulwark-idpool/* || fail "an id slot names $name"
	expect_eq "DIR untouched" "$before" "$(ls -A "$dir" | tr '\n' ' ')"
}

# DIR is hostile: each refusal is one line naming the field, before anything is made.
test_session_restore_refuses_hostile_dir_with_one_line() {
	local dir=$WORK/img.${FUNCNAME[0]} bad=$WORK/bad.${FUNCNAME[0]} out rc before
	srs_fake_dir "$dir"
	before=$(ls -A "$dir" | tr '\n' ' ')
	rc=0; out=$(sck restore s-rs-one 2>&1) || rc=$?
	expect_eq "one argument" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "usage" "expected NAME and DIR" "$out"
	rc=0; out=$(sck restore s-rs-h "$WORK/no-such-dir" 2>&1) || rc=$?
	expect_eq "no DIR" "125 1" "$rc $(echo "$out" | wc -l)"
	# NAME must be free.
	sck create s-rs-taken >/dev/null
	rc=0; out=$(sck restore s-rs-taken "$dir" 2>&1) || rc=$?
	expect_eq "name taken" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says so" "session s-rs-taken: a container or session with that name exists" "$out"
	sck rm s-rs-taken
	# Each a copy of DIR with one thing changed; $1 names what the message must say.
	srs_refused() {
		local want=$1
		[ "${2:-}" = unsealed ] || srs_seal "$bad"
		rc=0; out=$(sck restore s-rs-h "$bad" 2>&1) || rc=$?
		expect_eq "refused ($want)" "125 1" "$rc $(echo "$out" | wc -l)"
		expect_contains "names it ($want)" "$want" "$out"
		srs_nothing_left s-rs-h "$bad" "$(ls -A "$bad" | tr '\n' ' ')"
		rm -rf "$bad"
	}
	srs_copy() { cp -a "$dir" "$bad"; }
	# Only an image this host's bulwark sealed: none, or files changed after the seal.
	srs_copy; rm "$bad/bulwark.seal"
	srs_refused "DIR: no seal of this host's \`session checkpoint\`" unsealed
	srs_copy; jq -c '.lifetime_ms = 0' "$dir/session.json" >"$bad/session.json"
	srs_refused "DIR: its files do not match the seal" unsealed
	srs_copy; echo forged >"$bad/core-1.img"
	srs_refused "DIR: its files do not match the seal" unsealed
	srs_copy; ln -sf /etc/passwd "$bad/session.json"
	srs_refused "holds an entry that is not a file of the caller's own"
	srs_copy; head -c $((5 << 20)) /dev/zero >"$bad/config.json"
	srs_refused "config.json is larger than 4194304 bytes"
	srs_copy; head -c $((65 << 10)) /dev/zero >"$bad/session.json"
	srs_refused "session.json is larger than 65536 bytes"
	srs_copy; jq -c '.version = 2' "$dir/session.json" >"$bad/session.json"
	srs_refused "session.json: version: 2 is out of range"
	srs_copy; jq '.process.capabilities.bounding = ["CAP_SYS_ADMIN"] | .process.capabilities.effective = ["CAP_SYS_ADMIN"]' "$dir/config.json" >"$bad/config.json"
	srs_refused "process.capabilities.bounding: a session has no capabilities (asks for CAP_SYS_ADMIN)"
	srs_copy; jq '.mounts += [{"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rw"]}]' "$dir/config.json" >"$bad/config.json"
	srs_refused "a bind of \`/\` at \`/host\`: a restored session gets only the minimal view's binds"
	srs_copy; jq '(.mounts[] | select(.destination == "/usr") | .options) |= map(select(. != "ro" and . != "rro"))' "$dir/config.json" >"$bad/config.json"
	srs_refused "the bind at \`/usr\` is not read-only"
	srs_copy; jq '.linux.uidMappings[0].hostID = 0 | .linux.gidMappings[0].hostID = 0' "$dir/config.json" >"$bad/config.json"
	srs_refused "linux.uidMappings: 0+65536 is not one of bulwark's session id ranges"
	srs_copy; jq '.process.noNewPrivileges = false' "$dir/config.json" >"$bad/config.json"
	srs_refused "process.noNewPrivileges"
	srs_copy; jq 'del(.linux.seccomp)' "$dir/config.json" >"$bad/config.json"
	srs_refused "linux.seccomp"
	srs_copy; jq '.annotations["run.bulwark.landlock"] = "default"' "$dir/config.json" >"$bad/config.json"
	srs_refused "confined by Landlock"
	srs_copy; ln -s . "$bad/parent"
	srs_refused "DIR: \`parent\` is not a regular file"
	srs_copy; rm "$bad/inventory.img"
	srs_refused "holds no CRIU image"
	srs_nothing_left s-rs-h "$dir" "$before"
}

# After the checks, when CRIU cannot run (or fails, as on this host's kernel), everything the
# restore made goes again: state, cgroup, id slot, pid 1's copy, the empty log.
test_session_restore_criu_failure_leaves_nothing() {
	local dir=$WORK/img.${FUNCNAME[0]} out rc before
	srs_fake_dir "$dir"
	before=$(ls -A "$dir" | tr '\n' ' ')
	local perms
	perms=$(stat -c '%n %g %a' "$dir" "$dir"/*)
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --criu /nonexistent/criu session restore s-rs-nc "$dir" 2>&1) || rc=$?
	expect_eq "no criu" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says so" "\`/nonexistent/criu\` not found" "$out"
	srs_nothing_left s-rs-nc "$dir" "$before"
	# The image was the session's group's only while CRIU could read it.
	expect_eq "DIR's group and modes as they were" "$perms" "$(stat -c '%n %g %a' "$dir" "$dir"/*)"
	[ ! -e /sys/fs/cgroup/bulwark/s-rs-nc ] && [ ! -e /sys/fs/cgroup/pids/bulwark/s-rs-nc ] ||
		fail "the cgroup is left"
}

# Where CRIU cannot work (this host's 6.18 kernel: vdso), one line quotes CRIU's reason, the
# session goes on untouched, and no image is written.
if ! sck_criu_works; then
test_session_ckpt_criu_failure_quotes_reason_and_keeps_session() {
	command -v criu >/dev/null || fail "criu is not installed (Debian's criu package)"
	local dir=$WORK/img.${FUNCNAME[0]} out rc=0 first
	sck create --checkpointable s-ck-fail >/dev/null
	sck exec s-ck-fail -- sh -c 'echo kept >/tmp/f; sleep 1000 >/dev/null 2>&1 &'
	out=$(sck checkpoint s-ck-fail "$dir" 2>&1) || rc=$?
	expect_eq "failed" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "prefix" "session checkpoint: criu dump failed: " "$out"
	first=$(grep 'Error (' "$dir/dump.log" | grep -v '): exited, status' | head -1 | sed 's/.*): //')
	[ -n "$first" ] || fail "no error line in CRIU's log"
	expect_contains "criu's reason" "$first" "$out"
	expect_contains "log" "(log: $dir/dump.log; no image was written)" "$out"
	[ -z "$(ls "$dir" | grep -v '^dump.log$')" ] || fail "image files left: $(ls "$dir")"
	out=$(sck exec s-ck-fail -- sh -c 'cat /tmp/f; ps -eo args | grep -c "^sleep 1000"')
	expect_eq "session untouched" "kept 1" "$(echo $out)"
	sck rm s-ck-fail
	wait_for 2 sck_gone s-ck-fail || fail "left: $(ls "$BW_ROOT")"
}
fi

sck_criu_works || return 0

# A session with a file and a background counter: the dump writes CRIU's image and what the
# session was made with into the new DIR, then the session is released as at rm.
test_criu_session_checkpoint_writes_image_and_releases() {
	local dir=$WORK/img.${FUNCNAME[0]} n
	sck create --checkpointable --lifetime 1h --memory 256m s-ck-vm >/dev/null
	sck exec s-ck-vm -- sh -c 'echo kept >/tmp/f; (i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.2; done) >/dev/null 2>&1 </dev/null &'
	wait_for 10 sh -c "[ \"\$(\"$BULWARK\" --root \"$BW_ROOT\" session exec s-ck-vm -- cat /tmp/n)\" -gt 2 ] 2>/dev/null" ||
		fail "the counter did not start"
	sck checkpoint s-ck-vm "$dir" || { grep 'Error (' "$dir/dump.log" | head -5; sck rm s-ck-vm; fail "checkpoint failed"; }
	[ -f "$dir/inventory.img" ] || fail "no CRIU image in $dir: $(ls "$dir")"
	expect_eq "dir mode" 700 "$(stat -c %a "$dir")"
	expect_eq "session.json" "1 s-ck-vm 3600000 true" \
		"$(jq -r '"\(.version) \(.name) \(.lifetime_ms) \(.lifetime_left_ms > 0 and .lifetime_left_ms <= 3600000)"' "$dir/session.json")"
	expect_contains "limits" "memory=256m" "$(jq -r .limits "$dir/session.json")"
	expect_eq "config.json" "off 1" \
		"$(jq -r '"\(.annotations["run.bulwark.landlock"]) \(.annotations["run.bulwark.session.checkpointable"])"' "$dir/config.json")"
	# Released: no state, no process, and the counter's pages are in the image only.
	wait_for 5 sck_gone s-ck-vm || fail "left: $(ls "$BW_ROOT")"
	n=$(ps -eo args | grep -c '^sh -c echo kept' || true)
	expect_eq "no counter left" 0 "$n"
	sck exec s-ck-vm -- true 2>/dev/null && fail "the session still answers"
	true
}

# A checkpointed session comes back under a new NAME: its file is there, its counter goes on,
# exec works, it is confined as before (no_new_privs, seccomp, its own id range), pid 1 runs
# from the new session's copy; rm releases everything.
test_criu_session_restore_continues_and_releases() {
	local dir=$WORK/img.${FUNCNAME[0]} n1 n2 pid out
	sck create --checkpointable --lifetime 1h s-rs-a >/dev/null
	sck exec s-rs-a -- sh -c 'echo kept >/tmp/f; (i=0; while :; do i=$((i+1)); echo $i >/tmp/n; sleep 0.2; done) >/dev/null 2>&1 </dev/null &'
	wait_for 10 sh -c "[ \"\$(\"$BULWARK\" --root \"$BW_ROOT\" session exec s-rs-a -- cat /tmp/n)\" -gt 2 ] 2>/dev/null" ||
		fail "the counter did not start"
	sck checkpoint s-rs-a "$dir" || { sck rm s-rs-a; fail "checkpoint failed"; }
	wait_for 5 sck_gone s-rs-a || fail "left: $(ls "$BW_ROOT")"
	out=$(sck restore s-rs-b "$dir" 2>&1) || { grep 'Error (' "$dir/restore.log" | head -5; fail "restore failed: $out"; }
	expect_eq "prints NAME" s-rs-b "$out"
	expect_eq "the file" kept "$(sck exec s-rs-b -- cat /tmp/f)"
	n1=$(sck exec s-rs-b -- cat /tmp/n)
	sleep 1
	n2=$(sck exec s-rs-b -- cat /tmp/n)
	[ "$n2" -gt "$n1" ] 2>/dev/null || fail "the counter does not go on ($n1 then $n2)"
	pid=$("$BULWARK" --root "$BW_ROOT" state s-rs-b | jq -r .pid)
	expect_eq "init's executable" /.bulwark-session-init "$(readlink "/proc/$pid/exe")"
	for p in $pid $(pgrep -f '^sh -c echo kept'); do
		expect_eq "confined $p" "NoNewPrivs:1 Seccomp:2" \
			"$(grep -E '^(NoNewPrivs|Seccomp):' "/proc/$p/status" | tr -d '\t' | tr '\n' ' ' | sed 's/ $//')"
	done
	expect_eq "id range" "$(jq -r '.linux.uidMappings[0].hostID' "$dir/config.json")" "$(awk '{print $2}' "/proc/$pid/uid_map")"
	out=$(sck exec s-rs-b -- sh -c 'grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\t"')
	expect_eq "exec confined" "CapEff:0000000000000000 NoNewPrivs:1 Seccomp:2" "$(echo $out)"
	out=$(sck exec s-rs-b -- sh -c 'touch /x 2>/dev/null && echo WROTE-ROOT; echo x >>/.bulwark-session-init 2>/dev/null && echo WROTE-INIT; echo x >/usr/x 2>/dev/null && echo WROTE-USR; wc -c </proc/sys/kernel/random/boot_id')
	expect_eq "read-only root, init copy and /usr; a boot id" 37 "$(echo $out)"
	sck ls | grep -q '^s-rs-b' || fail "not in session ls: $(sck ls)"
	sck rm s-rs-b
	wait_for 5 sck_gone s-rs-b || fail "left: $(ls -A "$BW_ROOT")"
	expect_eq "no counter left" 0 "$(pgrep -fc '^sh -c echo kept' || true)"
	[ -z "$(ls /run/bulwark-session-files 2>/dev/null | grep '^s-rs-b\.')" ] ||
		fail "its files are left: $(ls -R /run/bulwark-session-files)"
}

# Restored under its own NAME again; when its new supervisor is SIGKILLed, the init dies with it
# (PR_SET_PDEATHSIG, restored, now tied to the new supervisor) and the watchdog releases the rest.
test_criu_session_restore_same_name_supervisor_killed_releases() {
	local dir=$WORK/img.${FUNCNAME[0]} sup
	sck create --checkpointable s-rs-same >/dev/null
	sck exec s-rs-same -- sh -c 'echo kept >/tmp/f'
	sck checkpoint s-rs-same "$dir" || { sck rm s-rs-same; fail "checkpoint failed"; }
	wait_for 5 sck_gone s-rs-same || fail "left: $(ls "$BW_ROOT")"
	# DIR named relative to the caller's directory (the supervisor runs from /).
	(cd "$WORK" && sck restore s-rs-same "img.${FUNCNAME[0]}" >/dev/null) || { grep 'Error (' "$dir/restore.log" | head -5; fail "restore failed"; }
	expect_eq "the file" kept "$(sck exec s-rs-same -- cat /tmp/f)"
	# The image is restored once: a second restore of it is refused while the name is taken.
	sck restore s-rs-same "$dir" 2>/dev/null && fail "a second restore under a taken name"
	sup=$(jq -r '.bulwark.cleanup[]? | select(.kind == "session") | .pid' "$BW_ROOT/s-rs-same/state.json")
	[ -n "$sup" ] || fail "no supervisor recorded"
	kill -9 "$sup"
	wait_for 10 sck_gone s-rs-same || fail "left after SIGKILL: $(ls -A "$BW_ROOT")"
	wait_for 2 sh -c "! ls /run/bulwark-session-files 2>/dev/null | grep -q '^s-rs-same\\.'" ||
		fail "its files are left: $(ls -R /run/bulwark-session-files)"
}
