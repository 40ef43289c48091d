# The directories root's CRIU writes and reads (runtime/checkpoint/image_dir.c): held by fd,
# the caller's own and writable by no one else, no symlink or hard link honoured in them, and
# the caller's terminal never handed to a restored container. A stand-in CRIU (--criu) records
# what it was given: these run on any kernel.

# ckd_fake_criu FILE: a CRIU that writes what its fd 0 is to $CKD_OUT/stdin, its arguments to
# $CKD_OUT/args, and fails (the runtime's error path then runs).
ckd_fake_criu() {
	cat >"$1" <<'SH'
#!/bin/sh
readlink /proc/self/fd/0 >"$CKD_OUT/stdin"
printf '%s\n' "$@" >"$CKD_OUT/args"
exit 1
SH
	chmod 755 "$1"
}

# A container to dump: a sleeping busybox.
ckd_container() {
	local b
	b=$(new_bundle "$1")
	cfg "$b" '.process.args=["sleep","600"]'
	bw run -d -b "$b" "$1" </dev/null >/dev/null 2>&1 || fail "run $1"
	echo "$b"
}

# An existing --image-path that another user could write, or whose dump.log is a symlink
# planted to a host file: refused in one line before CRIU runs; the host file is untouched.
test_ckpt_dir_refuses_directories_others_can_write() {
	local b out rc victim=$WORK/victim.${FUNCNAME[0]} img=$WORK/img.${FUNCNAME[0]}
	b=$(ckd_container ckd-w)
	echo secret >"$victim" && chmod 600 "$victim"
	mkdir -p "$img" && chown 65534:65534 "$img"
	rc=0; out=$(bw checkpoint --image-path "$img" ckd-w 2>&1) || rc=$?
	expect_eq "not the caller's: one line" "1 1" "$((rc != 0)) $(echo "$out" | wc -l)"
	expect_contains "names it" "--image-path: \`$img\` is not the caller's" "$out"
	chown 0:0 "$img" && chmod 777 "$img"
	rc=0; out=$(bw checkpoint --image-path "$img" ckd-w 2>&1) || rc=$?
	expect_contains "group or others" "is writable by its group or others" "$out"
	# Made the caller's afterwards, the directory still holds what the other user planted:
	# an image file or the log as a symlink to a host file, which CRIU would open as root.
	chmod 700 "$img"
	for planted in dump.log pages-1.img; do
		ln -s "$victim" "$img/$planted"
		rc=0; out=$(bw checkpoint --image-path "$img" ckd-w 2>&1) || rc=$?
		expect_eq "planted $planted: one line" "1 1" "$((rc != 0)) $(echo "$out" | wc -l)"
		expect_contains "says so" "holds an entry that is not a file of the caller's own" "$out"
		rm "$img/$planted"
	done
	# --parent-path: an earlier dump another user can write is refused too.
	mkdir -p "$WORK/pre.${FUNCNAME[0]}" && chmod 777 "$WORK/pre.${FUNCNAME[0]}"
	rc=0; out=$(bw checkpoint --parent-path "../pre.${FUNCNAME[0]}" --image-path "$img" ckd-w 2>&1) || rc=$?
	expect_contains "parent-path" "--parent-path: \`../pre.${FUNCNAME[0]}\` is writable by its group or others" "$out"
	expect_eq "the host file" "secret 600" "$(cat "$victim") $(stat -c %a "$victim")"
	expect_eq "still running" running "$(bw state ckd-w | jq -r .status)"
	bw delete --force ckd-w
}

# restore: an image directory with a planted restore.log, or a hard link to a host file among
# its files (which a user-namespaced restore hands to the container's group), is refused; the
# host file keeps its owner and mode; nothing of the container is left.
test_ckpt_dir_restore_refuses_planted_links() {
	local b out rc victim=$WORK/victim.${FUNCNAME[0]} img=$WORK/img.${FUNCNAME[0]}
	b=$(new_bundle ckd-r)
	cfg "$b" '.process.args=["sleep","600"] | .linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
	echo secret >"$victim" && chmod 600 "$victim"
	mkdir -p "$img" && chmod 700 "$img" && echo inv >"$img/inventory.img"
	ln -s "$victim" "$img/restore.log"
	rc=0; out=$(bw --criu /bin/false restore -d --image-path "$img" -b "$b" ckd-r 2>&1) || rc=$?
	expect_eq "planted log: one line" "1 1" "$((rc != 0)) $(echo "$out" | wc -l)"
	expect_contains "says so" "holds an entry that is not a file of the caller's own" "$out"
	rm "$img/restore.log"
	ln "$victim" "$img/pages-1.img"
	rc=0; out=$(bw --criu /bin/false restore -d --image-path "$img" -b "$b" ckd-r 2>&1) || rc=$?
	expect_eq "hard link: one line" "1 1" "$((rc != 0)) $(echo "$out" | wc -l)"
	expect_contains "says so" "holds an entry that is not a file of the caller's own" "$out"
	rm "$img/pages-1.img"
	# The chain of earlier dumps CRIU reads pages from: one another user can write is refused.
	mkdir -p "$WORK/pre.${FUNCNAME[0]}" && chmod 777 "$WORK/pre.${FUNCNAME[0]}"
	ln -s "$victim" "$WORK/pre.${FUNCNAME[0]}/pages-1.img"
	ln -s "../pre.${FUNCNAME[0]}" "$img/parent"
	rc=0; out=$(bw --criu /bin/false restore -d --image-path "$img" -b "$b" ckd-r 2>&1) || rc=$?
	expect_eq "parent chain: one line" "1 1" "$((rc != 0)) $(echo "$out" | wc -l)"
	expect_contains "says so" "--parent-path: \`../pre.${FUNCNAME[0]}\` is writable by its group or others" "$out"
	rm "$img/parent"
	expect_eq "the host file" "secret 600 0" "$(cat "$victim") $(stat -c '%a %g' "$victim")"
	[ ! -e "$BW_ROOT/ckd-r" ] || fail "a refused restore left state"
	expect_eq "the planted log is gone with no trace" "" "$(find "$img" -name restore.log -size +0)"
}

# A terminal as restore's stdio is not handed to the restored init: the pipe the image
# recorded for fd 0 is replaced by /dev/null, not by the caller's terminal.
test_ckpt_dir_restore_never_hands_on_the_terminal() {
	command -v script >/dev/null || fail "script (util-linux) is missing"
	local b criu=$WORK/ckd-criu img=$WORK/img.${FUNCNAME[0]}
	export CKD_OUT=$WORK/ckd-out
	mkdir -p "$CKD_OUT" "$img" && chmod 700 "$img" && echo inv >"$img/inventory.img"
	echo '["pipe:[4242]","/dev/null","/dev/null"]' >"$img/descriptors.json"
	ckd_fake_criu "$criu"
	b=$(new_bundle ckd-t)
	cfg "$b" '.process.args=["sleep","600"]'
	script -qec "$BULWARK --root $BW_ROOT --criu $criu restore -d --image-path $img -b $b ckd-t" /dev/null >/dev/null 2>&1 || true
	grep -qx -- '--inherit-fd=fd\[0\]:pipe:\[4242\]' "$CKD_OUT/args" || fail "no --inherit-fd for fd 0: $(cat "$CKD_OUT/args")"
	expect_eq "CRIU's fd 0" /dev/null "$(cat "$CKD_OUT/stdin")"
	[ ! -e "$BW_ROOT/ckd-t" ] || fail "a failed restore left state"
	# --shell-job: CRIU would hand its own stdin to a pty slave of the image, inherited or not.
	echo '["/dev/null","/dev/null","/dev/null"]' >"$img/descriptors.json"
	rm -f "$CKD_OUT/stdin" "$img/restore.log"
	script -qec "$BULWARK --root $BW_ROOT --criu $criu restore --shell-job -d --image-path $img -b $b ckd-t" /dev/null >/dev/null 2>&1 || true
	expect_eq "CRIU's fd 0 with --shell-job" /dev/null "$(cat "$CKD_OUT/stdin")"
	[ ! -e "$BW_ROOT/ckd-t" ] || fail "a failed restore left state"
}
