# User namespaces on the paths people have (issue 14 §1): bundles, workspaces and bind sources
# below a 0700 home, and root-made bundles without /proc, /dev or /sys mountpoints.

# up_home: a home directory like Debian's (0700, owned by uid 1000), echoed.
up_home() {
	local h=$WORK/home700/u
	mkdir -p "$h"
	chown 1000:1000 "$WORK/home700/u"
	chmod 700 "$h"
	chmod 755 "$WORK/home700"
	echo "$h"
}

# up_root_made_rootfs DIR: what `tar x` of an image as root gives: busybox and nothing else,
# every file root's, no mountpoints.
up_root_made_rootfs() {
	mkdir -p "$1/bin"
	cp /bin/busybox "$1/bin/busybox"
	for a in sh ls cat id echo stat; do ln -s busybox "$1/bin/$a"; done
	chown -R 0:0 "$1"
}

# up_spec_bundle DIR ID JQ: `bulwark spec` (user namespace by default) over a root-made rootfs
# in DIR, not a terminal, the test's cgroup, then the jq filter JQ.
up_spec_bundle() {
	mkdir -p "$1"
	up_root_made_rootfs "$1/rootfs"
	(cd "$1" && "$BULWARK" spec) || fail "spec"
	cfg "$1" '.process.terminal=false | .linux.cgroupsPath="/'"$CG_PREFIX"'/'"$2"'" | '"$3"
}

# up_refused BUNDLE ID TEXT: run must fail, saying TEXT.
up_refused() {
	local rc=0 out
	out=$(bw run -b "$1" "$2" </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "$2 ran"
	expect_contains "$2 refused" "$3" "$out"
}

# `bulwark spec` (user namespace by default) + a root-made rootfs, in a bundle below a 0700
# home: the runtime reopens root.path from the container's mount namespace with its own
# credentials, and makes the missing mountpoints the container's ids may not.
test_userns_spec_bundle_below_a_0700_home_with_a_root_made_rootfs() {
	h=$(up_home)
	b=$h/bundle
	up_spec_bundle "$b" up-spec '.process.args=["sh","-c","echo in; cat /proc/self/uid_map | tr -s \" \" | sed \"s/^ //\""]'
	before=$(cd "$b/rootfs" && find . | sort)
	out=$(bw run -b "$b" up-spec </dev/null 2>&1) || fail "run: $out"
	expect_eq "ran in its user namespace" "in 0 100000000 65536" "$(echo $out)"
	# The mountpoints were made (root's, empty) and nothing else in the rootfs changed.
	after=$(cd "$b/rootfs" && find . | sort)
	added=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
	expect_eq "mountpoints made" "./dev ./proc ./sys ./tmp " "$added"
	expect_eq "owned by root" "0:0 0:0 0:0 0:0" "$(cd "$b/rootfs" && stat -c %u:%g dev proc sys tmp | tr '\n' ' ' | sed 's/ $//')"
	# The second run finds them.
	bw run -b "$b" up-spec </dev/null >/dev/null 2>&1 || fail "second run"
}

# The same bundle, without the runtime's help, fails as the kernel says: the test proves that
# the paths really are closed to the container's ids.
test_userns_a_0700_home_is_closed_to_the_containers_ids() {
	h=$(up_home)
	mkdir -p "$h/probe"
	out=$(unshare --user --map-user=100000000 --map-group=100000000 ls "$h/probe" 2>&1) && fail "the home is open to other ids: $out"
	expect_contains "closed" "Permission denied" "$out"
}

# A mountpoint below a bind source of the host's is never made by the runtime: only the
# rootfs's own filesystem is its to write.
test_userns_no_mountpoint_is_made_inside_a_host_bind_source() {
	h=$(up_home)
	b=$h/bundle-bs
	mkdir -p "$WORK/up-data/sub"
	up_spec_bundle "$b" up-bs '.process.args=["true"] | .mounts += [{"destination":"/data","type":"bind","source":"'"$WORK/up-data"'","options":["rbind"]},{"destination":"/data/sub/x","type":"tmpfs","source":"tmpfs"}]'
	up_refused "$b" up-bs "mkdir \`/data/sub/x\`: Permission denied"
	[ ! -e "$WORK/up-data/sub/x" ] || fail "the runtime wrote into the bind source"
	[ ! -e "$BW_ROOT/up-bs" ] || fail "state left behind"
}

# Bind sources below a 0700 home, read-only and read-write.
test_userns_bind_sources_below_a_0700_home() {
	h=$(up_home)
	b=$h/bundle-bind
	mkdir -p "$h/src"
	echo secret-of-u >"$h/src/f"
	up_spec_bundle "$b" up-bind '.process.args=["cat","/src/f"] | .mounts += [{"destination":"/src","type":"bind","source":"'"$h/src"'","options":["bind","ro"]}]'
	out=$(bw run -b "$b" up-bind </dev/null 2>&1) || fail "run: $out"
	expect_eq "read through the bind" "secret-of-u" "$out"
}

# A sandbox's workspace in a 0700 home: read-only by default, written as its owner with :rw.
test_userns_sandbox_workspace_in_a_0700_home() {
	h=$(up_home)
	mkdir -p "$h/proj"
	echo hello >"$h/proj/in"
	chown -R 1000:1000 "$h/proj"
	out=$(sbx --workspace "$h/proj" -- cat "$h/proj/in" 2>&1) || fail "ro: $out"
	expect_eq "ro workspace read" "hello" "$out"
	out=$(sbx --workspace "$h/proj:rw" --cwd "$h/proj" -- sh -c 'echo w >out && id -u' 2>&1) || fail "rw: $out"
	expect_eq "rw workspace: runs as the owner" "1000" "$out"
	expect_eq "written as the owner" "1000:1000 w" "$(stat -c %u:%g "$h/proj/out") $(cat "$h/proj/out")"
}

# A sandbox never writes a missing --bind destination into its rootfs when that is the host's
# own / (which it mounts read-only): the host stays as it was.
test_userns_sandbox_bind_destination_never_made_on_the_host() {
	h=$(up_home)
	mkdir -p "$h/src"
	dst=/opt/bulwark-it-missing-$$
	[ ! -e "$dst" ] || fail "$dst exists before the test"
	echo seen >"$h/src/f"
	out=$(sbx --bind "$h/src:$dst" -- cat "$dst/f" 2>&1) || rc=$?
	[ ! -e "$dst" ] || { rmdir "$dst"; fail "the sandbox made $dst on the host"; }
	[ "${rc:-0}" = 0 ] || fail "sandbox with the bind: $out"
	expect_eq "the bind is seen at its destination" "seen" "$out"
}

# sandbox --rootfs of a bare image that root unpacked below a 0700 home (no /proc, /dev, /sys
# or /tmp): the missing top-level mountpoints are made as for a runc-verb bundle (empty, root's),
# nothing else changes in the image, and the sandbox runs.
test_userns_sandbox_rootfs_of_a_bare_root_made_image() {
	h=$(up_home)
	up_root_made_rootfs "$h/img"
	before=$(cd "$h/img" && find . | sort)
	out=$(sbx --rootfs "$h/img" -- sh -c 'id -u; ls -d /proc/self /dev/null' 2>&1) || fail "sandbox: $out"
	expect_eq "ran" "1000 /dev/null /proc/self" "$(echo $out)"
	added=$(comm -13 <(echo "$before") <(cd "$h/img" && find . | sort) | tr '\n' ' ')
	expect_eq "only the mountpoints made" "./dev ./proc ./sys ./tmp " "$added"
	expect_eq "owned by root, empty" "0:0 0:0 0:0 0:0" "$(cd "$h/img" && stat -c %u:%g dev proc sys tmp | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "empty" "" "$(ls -A "$h/img/dev" "$h/img/proc" "$h/img/sys" "$h/img/tmp" | grep -v ':$' | grep -v '^$')"
}

# Only top-level directories are made by the runtime: a deeper mountpoint or a file (another
# container sharing the rootfs would find an /etc/nologin or a directory where its file bind
# goes) stays the container's own ids' to make, and is refused here.
test_userns_runtime_makes_only_top_level_directories() {
	h=$(up_home)
	b=$h/bundle-deep
	echo data >"$WORK/up-file"
	mkdir -p "$b/rootfs/etc"
	up_spec_bundle "$b" up-deep '.process.args=["true"] | .mounts += [{"destination":"/etc/nologin","type":"bind","source":"'"$WORK/up-file"'","options":["bind","ro"]}]'
	up_refused "$b" up-deep "create \`/etc/nologin\`: Permission denied"
	[ ! -e "$b/rootfs/etc/nologin" ] || fail "the runtime made /etc/nologin"
	cfg "$b" '.mounts[-1] = {"destination":"/etc/sub/dir","type":"tmpfs","source":"tmpfs"}'
	up_refused "$b" up-deep "mkdir \`/etc/sub\`: Permission denied"
	[ ! -e "$b/rootfs/etc/sub" ] || fail "the runtime made /etc/sub"
}

# A root.path in one of the host's system trees (a config naming /etc, /run... as its root)
# never gets mountpoints from the runtime.
test_userns_no_mountpoints_in_a_host_system_directory() {
	d=$(mktemp -d /run/bwit-sys.XXXXXX)
	up_root_made_rootfs "$d/rootfs"
	cp -r "$d/rootfs" "$d/probe"
	b=$WORK/bundle-sys
	mkdir -p "$b"
	(cd "$b" && "$BULWARK" spec) || fail "spec"
	cfg "$b" '.root.path="'"$d/rootfs"'" | .process.terminal=false | .process.args=["true"] | .linux.cgroupsPath="/'"$CG_PREFIX"'/up-sys"'
	rc=0; out=$(bw run -b "$b" up-sys </dev/null 2>&1) || rc=$?
	left=$(ls "$d/rootfs" | tr '\n' ' ')
	rm -rf "$d"
	[ "$rc" -ne 0 ] || fail "ran"
	expect_contains "refused" "mkdir \`/proc\`: Permission denied" "$out"
	expect_eq "nothing made" "bin " "$left"
}

# ... nor through a bind mount of a system tree: /usr/local bound elsewhere is still /usr
# (judged by file system and the path from its root, not by the name used).
test_userns_no_mountpoints_in_a_system_directory_reached_by_a_bind_mount() {
	local d=/usr/local/bwit-img-$$ b=$WORK/bind-usr-local rc=0 out
	[ ! -e "$d" ] || fail "$d exists before the test"
	up_root_made_rootfs "$d"
	mkdir -p "$b"
	out=$(unshare -m --propagation private sh -c 'mount --bind /usr/local "$1" && exec "$2" --root "$3" sandbox --rootfs "$1/$4" -- true' \
		sh "$b" "$BULWARK" "$BW_ROOT" "$(basename "$d")" 2>&1) || rc=$?
	left=$(ls "$d" | tr '\n' ' ')
	rm -rf "$d"
	[ "$rc" -ne 0 ] || fail "ran: $out"
	expect_contains "refused" "mkdir \`/proc\`: Permission denied" "$out"
	expect_eq "nothing made in /usr/local" "bin " "$left"
}
