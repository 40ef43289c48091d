# `bulwark cp` (issue 17): files and trees in and out of running containers, and the docker cp
# CVE class: container paths resolve inside the container's root, the host destination is
# never followed through a symlink the container could have planted.

# cp_ctr ID [JQ]: a running container with a rootfs of its own (the tests write into it) and
# its process as uid/gid 1000.
cp_ctr() {
	b=$(new_bundle "$1")
	rm "$b/rootfs"
	cp -a "$ROOTFS" "$b/rootfs"
	cfg "$b" '.process.args=["sleep","60"] | .process.user={"uid":1000,"gid":1000}'
	[ -n "${2:-}" ] && cfg "$b" "$2"
	bw run -d -b "$b" "$1" </dev/null >/dev/null 2>&1 || fail "run -d $1"
	CP_ROOTFS=$b/rootfs
}

# A tree with a file of each mode, a setuid file, a symlink and a fifo.
cp_src_tree() {
	mkdir -p "$1/s"
	echo hello >"$1/a"
	chmod 640 "$1/a"
	echo b >"$1/s/b"
	chmod 4755 "$1/s/b"
	ln -s a "$1/l"
	mkfifo "$1/f"
}

test_cp_in_copies_a_tree_owned_by_the_container_user_with_modes() {
	cp_ctr cp-in
	cp_src_tree "$WORK/d"
	out=$(bw cp "$WORK/d" cp-in:/tmp 2>&1) || fail "cp into /tmp: $out"
	# Into an existing directory: /tmp/d. The fifo is skipped, said once.
	expect_eq "warning" "bulwark: warning: skipped \`$WORK/d/f\`: a fifo" "$out"
	got=$(bw exec cp-in sh -c 'cd /tmp/d && stat -c "%n %a %u:%g" a s s/b && readlink l && cat a && ls')
	expect_eq "in /tmp/d" "a 640 1000:1000 s 755 1000:1000 s/b 755 1000:1000 a hello a l s" "$(echo $got)"
	# To a new name, and a file over an existing regular file.
	bw cp "$WORK/d" cp-in:/tmp/new 2>/dev/null || fail "cp to a new name"
	echo replaced >"$WORK/r"
	bw cp "$WORK/r" cp-in:/tmp/new/a || fail "cp over a file"
	expect_eq "new name" "b replaced" "$(echo $(bw exec cp-in cat /tmp/new/s/b /tmp/new/a))"
	bw delete --force cp-in
}

test_cp_out_copies_a_tree_owned_by_the_caller() {
	cp_ctr cp-out
	bw exec cp-out sh -c 'mkdir -p /tmp/t/s && echo x >/tmp/t/a && chmod 604 /tmp/t/a && echo y >/tmp/t/s/b && chmod 700 /tmp/t/s && ln -s /etc/passwd /tmp/t/l && mkfifo /tmp/t/f'
	bw cp cp-out:/tmp/t "$WORK/o" 2>/dev/null || fail "cp out"
	expect_eq "tree" "a 604 0:0 s 700 0:0 s/b 0:0 /etc/passwd x y" \
		"$(cd "$WORK/o" && echo $(stat -c '%n %a %u:%g' a s; stat -c '%n %u:%g' s/b; readlink l; cat a s/b))"
	[ ! -e "$WORK/o/f" ] || fail "fifo copied"
	mkdir "$WORK/into"
	bw cp cp-out:/tmp/t/a "$WORK/into" || fail "cp into a directory"
	bw cp cp-out:/tmp/t/a "$WORK/into/" || fail "cp into a directory/"
	expect_eq "into" "x" "$(cat "$WORK/into/a")"
	bw delete --force cp-out
}

# A symlink in the container to a host path: the container's own /etc/shadow (or nothing),
# never the host's. A naive cp following rootfs/x on the host copies the host's shadow.
test_cp_out_resolves_symlinks_inside_the_container_root() {
	cp_ctr cp-esc
	echo container-view >"$CP_ROOTFS/etc/shadow"
	ln -s /etc/shadow "$CP_ROOTFS/x"
	mkdir -p "$CP_ROOTFS/d"
	ln -s ../../../../../../etc/shadow "$CP_ROOTFS/d/up"
	bw cp cp-esc:/x "$WORK/got" || fail "cp /x"
	expect_eq "container's file" "container-view" "$(cat "$WORK/got")"
	bw cp cp-esc:/d/up "$WORK/got2" || fail "cp /d/up"
	expect_eq "through ..: container's file" "container-view" "$(cat "$WORK/got2")"
	# Inside a tree a symlink stays a symlink.
	bw cp cp-esc:/d "$WORK/gotd" || fail "cp /d"
	[ -L "$WORK/gotd/up" ] || fail "symlink in the tree followed"
	bw delete --force cp-esc
}

# A container path whose parent is a symlink to /: the copy lands in the container's root. A
# naive cp to rootfs/lnk/tmp/... writes the host's /tmp.
test_cp_in_through_a_symlink_to_root_stays_in_the_container() {
	cp_ctr cp-esc-in
	ln -s / "$CP_ROOTFS/lnk"
	name=bwcp-escape-$$
	rm -f "/tmp/$name"
	echo payload >"$WORK/cp-payload"
	bw cp "$WORK/cp-payload" "cp-esc-in:/lnk/tmp/$name" || fail "cp"
	[ ! -e "/tmp/$name" ] || { rm -f "/tmp/$name"; fail "written on the host"; }
	expect_eq "in the container" "payload" "$(cat "$CP_ROOTFS/tmp/$name")"
	# A symlink at the destination name is replaced by nothing and written through never.
	ln -s "/tmp/$name" "$CP_ROOTFS/tmp/planted"
	rc=0; out=$(bw cp "$WORK/cp-payload" cp-esc-in:/tmp/planted 2>&1) || rc=$?
	expect_eq "planted symlink refused" "125" "$rc"
	expect_contains "why" "exists and is not a regular file" "$out"
	[ ! -e "/tmp/$name" ] || { rm -f "/tmp/$name"; fail "written on the host"; }
	bw delete --force cp-esc-in
}

# The container shares $WORK/ws read-write and plants symlinks there: a copy out to that
# directory neither writes through the link at the name nor walks through a planted
# directory link. A naive open(O_CREAT|O_TRUNC) of the path writes the victim.
test_cp_out_never_follows_a_symlink_planted_in_a_writable_bind() {
	mkdir -p "$WORK/ws" "$WORK/victimdir"
	echo untouched >"$WORK/victim"
	cp_ctr cp-plant ".mounts += [{\"destination\":\"/ws\",\"type\":\"bind\",\"source\":\"$WORK/ws\",\"options\":[\"rbind\",\"rw\"]}] | .process.user={\"uid\":0,\"gid\":0}"
	bw exec cp-plant sh -c "ln -s $WORK/victim /ws/out && ln -s $WORK/victimdir /ws/sub"
	rc=0; out=$(bw cp cp-plant:/etc/passwd "$WORK/ws/out" 2>&1) || rc=$?
	expect_eq "link at the name: refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "why" "is a symlink" "$out"
	expect_eq "victim" "untouched" "$(cat "$WORK/victim")"
	rc=0; out=$(bw cp cp-plant:/etc/passwd "$WORK/ws/sub/x" 2>&1) || rc=$?
	expect_eq "link on the way: refused" "125" "$rc"
	expect_contains "why" "which cp does not follow on the host" "$out"
	expect_contains "the link's text" "(to \`$WORK/victimdir\`" "$out"
	[ ! -e "$WORK/victimdir/x" ] || fail "written through the planted directory link"
	# No link is followed on the host, even one root made: which directories some container
	# can write cannot be known for sure (another runtime's, a detached mount).
	mkdir -p "$WORK/realhome"
	ln -s "$WORK/realhome" "$WORK/homelink"
	rc=0; out=$(bw cp cp-plant:/etc/passwd "$WORK/homelink/p" 2>&1) || rc=$?
	expect_eq "root's own link: refused" "125" "$rc"
	expect_contains "why" "check where it leads" "$out"
	bw cp cp-plant:/etc/passwd "$WORK/realhome/p" || fail "the real path"
	expect_eq "the real path" "$(cat "$ROOTFS/etc/passwd")" "$(cat "$WORK/realhome/p")"
	bw delete --force cp-plant
}

test_cp_budget_exceeded_stops_and_leaves_nothing() {
	cp_ctr cp-budget
	bw exec cp-budget sh -c 'mkdir /tmp/big && echo small >/tmp/big/a && head -c 2097152 /dev/zero >/tmp/big/z'
	rc=0; out=$(bw cp --max-bytes 1m cp-budget:/tmp/big "$WORK/big" 2>&1) || rc=$?
	expect_eq "out: refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "out: why" "exceeds its budget of 1048576 bytes" "$out"
	[ ! -e "$WORK/big" ] || fail "out: partial tree left: $(ls -R "$WORK/big")"
	bw cp --max-bytes 3m cp-budget:/tmp/big "$WORK/big" || fail "out: within the budget"
	mkdir "$WORK/hin"
	head -c 2097152 /dev/zero >"$WORK/hin/z"
	rc=0; out=$(bw cp --max-bytes 1m "$WORK/hin" cp-budget:/tmp/hin 2>&1) || rc=$?
	expect_eq "in: refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "in: why" "exceeds its budget" "$out"
	expect_eq "in: nothing left" "" "$(bw exec cp-budget ls -A /tmp | grep '^hin\|^\.bwcp' || true)"
	bw delete --force cp-budget
}

test_cp_errors_are_one_line_with_status_125() {
	cp_ctr cp-err
	echo x >"$WORK/f"
	for args in "$WORK/f nosuch:/tmp" "cp-err:/nonexistent $WORK/o" "$WORK/nonexistent cp-err:/tmp" \
		"$WORK/f $WORK/g" "$WORK/f cp-err:/nonexistent/dir/x" "--max-bytes x $WORK/f cp-err:/tmp"; do
		rc=0; out=$(bw cp $args 2>&1) || rc=$?
		expect_eq "$args" "125 1" "$rc $(echo "$out" | wc -l)"
	done
	expect_contains "names the container" "nosuch" "$(bw cp "$WORK/f" nosuch:/tmp 2>&1 || true)"
	expect_contains "names the path" "cp-err:/nonexistent" "$(bw cp cp-err:/nonexistent "$WORK/o" 2>&1 || true)"
	bw delete --force cp-err
}

# The copy does not join the container's cgroup: a paused container is copied from as is.
test_cp_works_on_a_paused_container() {
	cp_ctr cp-paused
	bw pause cp-paused || fail "pause"
	bw cp cp-paused:/etc/passwd "$WORK/cp-payload" || { bw resume cp-paused; fail "cp from a paused container"; }
	bw resume cp-paused
	bw delete --force cp-paused
}

# With a user namespace the files the copy creates are the process user's inside, i.e. the
# mapped id on the host.
test_cp_in_user_namespace_owned_by_the_mapped_process_user() {
	cp_ctr cp-userns '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}]'
	echo x >"$WORK/f"
	bw cp "$WORK/f" cp-userns:/tmp/f || fail "cp in"
	expect_eq "inside" "1000:1000" "$(bw exec cp-userns stat -c %u:%g /tmp/f)"
	expect_eq "on the host" "201000:201000" "$(stat -c %u:%g "$CP_ROOTFS/tmp/f")"
	bw delete --force cp-userns
}

test_cp_rootless_container() {
	rl_setup
	b=$(rl_bundle rl-cp)
	rl_cfg "$b" '.process.terminal=false | .process.args=["sleep","60"]'
	rl run -d -b "$b" rl-cp </dev/null || fail "run -d"
	mkdir -p "$WORK/rlw"
	echo x >"$WORK/rlw/f"
	chown -R $RL_UID:$RL_UID "$WORK/rlw"
	(cd "$WORK/rlw" && rl cp f rl-cp:/tmp/f) || { rl delete -f rl-cp; fail "cp in"; }
	expect_eq "inside" "0:0" "$(rl exec rl-cp stat -c %u:%g /tmp/f)"
	(cd "$WORK/rlw" && rl cp rl-cp:/etc/passwd p) || { rl delete -f rl-cp; fail "cp out"; }
	expect_eq "owned by the caller" "$RL_UID" "$(stat -c %u "$WORK/rlw/p")"
	# A home with ~/project a link of the user's own to elsewhere: refused with the real
	# path (the user's own containers write as the user: their links look the same).
	mkdir -p "$WORK/rlhome" "$WORK/rlreal"
	ln -s "$WORK/rlreal" "$WORK/rlhome/project"
	chown -h $RL_UID:$RL_UID "$WORK/rlhome" "$WORK/rlreal" "$WORK/rlhome/project"
	rc=0; out=$(rl cp rl-cp:/etc/passwd "$WORK/rlhome/project/p" 2>&1) || rc=$?
	expect_eq "out through ~/project" "125" "$rc"
	expect_contains "the link's text" "(to \`$WORK/rlreal\`, owner uid $RL_UID)" "$out"
	rl cp rl-cp:/etc/passwd "$WORK/rlreal/p" || { rl delete -f rl-cp; fail "cp out to the real path"; }
	rl cp "$WORK/rlreal/p" rl-cp:/tmp/p || { rl delete -f rl-cp; fail "cp in from the real path"; }
	rl delete -f rl-cp
}

# The copy in the container is held to the container's Landlock rules: a write the mount
# allows but Landlock refuses (below /dev) is refused to cp too.
test_cp_in_keeps_the_containers_landlock_rules() {
	cp_ctr cp-ll '.annotations["run.bulwark.landlock"]="default" | .process.user={"uid":0,"gid":0}'
	echo x >"$WORK/f"
	rc=0; out=$(bw cp "$WORK/f" cp-ll:/dev/planted 2>&1) || rc=$?
	expect_eq "refused" "125" "$rc"
	expect_contains "why" "Permission denied" "$out"
	bw cp "$WORK/f" cp-ll:/tmp/f || fail "allowed path"
	bw delete --force cp-ll
	# Without Landlock the same copy works: the refusal is Landlock's.
	cp_ctr cp-noll '.process.user={"uid":0,"gid":0}'
	bw cp "$WORK/f" cp-noll:/dev/planted || fail "without landlock"
	bw delete --force cp-noll
}

# A sandbox (user namespace owned by root, pid 1 an init of ours that never exec'd, a mount
# namespace made outside its user namespace): in and out as its user, its read-only host
# view refused.
test_cp_in_and_out_of_a_sandbox() {
	bw sandbox -- sleep 60 >/dev/null 2>&1 &
	sb=$!
	sb_id() { bw list -q | grep -m1 '^sandbox-'; }
	wait_for 10 sb_id || fail "no sandbox"
	id=$(sb_id)
	echo hi >"$WORK/h"
	bw cp "$WORK/h" "$id:/tmp/h" || fail "cp in"
	expect_eq "as the sandbox user" "1000:1000 hi" "$(echo $(bw exec "$id" sh -c 'stat -c %u:%g /tmp/h; cat /tmp/h'))"
	bw cp "$id:/tmp/h" "$WORK/back" || fail "cp out"
	expect_eq "back" "hi" "$(cat "$WORK/back")"
	rc=0; out=$(bw cp "$WORK/h" "$id:/usr/h" 2>&1) || rc=$?
	expect_eq "read-only view" "125" "$rc"
	expect_contains "why" "Read-only file system" "$out"
	bw kill "$id" KILL
	wait $sb || true
}

# --no-pivot: the init's root is a chroot; a symlink to a host path still gives the
# container's file.
test_cp_no_pivot_container_resolves_inside_its_root() {
	b=$(new_bundle cp-np)
	rm "$b/rootfs"
	cp -a "$ROOTFS" "$b/rootfs"
	cfg "$b" '.process.args=["sleep","60"]'
	echo container-view >"$b/rootfs/etc/shadow"
	ln -s /etc/shadow "$b/rootfs/x"
	bw run -d --no-pivot -b "$b" cp-np </dev/null >/dev/null 2>&1 || fail "run --no-pivot"
	bw cp cp-np:/x "$WORK/got" || fail "cp"
	expect_eq "container's file" "container-view" "$(cat "$WORK/got")"
	bw delete --force cp-np
}

# The helper that enters the container is never dumpable while it holds host root: a process
# of a container sharing the host's pid namespace with CAP_SYS_PTRACE in its user namespace
# could otherwise ptrace it between setns(CLONE_NEWUSER) and the privilege drop. The
# invariant, per process: PR_SET_DUMPABLE 0 precedes its first setns.
test_cp_helper_is_not_dumpable_before_it_enters_the_container() {
	command -v strace >/dev/null || fail "needs strace"
	cp_ctr cp-dump '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}]'
	strace -f -qq -o "$WORK/trace" -e trace=prctl,setns "$BULWARK" --root "$BW_ROOT" \
		cp cp-dump:/etc/passwd "$WORK/cp-payload" || fail "cp under strace"
	bad=$(awk '{ pid = $1 }
		/PR_SET_DUMPABLE, (0|SUID_DUMP_DISABLE)\)/ { safe[pid] = 1 }
		/setns\(/ && !safe[pid] { print; exit }' "$WORK/trace")
	grep -q 'setns(' "$WORK/trace" || fail "no setns traced"
	expect_eq "setns while dumpable" "" "$bad"
	bw delete --force cp-dump
}

# Copy in from a host path the container can write: a symlink it planted at the source (or on
# the way to it) is never followed, so the host's files it points at stay out of the container.
test_cp_in_never_follows_a_symlink_planted_at_the_host_source() {
	mkdir -p "$WORK/share" "$WORK/secret"
	echo host-secret >"$WORK/secret/key"
	cp_ctr cp-srcl ".mounts += [{\"destination\":\"/share\",\"type\":\"bind\",\"source\":\"$WORK/share\",\"options\":[\"rbind\",\"rw\"]}] | .process.user={\"uid\":0,\"gid\":0}"
	bw exec cp-srcl sh -c "ln -s $WORK/secret /share/build && ln -s $WORK/secret/key /share/k && echo mine >/share/own"
	rc=0; out=$(bw cp "$WORK/share/build" cp-srcl:/tmp/got 2>&1) || rc=$?
	expect_eq "link at the source: refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "why" "is a symbolic link" "$out"
	rc=0; out=$(bw cp "$WORK/share/k" cp-srcl:/tmp/gotk 2>&1) || rc=$?
	expect_eq "file link at the source: refused" "125" "$rc"
	rc=0; out=$(bw cp "$WORK/share/build/key" cp-srcl:/tmp/gotk 2>&1) || rc=$?
	expect_eq "link on the way: refused" "125" "$rc"
	# (The container's /tmp is the shared test rootfs's: only our own names count.)
	expect_eq "nothing copied" "" "$(bw exec cp-srcl ls -A /tmp | grep -x 'got\|gotk\|got2' || true)"
	# The shared directory itself and a file in it are the caller's to copy.
	bw cp "$WORK/share" cp-srcl:/tmp/s || fail "cp the shared directory"
	expect_eq "tree" "mine $WORK/secret" "$(echo $(bw exec cp-srcl sh -c 'cat /tmp/s/own; readlink /tmp/s/build'))"
	bw cp "$WORK/share/own" cp-srcl:/tmp/own || fail "cp a file of the shared directory"
	bw delete --force cp-srcl
}

# No symbolic link is followed on the host side, whoever made it and wherever it is: one a
# container of this state root planted in its shared directory, one of another state root's
# container, one below a host mount another runtime binds at the same path (`-v /data:/data`,
# which no enumeration of "what containers can write" tells from the host's own), root's own
# and a user's; in and out; the error names where the link leads now, and the real path works.
test_cp_follows_no_host_symlink() {
	local p rc out
	mkdir -p "$WORK/nl-shared" "$WORK/nl-oth" "$WORK/nl-data" "$WORK/victimdir" "$WORK/nl-real" "$WORK/nl-root2"
	echo x >"$WORK/victimdir/key"
	bw2() { "$BULWARK" --root "$WORK/nl-root2" "$@"; }
	cp_ctr cp-nl-sh ".mounts += [{\"destination\":\"/o\",\"type\":\"bind\",\"source\":\"$WORK/nl-shared\",\"options\":[\"rbind\",\"rw\"]}] | .process.user={\"uid\":0,\"gid\":0}"
	bw exec cp-nl-sh ln -s "$WORK/victimdir" /o/l
	b=$(new_bundle cp-nl-oroot)
	cfg "$b" ".process.args=[\"sleep\",\"60\"] | .mounts += [{\"destination\":\"/o\",\"type\":\"bind\",\"source\":\"$WORK/nl-oth\",\"options\":[\"rbind\",\"rw\"]}]"
	bw2 run -d -b "$b" cp-nl-oroot </dev/null >/dev/null 2>&1 || fail "run -d in another root"
	trap 'bw2 delete --force cp-nl-oroot 2>/dev/null || true; kill -9 ${rt:-} 2>/dev/null || true' EXIT
	bw2 exec cp-nl-oroot ln -s "$WORK/victimdir" /o/l
	# Another runtime: a host mount bound at the same path in its namespace.
	mount -t tmpfs cp-nl-data "$WORK/nl-data"
	unshare -m --propagation private sh -c "mount --bind '$WORK/nl-data' '$WORK/nl-data' && exec sleep 60" &
	rt=$!
	ln -s "$WORK/victimdir" "$WORK/nl-data/l"
	ln -s "$WORK/victimdir" "$WORK/nl-rootlink"
	ln -s "$WORK/victimdir" "$WORK/nl-userlink" && chown -h 1000:1000 "$WORK/nl-userlink"
	ln -s "$WORK/nl-real/p" "$WORK/nl-filelink"
	cp_ctr cp-nl
	for p in "$WORK/nl-shared/l" "$WORK/nl-oth/l" "$WORK/nl-data/l" "$WORK/nl-rootlink" "$WORK/nl-userlink"; do
		rc=0; out=$(bw cp cp-nl:/etc/passwd "$p/x" 2>&1) || rc=$?
		expect_eq "out through $p" "125 1" "$rc $(echo "$out" | wc -l)"
		expect_contains "why ($p)" "which cp does not follow on the host" "$out"
		expect_contains "the link's text ($p)" "(to \`$WORK/victimdir\`" "$out"
		rc=0; out=$(bw cp "$p/key" cp-nl:/tmp/nl-k 2>&1) || rc=$?
		expect_eq "in through $p" "125" "$rc"
	done
	[ ! -e "$WORK/victimdir/x" ] || fail "written through a link"
	expect_eq "nothing copied in" "" "$(bw exec cp-nl ls -A /tmp | grep -x 'nl-k' || true)"
	bw cp cp-nl:/etc/passwd "$WORK/nl-real/p" || fail "the real path, out"
	bw cp "$WORK/nl-real/p" cp-nl:/tmp/nl-p || fail "the real path, in"
	rc=0; out=$(bw cp "$WORK/nl-filelink" cp-nl:/tmp/nl-fl 2>&1) || rc=$?
	expect_eq "a link as the source: refused" "125" "$rc"
	kill -9 $rt; wait $rt 2>/dev/null || true
	umount "$WORK/nl-data"
	bw delete --force cp-nl
	bw delete --force cp-nl-sh
	bw2 delete --force cp-nl-oroot
}

# A sparse file in the container costs the host what its data costs: 300 MB of length, a few
# KB of blocks. The data around the hole comes back exact.
test_cp_out_keeps_the_holes_of_a_sparse_file() {
	cp_ctr cp-sparse
	bw exec cp-sparse sh -c 'echo head >/tmp/s && truncate -s 300M /tmp/s && echo tail >>/tmp/s && truncate -s 200M /tmp/z'
	bw cp cp-sparse:/tmp/s "$WORK/s" || fail "cp out"
	bw cp cp-sparse:/tmp/z "$WORK/z" || fail "cp out an all-hole file"
	expect_eq "sizes" "314572805 209715200" "$(stat -c %s "$WORK/s" "$WORK/z" | xargs)"
	expect_eq "data" "head tail" "$(echo $(head -c 5 "$WORK/s"; tail -c 5 "$WORK/s"))"
	used=$(( $(stat -c '%b * %B' "$WORK/s") + $(stat -c '%b * %B' "$WORK/z") ))
	[ "$used" -lt 1048576 ] || fail "the holes were written: $used bytes allocated"
	bw delete --force cp-sparse
}

# Without --max-bytes a copy out never takes the last 5% of the destination file system:
# 9.8 MB into a 10 MB file system is refused with one line naming the path, and undone.
test_cp_out_default_budget_is_the_destination_free_space() {
	mkdir -p "$WORK/small"
	mount -t tmpfs -o size=10m cp-small "$WORK/small" || fail "mount tmpfs"
	trap 'bw delete --force cp-full 2>/dev/null; umount "$WORK/small"' EXIT
	cp_ctr cp-full
	bw exec cp-full sh -c 'mkdir /tmp/t && head -c 10276044 /dev/urandom >/tmp/t/big && head -c 4000000 /dev/urandom >/tmp/small'
	rc=0; out=$(bw cp cp-full:/tmp/t "$WORK/small/t" 2>&1) || rc=$?
	expect_eq "refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "why" "\`$WORK/small/t/big\`: the copy would leave less than 5% of its file system free" "$out"
	expect_eq "nothing left" "" "$(ls -A "$WORK/small")"
	bw cp cp-full:/tmp/small "$WORK/small/s" || fail "a copy that fits"
}

# Links a container made, copied out by root, are nobody's on the host (anything trusting
# root's links would take them for root's); /proc magic links on the host side are never
# followed.
test_cp_out_links_are_nobodys_and_proc_links_are_not_followed() {
	cp_ctr cp-lnk '.process.user={"uid":0,"gid":0}'
	mkdir -p "$WORK/victim2" "$WORK/o"
	bw exec cp-lnk sh -c "mkdir -p /tmp/t && echo a >/tmp/t/a && ln -s $WORK/victim2 /tmp/t/d"
	bw cp cp-lnk:/tmp/t "$WORK/o/t" || fail "cp out"
	expect_eq "the link's owner" "65534" "$(stat -c %u "$WORK/o/t/d")"
	rc=0; out=$(bw cp cp-lnk:/tmp/t/a "$WORK/o/t/d/" 2>&1) || rc=$?
	expect_eq "through the copied link: refused" "125" "$rc"
	[ ! -e "$WORK/victim2/a" ] || fail "written through the container's link"
	pid=$(bw state cp-lnk | jq -r .pid)
	rc=0; out=$(bw cp cp-lnk:/tmp/t/a "/proc/$pid/root/tmp/viaproc" 2>&1) || rc=$?
	expect_eq "through /proc: refused" "125" "$rc"
	expect_contains "why" "is a symbolic link" "$out"
	[ ! -e /tmp/viaproc ] || { rm -f /tmp/viaproc; fail "written through /proc/PID/root"; }
	bw delete --force cp-lnk
}

# What people type keeps working: a relative destination in the cwd, a directory in /tmp.
test_cp_ordinary_destinations_still_work() {
	cp_ctr cp-ord
	mkdir -p "$WORK/cwd"
	(cd "$WORK/cwd" && bw cp cp-ord:/etc/passwd ./x) || fail "cp to ./x"
	[ -f "$WORK/cwd/x" ] || fail "./x missing"
	d=$(mktemp -d -p /tmp)
	bw cp cp-ord:/etc/passwd "$d/" || { rm -rf "$d"; fail "cp into a directory in /tmp"; }
	[ -f "$d/passwd" ] || { rm -rf "$d"; fail "$d/passwd missing"; }
	rm -rf "$d"
	bw delete --force cp-ord
}

# A cp killed (SIGKILL: nothing of ours runs) in the middle of a file leaves no name behind,
# on the host (copy out) or in the container (copy in, its helper dies with it): the file
# being written is unnamed (O_TMPFILE) until complete.
test_cp_killed_mid_file_leaves_no_name() {
	cp_ctr cp-kill
	# 20 GB of holes: nothing on disk, seconds of stream.
	bw exec cp-kill truncate -s 20G /tmp/big-kill
	mkdir -p "$WORK/ko"
	"$BULWARK" --root "$BW_ROOT" cp cp-kill:/tmp/big-kill "$WORK/ko/big" &
	pid=$!
	opened() { ls -l "/proc/$pid/fd" 2>/dev/null | grep -q -- "$WORK/ko/"; }
	wait_for 20 opened || { kill -9 $pid; fail "the copy never started"; }
	kill -9 $pid
	wait $pid 2>/dev/null || true
	expect_eq "nothing named on the host" "" "$(ls -A "$WORK/ko")"
	# In: the helper writing in the container is killed too.
	truncate -s 20G "$WORK/big-in"
	"$BULWARK" --root "$BW_ROOT" cp "$WORK/big-in" cp-kill:/tmp/big-in &
	pid=$!
	writing() {
		local c
		for c in $(pgrep -P $pid); do
			ls -l "/proc/$c/fd" 2>/dev/null | grep -qE -- '/tmp/(\.bwcp-|#)' && echo $c && return 0
		done
		return 1
	}
	wait_for 20 writing >/dev/null || { kill -9 $pid; fail "the copy in never started"; }
	kill -9 $(writing) $pid
	wait $pid 2>/dev/null || true
	expect_eq "nothing named in the container" "" "$(ls -A "$CP_ROOTFS/tmp" | grep -x 'big-in\|\.bwcp-.*' || true)"
	rm -f "$WORK/big-in"
	# The host side killed alone: its helper, stopped meanwhile (it sees no end of stream),
	# dies with it all the same.
	"$BULWARK" --root "$BW_ROOT" cp cp-kill:/tmp/big-kill "$WORK/ko/big" &
	pid=$!
	wait_for 20 opened || { kill -9 $pid; fail "the copy never started again"; }
	h=$(pgrep -P $pid | head -1)
	kill -STOP $h
	kill -9 $pid
	wait $pid 2>/dev/null || true
	alive() { kill -0 $h 2>/dev/null; }
	! wait_for 5 eval '! alive' && { kill -9 $h; fail "the helper outlived the host side"; }
	bw delete --force cp-kill
}

# A copy has an overall deadline (--timeout, default 1h): a container that stalls the helper
# (here: stopped, as a container sharing the host's pid namespace and the helper's uid could)
# or trickles holds the cp no longer than that, and what it made is undone. Fifos are never a
# source: refused, not read.
test_cp_timeout_bounds_a_stalled_copy() {
	cp_ctr cp-slow
	bw exec cp-slow sh -c 'truncate -s 20G /tmp/big-slow && mkfifo /tmp/ff'
	rc=0; out=$(bw cp --timeout 0 cp-slow:/tmp/ff "$WORK/ff" 2>&1) || rc=$?
	expect_eq "--timeout 0" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "why" "--timeout: expected a duration > 0" "$out"
	rc=0; out=$(timeout 20 "$BULWARK" --root "$BW_ROOT" cp cp-slow:/tmp/ff "$WORK/ff" 2>&1) || rc=$?
	expect_eq "a fifo in the container: refused" "125" "$rc"
	expect_contains "why" "not a regular file or a directory" "$out"
	mkfifo "$WORK/hostff"
	rc=0; out=$(timeout 20 "$BULWARK" --root "$BW_ROOT" cp "$WORK/hostff" cp-slow:/tmp/x 2>&1) || rc=$?
	expect_eq "a fifo on the host: refused" "125" "$rc"
	mkdir -p "$WORK/slow"
	start=$(date +%s)
	"$BULWARK" --root "$BW_ROOT" cp --timeout 3s cp-slow:/tmp/big-slow "$WORK/slow/big" 2>"$WORK/slow.err" &
	pid=$!
	helper() { pgrep -P $pid | head -1 | grep .; }
	wait_for 10 helper >/dev/null || { kill -9 $pid; fail "no helper"; }
	kill -STOP $(helper)
	rc=0; wait $pid || rc=$?
	took=$(( $(date +%s) - start ))
	expect_eq "stopped helper: refused" "125" "$rc"
	expect_contains "why" "did not finish within its time limit" "$(cat "$WORK/slow.err")"
	[ "$took" -lt 15 ] || fail "took $took s (the idle timeout is 30 s)"
	expect_eq "nothing left" "" "$(ls -A "$WORK/slow")"
	bw delete --force cp-slow
}

# A failed copy out undoes only the directory it made: a container that can write the
# destination's parent renames that directory away and root's own 0700 tree to its name, then
# makes the copy fail (a source file that shrinks); the undo removed root's tree by name.
test_cp_undo_removes_only_the_directory_it_made() {
	local S=$WORK/undo-shared rc
	rm -rf "$S"
	mkdir -p "$S/victim/sub"
	echo TOP-SECRET >"$S/victim/secret"
	chmod 700 "$S/victim"
	chown 1000:1000 "$S"
	cp_ctr cp-undo ".mounts += [{\"destination\":\"/shared\",\"type\":\"bind\",\"source\":\"$S\",\"options\":[\"rbind\",\"rw\"]}]"
	bw exec cp-undo sh -c 'mkdir -p /tmp/src && truncate -s 2G /tmp/src/big'
	bw exec cp-undo sh -c 'while [ ! -d /shared/out ]; do :; done; mv /shared/out /shared/junk && mv /shared/victim /shared/out && truncate -s 0 /tmp/src/big' &
	swap=$!
	rc=0; bw cp cp-undo:/tmp/src "$S/out" >/dev/null 2>&1 || rc=$?
	wait $swap || true
	expect_eq "the copy failed" 125 "$rc"
	expect_eq "root's tree is still there" TOP-SECRET "$(cat "$S/out/secret" 2>/dev/null)"
	bw delete --force cp-undo
	rm -rf "$S"
}
