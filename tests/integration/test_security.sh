# The security invariants of DESIGN.md §3: each test performs the attack against a real
# container and asserts it fails, and that the allowed thing next to it still works.

SEC_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers
SEC_PY=/usr/bin/python3
# Docker's default capability set, as /proc/<pid>/status prints it (the base config's 14 caps).
SEC_DEFAULT_CAPS=00000000a80425fb

# sec_own_rootfs BUNDLE: replace the shared rootfs link by a private copy the test may poison.
sec_own_rootfs() {
	rm "$1/rootfs"
	cp -a "$ROOTFS" "$1/rootfs"
	echo "$1/rootfs"
}

# sec_wait_status ID STATUS: poll `state` for up to 5 s.
sec_wait_status() {
	for _ in $(seq 50); do
		[ "$(bw state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.1
	done
	fail "$1 never became $2"
}

# sec_refused ID BUNDLE: `bw run` must fail; prints its stderr.
sec_refused() {
	local out
	out=$(bw run -b "$2" "$1" </dev/null 2>&1) && fail "container $1 ran: $out"
	echo "$out"
}

# ---- CVE-2019-5736: the runtime binary cannot be reached from the container ----------------

test_cve_2019_5736_runtime_binary_is_immutable() {
	# A private copy of the binary: if the attack worked it must not break the build.
	mkdir -p "$WORK/sec-bin"
	cp "$BULWARK" "$WORK/sec-bin/bulwark"
	local BULWARK=$WORK/sec-bin/bulwark
	local before mode
	before=$(sha256sum <"$BULWARK")
	gcc -O1 -o "$WORK/no_memfd" "$SEC_HELPERS/no_memfd.c"
	b=$(new_bundle sec-5736)
	cfg "$b" '.process.args=["sleep","30"]'
	# The init runs from a copy no one can write (runtime/sealed.c). As root, a detached
	# read-only overlay of the binary's directory: its /proc/PID/exe names no host path, and
	# every write is refused (EROFS), while it runs and after. Where no overlay can show it
	# (here: a binary deleted since it started; rootless; no overlayfs), an anonymous memfd
	# sealed against any change (F_SEAL_SEAL|SHRINK|GROW|WRITE = 15): busy while it runs
	# (ETXTBSY), EPERM after its execve.
	for mode in overlay memfd; do
		if [ $mode = overlay ]; then
			"$BULWARK" --debug --log "$WORK/seal.log" --root "$BW_ROOT" create -b "$b" \
				--pid-file "$WORK/pid" sec-5736 </dev/null >"$WORK/create.out" 2>&1 ||
				fail "create: $(cat "$WORK/create.out")"
			# A kernel that cannot make that overlay (6.1 with the binary on 9p, say): the
			# memfd, which the runtime names.
			grep -q "the runtime runs from a read-only overlay" "$WORK/seal.log" ||
				{ grep -q "the runtime runs from a sealed memfd copy" "$WORK/seal.log" && mode=memfd; } ||
				fail "the runtime says nothing of its sealed copy: $(cat "$WORK/seal.log")"
		else
			# Run from a deleted file (an upgrade replaced it), which no overlay can show.
			cp "$BULWARK" "$WORK/sec-bin/gone"
			(exec 7<"$WORK/sec-bin/gone" && rm "$WORK/sec-bin/gone" &&
				exec /proc/self/fd/7 --root "$BW_ROOT" create -b "$b" --pid-file "$WORK/pid" \
					sec-5736 </dev/null >"$WORK/create.out" 2>&1) ||
				fail "create from a deleted binary: $(cat "$WORK/create.out")"
		fi
		pid=$(cat "$WORK/pid")
		out=$("$SEC_PY" "$SEC_HELPERS/exe_attack.py" "$pid" "$BULWARK" --root "$BW_ROOT" start sec-5736)
		if [ $mode = overlay ]; then
			expect_contains "$mode: exe link" "link=/bulwark" "$out"
			expect_contains "$mode: read-only" "sealed-by=read-only" "$out"
			expect_contains "$mode: write through /proc/pid/exe" "open-running=EROFS" "$out"
			expect_contains "$mode: write after exec" "open-after-exec=EROFS" "$out"
		else
			expect_contains "$mode: exe link" "link=/memfd:bulwark (deleted)" "$out"
			expect_contains "$mode: seals" "seals=15" "$out"
			expect_contains "$mode: write through /proc/pid/exe" "open-running=ETXTBSY" "$out"
			expect_contains "$mode: write after exec" "write-after-exec=EPERM" "$out"
		fi
		expect_contains "$mode: the payload runs" "exe-after-start=/bin/busybox" "$out"
		bw delete --force sec-5736
		expect_eq "$mode: runtime binary sha256" "$before" "$(sha256sum <"$BULWARK")"
	done
}

test_cve_2019_5736_shebang_to_proc_self_exe_reaches_only_the_sealed_copy() {
	# The original attack: the entrypoint is a script whose interpreter is /proc/self/exe, so
	# the runtime's own execve would start the runtime again, now dumpable inside the
	# container; a second process grabs /proc/<pid>/exe and rewrites it. The shebang passes
	# --log=<fifo> so such a runtime would block, giving the attacker all the time it needs.
	mkdir -p "$WORK/sec-bin"
	cp "$BULWARK" "$WORK/sec-bin/bulwark"
	local BULWARK=$WORK/sec-bin/bulwark
	local before
	before=$(sha256sum <"$BULWARK")
	b=$(new_bundle sec-5736b)
	r=$(sec_own_rootfs "$b")
	mkfifo "$r/tmp/fifo"
	printf '#!/proc/self/exe --log=/tmp/fifo\n' >"$r/evil"
	chmod 755 "$r/evil"
	cat >"$r/attack" <<'EOF'
#!/bin/sh
# Find any process whose exe is not busybox (the runtime re-executed), write through its exe.
for i in $(seq 20); do
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/exe")" in "" | /bin/busybox) ;; *) victim=$p; break 2 ;; esac
	done
	sleep 0.05
done
if [ -n "$victim" ]; then
	echo "victim $(readlink "$victim/exe")"
	exec 3<"$victim/exe"
	echo pwned >>"$victim/exe" && echo "wrote-running"
fi
exec 5<>/tmp/fifo # releases a runtime blocked opening the fifo
sleep 0.3
[ -n "$victim" ] && { echo pwned >/proc/self/fd/3 && echo "wrote-after"; }
echo attack-done
EOF
	chmod 755 "$r/attack"
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" sec-5736b </dev/null
	# As entrypoint of an exec (the exec'd process is the runtime until its execve)...
	rc=0
	bw exec sec-5736b /evil >"$WORK/evil.out" 2>&1 &
	evil=$!
	out=$(bw exec sec-5736b /attack 2>&1)
	wait $evil || rc=$?
	expect_contains attacker "attack-done" "$out"
	case "$out" in *wrote-*) fail "a write through the runtime's exe succeeded: $out" ;; esac
	# The static runtime may well start again as the script's interpreter (a dynamically
	# linked one cannot, from a memfd): what it runs is then the sealed copy, never the file
	# on the host, and it is only as privileged as the container's own process.
	case "$out" in *victim*)
		case "$out" in
		*"victim /bulwark"* | *"victim /memfd:bulwark (deleted)"*) ;;
		*) fail "the re-executed runtime is not the sealed copy: $out" ;;
		esac ;;
	esac
	[ "$rc" -ne 0 ] || fail "the shebang script succeeded"
	bw delete --force sec-5736b
	# ... and as the container's own entrypoint.
	printf '#!/proc/self/exe\n' >"$r/evil2"
	chmod 755 "$r/evil2"
	cfg "$b" '.process.args=["/evil2"]'
	rc=0
	out=$(timeout -k 5 20 "$BULWARK" --root "$BW_ROOT" run -b "$b" sec-5736b </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "the shebang entrypoint succeeded"
	bw delete --force sec-5736b 2>/dev/null || true
	expect_eq "runtime binary sha256" "$before" "$(sha256sum <"$BULWARK")"
}

test_cve_2019_5736_runtime_fails_closed_without_a_sealed_copy() {
	# memfd_create refused (an old kernel, a seccomp policy around the engine): the runtime
	# must then refuse to start containers, or protect itself otherwise; never run the
	# container's init from the writable binary on disk.
	# Neither a memfd nor a read-only overlay (--both): refused, in one line, nothing left.
	gcc -O1 -o "$WORK/no_memfd" "$SEC_HELPERS/no_memfd.c"
	b=$(new_bundle sec-5736c)
	cfg "$b" '.process.args=["sleep","30"]'
	local mode
	for mode in --both ""; do
		rc=0
		# (to a file: a created init holds the stdio it was given)
		"$WORK/no_memfd" $mode "$BULWARK" --root "$BW_ROOT" create -b "$b" --pid-file "$WORK/pid" \
			sec-5736c </dev/null >"$WORK/create.out" 2>&1 || rc=$?
		out=$(cat "$WORK/create.out")
		if [ $rc -eq 0 ]; then
			exe=$(readlink /proc/"$(cat "$WORK/pid")"/exe)
			bw delete --force sec-5736c
			[ -z "$mode" ] || fail "created with no way to seal the runtime: init runs from [$exe]"
			expect_eq "memfd refused: the init runs from the read-only overlay" /bulwark "$exe"
		else
			# (memfd_create alone refused also stops the seccomp program's hand-over.)
			[ -n "$out" ] || fail "refused without a message"
			[ "$mode" != --both ] || expect_contains "says why" "sealed runtime copy (CVE-2019-5736)" "$out"
			[ ! -e "$BW_ROOT/sec-5736c" ] || fail "state left"
		fi
	done
}

test_cve_2019_5736_a_global_flag_value_naming_a_verb_never_skips_the_copy() {
	# The verb is found as the flag parser finds it: `--root sandbox create` is a create
	# (sealed copy), not a sandbox, and `--root state create` not a state (no copy needed).
	local name
	for name in sandbox state list; do
		mkdir -p "$WORK/$name"
		b=$(new_bundle "sec-verb-$name")
		cfg "$b" '.process.args=["sleep","30"]'
		(cd "$WORK" && "$BULWARK" --root "$name" create -b "$b" --pid-file "$WORK/pid-$name" "sec-verb-$name" </dev/null >/dev/null 2>&1) ||
			fail "create with --root $name"
		link=$(readlink "/proc/$(cat "$WORK/pid-$name")/exe")
		(cd "$WORK" && "$BULWARK" --root "$name" delete --force "sec-verb-$name")
		case "$link" in
		/bulwark | "/memfd:bulwark (deleted)") ;;
		*) fail "--root $name create runs the init from [$link], not the sealed copy" ;;
		esac
	done
}

test_sandbox_never_gets_write_access_to_bulwark_or_its_network_helper() {
	# An rw workspace is written as its directory's owner (root's too), an rw bind as the
	# sandbox's ids (the caller's, rootless): one reaching the runtime, bulwark-net or the
	# state root would let the sandbox replace what root runs at teardown or next time (a
	# renamed-in bulwark-net ran as root at unplumb; a poststop hook added to config.json).
	local d=$WORK/sec-holds
	mkdir -p "$d/tree/bin" "$d/helper"
	cp "$BULWARK" "$d/tree/bin/bulwark"
	printf '#!/bin/sh\nexit 1\n' >"$d/helper/bulwark-net"
	chmod 755 "$d/helper/bulwark-net"
	local B=$d/tree/bin/bulwark rc out
	for flag in "--workspace $d/tree:rw" "--workspace $d/tree/bin:rw" "--bind $d/tree:/x:rw"; do
		rc=0
		# shellcheck disable=SC2086
		out=$(cd / && "$B" --root "$BW_ROOT" sandbox $flag -- true 2>&1) || rc=$?
		expect_eq "$flag refused" 125 "$rc"
		expect_contains "$flag: says why" "it reaches $d/tree/bin/bulwark, which bulwark runs or trusts" "$out"
	done
	rc=0
	out=$(cd / && BULWARK_NET_HELPER=$d/helper/bulwark-net "$B" --root "$BW_ROOT" sandbox --workspace "$d/helper:rw" -- true 2>&1) || rc=$?
	expect_eq "the helper's directory refused" 125 "$rc"
	expect_contains "names the helper" "it reaches $d/helper/bulwark-net" "$out"
	# By identity, not by name: the same directories through a bind mount elsewhere, and the
	# state root through one (state.json's cleanup record and config.json's hooks run as root).
	mkdir -p "$d/alias" "$d/srv/var"
	out=$(unshare -m --propagation private sh -c '
		mount --bind "$1/tree" "$1/alias" || exit 99
		cd / && "$1/alias/bin/bulwark" --root "$2" sandbox --workspace "$1/tree:rw" -- true 2>&1
		echo "rc=$?"
		mount --bind "$1/srv/var" "$1/alias" || exit 99
		cd / && "$1/tree/bin/bulwark" --root "$1/alias/state" sandbox --workspace "$1/srv:rw" -- true 2>&1
		echo "rc=$?"' sh "$d" "$BW_ROOT")
	expect_contains "the binary through an alias" "it reaches $d/alias/bin/bulwark" "$out"
	expect_contains "the state root through an alias" "it reaches $d/alias/state" "$out"
	expect_eq "both refused" "rc=125 rc=125" "$(echo "$out" | grep '^rc=' | tr '\n' ' ' | sed 's/ $//')"
	# Read-only, overlay, or beside it: fine.
	for flag in "--workspace $d/tree:ro" "--workspace $d/tree:overlay" "--workspace $d/helper:rw"; do
		# shellcheck disable=SC2086
		out=$(cd / && "$B" --root "$BW_ROOT" sandbox $flag -- true 2>&1) || fail "$flag: $out"
	done
}

test_cve_2019_5736_sandbox_copies_the_binary_only_where_the_sandbox_could_write_it() {
	# A sandbox always has a user namespace of its own mapping no host root: a root-owned
	# binary that neither group nor others may write (no ACL, a local file system) is out of
	# its reach without a sealed copy (main.c: sandbox_binary_unwritable). Anything else is
	# copied, as for every other verb.
	# On a tmpfs of the test's own, whatever file system $WORK is on.
	local d=$WORK/sec-sbx-bin
	mkdir -p "$d"
	mount -t tmpfs -o size=16m,mode=755 tmpfs "$d"
	cp "$BULWARK" "$d/bulwark"
	chown 0:0 "$d/bulwark"
	chmod 755 "$d/bulwark"
	local before out
	before=$(sha256sum <"$d/bulwark")
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox -- true 2>&1) || fail "sandbox: $out"
	expect_contains "no copy for a root-owned 0755 binary" "sealed runtime copy (CVE-2019-5736): not made" "$out"
	# The kernel is what keeps it: the sandbox's root cannot change a root-owned 0755 file in
	# a directory it was given read-write (one holding the binary itself is refused), nor
	# reach pid 1's (our init's, from that very file) exe.
	mkdir -p "$WORK/sec-sbx-other"
	cp "$d/bulwark" "$WORK/sec-sbx-other/bulwark"
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" sandbox --user 0 --bind "$WORK/sec-sbx-other:/x:rw" -- sh -c '
		echo pwned >>/x/bulwark && echo wrote-file
		echo pwned >>/proc/1/exe && echo wrote-exe
		cat /proc/1/exe >/dev/null && echo opened-exe
		mv /x/bulwark /x/b2 && echo renamed
		echo done' 2>&1) || true
	expect_contains "attack ran" "done" "$out"
	case "$out" in *wrote-* | *renamed*) fail "the sandbox changed the runtime binary: $out" ;; esac
	expect_eq "binary unchanged" "$before" "$(sha256sum <"$d/bulwark")"
	expect_eq "root-owned file beside unchanged" "$before" "$(sha256sum <"$WORK/sec-sbx-other/bulwark")"
	# An rw workspace is written as its directory's owner (root's too): one on the binary's
	# file system means the copy; one elsewhere (a tmpfs) does not.
	mkdir -p "$d/ws"
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox --workspace "$d/ws:rw" -- true 2>&1) || fail "sandbox: $out"
	expect_contains "rw workspace on its file system: copied" "sealed runtime copy (CVE-2019-5736): running from it" "$out"
	mkdir -p "$WORK/sec-sbx-tmpfs"
	mount -t tmpfs -o size=1m tmpfs "$WORK/sec-sbx-tmpfs"
	rc=0
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox --workspace "$WORK/sec-sbx-tmpfs:rw" -- true 2>&1) || rc=$?
	umount "$WORK/sec-sbx-tmpfs"
	[ "$rc" -eq 0 ] || fail "sandbox: $out"
	expect_contains "rw workspace elsewhere: no copy" "sealed runtime copy (CVE-2019-5736): not made" "$out"
	# Group- or other-writable, owned by someone else, or with an ACL: copied.
	chmod 775 "$d/bulwark"
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox -- true 2>&1) || fail "sandbox: $out"
	expect_contains "group-writable: copied" "sealed runtime copy (CVE-2019-5736): running from it" "$out"
	chmod 755 "$d/bulwark"
	chown 65534:65534 "$d/bulwark"
	out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox -- true 2>&1) || fail "sandbox: $out"
	expect_contains "another owner: copied" "sealed runtime copy (CVE-2019-5736): running from it" "$out"
	chown 0:0 "$d/bulwark"
	if command -v setfacl >/dev/null && setfacl -m u:65534:rwx "$d/bulwark" 2>/dev/null; then
		out=$(cd / && "$d/bulwark" --root "$BW_ROOT" --debug sandbox -- true 2>&1) || fail "sandbox: $out"
		expect_contains "an ACL: copied" "sealed runtime copy (CVE-2019-5736): running from it" "$out"
		setfacl -b "$d/bulwark"
	fi
	# Without root the caller's own id is mapped: a binary the caller owns is copied.
	mkdir -p "$WORK/sec-sbx-rl"
	chown 65534:65534 "$d/bulwark" "$WORK/sec-sbx-rl"
	out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all env -u XDG_RUNTIME_DIR \
		"$d/bulwark" --root "$WORK/sec-sbx-rl" --debug sandbox -- true 2>&1) || fail "rootless sandbox: $out"
	expect_contains "the caller's own binary: copied" "sealed runtime copy (CVE-2019-5736): running from it" "$out"
	umount "$d"
}

test_init_is_non_dumpable_until_execve() {
	# Timing-independent: a created container's init is parked on exec.fifo, still bulwark.
	# From inside (no CAP_SYS_PTRACE) its exe link, environ and fd links are closed; after
	# `start` the payload is an ordinary dumpable process.
	b=$(new_bundle sec-dump)
	cfg "$b" '.process.args=["sleep","30"] | .process.env += ["SECRET=in-env"]'
	bw create -b "$b" sec-dump </dev/null
	out=$(bw exec sec-dump sh -c 'readlink /proc/1/exe || echo exe-denied; cat /proc/1/environ || echo environ-denied; readlink /proc/1/fd/0 || echo fd-denied' 2>&1)
	expect_contains "exe" "exe-denied" "$out"
	expect_contains "environ" "environ-denied" "$out"
	expect_contains "environ errno" "Permission denied" "$out"
	expect_contains "fd" "fd-denied" "$out"
	bw start sec-dump
	out=$(bw exec sec-dump sh -c 'readlink /proc/1/exe; tr "\0" "\n" </proc/1/environ | grep SECRET')
	expect_eq "after execve" "/bin/busybox
SECRET=in-env" "$out"
	bw delete --force sec-dump
}

# ---- CVE-2024-21626: no host fd, no host cwd ------------------------------------------------

# sec_fds PID: the fd numbers a container process holds, seen from the host (an observer
# inside would see its own directory fd or pipes).
sec_fds() {
	ls /proc/"$1"/fd | sort -n | tr '\n' ' '
}

test_cve_2024_21626_host_fds_do_not_reach_the_container() {
	b=$(new_bundle sec-fd)
	cfg "$b" '.process.args=["sleep","30"]'
	# A host file, a host cgroup directory and the host's root, open in the caller.
	bw run -d --pid-file "$WORK/pid" -b "$b" sec-fd </dev/null >/dev/null 2>&1 \
		7</etc/hostname 8</sys/fs/cgroup/memory 9</
	expect_eq "fds of the container's init" "0 1 2 " "$(sec_fds "$(cat "$WORK/pid")")"
	bw exec -d --pid-file "$WORK/xpid" sec-fd sleep 30 </dev/null >/dev/null 2>&1 \
		7</etc/hostname 8</sys/fs/cgroup/memory 9</
	expect_eq "fds of an exec'd process" "0 1 2 " "$(sec_fds "$(cat "$WORK/xpid")")"
	bw delete --force sec-fd
}

test_preserve_fds_passes_exactly_the_asked_fds() {
	b=$(new_bundle sec-pfd)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d --preserve-fds 1 --pid-file "$WORK/pid" -b "$b" sec-pfd </dev/null >/dev/null 2>&1 \
		3<"$WORK" 4</etc/hostname
	pid=$(cat "$WORK/pid")
	expect_eq "fds with --preserve-fds 1" "0 1 2 3 " "$(sec_fds "$pid")"
	expect_eq "preserved fd" "$WORK" "$(readlink /proc/"$pid"/fd/3)"
	bw delete --force sec-pfd
}

test_cve_2024_21626_magic_link_cwd_is_refused() {
	b=$(new_bundle sec-cwd)
	for cwd in /proc/self/fd/7 /proc/self/fd/999 /proc/self/cwd /proc/1/root /proc/self/root/../../.. /proc/thread-self/fd/7; do
		cfg "$b" ".process.cwd=\"$cwd\""
		out=$(bw run -b "$b" sec-cwd </dev/null 7</sys/fs/cgroup/memory 2>&1) &&
			fail "cwd $cwd accepted: $out"
		expect_contains "cwd $cwd" "process.cwd: open \`$cwd\` inside the container root: Too many levels of symbolic links" "$out"
		[ ! -e "$BW_ROOT/sec-cwd" ] || fail "state left after refusing cwd $cwd"
	done
	# A missing cwd on a kernel file system is no directory to make (a cgroup, a configfs
	# item): refused, whatever the mount's flags.
	for cwd in /sys/fs/cgroup/bw-newcg /sys/kernel/bw-new; do
		cfg "$b" ".process.cwd=\"$cwd\""
		out=$(bw run -b "$b" sec-cwd </dev/null 2>&1) && fail "cwd $cwd accepted: $out"
		expect_contains "cwd $cwd" "process.cwd: \`$cwd\` is missing and is not made on a kernel file system" "$out"
	done
	# exec --cwd goes through the same check.
	cfg "$b" '.process.cwd="/" | .process.args=["sleep","30"]'
	bw run -d -b "$b" sec-cwd </dev/null
	out=$(bw exec --cwd /proc/self/fd/7 sec-cwd pwd </dev/null 7</sys/fs/cgroup/memory 2>&1) &&
		fail "exec --cwd /proc/self/fd/7 accepted: $out"
	expect_contains "exec --cwd" "process.cwd: open \`/proc/self/fd/7\` inside the container root" "$out"
	expect_eq "ordinary exec --cwd" /tmp "$(bw exec --cwd /tmp sec-cwd pwd)"
	bw delete --force sec-cwd
}

# ---- Mount destinations through symlinks (CVE-2021-30465, CVE-2024-45310, CVE-2026-41579,
# ---- CVE-2019-19921) ----------------------------------------------------------------------

test_cve_2019_19921_symlinked_proc_is_refused() {
	b=$(new_bundle sec-proc)
	r=$(sec_own_rootfs "$b")
	rmdir "$r/proc"
	ln -s etc "$r/proc"
	out=$(sec_refused sec-proc "$b")
	expect_contains error "mounts[0].destination: \`/proc\` is a symlink in the rootfs" "$out"
	expect_contains "runc's words" "must be mounted on ordinary directory" "$out"
	[ -f "$r/etc/passwd" ] || fail "image /etc damaged"
	grep -q " $r/etc " /proc/self/mountinfo && fail "something mounted on the image's /etc"
	[ ! -e "$BW_ROOT/sec-proc" ] || fail "state left"
}

test_cve_2019_19921_symlinked_dev_and_sys_are_refused() {
	local host=/tmp/bwit-sec-hostdev-$$
	b=$(new_bundle sec-dev)
	r=$(sec_own_rootfs "$b")
	rmdir "$r/dev"
	ln -s "../../../../../../..$host" "$r/dev"
	out=$(sec_refused sec-dev "$b")
	expect_contains error "mounts[1].destination: \`/dev\` is a symlink" "$out"
	[ ! -e "$host" ] || { rm -rf "$host"; fail "host $host was created"; }
	rm "$r/dev"
	mkdir "$r/dev"
	rmdir "$r/sys"
	ln -s "/../../../../..$host" "$r/sys"
	out=$(sec_refused sec-dev "$b")
	expect_contains error "mounts[5].destination: \`/sys\` is a symlink" "$out"
	[ ! -e "$host" ] || { rm -rf "$host"; fail "host $host was created"; }
	# /dev/shm below a real /dev tmpfs is made by the spec, but one from the image's /dev
	# (no /dev tmpfs) must not be a symlink either.
	rm "$r/sys"
	mkdir -p "$r/sys" "$r/dev/pts"
	ln -s "/../../../../..$host" "$r/dev/shm"
	cfg "$b" 'del(.mounts[] | select(.destination == "/dev"))'
	out=$(sec_refused sec-dev "$b")
	expect_contains error "mounts[2].destination: \`/dev/shm\` is a symlink" "$out"
	[ ! -e "$host" ] || { rm -rf "$host"; fail "host $host was created"; }
}

test_cve_2021_30465_dangling_symlink_destination_lands_in_the_rootfs() {
	local host=/tmp/bwit-sec-x-$$
	b=$(new_bundle sec-dangle)
	r=$(sec_own_rootfs "$b")
	mkdir "$WORK/vol"
	echo marker >"$WORK/vol/marker"
	ln -s "../../../../../../..$host" "$r/evil"
	cfg "$b" ".mounts += [{\"destination\": \"/evil\", \"type\": \"bind\", \"source\": \"$WORK/vol\", \"options\": [\"rbind\",\"ro\"]}]
		| .process.args=[\"sh\",\"-c\",\"cat $host/marker; grep -c ' $host ' /proc/self/mountinfo\"]"
	out=$(bw run -b "$b" sec-dangle </dev/null 2>&1)
	expect_eq "content and mount at the in-root target" "marker
1" "$out"
	[ -d "$r$host" ] || fail "in-root target $r$host not created"
	[ ! -e "$host" ] || { rm -rf "$host"; fail "host $host was created"; }
}

test_cve_2024_45310_missing_components_are_created_inside_the_rootfs() {
	# A symlink to an absolute host path with more components below it: a runtime that
	# creates the missing directories with host path strings would make them on the host.
	local host=/tmp/bwit-sec-y-$$
	b=$(new_bundle sec-mkdir)
	r=$(sec_own_rootfs "$b")
	mkdir -p "$host/y"
	ln -s "/../../..$host/y" "$r/evil2"
	cfg "$b" ".mounts += [{\"destination\": \"/evil2/sub/deeper\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"}]
		| .process.args=[\"sh\",\"-c\",\"grep -c ' $host/y/sub/deeper ' /proc/self/mountinfo\"]"
	out=$(bw run -b "$b" sec-mkdir </dev/null 2>&1) || { rm -rf "$host"; fail "run: $out"; }
	left=$(ls -A "$host/y")
	rm -rf "$host"
	expect_eq "tmpfs at the in-root path" 1 "$out"
	expect_eq "host directory content" "" "$left"
	[ -d "$r$host/y/sub/deeper" ] || fail "in-root directories not created"
}

test_cve_2026_41579_symlinked_file_destination_stays_in_the_rootfs() {
	# A file bind (resolv.conf, hostname) whose destination in the image is a symlink to a
	# host file: the bind must cover a file inside the rootfs, never the host's.
	local host=$WORK/host-hosts
	echo "host original" >"$host"
	echo "from the engine" >"$WORK/engine-hosts"
	b=$(new_bundle sec-file)
	r=$(sec_own_rootfs "$b")
	ln -s "/../../../../../..$host" "$r/etc/hosts"
	cfg "$b" ".mounts += [{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"$WORK/engine-hosts\", \"options\": [\"rbind\",\"ro\"]}]
		| .process.args=[\"sh\",\"-c\",\"cat /etc/hosts; cat $host\"]"
	out=$(bw run -b "$b" sec-file </dev/null 2>&1)
	expect_eq "container view" "from the engine
from the engine" "$out"
	expect_eq "host file" "host original" "$(cat "$host")"
	[ -f "$r$host" ] || fail "in-root file $r$host not created"
}

test_cve_2021_30465_racing_symlink_swap_never_escapes() {
	# The attacker swaps a volume directory for a symlink to a host path while containers
	# start. Whatever the interleaving, the bind must land inside the rootfs: at /vol, at
	# /vol.d (renames carry the mount along) or at the in-root copy of the host path. The
	# container's mountinfo lists only mounts under its root: exactly one with the source.
	local host=$WORK/race-target
	local src=$WORK/sec-race-source
	mkdir -p "$host" "$src"
	b=$(new_bundle sec-race)
	r=$(sec_own_rootfs "$b")
	mkdir "$r/vol"
	cfg "$b" ".mounts += [{\"destination\": \"/vol\", \"type\": \"bind\", \"source\": \"$src\", \"options\": [\"rbind\"]}]
		| .process.args=[\"sh\",\"-c\",\"grep -c sec-race-source /proc/self/mountinfo\"]"
	"$SEC_PY" -c '
import os, sys, time
vol, tgt, stop = sys.argv[1], sys.argv[2], sys.argv[3]
end = time.time() + 20
while not os.path.exists(stop) and time.time() < end:
    try:
        os.rename(vol, vol + ".d"); os.symlink(tgt, vol); time.sleep(0.0005)
        os.unlink(vol); os.rename(vol + ".d", vol); time.sleep(0.0005)
    except OSError:
        pass
' "$r/vol" "/../../../..$host" "$WORK/race-stop" &
	swapper=$!
	bad="" runs=0
	for i in $(seq 15); do
		out=$(bw run -b "$b" sec-race </dev/null 2>&1) || true
		case "$out" in
		1) runs=$((runs + 1)) ;;
		*"is a symlink"* | *"mounts[6]"*) ;; # refused: also safe
		*) bad="run $i: [$out]" ;;
		esac
		bw delete --force sec-race
	done
	touch "$WORK/race-stop"
	wait $swapper
	[ -z "$bad" ] || fail "mount escaped the rootfs: $bad"
	[ $runs -gt 0 ] || fail "no container ran"
	expect_eq "host target" "" "$(ls -A "$host")"
}

# ---- CVE-2025-31133: masking never trusts the container's /dev/null -------------------------

sec_check_masks() {
	out=$(bw run -b "$1" "$2" </dev/null 2>&1) || fail "run: $out"
	expect_eq "masked files" "1:3 character special file
1:3 character special file
keys:" "$out"
}

test_cve_2025_31133_dev_null_swapped_by_a_hook_does_not_unmask() {
	b=$(new_bundle sec-null)
	r=$(sec_own_rootfs "$b")
	local hostsum imgsum
	hostsum=$(sha256sum </etc/passwd)
	imgsum=$(sha256sum <"$r/etc/passwd")
	# createContainer runs in the container's mount namespace before the pivot: swap the
	# fresh /dev/null for a symlink to the image's /etc/passwd.
	cfg "$b" ".hooks.createContainer=[{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"rm -f $r/dev/null && ln -s /etc/passwd $r/dev/null\"]}]
		| .process.args=[\"sh\",\"-c\",\"stat -c '%t:%T %F' /proc/keys /proc/timer_list; echo written >/proc/keys; echo keys:\$(cat /proc/keys)\"]"
	sec_check_masks "$b" sec-null
	expect_eq "host /etc/passwd" "$hostsum" "$(sha256sum </etc/passwd)"
	expect_eq "image /etc/passwd" "$imgsum" "$(sha256sum <"$r/etc/passwd")"
}

test_cve_2025_31133_image_dev_null_symlink_does_not_unmask() {
	b=$(new_bundle sec-null2)
	r=$(sec_own_rootfs "$b")
	local imgsum
	imgsum=$(sha256sum <"$r/etc/passwd")
	ln -s /etc/passwd "$r/dev/null"
	cfg "$b" 'del(.mounts[] | select(.destination | startswith("/dev")))
		| .process.args=["sh","-c","stat -c \"%t:%T %F\" /proc/keys /proc/timer_list; echo written >/proc/keys; echo keys:$(cat /proc/keys)"]'
	sec_check_masks "$b" sec-null2
	expect_eq "image /etc/passwd" "$imgsum" "$(sha256sum <"$r/etc/passwd")"
}

# ---- CVE-2025-52565: the console is never bound through a symlink ---------------------------

# sec_console_run ID BUNDLE: run with a console socket; prints bulwark's stderr to $WORK/err
# and what came through the pty to $WORK/console.out; returns bulwark's exit status.
sec_console_run() {
	local sock=$WORK/console.sock rc=0
	rm -f "$sock" "$WORK/console.out"
	"$SEC_PY" "$SEC_HELPERS/sec_console_recv.py" "$sock" "$WORK/console.out" &
	local recv=$!
	for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
	bw run -d --console-socket "$sock" -b "$2" "$1" </dev/null 2>"$WORK/err" || rc=$?
	if [ $rc -eq 0 ]; then
		wait $recv || true
		sec_wait_status "$1" stopped
		bw delete "$1"
	else
		kill $recv 2>/dev/null || true
		wait $recv 2>/dev/null || true
	fi
	return $rc
}

test_console_socket_gives_a_working_private_console() {
	b=$(new_bundle sec-tty)
	cfg "$b" '.process.terminal=true | .process.args=["sh","-c","tty; stat -c \"%F %t\" /dev/console; grep -c \" /dev/console \" /proc/self/mountinfo"]'
	sec_console_run sec-tty "$b" || fail "run: $(cat "$WORK/err")"
	out=$(tr -d '\r' <"$WORK/console.out")
	expect_eq "console" "payload=/dev/ptmx
/dev/pts/0
character special file 88
1" "$out"
}

test_cve_2025_52565_symlinked_dev_pts_is_refused() {
	b=$(new_bundle sec-pts)
	r=$(sec_own_rootfs "$b")
	mkdir -p "$r/tmp/ptstarget"
	ln -s /tmp/ptstarget "$r/dev/pts"
	ln -s pts/ptmx "$r/dev/ptmx"
	# The spec mounts devpts on the image's /dev (no /dev tmpfs): refused at the mount...
	cfg "$b" 'del(.mounts[] | select(.destination == "/dev")) | .process.terminal=true'
	rc=0
	sec_console_run sec-pts "$b" || rc=$?
	[ $rc -ne 0 ] || fail "container with a symlinked /dev/pts ran"
	expect_contains error "mounts[1].destination: \`/dev/pts\` is a symlink" "$(cat "$WORK/err")"
	expect_eq "symlink target" "" "$(ls -A "$r/tmp/ptstarget")"
	# ... and with no /dev mounts at all, by the console set-up.
	cfg "$b" 'del(.mounts[] | select(.destination | startswith("/dev")))'
	rc=0
	sec_console_run sec-pts "$b" || rc=$?
	[ $rc -ne 0 ] || fail "container with a symlinked /dev/pts ran"
	expect_contains error "terminal: open \`/dev/ptmx\` inside the container root" "$(cat "$WORK/err")"
	expect_eq "symlink target" "" "$(ls -A "$r/tmp/ptstarget")"
	[ ! -e "$BW_ROOT/sec-pts" ] || fail "state left"
}

test_cve_2025_52565_symlinked_dev_console_is_replaced_not_followed() {
	b=$(new_bundle sec-cons)
	r=$(sec_own_rootfs "$b")
	local imgsum hostsum
	imgsum=$(sha256sum <"$r/etc/passwd")
	hostsum=$(sha256sum </etc/passwd)
	mkdir -p "$r/dev/pts"
	ln -s pts/ptmx "$r/dev/ptmx"
	ln -s /etc/passwd "$r/dev/console"
	# Keep devpts, drop the /dev tmpfs so the image's /dev (and its symlink) is what we see.
	cfg "$b" 'del(.mounts[] | select(.destination == "/dev")) | .process.terminal=true
		| .process.args=["sh","-c","stat -c \"%F %t\" /dev/console; echo via-console >/dev/console"]'
	sec_console_run sec-cons "$b" || fail "run: $(cat "$WORK/err")"
	out=$(tr -d '\r' <"$WORK/console.out")
	expect_eq "console" "payload=/dev/ptmx
character special file 88
via-console" "$out"
	expect_eq "image /etc/passwd" "$imgsum" "$(sha256sum <"$r/etc/passwd")"
	expect_eq "host /etc/passwd" "$hostsum" "$(sha256sum </etc/passwd)"
}

# ---- CVE-2019-16884, CVE-2025-52881: procfs writes land on procfs ---------------------------

test_cve_2025_52881_sysctl_write_cannot_be_redirected_by_a_bind_over_proc_sys() {
	# The spec binds a fake /proc/sys whose entries are a host file and a symlink to another
	# host file; the sysctls must reach the container's real procfs and nothing else.
	local fake=$WORK/fakesys
	mkdir -p "$fake/net/ipv4" "$fake/kernel"
	echo orig >"$fake/net/ipv4/ip_forward"
	echo orig >"$WORK/host-shmmax"
	ln -s "/../../../../..$WORK/host-shmmax" "$fake/kernel/shmmax"
	b=$(new_bundle sec-sysctl)
	cfg "$b" ".mounts += [{\"destination\": \"/proc/sys\", \"type\": \"bind\", \"source\": \"$fake\", \"options\": [\"rbind\"]}]
		| .linux.sysctl={\"net.ipv4.ip_forward\": \"1\", \"kernel.shmmax\": \"123456789\"}
		| .process.args=[\"sleep\",\"30\"]"
	bw create -b "$b" --pid-file "$WORK/pid" sec-sysctl </dev/null
	pid=$(cat "$WORK/pid")
	real=$(nsenter -t "$pid" -n -i cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax)
	bw delete --force sec-sysctl
	expect_eq "container's real sysctls" "1
123456789" "$real"
	expect_eq "host file behind the bind" orig "$(cat "$fake/net/ipv4/ip_forward")"
	expect_eq "host file behind the symlink" orig "$(cat "$WORK/host-shmmax")"
}

test_cve_2019_16884_host_wide_sysctls_are_refused() {
	local before
	before=$(cat /proc/sys/kernel/panic)
	b=$(new_bundle sec-sysctl2)
	cfg "$b" '.linux.sysctl={"kernel.panic": "17"}'
	out=$(sec_refused sec-sysctl2 "$b")
	expect_contains error 'linux.sysctl["kernel.panic"]: not isolated by any namespace' "$out"
	expect_eq "host kernel.panic" "$before" "$(cat /proc/sys/kernel/panic)"
	cfg "$b" '.linux.sysctl={"net/ipv4/../../kernel/panic": "17"}'
	out=$(sec_refused sec-sysctl2 "$b")
	expect_contains error 'key must not contain "." or ".." components' "$out"
	expect_eq "host kernel.panic" "$before" "$(cat /proc/sys/kernel/panic)"
	# Without a uts namespace the hostname is the host's.
	cfg "$b" '.linux.sysctl={"kernel.hostname": "pwned"} | del(.linux.namespaces[] | select(.type == "uts")) | del(.hostname)'
	out=$(sec_refused sec-sysctl2 "$b")
	expect_contains error "kernel.hostname" "$out"
	[ "$(hostname)" != pwned ] || fail "host hostname changed"
	[ ! -e "$BW_ROOT/sec-sysctl2" ] || fail "state left"
}

# ---- CVE-2022-29162: inheritable capabilities stay empty ------------------------------------

test_cve_2022_29162_inheritable_and_ambient_caps_stay_empty() {
	b=$(new_bundle sec-caps)
	cfg "$b" '.process.args=["grep","^Cap","/proc/self/status"]'
	out=$(bw run -b "$b" sec-caps </dev/null | tr -s '\t' ' ')
	expect_eq "init caps" "CapInh: 0000000000000000
CapPrm: $SEC_DEFAULT_CAPS
CapEff: $SEC_DEFAULT_CAPS
CapBnd: $SEC_DEFAULT_CAPS
CapAmb: 0000000000000000" "$out"
}

test_cve_2022_29162_file_inheritable_caps_grant_nothing() {
	# A binary with file capabilities fI=cap_dac_override, fE set, run by an unprivileged
	# user: it gains the cap only if the runtime left it in the process's inheritable set.
	b=$(new_bundle sec-fcaps)
	r=$(sec_own_rootfs "$b")
	mkdir "$r/capbin"
	cp "$r/bin/busybox" "$r/capbin/busybox" # busybox picks the applet from argv[0]
	# VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, permitted 0, inheritable 1<<1.
	"$SEC_PY" -c 'import os, struct, sys; os.setxattr(sys.argv[1], "security.capability", struct.pack("<5I", 0x02000001, 0, 1 << 1, 0, 0))' "$r/capbin/busybox"
	cfg "$b" '.process.noNewPrivileges=false | .process.user={"uid": 1000, "gid": 1000}
		| .process.args=["/capbin/busybox","grep","^Cap[IPEA]","/proc/self/status"]'
	out=$(bw run -b "$b" sec-fcaps </dev/null 2>&1 | tr -s '\t' ' ')
	expect_eq "caps after exec of the file-cap binary" "CapInh: 0000000000000000
CapPrm: 0000000000000000
CapEff: 0000000000000000
CapAmb: 0000000000000000" "$out"
	# Control: the same binary with the cap in its permitted set (fP) does gain it, so the
	# empty sets above are the runtime's doing, not ignored file capabilities.
	"$SEC_PY" -c 'import os, struct, sys; os.setxattr(sys.argv[1], "security.capability", struct.pack("<5I", 0x02000001, 1 << 1, 0, 0, 0))' "$r/capbin/busybox"
	out=$(bw run -b "$b" sec-fcaps </dev/null 2>&1 | tr -s '\t' ' ')
	expect_eq "caps from file-permitted" "CapInh: 0000000000000000
CapPrm: 0000000000000002
CapEff: 0000000000000002
CapAmb: 0000000000000000" "$out"
}

test_cve_2022_29162_exec_cap_never_reaches_inheritable_or_ambient() {
	b=$(new_bundle sec-xcap)
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" sec-xcap </dev/null
	out=$(bw exec --cap CAP_SYS_ADMIN sec-xcap grep '^Cap' /proc/self/status | tr -s '\t' ' ')
	local with=00000000a82425fb # the default set | 1 << CAP_SYS_ADMIN (21)
	expect_eq "exec --cap caps" "CapInh: 0000000000000000
CapPrm: $with
CapEff: $with
CapBnd: $with
CapAmb: 0000000000000000" "$out"
	out=$(bw exec sec-xcap grep '^CapEff' /proc/self/status | tr -s '\t' ' ')
	expect_eq "plain exec caps" "CapEff: $SEC_DEFAULT_CAPS" "$out"
	bw delete --force sec-xcap
}

# ---- no_new_privs ---------------------------------------------------------------------------

test_no_new_privs_is_set_when_asked_and_only_then() {
	b=$(new_bundle sec-nnp)
	cfg "$b" '.process.args=["grep","^NoNewPrivs","/proc/self/status"]'
	expect_eq "noNewPrivileges true" "NoNewPrivs:	1" "$(bw run -b "$b" sec-nnp </dev/null)"
	cfg "$b" '.process.noNewPrivileges=false'
	expect_eq "noNewPrivileges false" "NoNewPrivs:	0" "$(bw run -b "$b" sec-nnp </dev/null)"
	cfg "$b" '.process.args=["sleep","30"]'
	bw run -d -b "$b" sec-nnp </dev/null
	expect_eq "plain exec" "NoNewPrivs:	0" "$(bw exec sec-nnp grep ^NoNewPrivs /proc/self/status)"
	expect_eq "exec --no-new-privs" "NoNewPrivs:	1" \
		"$(bw exec --no-new-privs sec-nnp grep ^NoNewPrivs /proc/self/status)"
	bw delete --force sec-nnp
}

# ---- --no-pivot: no bare procfs left in the container's mount namespace ---------------------

# A nested user namespace may mount a new procfs only while a whole one is visible in its mount
# namespace (the kernel's mnt_already_visible). After a chroot the host's /proc would be: the
# nested mount would succeed and show /proc/keys unmasked (runc's test "runc run --no-pivot
# must not expose bare /proc").
SEC_NESTED_PROC='mount -t proc none /proc && echo MOUNTED && head -1 /proc/keys'

test_no_pivot_refuses_a_nested_proc_mount() {
	b=$(new_bundle sec-nopivot)
	cfg "$b" ".process.args=[\"unshare\",\"-mrpf\",\"sh\",\"-c\",\"$SEC_NESTED_PROC\"]"
	out=$(bw run --no-pivot -b "$b" sec-nopivot </dev/null 2>&1) && fail "nested proc mounted: $out"
	expect_contains "nested mount refused" "mount: permission denied" "$out"
	case "$out" in *MOUNTED*) fail "a procfs was mounted: $out" ;; esac
	# The container's own /proc is there, /proc/keys masked.
	cfg "$b" '.process.args=["sh","-c","wc -c </proc/keys; test -r /proc/self/status && echo proc"]'
	expect_eq "own /proc" "0 proc" "$(bw run --no-pivot -b "$b" sec-nopivot </dev/null | tr '\n' ' ' | sed 's/ $//')"
}

test_no_pivot_in_a_user_namespace_refuses_a_nested_proc_mount() {
	# There the host's mounts are locked and cannot be detached: they are covered instead.
	b=$(new_bundle sec-nopivot-userns)
	cfg "$b" ".linux.namespaces+=[{\"type\":\"user\"}] | .linux.uidMappings=[{\"containerID\":0,\"hostID\":200000,\"size\":65536}] | .linux.gidMappings=[{\"containerID\":0,\"hostID\":200000,\"size\":65536}] | .process.args=[\"unshare\",\"-mrpf\",\"sh\",\"-c\",\"$SEC_NESTED_PROC\"]"
	out=$(bw run --no-pivot -b "$b" sec-nopivot-userns </dev/null 2>&1) && fail "nested proc mounted: $out"
	expect_contains "nested mount refused" "mount: permission denied" "$out"
	# With pivot_root the same holds (the old root is gone).
	out=$(bw run -b "$b" sec-nopivot-userns </dev/null 2>&1) && fail "nested proc mounted with pivot: $out"
	expect_contains "nested mount refused with pivot" "mount: permission denied" "$out"
}

# ---- Information a container does not need (#13 §5) ----------------------------------------
# The kernel's command line, other users' key quotas, the crash-dump layout, the disks and
# their activity, and the host's boot id: `bulwark spec` and `sandbox` mask them all.

SEC_INFO_FILES="/proc/cmdline /proc/key-users /proc/diskstats /proc/partitions /sys/kernel/vmcoreinfo"
SEC_INFO_DIRS="/sys/block /sys/class/block"
# What a process reads: "PATH=N" bytes of each file, entries of each directory ("absent" when
# the path is not there).
SEC_INFO_PROBE="for f in $SEC_INFO_FILES; do if [ -e \$f ]; then echo \$f=\$(cat \$f 2>/dev/null | wc -c); else echo \$f=absent; fi; done
for d in $SEC_INFO_DIRS; do if [ -e \$d ]; then echo \$d=\$(ls -A \$d | wc -l); else echo \$d=absent; fi; done"
# The boot id, read twice, then whether it can be written.
SEC_BOOT_PROBE='cat /proc/sys/kernel/random/boot_id /proc/sys/kernel/random/boot_id; (echo 0 >/proc/sys/kernel/random/boot_id) 2>/dev/null && echo boot_id=written || echo boot_id=refused'
SEC_UUID4='^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'

# sec_info_expected: what a masked view reads on this host, in SEC_INFO_PROBE's form.
sec_info_expected() {
	local p
	for p in $SEC_INFO_FILES $SEC_INFO_DIRS; do
		if [ -e "$p" ]; then echo "$p=0"; else echo "$p=absent"; fi
	done
}

# sec_check_info OUTPUT: the probe's lines read nothing, whatever the host shows.
sec_check_info() {
	# The test can fail: the host's own reads are not empty.
	[ "$(wc -c </proc/cmdline)" -gt 0 ] && [ "$(wc -c </proc/diskstats)" -gt 0 ] || fail "host reads are empty"
	expect_eq "masked reads" "$(sec_info_expected | tr '\n' ' ')" "$(echo "$1" | grep '^/' | tr '\n' ' ')"
}

# sec_check_boot_id OUTPUT: prints the container's boot id after checking it is a random one
# of its own, the same at each read, and read-only.
sec_check_boot_id() {
	local ids id
	ids=$(echo "$1" | grep -E "$SEC_UUID4") || fail "no boot id: $1"
	id=$(echo "$ids" | head -1)
	expect_eq "read twice" "$id $id" "$(echo $ids)"
	[ "$id" != "$(cat /proc/sys/kernel/random/boot_id)" ] || fail "the host's boot id: $id"
	expect_contains "read-only" "boot_id=refused" "$1"
	echo "$id"
}

# sec_spec_bundle NAME ARGS_JSON: a `bulwark spec` bundle (user namespace, hardened defaults)
# on the shared rootfs.
sec_spec_bundle() {
	local b=$WORK/bundles/$1
	mkdir -p "$b"
	ln -s "$ROOTFS" "$b/rootfs"
	(cd "$b" && "$BULWARK" spec) || fail "spec"
	cfg "$b" ".process.terminal=false | .process.args=$2 | .linux.cgroupsPath=\"/$CG_PREFIX/$1\""
	echo "$b"
}

test_spec_default_reads_nothing_of_the_hosts_cmdline_keys_disks_or_crash_layout() {
	b=$(sec_spec_bundle sec-info "$(jq -n --arg s "$SEC_INFO_PROBE" '["sh","-c",$s]')")
	out=$(bw run -b "$b" sec-info </dev/null 2>&1) || fail "run: $out"
	sec_check_info "$out"
}

test_spec_default_boot_id_is_a_random_one_of_each_containers_own() {
	b=$(sec_spec_bundle sec-boot "$(jq -n --arg s "$SEC_BOOT_PROBE" '["sh","-c",$s]')")
	out=$(bw run -b "$b" sec-boot </dev/null 2>&1) || fail "run: $out"
	first=$(sec_check_boot_id "$out")
	out=$(bw run -b "$b" sec-boot </dev/null 2>&1) || fail "second run: $out"
	second=$(sec_check_boot_id "$out")
	[ "$first" != "$second" ] || fail "two containers share the boot id $first"
	# Every process of the container reads the init's.
	cfg "$b" '.process.args=["sh","-c","cat /proc/sys/kernel/random/boot_id >/tmp/id; sleep 100"]'
	bw run -d -b "$b" sec-boot </dev/null >/dev/null 2>&1 || fail "run -d"
	for _ in $(seq 50); do bw exec sec-boot test -s /tmp/id 2>/dev/null && break; sleep 0.1; done
	out=$(bw exec sec-boot cat /tmp/id /proc/sys/kernel/random/boot_id 2>&1)
	bw delete --force sec-boot
	ids=$(echo "$out" | grep -E "$SEC_UUID4" | sort -u) || fail "exec read no boot id: $out"
	expect_eq "exec reads the init's" 1 "$(echo "$ids" | wc -l)"
	[ "$ids" != "$first" ] && [ "$ids" != "$second" ] || fail "a third container reused a boot id"
}

test_sandbox_reads_nothing_of_the_hosts_cmdline_keys_disks_or_crash_layout() {
	out=$("$BULWARK" --root "$BW_ROOT" sandbox -- sh -c "$SEC_INFO_PROBE" 2>&1) || fail "sandbox: $out"
	sec_check_info "$out"
}

test_sandbox_boot_id_is_a_random_one_of_each_sandboxs_own() {
	out=$("$BULWARK" --root "$BW_ROOT" sandbox -- sh -c "$SEC_BOOT_PROBE" 2>&1) || fail "sandbox: $out"
	first=$(sec_check_boot_id "$out")
	out=$("$BULWARK" --root "$BW_ROOT" sandbox -- sh -c "$SEC_BOOT_PROBE" 2>&1) || fail "sandbox: $out"
	second=$(sec_check_boot_id "$out")
	[ "$first" != "$second" ] || fail "two sandboxes share the boot id $first"
}

# A runc config (its own maskedPaths) runs as with runc: paths the kernel does not have are
# skipped, nothing it did not ask for is masked, and what it asks for is masked even for root.
test_runc_masked_paths_run_and_paths_the_kernel_lacks_are_skipped() {
	b=$(new_bundle sec-runcmask)
	cfg "$b" '.linux.maskedPaths += ["/proc/no-such-file", "/sys/kernel/no-such-dir/x", "/sys/fs/no-such"]
		| .process.args=["sh","-c","echo keys=$(wc -c </proc/keys) cmdline=$(wc -c </proc/cmdline); cat /proc/sys/kernel/random/boot_id"]'
	out=$(bw run -b "$b" sec-runcmask </dev/null 2>&1) || fail "run: $out"
	expect_eq "as asked" "keys=0 cmdline=$(wc -c </proc/cmdline) $(cat /proc/sys/kernel/random/boot_id)" "$(echo $out)"
	# Asked for, the boot id is the container's own, read-only for the container's root too.
	cfg "$b" ".linux.maskedPaths += [\"/proc/sys/kernel/random/boot_id\", \"/proc/cmdline\"]
		| .process.args=[\"sh\",\"-c\",$(jq -n --arg s "$SEC_BOOT_PROBE; wc -c </proc/cmdline" '$s')]"
	out=$(bw run -b "$b" sec-runcmask </dev/null 2>&1) || fail "run with the boot id masked: $out"
	sec_check_boot_id "$out" >/dev/null
	expect_eq "cmdline" 0 "$(echo "$out" | tail -1)"
}

# A masked path is resolved inside the container's root, symlinks on the way and at its end
# followed there (an absolute one from the root, a relative one's ".." never above it), and a
# magic link on the way (/proc/self/root) read as the path it names: the target is masked.
test_masked_paths_follow_symlinks_inside_the_root() {
	d=$WORK/maskdata
	mkdir -p "$d/secret-dir"
	echo s3cret >"$d/secret-file"
	echo s3cret >"$d/secret-dir/f"
	echo s3cret >"$d/other"
	ln -s ../../../../data/secret-file "$d/l-file"
	ln -s /data/secret-dir "$d/l-dir"
	b=$(new_bundle sec-masklinks)
	cfg "$b" ".mounts += [{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"$d\",\"options\":[\"rbind\",\"ro\"]}]
		| .linux.maskedPaths += [\"/data/l-file\", \"/data/l-dir\", \"/proc/self/root/data/other\"]
		| .process.args=[\"sh\",\"-c\",\"echo file=\$(cat /data/secret-file) dir=\$(ls /data/secret-dir) other=\$(cat /data/other)\"]"
	out=$(bw run -b "$b" sec-masklinks </dev/null 2>&1) || fail "run: $out"
	expect_eq "masked" "file= dir= other=" "$(echo $out)"
	expect_eq "host file untouched" s3cret "$(cat "$d/secret-file")"
}

# mountinfo prints each mount's root as its path within its file system, for a bind from an fd
# as for mount(2): a workspace (mounted at its own path) shows nothing new, and nothing bulwark
# makes itself (state dir, overlay layers, masks, the boot id) shows a host path. The one host
# path left is a --bind source mounted elsewhere (docs/security.md).
test_sandbox_mountinfo_shows_no_host_path_but_a_bind_source() {
	mkdir -p "$WORK/mi-ov" "$WORK/mi-rw" "$WORK/mi-src/sub"
	chmod 755 "$WORK/mi-rw"
	out=$("$BULWARK" --root "$BW_ROOT" sandbox --workspace "$WORK/mi-ov:overlay" \
		--workspace "$WORK/mi-rw:rw" --bind "$WORK/mi-src/sub:/tmp/elsewhere" \
		-- cat /proc/self/mountinfo 2>&1) || fail "sandbox: $out"
	case "$out" in *"$BW_ROOT"*) fail "the state dir shows: $out" ;; esac
	expect_contains "overlay layers by fd" "lowerdir=/proc/self/fd/" "$(echo "$out" | grep ' overlay ')"
	# Roots that are neither a file system's own root, nor the mount point itself, nor what
	# a procfs, a device node, a mask or a cgroup namespace shows.
	odd=$(echo "$out" | awk '{ fs = $(NF - 2) } $4 != "/" && $4 != $5 && $4 !~ /^\/\.\./ &&
		fs != "proc" && fs != "devtmpfs" && $4 != "/boot_id" { print $4 }' | sort -u)
	expect_eq "host paths shown" "$WORK/mi-src/sub" "$odd"
}

# Per-user kernel counts (issue 13 §2): everything in a user namespace is also charged to the
# namespace's owner, whose limit (inotify: 128) every namespace it owns shares. Each namespace
# gets its own cap at a quarter of the host's: one sandbox holding every inotify instance it
# can get leaves some for the next one that shares its owner and for the host.
SEC_INOTIFY_GRAB='import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
n = 0
while n < 1000 and libc.inotify_init() >= 0:
    n += 1
print(n, flush=True)
time.sleep(float(sys.argv[1]))'

test_sandbox_inotify_exhaustion_leaves_others_their_share() {
	command -v python3 >/dev/null || fail "python3 is needed"
	"$BULWARK" --root "$BW_ROOT" sandbox --timeout 60s -- python3 -c "$SEC_INOTIFY_GRAB" 20 >"$WORK/ino-a" 2>&1 &
	a_pid=$!
	for _ in $(seq 100); do [ -s "$WORK/ino-a" ] && break; sleep 0.1; done
	b=$("$BULWARK" --root "$BW_ROOT" sandbox -- python3 -c "$SEC_INOTIFY_GRAB" 0 2>&1)
	h=$(python3 -c "$SEC_INOTIFY_GRAB" 0)
	kill $a_pid 2>/dev/null; wait $a_pid 2>/dev/null || true
	a=$(head -1 "$WORK/ino-a")
	cap=$(( $(cat /proc/sys/fs/inotify/max_user_instances) / 4 ))
	[ "$a" -ge 1 ] && [ "$a" -le "$cap" ] || fail "the first sandbox got $a instances (cap $cap)"
	[ "$b" -ge 1 ] || fail "the second sandbox got none while the first held $a"
	[ "$h" -ge 1 ] || fail "the host got none"
	expect_eq "the cap inside" "$cap" "$("$BULWARK" --root "$BW_ROOT" sandbox -- cat /proc/sys/user/max_inotify_instances)"
	# The opt-out for a spec container.
	b2=$(new_bundle sec-ino)
	cfg "$b2" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000000,"size":65536}] | .process.args=["cat","/proc/sys/user/max_inotify_instances"]'
	pr_own_rootfs "$b2"
	chown -R 100000000:100000000 "$b2/rootfs"
	expect_eq "spec container capped" "$cap" "$(bw run -b "$b2" sec-ino </dev/null)"
	cfg "$b2" '.annotations["run.bulwark.user-limits"]="host"'
	expect_eq "opt-out" "2147483647" "$(bw run -b "$b2" sec-ino </dev/null)"
}

# ... and the namespace itself is owned by an id of the sandbox's own that no container maps
# (idpool_owner; runtime/spawn/spawn_clone.c, spawn_ns_owner_become): nothing in it is charged to root, so five
# sandboxes that each hold every instance their cap allows (5 x 32 > root's 128) all get it,
# and so does the host.
test_sandbox_user_namespace_is_owned_by_its_own_ids() {
	command -v python3 >/dev/null || fail "python3 is needed"
	local cap pids=() i
	cap=$(( $(cat /proc/sys/fs/inotify/max_user_instances) / 4 ))
	for i in 1 2 3 4 5; do
		"$BULWARK" --root "$BW_ROOT" sandbox --timeout 60s -- python3 -c "$SEC_INOTIFY_GRAB" 15 >"$WORK/ino-own-$i" 2>&1 &
		pids+=($!)
	done
	for i in 1 2 3 4 5; do
		for _ in $(seq 300); do [ -s "$WORK/ino-own-$i" ] && break; sleep 0.1; done
	done
	h=$(python3 -c "$SEC_INOTIFY_GRAB" 0)
	# The owner of a running sandbox's user namespace (NS_GET_OWNER_UID), and its map.
	owner=$(python3 -c 'import fcntl, os, struct, subprocess, sys
for pid in subprocess.run(["pgrep", "-f", "inotify_init"], capture_output=True, text=True).stdout.split():
    try:
        fd = os.open("/proc/%s/ns/user" % pid, os.O_RDONLY)
        root = open("/proc/%s/uid_map" % pid).read().split()
    except OSError:
        continue
    if root[0] != "0" or int(root[1]) == 0:
        continue
    b = bytearray(4)
    fcntl.ioctl(fd, 0xb704, b)
    print(struct.unpack("I", b)[0], root[1])
    break')
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
	for i in 1 2 3 4 5; do
		expect_eq "sandbox $i got its whole cap" "$cap" "$(head -1 "$WORK/ino-own-$i")"
	done
	[ "$h" -ge 1 ] || fail "the host got no inotify instance while five sandboxes held theirs"
	[ -n "$owner" ] || fail "no sandbox's user namespace found"
	set -- $owner
	# The slot's own owner id, after every range of the pool: no container maps it.
	expect_eq "the namespace's owner is its slot's owner id" "$((368500992 + ($2 - 100065536) / 65536))" "$1"
}

# Each sandbox as root maps its ids onto a host range of its own (runtime/idpool.h), held
# while it exists and released at teardown: five at once get five ranges.
test_sandbox_own_id_range_per_sandbox() {
	local pids=()
	for i in 1 2 3 4 5; do
		"$BULWARK" --root "$BW_ROOT" sandbox --timeout 60s -- sh -c 'head -1 /proc/self/uid_map; sleep 2' >"$WORK/own-$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || fail "a sandbox failed: $(cat "$WORK"/own-*)"; done
	expect_eq "five ranges" 5 "$(head -qn1 "$WORK"/own-* | awk '{print $2}' | sort -u | wc -l)"
	for i in 1 2 3 4 5; do
		base=$(head -1 "$WORK/own-$i" | awk '{print $2}')
		[ "$base" -ge 100065536 ] && [ $(( (base - 100065536) % 65536 )) = 0 ] || fail "range $base is not a pool range"
	done
	expect_eq "ranges released" "" "$(grep -ls "^$BW_ROOT/" /run/bulwark-idpool/* 2>/dev/null)"
}

# A pool range that the host's own files give out (a subordinate range in /etc/subuid or
# /etc/subgid, a user's uid or gid, a group's gid) is never a sandbox's: its user would share
# the sandbox's per-user counts and own its files. The test gives every slot but the last to
# a user's subordinate ranges, then all of them (one line each, removed on return).
test_sandbox_id_range_skips_the_hosts_declared_ids() {
	local line last=$((100065536 + 4095 * 65536)) f
	for f in /etc/subuid /etc/subgid /etc/passwd; do [ -e "$f" ] || : >"$f"; cp -a "$f" "$WORK/$(basename "$f").orig"; done
	trap 'for f in subuid subgid passwd; do cp -a "$WORK/$f.orig" /etc/$f; done' EXIT
	# subuid: slots 0..4094; subgid: the gids of slot 4094 only (a gid range alone counts too).
	# In hex, as shadow's newuidmap reads it too.
	printf 'bw-idpool-test:0x%x:%d\n' 100065536 $((4095 * 65536)) >>/etc/subuid
	echo "bw-idpool-test:$((last - 65536)):65536" >>/etc/subgid
	line=$("$BULWARK" --root "$BW_ROOT" sandbox -- head -1 /proc/self/uid_map) || fail "sandbox: $line"
	expect_eq "the one free slot" "$last" "$(echo "$line" | awk '{print $2}')"
	# The last slot's owner id given to a user: no slot is left.
	# With a '+', as glibc's passwd parser takes it.
	echo "bw-idpool-owner:x:+$((368500992 + 4095)):65534::/:/bin/false" >"$WORK/passwd.add"
	cat "$WORK/passwd.add" >>/etc/passwd
	if out=$("$BULWARK" --root "$BW_ROOT" sandbox -- true 2>&1); then fail "a sandbox ran with every range given out: $out"; fi
	expect_contains "refusal" "4096 of them given to users or subordinate ranges" "$out"
	expect_eq "one line" 1 "$(printf '%s\n' "$out" | wc -l)"
	expect_eq "no range held" "" "$(grep -ls "^$BW_ROOT/" /run/bulwark-idpool/* 2>/dev/null)"
	expect_eq "no state left" "" "$(ls -A "$BW_ROOT" 2>/dev/null | grep -v '^\.')"
}
