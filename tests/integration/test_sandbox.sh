# bulwark sandbox: workspaces (--workspace DIR[:ro|rw|overlay], --keep-changes) and --env-file,
# in real sandboxes. The runner checks for leaked state dirs, cgroups and mounts after each test;
# the overlay scratch is a detached tmpfs, so these tests also check that no process is left
# with the overlay in its mount namespace.

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

# ws NAME [OWNER]: a fresh workspace with a file, a subdirectory and a file to delete.
ws() {
	local d=$WORK/$1
	rm -rf "$d"
	mkdir -p "$d/sub"
	echo original >"$d/a"
	echo doomed >"$d/gone"
	echo deep >"$d/sub/f"
	ln -s a "$d/link"
	chmod 640 "$d/a"
	touch -d '2020-01-02 03:04:05' "$d/a" "$d/gone" "$d/sub/f" "$d/sub"
	chown -hR "${2:-0}:${2:-0}" "$d"
	touch -d '2020-01-02 03:04:05' "$d"
	echo "$d"
}

# Everything the caller could notice about a tree: type, mode, owner, size, mtime, symlink
# target and content hash of every entry.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# No process may still hold the overlay (the scratch tmpfs lives as long as one does).
expect_no_overlay_left() {
	local holders
	holders=$(grep -l ' bulwark-workspace ' /proc/[0-9]*/mountinfo 2>/dev/null || true)
	[ -z "$holders" ] || fail "overlay still mounted in: $holders"
}

test_sandbox_workspace_default_ro_refuses_writes() {
	d=$(ws w-ro)
	out=$(sbx --workspace "$d" -- sh -c 'pwd; cat sub/f; touch x 2>/dev/null || echo refused')
	expect_eq "default ro" "$d deep refused" "$(echo $out)"
	out=$(sbx --workspace "$d:ro" --cwd / -- sh -c "pwd; echo y >$d/sub/f 2>/dev/null || echo refused")
	expect_eq "explicit ro" "/ refused" "$(echo $out)"
	expect_eq content deep "$(cat "$d/sub/f")"
}

# A workspace's own submounts are as read-only, nosuid and nodev as the workspace: a host
# mount under the directory must not be a writable way out of an ro workspace. An rw workspace
# is an idmapped clone of the directory's own file system alone: its submounts are not there.
test_sandbox_workspace_submounts_get_the_workspace_flags() {
	local d ro rw
	d=$(ws w-submount)
	mount -t tmpfs -o mode=1777 bulwark-t-sub "$d/sub"
	ro=$(sbx --workspace "$d:ro" -- sh -c 'touch sub/x 2>/dev/null && echo wrote || echo refused
		grep " $PWD/sub " /proc/self/mountinfo | cut -d" " -f6')
	rw=$(sbx --workspace "$d:rw" -- sh -c 'touch sub/x && echo wrote
		grep " $PWD/sub " /proc/self/mountinfo | cut -d" " -f6')
	umount "$d/sub"
	expect_eq "ro submount" "refused ro,nosuid,nodev,relatime" "$(echo $ro)"
	expect_eq "rw: no submount" "wrote" "$(echo $rw)"
	[ -e "$d/sub/x" ] || fail "rw: the write did not land in the directory itself"
}

# A read-only path below a writable one stays read-only whatever order the flags came in: the
# parent is mounted first (an rw workspace mounted last covered `--ro WS/.git`).
test_sandbox_ro_below_an_rw_workspace_stays_read_only() {
	local d out
	d=$(ws w-ro-below)
	mkdir -p "$d/.git/hooks"
	echo orig >"$d/.git/hooks/pre-commit"
	chmod -R a+rwX "$d"
	out=$(sbx --workspace "$d:rw" --ro "$d/.git" -- sh -c '(echo evil >.git/hooks/pre-commit) 2>/dev/null && echo wrote-hook
		echo ok >x && echo wrote-x' 2>&1)
	expect_eq "workspace rw, .git ro" "wrote-x" "$(echo $out)"
	out=$(sbx --bind "$d/.git:/p/.git:ro" --bind "$d:/p:rw" --cwd /p -- sh -c '(echo evil >.git/hooks/pre-commit) 2>/dev/null && echo wrote-hook
		echo ok >y && echo wrote-y' 2>&1)
	expect_eq "binds in any order" "wrote-y" "$(echo $out)"
	expect_eq "hook untouched" orig "$(cat "$d/.git/hooks/pre-commit")"
}

test_sandbox_workspace_rw_writes_land_as_the_root_owner() {
	d=$(ws w-rw-root 0)
	chmod 755 "$d"
	out=$(sbx --workspace "$d:rw" -- sh -c 'stat -c "%u:%g" . a; echo new >n; mkdir nd; echo more >>a; id -u')
	expect_eq "inside: the owner is the sandbox user" "1000:1000 1000:1000 1000" "$(echo $out)"
	expect_eq "new file owner" "0:0" "$(stat -c %u:%g "$d/n")"
	expect_eq "new dir owner" "0:0" "$(stat -c %u:%g "$d/nd")"
	expect_eq "modified" "original more" "$(echo $(cat "$d/a"))"
	expect_eq "modified file keeps owner and mode" "0:0 640" "$(stat -c '%u:%g %a' "$d/a")"
}

test_sandbox_workspace_rw_writes_land_as_owner_1234() {
	d=$(ws w-rw-1234 1234)
	out=$(sbx --workspace "$d:rw" -- sh -c 'echo new >n && mkdir -p x/y && echo z >x/y/z && mv gone moved && rm sub/f && echo ok')
	expect_eq "command" ok "$out"
	expect_eq owners "1234:1234 1234:1234 1234:1234 1234:1234" \
		"$(echo $(stat -c %u:%g "$d/n" "$d/x" "$d/x/y/z" "$d/moved"))"
	[ ! -e "$d/gone" ] && [ ! -e "$d/sub/f" ] || fail "rename/delete not done in place"
	# A file of another owner stays that owner's: the sandbox user cannot write it.
	echo root-only >"$d/r" && chmod 644 "$d/r"
	rc=0; sbx --workspace "$d:rw" -- sh -c 'echo x >>r' 2>/dev/null || rc=$?
	[ "$rc" -ne 0 ] || fail "wrote to root's file"
	expect_eq "root's file intact" "root-only 0:0" "$(echo $(cat "$d/r"; stat -c %u:%g "$d/r"))"
}

test_sandbox_workspace_overlay_leaves_the_directory_byte_identical() {
	d=$(ws w-ov 1234)
	before=$(snapshot "$d")
	out=$(sbx --workspace "$d:overlay" -- sh -c '
		set -e
		echo new >n; mkdir nd; echo more >>a; chmod 600 a; rm gone; rm -r sub/f
		mv link link2; mv nd nd2; touch -d 2001-01-01 n
		python3 -c "import os; os.rename(\"sub\", \"sub2\")" # rename(2) of a lower directory
		[ ! -e gone ] && [ ! -e sub ] && [ -d sub2 ] && [ -d nd2 ] && [ ! -e sub2/f ]
		echo "$(cat a | tr "\n" " ")$(stat -c "%a %u" a) $(readlink link2) $(ls | tr "\n" " ")"')
	expect_eq "the command saw its changes" "original more 600 1000 a a link2 n nd2 sub2 " "$out"
	after=$(snapshot "$d")
	[ "$before" = "$after" ] || fail "workspace changed: $(diff <(echo "$before") <(echo "$after"))"
	expect_no_overlay_left
	# A second run starts from the real directory again.
	expect_eq "fresh overlay" "a gone link sub" "$(echo $(sbx --workspace "$d:overlay" -- ls))"
}

test_sandbox_keep_changes_holds_exactly_the_changes() {
	d=$(ws w-keep 1234)
	keep=$WORK/keep-out
	rm -rf "$keep"
	before=$(snapshot "$d")
	sbx --workspace "$d:overlay" --keep-changes "$keep" -- sh -c 'echo new >n; echo more >>a; rm gone'
	expect_eq "real workspace untouched" "$before" "$(snapshot "$d")"
	listing=$(cd "$keep" && find . -printf '%p %y %U:%G\n' | sort | tr '\n' ',')
	expect_eq listing ". d 1234:1234,./a f 1234:1234,./gone c 1234:1234,./n f 1234:1234," "$listing"
	expect_eq whiteout "character special file 0,0" "$(stat -c '%F %t,%T' "$keep/gone")"
	expect_eq "modified content" "original more" "$(echo $(cat "$keep/a"))"
	expect_eq "new content" new "$(cat "$keep/n")"
	# An existing empty directory is accepted and filled the same way.
	rm -rf "$keep" && mkdir "$keep"
	sbx --workspace "$d:overlay" --keep-changes "$keep" -- sh -c 'rm -r sub'
	expect_eq "deleted dir" "./sub c" "$(cd "$keep" && find . -mindepth 1 -printf '%p %y\n')"
	rm -rf "$keep"
}

test_sandbox_keep_changes_after_failure_and_timeout() {
	d=$(ws w-keep2 1234)
	keep=$WORK/keep2
	rm -rf "$keep"
	rc=0; sbx --workspace "$d:overlay" --keep-changes "$keep" -- sh -c 'echo x >n; exit 3' || rc=$?
	expect_eq "status" 3 "$rc"
	expect_eq "kept after a failing command" "./n" "$(cd "$keep" && find . -mindepth 1)"
	rm -rf "$keep"
	rc=0; sbx --timeout 1s --workspace "$d:overlay" --keep-changes "$keep" -- sh -c 'echo y >t; sleep 30' 2>/dev/null || rc=$?
	expect_eq "timeout status" 124 "$rc"
	expect_eq "kept after the timeout" "./t" "$(cd "$keep" && find . -mindepth 1)"
	rm -rf "$keep"
	expect_no_overlay_left
}

test_sandbox_overlay_scratch_is_freed_after_exit_timeout_and_oom() {
	d=$(ws w-scratch 1234)
	before=$(snapshot "$d")
	shmem() { awk '/^Shmem:/ {print $2}' /proc/meminfo; }
	s0=$(shmem)
	out=$(sbx --workspace "$d:overlay" -- sh -c 'head -c 100000000 /dev/zero >big; grep -c " bulwark-workspace " /proc/self/mountinfo')
	[ "$out" -ge 1 ] || fail "the overlay was not mounted inside"
	expect_no_overlay_left
	s1=$(shmem)
	[ $((s1 - s0)) -lt 50000 ] || fail "100 MB of scratch still held: Shmem grew by $((s1 - s0)) kB"
	rc=0; sbx --timeout 1s --workspace "$d:overlay" -- sh -c 'head -c 10000000 /dev/zero >big; sleep 30' 2>/dev/null || rc=$?
	expect_eq "timeout" 124 "$rc"
	expect_no_overlay_left
	rc=0; sbx --memory 48m --workspace "$d:overlay" -- sh -c 'echo x >f; x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' >/dev/null 2>&1 || rc=$?
	expect_eq "OOM-killed" 137 "$rc"
	expect_no_overlay_left
	rc=0; sbx --workspace "$d:overlay" -- /no/such/command 2>/dev/null || rc=$?
	expect_eq "failure at create" 127 "$rc"
	expect_no_overlay_left
	expect_eq "real workspace untouched" "$before" "$(snapshot "$d")"
}

# No capability in any set, the bounding set included (a new user namespace starts with a
# full one: every capability is dropped from it, whatever the runtime's own set lacks).
test_sandbox_command_has_no_capability_in_any_set() {
	out=$(sbx -- grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status | tr '\n\t' '  ')
	expect_eq caps "CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000 " "$out"
}

test_sandbox_env_file_follows_docker_semantics() {
	f=$WORK/env.list
	printf '%s\n' '# a comment' '' '   PLAIN=one two' 'QUOTED="not unquoted"' 'EXPAND=$HOME' \
		'FROM_CALLER' 'NOT_SET_ANYWHERE' '  # indented comment' 'OVERRIDDEN=file' 'EMPTY=' \
		'WIN=crlf' >"$f"
	sed -i 's/^WIN=crlf$/WIN=crlf\r/' "$f"
	out=$(FROM_CALLER=caller sbx --env-file "$f" --env OVERRIDDEN=flag -- env)
	for want in 'PLAIN=one two' 'QUOTED="not unquoted"' 'EXPAND=$HOME' 'FROM_CALLER=caller' \
		'OVERRIDDEN=flag' 'EMPTY=' 'WIN=crlf'; do
		echo "$out" | grep -qxF -- "$want" || fail "missing \"$want\" in: $out"
	done
	echo "$out" | grep -q NOT_SET_ANYWHERE && fail "an unset KEY-only line was passed"
	expect_eq "one OVERRIDDEN" 1 "$(echo "$out" | grep -c '^OVERRIDDEN=')"
	# --env replaces a default as well (one PATH, the caller's).
	expect_eq "PATH replaced" "PATH=/bin" "$(sbx --env PATH=/bin -- /bin/busybox env | grep '^PATH=')"
}

test_sandbox_env_file_errors_name_file_and_line() {
	f=$WORK/bad.env
	for bad in '=value:no variable name' 'BAD KEY=1:contains whitespace' 'TRAILING :contains whitespace'; do
		printf 'OK=1\n# c\n%s\n' "${bad%%:*}" >"$f"
		rc=0; out=$(sbx --env-file "$f" -- true 2>&1) || rc=$?
		expect_eq "status for ${bad%%:*}" 125 "$rc"
		expect_eq "one line" 1 "$(echo "$out" | wc -l)"
		expect_contains "file:line" "--env-file $f:3: " "$out"
		expect_contains reason "${bad#*:}" "$out"
	done
	rc=0; out=$(sbx --env-file "$WORK/missing.env" -- true 2>&1) || rc=$?
	expect_eq "missing file" 125 "$rc"
	expect_contains "missing file message" "$WORK/missing.env" "$out"
}

test_sandbox_workspace_flags_are_validated() {
	d=$(ws w-bad 1234)
	mkdir -p "$WORK/full" && touch "$WORK/full/x"
	mkdir -p "$WORK/ramfs" && mount -t ramfs ramfs "$WORK/ramfs"
	# shellcheck disable=SC2064
	trap "umount '$WORK/ramfs'" EXIT
	while IFS='|' read -r args want; do
		rc=0; out=$(eval "sbx $args -- true" 2>&1) || rc=$?
		expect_eq "status for $args" 125 "$rc"
		expect_eq "one line for $args" 1 "$(echo "$out" | wc -l)"
		expect_contains "message for $args" "$want" "$out"
	done <<EOF
--workspace $WORK/nonexistent|No such file or directory
--workspace $d/a|not a directory
--workspace $d:bogus|mode must be ro, rw or overlay
--workspace /|cannot be a workspace
--workspace /proc:rw|belongs to the sandbox
--workspace $d --workspace $d/sub|overlaps
--workspace $BW_ROOT/..|state directory
--keep-changes $WORK/k1|needs --workspace DIR:overlay
--workspace $d:rw --keep-changes $WORK/k2|needs exactly one --workspace DIR:overlay
--workspace $d:overlay --keep-changes $WORK/full|must not exist or be an empty directory
--workspace $d:overlay --keep-changes $d/sub/k3|must not be inside the workspace
--workspace $d:overlay --keep-changes $WORK/no/such/k4|parent directory
--workspace $WORK/ramfs:rw|cannot do idmapped mounts
--workspace $WORK/ramfs:overlay --keep-changes $WORK/k5|cannot do idmapped mounts
EOF
	for k in k1 k2 k4 k5; do [ ! -e "$WORK/$k" ] || fail "$k created"; done
	[ ! -e "$d/sub/k3" ] || fail "k3 created"
	expect_eq "workspace untouched" "a gone link sub" "$(echo $(ls "$d"))"
	expect_no_overlay_left
}

test_sandbox_workspace_bytes_written_is_measured() {
	d=$(ws w-bytes 1234)
	written() { "$BULWARK" --root "$BW_ROOT" sandbox --workspace "$d:$1" --report "$WORK/wb.json" -- sh -c "$2" &&
		jq -r '.workspace_bytes_written // -1' "$WORK/wb.json"; }
	n=$(written overlay 'head -c 1000000 /dev/zero >big')
	[ "$n" -ge 1000000 ] && [ "$n" -le 1100000 ] || fail "overlay: $n bytes for 1 MB"
	expect_eq "nothing written" 0 "$(written overlay true)"
	expect_eq "read-only" 0 "$(written ro true)"
	expect_eq "rw is not measured" -1 "$(written rw true)"
}

test_sandbox_keep_changes_failure_leaves_no_partial_copy() {
	d=$(ws w-keepfail 1234)
	mkdir -p "$WORK/noxattr" && mount -t ramfs ramfs "$WORK/noxattr"
	# shellcheck disable=SC2064
	trap "umount '$WORK/noxattr'" EXIT
	rc=0; out=$(sbx --workspace "$d:overlay" --keep-changes "$WORK/noxattr/k" -- sh -c 'echo x >n' 2>&1) || rc=$?
	expect_eq status 125 "$rc"
	expect_contains message "--keep-changes $WORK/noxattr/k: store attribute trusted.overlay" "$out"
	[ ! -e "$WORK/noxattr/k" ] || fail "partial copy left"
	mkdir -m 750 "$WORK/noxattr/pre"
	rc=0; sbx --workspace "$d:overlay" --keep-changes "$WORK/noxattr/pre" -- sh -c 'echo x >n' 2>/dev/null || rc=$?
	expect_eq status 125 "$rc"
	expect_eq "existing dir emptied and restored" "750 " "$(stat -c %a "$WORK/noxattr/pre") $(ls -A "$WORK/noxattr/pre")"
}

# An rw workspace is written in place as its owner (root here): the sandbox may not give a file
# a setuid or setgid bit there, by chmod or by creating it with one.
test_sandbox_workspace_rw_refuses_setid_bits() {
	d=$(ws w-setid 0)
	sbx --workspace "$d:rw" -- sh -c "cd $d; echo x >f; chmod 4755 f 2>/dev/null && echo suid; chmod 2755 f 2>/dev/null && echo sgid; chmod 0755 f && echo plain
		python3 -c 'import os; os.open(\"g\", os.O_CREAT | os.O_WRONLY, 0o4755)' 2>/dev/null && echo created; true" >"$WORK/setid.out"
	expect_eq "only the plain chmod" plain "$(cat "$WORK/setid.out")"
	[ -z "$(find "$d" -perm /6000)" ] || fail "setid file on the host: $(find "$d" -perm /6000)"
}

# A sparse file (or many hard links) is small in the scratch layer but not in a plain copy:
# --keep-changes refuses to write more than the sandbox wrote, and leaves nothing half-made.
test_sandbox_keep_changes_refuses_a_sparse_bomb() {
	d=$(ws w-sparse 0)
	rc=0
	# (--max-file-size max: the default RLIMIT_FSIZE would stop the truncate itself.)
	out=$(sbx --max-file-size max --workspace "$d:overlay" --keep-changes "$WORK/k-sparse" -- sh -c "truncate -s 50G $d/huge" 2>&1) || rc=$?
	expect_eq "bulwark failed" 125 "$rc"
	expect_contains "says why" "more room than the sandbox wrote" "$out"
	[ ! -e "$WORK/k-sparse" ] || fail "partial copy left: $(ls -la "$WORK/k-sparse")"
}

# An rw workspace named through a symbolic link (which an earlier sandbox could have planted),
# or with --seccomp-complain (its setuid guard would only log), is refused with nothing made.
test_sandbox_workspace_rw_refuses_symlinks_and_complain_mode() {
	d=$(ws w-rwlink 0)
	ln -s "$d" "$WORK/w-link"
	rc=0; out=$(sbx --workspace "$WORK/w-link:rw" -- true 2>&1) || rc=$?
	expect_eq "symlink status" 125 "$rc"
	expect_contains "symlink" "goes through a symbolic link" "$out"
	rc=0; out=$(sbx --workspace "$d:rw" --seccomp-complain -- true 2>&1) || rc=$?
	expect_eq "complain status" 125 "$rc"
	expect_contains "complain" "not with an rw workspace" "$out"
}

# No host path of a sandbox goes through a symbolic link, whatever its mode: a link planted by an
# earlier sandbox in a directory it could write (its rw workspace) would turn a later run's
# `--bind WS/dist:/dist:rw` into the caller's home, or `--ro WS/docs` into ~/.ssh.
test_sandbox_host_paths_never_follow_a_planted_link() {
	local d s out rc
	d=$(ws w-planted 0)
	s=$WORK/w-planted-secret
	rm -rf "$s"
	mkdir -p "$s"
	echo secret >"$s/key"
	chmod -R a+rwX "$d" "$s"
	sbx --workspace "$d:rw" -- sh -c "ln -s $s dist" || fail "plant"
	for a in "--bind $d/dist:/dist:rw" "--bind $d/dist:/dist" "--ro $d/dist" \
		"--workspace $d/dist:ro" "--workspace $d/dist:overlay" "--workspace $d/dist:rw" \
		"--rootfs $d/dist"; do
		rc=0; out=$(sbx $a -- sh -c 'cat /dist/key 2>/dev/null; echo x >>/dist/key' 2>&1) || rc=$?
		expect_eq "$a: refused" 125 "$rc"
		expect_contains "$a: why" "goes through a symbolic link" "$out"
		expect_contains "$a: no path suggested" "check where it leads" "$out"
	done
	expect_eq "untouched" secret "$(cat "$s/key")"
}

# The same for the files a sandbox reads or writes by name: --report (a planted directory link
# would put a root-made file anywhere; a planted name link onto a pipe or device was opened and
# written) and --env-file (a link to a secret put it into the sandbox's environment). A `..` in
# a --bind destination does not get a writable parent ordered after a read-only child.
test_sandbox_report_env_file_and_bind_dst_planted_paths() {
	local d s out rc
	d=$(ws w-planted2 0)
	s=$WORK/w-planted2-secret
	rm -rf "$s"
	mkdir -p "$s" "$d/sub"
	echo "TOKEN=npm_secret" >"$s/npmrc"
	mkfifo "$s/fifo"
	chmod -R a+rwX "$d"
	sbx --workspace "$d:rw" -- sh -c "ln -s $s out; ln -s $s/fifo r.json; ln -s $s/npmrc .env" ||
		fail "plant"
	rc=0; out=$(sbx --report "$d/out/r.json" -- true 2>&1) || rc=$?
	expect_eq "report into a linked directory: refused" 125 "$rc"
	expect_contains "why" "goes through a symbolic link" "$out"
	[ ! -e "$s/r.json" ] || fail "report written through the link"
	sbx --report "$d/r.json" -- true || fail "report over a linked name"
	expect_eq "the link replaced by the report" "regular file 0" \
		"$(stat -c %F "$d/r.json") $(jq .exit_code "$d/r.json")"
	expect_eq "the pipe untouched" fifo "$(stat -c %F "$s/fifo" | sed 's/.*fifo.*/fifo/')"
	rc=0; out=$(sbx --env-file "$d/.env" -- sh -c 'echo "[$TOKEN]"' 2>&1) || rc=$?
	expect_eq "env-file through a link: refused" 125 "$rc"
	expect_contains "why" "symbolic link" "$out"
	out=$(sbx --env-file <(echo A=1) -- sh -c 'echo "[$A]"') || fail "env-file from a pipe"
	expect_eq "the caller's own stream" "[1]" "$out"
	echo s >"$d/sub/s"
	chmod a+rw "$d/sub/s"
	out=$(sbx --ro "$d/sub" --bind "$d:$d/x/y/../..:rw" -- sh -c "(echo pwned >>$d/sub/s) 2>/dev/null && echo wrote || echo refused")
	expect_eq "a writable parent through .." refused "$out"
	expect_eq "untouched" s "$(cat "$d/sub/s")"
}

# ---- the kernel's refusals in the report (seccomp; Landlock while the host's audit is on) ----

KD_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers

kd_valid_report() {
	python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$SRC_DIR/docs/report.schema.json" "$1" || fail "report does not match the schema: $(cat "$1")"
}

# jq_count FILE FILTER: the count of the denial the filter selects (0 when absent).
jq_count() { jq "[.denials[] | select($2) | .count] | add // 0" "$1"; }

test_sandbox_report_lists_the_syscalls_seccomp_refused_and_only_its_own() {
	# A neighbour refused many unshare(2) calls while this sandbox ran: its records reach the
	# same audit group, and must not land in this report (the sandbox's own audit session).
	sbx -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do unshare -U true 2>/dev/null; sleep 0.1; done' &
	local other=$!
	sbx --report "$WORK/kd.json" -- sh -c 'sleep 0.3; unshare -U true; unshare -U true; mount -t tmpfs x /mnt; true' 2>/dev/null ||
		fail "sandbox failed"
	wait $other
	kd_valid_report "$WORK/kd.json"
	expect_eq "kernel seccomp" reported "$(jq -r .kernel_denials.seccomp "$WORK/kd.json")"
	expect_eq "unshare refused twice" 2 "$(jq_count "$WORK/kd.json" '.kind == "syscall" and .syscall == "unshare" and .action == "errno"')"
	expect_eq "mount refused once" 1 "$(jq_count "$WORK/kd.json" '.kind == "syscall" and .syscall == "mount"')"
	expect_eq "nothing else" 3 "$(jq .denials_total "$WORK/kd.json")"
	# Without --report nothing asks the kernel to log the refusals (the same calls, no record).
	out=$(python3 "$KD_HELPERS/audit_ctl.py" watch "$BULWARK" --root "$BW_ROOT" sandbox -- sh -c 'unshare -U true; mount -t tmpfs x /mnt; true' 2>/dev/null)
	[ -z "$(echo "$out" | grep -E 'syscall=(272|165) ')" ] || fail "refusals logged without --report: $out"
	out=$(python3 "$KD_HELPERS/audit_ctl.py" watch "$BULWARK" --root "$BW_ROOT" sandbox --report /dev/null -- sh -c 'unshare -U true; true' 2>/dev/null)
	expect_contains "logged with --report" "syscall=272 " "$out"
	# A report to a device is written to it, not renamed over it.
	[ -c /dev/null ] || fail "--report /dev/null replaced the device: $(ls -l /dev/null)"
	out=$(sbx --report /dev/stderr -- true 2>&1 >/dev/null)
	expect_contains "report on stderr" '"version": 1' "$out"
}

test_sandbox_report_lists_landlock_refusals_while_audit_is_on() {
	read -r enabled failure < <(python3 "$KD_HELPERS/audit_ctl.py" get) || fail "AUDIT_GET"
	[ "$failure" != 2 ] || fail "this host's audit panics on lost records: the test would not be safe"
	# Audit off (this kind of host): the report says Landlock refusals are not available.
	if [ "$enabled" = 0 ]; then
		sbx --report "$WORK/ll0.json" -- sh -c 'echo 5 >/proc/self/oom_score_adj; true' 2>/dev/null
		expect_contains "landlock without audit" "unavailable: the host's audit is off" "$(jq -r .kernel_denials.landlock "$WORK/ll0.json")"
		python3 "$KD_HELPERS/audit_ctl.py" set 1 || fail "cannot turn audit on"
		trap 'python3 "$KD_HELPERS/audit_ctl.py" set 0' EXIT
	fi
	# Writes to /proc are refused by Landlock (docs/landlock.md), not by the mount.
	sbx --report "$WORK/ll.json" -- sh -c 'echo 5 >/proc/self/oom_score_adj; echo 5 >/proc/self/oom_score_adj; true' 2>/dev/null ||
		fail "sandbox failed"
	[ "$enabled" = 0 ] && { python3 "$KD_HELPERS/audit_ctl.py" set 0 || fail "cannot turn audit off"; trap - EXIT; }
	kd_valid_report "$WORK/ll.json"
	expect_eq "kernel landlock" reported "$(jq -r .kernel_denials.landlock "$WORK/ll.json")"
	expect_eq "write refused twice" 2 "$(jq_count "$WORK/ll.json" '.kind == "landlock" and .blockers == "fs.write_file" and (.object | endswith("/oom_score_adj"))')"
	expect_eq "audit restored" "$enabled" "$(python3 "$KD_HELPERS/audit_ctl.py" get | cut -d' ' -f1)"
}

test_sandbox_log_denials_annotation_is_validated() {
	b=$(new_bundle kd-ann)
	cfg "$b" '.annotations["run.bulwark.log-denials"]="yes"'
	out=$(bw run -b "$b" kd-ann </dev/null 2>&1) && fail "ran with a bad value"
	expect_contains "names the annotation" 'run.bulwark.log-denials: must be "true" or "false", not "yes"' "$out"
	[ ! -e "$BW_ROOT/kd-ann" ] || fail "state left behind"
	cfg "$b" '.annotations["run.bulwark.log-denials"]="true"'
	bw run -b "$b" kd-ann </dev/null || fail "log-denials=true refused"
}

# ---- the first hour (issue 14): flags behave as people expect from docker and timeout(1) ----

# --report that could never be written is refused before the command runs: one line, 125,
# the command not started, nothing left in the directory.
test_sandbox_report_unwritable_is_refused_before_the_command_runs() {
	mkdir -p "$WORK/rep-ro" "$WORK/rep-700"
	chmod 700 "$WORK/rep-700"
	mount -t tmpfs -o ro tmpfs "$WORK/rep-ro"
	marker=$WORK/rep-ran
	rm -f "$marker"
	rc=0; out=$(sbx --workspace "$WORK:rw" --report "$WORK/no/r.json" -- touch "$marker" 2>&1) || rc=$?
	expect_eq "missing directory" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "missing directory: why" "No such file or directory" "$out"
	rc=0; out=$(sbx --workspace "$WORK:rw" --report "$WORK/rep-ro/r.json" -- touch "$marker" 2>&1) || rc=$?
	umount "$WORK/rep-ro"
	expect_eq "read-only file system" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "read-only file system: why" "Read-only file system" "$out"
	# Permission: an unprivileged caller and a directory only root may write. The refusal comes
	# before anything that needs privilege.
	mkdir -p "$WORK/rep-root"
	chown 65534:65534 "$WORK/rep-root"
	chmod 700 "$WORK/rep-root"
	rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BULWARK" --root "$WORK/rep-root" sandbox --report "$WORK/rep-700/r.json" -- touch "$marker" 2>&1) || rc=$?
	expect_eq "permission denied" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "permission denied: why" "Permission denied" "$out"
	[ ! -e "$marker" ] || fail "the command ran"
	sbx --workspace "$WORK:rw" -- touch "$marker"
	[ -e "$marker" ] || fail "the marker cannot be written (the test proves nothing)"
	expect_eq "nothing left in the directories" "" "$(ls -A "$WORK/rep-ro" "$WORK/rep-700" | grep -v ':$' | grep . || true)"
	# A writable directory: the probe leaves nothing but the report.
	mkdir -p "$WORK/rep-ok"
	sbx --report "$WORK/rep-ok/r.json" -- true
	expect_eq "only the report" "r.json" "$(ls -A "$WORK/rep-ok")"
}

# --env KEY takes the caller's value, as docker run -e KEY; unset in the caller: not set.
test_sandbox_env_name_alone_passes_the_callers_value() {
	out=$(BW_T_SET="a b=c" sbx -e BW_T_SET -e BW_T_UNSET -e BW_T_X=1 -- sh -c 'echo "[$BW_T_SET] [${BW_T_UNSET-unset}] [$BW_T_X]"')
	expect_eq "values" "[a b=c] [unset] [1]" "$out"
	out=$(BW_T_EMPTY= sbx --env BW_T_EMPTY -- sh -c 'echo "[${BW_T_EMPTY-unset}]"')
	expect_eq "empty but set" "[]" "$out"
	rc=0; out=$(sbx -e =x -- true 2>&1) || rc=$?
	expect_eq "no name" "125 1" "$rc $(echo "$out" | wc -l)"
}

# Every size flag reads 1GiB, 1G, 1gb, 512MiB, 512m and plain bytes alike; --cpus beyond the
# host's online CPUs is refused in one line.
test_sandbox_sizes_and_cpus_read_as_people_write_them() {
	for s in 1GiB 1G 1gb 1073741824; do
		out=$(sbx --tmp-size "$s" --memory "$s" -- sh -c 'df -B1 /tmp | awk "NR==2 {print \$2}"')
		expect_eq "--tmp-size $s" 1073741824 "$out"
	done
	for s in 512MiB 512m 512Mi 536870912; do
		out=$(sbx --tmp-size "$s" --memory "$s" -- sh -c 'df -B1 /tmp | awk "NR==2 {print \$2}"')
		expect_eq "--tmp-size $s" 536870912 "$out"
	done
	for s in 1GiBx 1.2.3g 0x10 " 1g"; do
		rc=0; out=$(sbx --memory "$s" -- true 2>&1) || rc=$?
		expect_eq "--memory '$s'" "125 1" "$rc $(echo "$out" | wc -l)"
		rc=0; out=$(sbx --tmp-size "$s" -- true 2>&1) || rc=$?
		expect_eq "--tmp-size '$s'" "125 1" "$rc $(echo "$out" | wc -l)"
	done
	n=$(getconf _NPROCESSORS_ONLN)
	rc=0; out=$(sbx --cpus "$((n + 1))" -- true 2>&1) || rc=$?
	expect_eq "--cpus $((n + 1))" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "--cpus says why" "$n online CPUs" "$out"
	sbx --cpus "$n" -- true || fail "--cpus $n (every CPU) refused"
}
