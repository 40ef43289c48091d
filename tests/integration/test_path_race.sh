# Host paths are resolved once (issue #11): a path the caller names is opened when bulwark
# first reads it, every check is made on that fd and the mount is made from it, so a symlink
# swapped in afterwards changes nothing. The race test below runs a real attacker: a sandbox
# that swaps a directory of its own rw workspace with a symlink to a root-owned directory while
# other sandboxes mount that directory rw.

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

PR_ROUNDS=${PR_ROUNDS:-500}
PR_PARALLEL=${PR_PARALLEL:-4}

# The victim sandbox (B): is any mount of its whose root is the target directory? Field 4 of
# mountinfo is the mount's root inside its file system, which ends in the target's path.
pr_victim_script='
	exec 2>/tmp/stderr
	if awk "\$4 ~ /\/pathrace-target\$/ { found = 1 } END { exit !found }" /proc/self/mountinfo; then
		echo ESCAPED
	fi
	# Through the cwd, which the init entered by the path, so it may be the read-only view
	# of the target when the swap came between the mount and the chdir (not a host mount).
	{ echo "$1" >"marker-$1"; } || echo NOWRITE'

# Swap $1/victim and $1/other atomically until $1/stop exists (renameat2 RENAME_EXCHANGE), one of them a
# directory, the other a symlink to the target; run inside the attacker's own rw workspace.
pr_swapper='
import ctypes, os, random, sys, time
libc = ctypes.CDLL(None, use_errno=True)
os.chdir(sys.argv[1])
open("ready", "w").close()
while not os.path.exists("stop"):
	libc.renameat2(-100, b"victim", -100, b"other", 2)
	time.sleep(random.random() * 0.002)
'

test_pathrace_swapping_sandbox_never_gets_an_rw_mount_of_a_root_dir() {
	local base=$WORK/pathrace a target
	rm -rf "$base"
	a=$base/a
	target=$base/pathrace-target
	mkdir -p "$a/victim" "$target"
	echo root >"$target/SENTINEL"
	chown -R 0:0 "$target"
	chmod 755 "$base" "$target"
	ln -s "$target" "$a/other"
	chown -hR 1234:1234 "$a"
	chmod 755 "$a" "$a/victim"
	"$BULWARK" --root "$BW_ROOT" sandbox --workspace "$a:rw" --timeout 10m -- \
		python3 -c "$pr_swapper" "$a" &
	local attacker=$!
	for _ in $(seq 100); do [ -e "$a/ready" ] && break; sleep 0.1; done
	[ -e "$a/ready" ] || fail "the attacker did not start"
	mkdir -p "$base/out"
	# B: PR_PARALLEL at a time; each leaves its exit code, stdout and stderr.
	seq "$PR_ROUNDS" | xargs -P "$PR_PARALLEL" -I{} sh -c '
		rc=0
		"$0" --root "$1" sandbox --workspace "$2/victim:rw" -- sh -c "$3" sh {} "$2/victim" \
			>"$4/{}.out" 2>"$4/{}.err" || rc=$?
		echo $rc >"$4/{}.rc"' "$BULWARK" "$BW_ROOT" "$a" "$pr_victim_script" "$base/out"
	touch "$a/stop" # the swapper is its sandbox's pid 1: SIGTERM would not stop it
	wait "$attacker" 2>/dev/null || true
	local escaped ok refused bad=0 i rc
	escaped=$(cat "$base"/out/*.out | grep -c ESCAPED || true)
	ok=0 refused=0
	for i in $(seq "$PR_ROUNDS"); do
		rc=$(cat "$base/out/$i.rc")
		if [ "$rc" = 0 ] && [ ! -s "$base/out/$i.err" ] && [ "$(wc -l <"$base/out/$i.out")" -le 1 ]; then
			ok=$((ok + 1))
		elif [ "$rc" = 125 ] && [ "$(wc -l <"$base/out/$i.err")" = 1 ] &&
			grep -q -- '--workspace' "$base/out/$i.err"; then
			refused=$((refused + 1))
		else
			bad=$((bad + 1))
			echo "round $i: exit $rc: $(cat "$base/out/$i.err" "$base/out/$i.out")"
		fi
	done
	echo "rounds $PR_ROUNDS: ran $ok, refused $refused, escaped $escaped, other $bad" |
		tee -a "${PR_LOG:-/dev/null}"
	grep -h . "$base"/out/*.err | sed 's/ `[^`]*`//; s/\/[^ :]*//g' | sort | uniq -c | head -5 |
		tee -a "${PR_LOG:-/dev/null}"
	expect_eq "escapes (a mount of the root-owned directory in a sandbox)" 0 "$escaped"
	expect_eq "the target is untouched" "SENTINEL 0:0 755" \
		"$(echo $(ls "$target"; stat -c '%u:%g %a' "$target"))"
	[ "$bad" = 0 ] || fail "$bad rounds neither ran on the real directory nor refused in one line"
	# Every marker written landed in the real directory (named victim or other by now).
	local markers
	markers=$(find "$a" -name 'marker-*' | wc -l)
	local nowrite
	nowrite=$(cat "$base"/out/*.out | grep -c NOWRITE || true)
	expect_eq "markers in the real directory" "$((ok - nowrite))" "$markers"
	[ -z "$(ls "$target" | grep marker || true)" ] || fail "a marker reached the target"
	[ "$ok" -gt 0 ] || fail "no round mounted the real directory: the test proves nothing"
}

# ---- each kind of path, swapped for a symlink after bulwark checked it ------------------------
# The sandbox's --env-file is a FIFO: bulwark reads it once every host path is resolved, so
# while it waits there the test swaps a checked path for a symlink to a root-owned directory.

pr_setup() {
	PRD=$WORK/pr-$1
	rm -rf "$PRD"
	mkdir -p "$PRD/target" "$PRD/p"
	echo root >"$PRD/target/SENTINEL"
	chmod 755 "$PRD" "$PRD/target"
	rm -f "$PRD/env"
	mkfifo "$PRD/env"
}

# pr_start ARGS...: start the sandbox and return once it waits in open(2) of the FIFO.
pr_start() {
	"$BULWARK" --root "$BW_ROOT" sandbox --env-file "$PRD/env" "$@" >"$PRD/out" 2>"$PRD/err" &
	PR_PID=$!
	for _ in $(seq 400); do
		[ "$(cat "/proc/$PR_PID/wchan" 2>/dev/null)" = wait_for_partner ] && return 0
		kill -0 "$PR_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$PR_PID" 2>/dev/null
	fail "the sandbox never opened its --env-file: $(cat "$PRD/err")"
}

# pr_swap PATH: PATH becomes a symlink to the target; what it was moves to PATH.real.
pr_swap() { mv "$1" "$1.real" && ln -s "$PRD/target" "$1"; }

pr_finish() {
	echo X=1 >"$PRD/env"
	PR_RC=0
	wait "$PR_PID" || PR_RC=$?
}

pr_expect_refused() {
	expect_eq "exit status" 125 "$PR_RC"
	expect_eq "one line" 1 "$(wc -l <"$PRD/err")"
	expect_contains "names the flag" "$1" "$(cat "$PRD/err")"
	expect_contains "says why" "changed after it was checked" "$(cat "$PRD/err")"
	expect_eq "the target is untouched" SENTINEL "$(echo $(ls "$PRD/target"))"
}

test_pathrace_rootfs_swapped_after_the_check_is_refused() {
	pr_setup rootfs
	cp -al "$ROOTFS" "$PRD/p/root"
	pr_start --rootfs "$PRD/p/root" -- sh -c 'ls /SENTINEL 2>/dev/null; echo ran'
	pr_swap "$PRD/p/root"
	pr_finish
	pr_expect_refused "--rootfs $PRD/p/root"
}

test_pathrace_bind_source_swapped_after_the_check_is_refused() {
	pr_setup bind
	mkdir "$PRD/p/src"
	pr_start --bind "$PRD/p/src:/mnt:rw" -- sh -c 'ls /mnt; echo ran'
	pr_swap "$PRD/p/src"
	pr_finish
	pr_expect_refused "--bind $PRD/p/src:/mnt:rw"
}

test_pathrace_rw_workspace_swapped_after_the_check_is_refused() {
	pr_setup ws
	mkdir "$PRD/p/w"
	chown 1234:1234 "$PRD/p/w"
	pr_start --workspace "$PRD/p/w:rw" -- sh -c 'echo x >marker; echo ran'
	pr_swap "$PRD/p/w"
	pr_finish
	pr_expect_refused "--workspace $PRD/p/w:rw"
	[ ! -e "$PRD/p/w.real/marker" ] || fail "the sandbox ran after refusing"
}

test_pathrace_keep_changes_parent_swapped_after_the_check_lands_in_the_real_one() {
	pr_setup keep
	mkdir -p "$PRD/w" "$PRD/p/kp"
	pr_start --workspace "$PRD/w:overlay" --keep-changes "$PRD/p/kp/keep" -- sh -c 'echo x >new'
	pr_swap "$PRD/p/kp"
	pr_finish
	expect_eq "exit status" 0 "$PR_RC"
	expect_eq "kept in the directory checked" x "$(cat "$PRD/p/kp.real/keep/new")"
	expect_eq "the target is untouched" SENTINEL "$(echo $(ls "$PRD/target"))"
}

test_pathrace_report_directory_swapped_after_the_check_lands_in_the_real_one() {
	pr_setup report
	mkdir -p "$PRD/p/rd"
	pr_start --report "$PRD/p/rd/r.json" -- true
	pr_swap "$PRD/p/rd"
	pr_finish
	expect_eq "exit status" 0 "$PR_RC"
	jq -e .exit_code "$PRD/p/rd.real/r.json" >/dev/null || fail "no report in the directory checked"
	expect_eq "the target is untouched" SENTINEL "$(echo $(ls "$PRD/target"))"
}
