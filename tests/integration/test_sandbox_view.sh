# bulwark sandbox: what of the host a sandbox sees (--host-view, --ro, --bind; issue 13 §1), in
# real sandboxes. By default the root is a fresh tmpfs with only /usr, /bin, /sbin, /lib* and /etc
# of the host bound read-only; everything else of the host is unreachable unless given.

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

# Host places a sandbox must not see by default. Each gets a directory with a world-readable
# file and a listening unix socket anyone may connect to (the sandbox user is "others").
VIEW_PLACES="/srv /opt /var/lib /mnt /home"

view_unplant() {
	if [ -n "${VP_PID:-}" ]; then
		kill "$VP_PID" 2>/dev/null || true
		wait "$VP_PID" 2>/dev/null || true
	fi
	for d in ${VP_DIRS:-}; do rm -rf "$d"; done
	return 0
}

# view_plant: sets VP_DIRS (the planted directories) and VP_PID (the socket server).
view_plant() {
	VP_DIRS=""
	local p d
	for p in $VIEW_PLACES; do
		d=$p/bwit-view-$BASHPID
		mkdir -p "$d" && chmod 755 "$d"
		echo "secret of $p" >"$d/secret" && chmod 644 "$d/secret"
		VP_DIRS="$VP_DIRS $d"
	done
	trap view_unplant EXIT
	# One server for every socket: each connection gets "ok".
	python3 -c '
import os, select, socket, sys
socks = []
for d in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX)
    s.bind(d + "/sock")
    os.chmod(d + "/sock", 0o777)
    s.listen(8)
    socks.append(s)
open(sys.argv[1] + "/ready", "w").close()
while True:
    for s in select.select(socks, [], [])[0]:
        c, _ = s.accept()
        c.sendall(b"ok")
        c.close()
' $VP_DIRS &
	VP_PID=$!
	local i first
	first=$(echo $VP_DIRS | cut -d' ' -f1)
	for i in $(seq 100); do [ -e "$first/ready" ] && break; sleep 0.1; done
	[ -e "$first/ready" ] || fail "the socket server did not start"
	rm -f "$first/ready"
}

# Run inside: for each directory argument, "DIR:read|-:conn|-" (the file read, the socket
# answered).
VIEW_PROBE='for d in "$@"; do
	r=-; c=-
	cat "$d/secret" >/dev/null 2>&1 && r=read
	python3 -c "import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
sys.exit(0 if s.recv(2) == b\"ok\" else 1)" "$d/sock" 2>/dev/null && c=conn
	printf "%s:%s:%s " "$d" "$r" "$c"
done'

# expect_probe WHAT EXPECTED(read:conn or -:-) [sandbox flags...]: every planted place as expected.
expect_probe() {
	local what=$1 want=$2 d exp=""
	shift 2
	for d in $VP_DIRS; do exp="$exp$d:$want "; done
	expect_eq "$what" "$exp" "$(sbx "$@" -- sh -c "$VIEW_PROBE" sh $VP_DIRS)"
}

test_sandbox_view_hides_host_files_and_sockets_by_default() {
	[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; return 0; }
	view_plant
	# The host itself reaches them all: the probe works.
	expect_eq "host probe" "$(for d in $VP_DIRS; do printf '%s:read:conn ' "$d"; done)" \
		"$(sh -c "$VIEW_PROBE" sh $VP_DIRS)"
	expect_probe "default view" "-:-"
	expect_probe "explicit minimal" "-:-" --host-view minimal
	# Not even the places themselves are there (an empty /var holds only tmp).
	out=$(sbx -- sh -c 'for p in /srv /opt /var/lib /mnt /root /boot /media; do [ -e $p ] && echo $p; done; printf "%s|%s" "$(ls -A /var)" "$(ls -A /home)"')
	expect_eq "no host places (/var holds tmp, /home is empty)" "tmp|" "$out"
}

test_sandbox_view_ro_shows_a_host_path_read_only() {
	[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; return 0; }
	view_plant
	local ro=() d
	for d in $VP_DIRS; do ro+=(--ro "$d"); done
	expect_probe "--ro" "read:conn" "${ro[@]}"
	d=$(echo $VP_DIRS | cut -d' ' -f1)
	out=$(sbx --ro "$d" -- sh -c "touch $d/new 2>&1 || echo refused; cat $d/secret")
	expect_contains "read-only" "refused" "$out"
	expect_contains "content" "secret of /srv" "$out"
	[ ! -e "$d/new" ] || fail "wrote through --ro"
	# A single file is shown too; a path through a symlink is refused (an earlier sandbox
	# could have planted it), with one line.
	expect_eq "a file" "secret of /srv" "$(sbx --ro "$d/secret" -- cat "$d/secret")"
	ln -s secret "$d/link"
	rc=0; out=$(sbx --ro "$d/link" -- cat "$d/link" 2>&1) || rc=$?
	expect_eq "a file via a link: refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "why" "goes through a symbolic link" "$out"
}

test_sandbox_view_full_shows_the_host_as_before() {
	[ -x /usr/bin/python3 ] || { echo "skipped: no /usr/bin/python3"; return 0; }
	VIEW_PLACES="/srv /opt /var/lib /mnt" # /home is HOME's tmpfs in the full view too
	view_plant
	expect_probe "full view" "read:conn" --host-view full
	sbx --host-view full --report "$WORK/full.json" -- true
	kd_valid_report "$WORK/full.json"
	expect_eq "report: full" '"full"' "$(jq .host_view "$WORK/full.json")"
	sbx --rootfs / --report "$WORK/full.json" -- true
	expect_eq "report: --rootfs / is full" '"full"' "$(jq .host_view "$WORK/full.json")"
}

test_sandbox_view_root_is_the_allowlist_with_the_hosts_symlinks() {
	local n want="" links=""
	for n in bin dev etc home lib lib32 lib64 libx32 proc run sbin sys tmp usr var; do
		case $n in
		dev | home | proc | run | sys | tmp | var) want="$want$n " ;;
		*) [ -e "/$n" ] || [ -L "/$n" ] && want="$want$n " ;;
		esac
	done
	for n in bin sbin lib lib32 lib64 libx32 usr etc; do
		[ -L "/$n" ] && links="$links$n->$(readlink "/$n") "
	done
	out=$(sbx -- sh -c 'ls -A / | tr "\n" " "; echo; for n in bin sbin lib lib32 lib64 libx32 usr etc; do [ -L /$n ] && printf "%s->%s " $n "$(readlink /$n)"; done; echo; touch /x 2>&1 || true')
	expect_eq "ls /" "$want" "$(echo "$out" | sed -n 1p)"
	expect_eq "symlinks" "$links" "$(echo "$out" | sed -n 2p)"
	expect_contains "read-only root" "Read-only file system" "$(echo "$out" | sed -n 3p)"
	sbx --report "$WORK/min.json" -- true
	kd_valid_report "$WORK/min.json"
	expect_eq "report: minimal" '"minimal"' "$(jq .host_view "$WORK/min.json")"
	sbx --rootfs "$ROOTFS" --report "$WORK/min.json" -- true
	expect_eq "report: rootfs" '"rootfs"' "$(jq .host_view "$WORK/min.json")"
}

test_sandbox_view_common_tools_still_run() {
	out=$(sbx -- sh -c 'echo sh-ok')
	expect_eq sh sh-ok "$out"
	if [ -x /usr/bin/python3 ]; then
		expect_eq python3 "py-ok" "$(sbx -- python3 -c 'import json, ssl, sqlite3; print("py-ok")')"
	fi
	if command -v gcc >/dev/null && command -v make >/dev/null; then
		out=$(sbx -- sh -c 'cd /tmp && printf "#include <stdio.h>\nint main(void){puts(\"cc-ok\");return 0;}\n" >a.c &&
			printf "a: a.c\n\tgcc -O2 -o a a.c\n" >Makefile && make -s && ./a')
		expect_eq "gcc and make" "cc-ok" "$out"
	fi
	if command -v git >/dev/null; then
		out=$(sbx -- sh -c 'cd /tmp && git init -q r && cd r && echo x >f && git add f &&
			git -c user.name=t -c user.email=t@example.invalid commit -qm m && git log --format=%s')
		expect_eq git m "$out"
	fi
}

test_sandbox_view_bind_to_a_destination_missing_on_the_host() {
	mkdir -p "$WORK/bsrc" && echo bound >"$WORK/bsrc/f" && chmod 755 "$WORK/bsrc"
	local dst=/srv/bwit-missing-$BASHPID/deep top=/bwit-missing-$BASHPID
	[ ! -e "/srv/bwit-missing-$BASHPID" ] && [ ! -e "$top" ] || fail "destinations exist before the test"
	out=$(sbx --bind "$WORK/bsrc:$dst" --bind "$WORK/bsrc:$top" -- sh -c "cat $dst/f $top/f")
	expect_eq "bound at missing destinations" "bound bound" "$(echo $out)"
	[ ! -e "/srv/bwit-missing-$BASHPID" ] && [ ! -e "$top" ] || fail "a mountpoint was made on the host"
	# The full view is the host's own tree, never written: refused, and still nothing made.
	rc=0; out=$(sbx --host-view full --bind "$WORK/bsrc:$dst" -- true 2>&1) || rc=$?
	expect_eq "full view refuses" 125 "$rc"
	[ ! -e "/srv/bwit-missing-$BASHPID" ] || { rm -rf "/srv/bwit-missing-$BASHPID"; fail "the full view made it on the host"; }
	# Below a read-only bind of the view, nothing can be made either.
	rc=0; sbx --bind "$WORK/bsrc:/usr/bwit-missing-$BASHPID" -- true 2>/dev/null || rc=$?
	expect_eq "below /usr refused" 125 "$rc"
	[ ! -e "/usr/bwit-missing-$BASHPID" ] || fail "made below the host's /usr"
}

test_sandbox_view_second_sandbox_cannot_read_the_firsts_workspace() {
	VW_WS=/srv/bwit-ws-$BASHPID
	local ws=$VW_WS sig=$WORK/ws-sig pid
	trap 'rm -rf "$VW_WS"' EXIT
	mkdir -p "$ws" "$sig" && echo original >"$ws/a" && chmod 755 "$ws" && chmod 644 "$ws/a"
	chmod 777 "$sig"
	sbx --workspace "$ws:overlay" --bind "$sig:/mnt:rw" --timeout 60s -- sh -c \
		'echo mine >new && touch /mnt/ready && while [ ! -e /mnt/done ]; do sleep 0.1; done' &
	pid=$!
	for _ in $(seq 200); do [ -e "$sig/ready" ] && break; sleep 0.1; done
	[ -e "$sig/ready" ] || fail "the first sandbox did not start"
	out=$(sbx -- sh -c "cat $ws/a 2>/dev/null || echo unreadable; cat $ws/new 2>/dev/null || echo none")
	expect_eq "second sandbox (default view)" "unreadable none" "$(echo $out)"
	# What the old view let through (so this test fails against it): the workspace itself.
	out=$(sbx --host-view full -- sh -c "cat $ws/a 2>/dev/null || echo unreadable; cat $ws/new 2>/dev/null || echo none")
	expect_eq "second sandbox (full view)" "original none" "$(echo $out)"
	touch "$sig/done"
	wait "$pid" || fail "the first sandbox failed"
}

test_sandbox_view_flags_are_validated() {
	rc=0; out=$(sbx --host-view partial -- true 2>&1) || rc=$?
	expect_eq "bad view" "125 bulwark: --host-view: expected minimal or full, got \"partial\"" "$rc $out"
	rc=0; out=$(sbx --host-view full --rootfs "$ROOTFS" -- true 2>&1) || rc=$?
	expect_eq "view with --rootfs" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "view with --rootfs" "--host-view: not with --rootfs" "$out"
	rc=0; out=$(sbx --ro srv -- true 2>&1) || rc=$?
	expect_eq "relative --ro" "125 bulwark: --ro srv: the path must be absolute" "$rc $out"
	rc=0; out=$(sbx --ro /no/such/bwit -- true 2>&1) || rc=$?
	expect_eq "missing --ro" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "missing --ro" "--ro /no/such/bwit" "$out"
	rc=0; out=$(sbx --ro // -- true 2>&1) || rc=$?
	expect_eq "--ro /" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "--ro /" "--host-view full" "$out"
}

# Without root (test_rootless.sh's rl): the same minimal view, made in the caller's own user
# namespace.
test_sandbox_view_rootless_is_minimal_too() {
	rl_setup
	mkdir -p "/srv/bwit-rl-$BASHPID" && echo shown >"/srv/bwit-rl-$BASHPID/f"
	VW_RL=/srv/bwit-rl-$BASHPID
	trap 'rm -rf "$VW_RL"' EXIT
	out=$(cd / && rl sandbox -- sh -c '[ -e /srv ] || [ -e /opt ] || echo hidden; readlink /bin || echo no-link; [ -d /usr/bin ] && echo usr' 2>/dev/null)
	expect_eq "rootless default" "hidden $(readlink /bin || echo no-link) usr" "$(echo $out)"
	out=$(cd / && rl sandbox --ro "$VW_RL" --bind "$VW_RL:/nowhere/x" -- cat "$VW_RL/f" /nowhere/x/f 2>/dev/null)
	expect_eq "rootless --ro and --bind" "shown shown" "$(echo $out)"
	[ ! -e /nowhere ] || fail "made /nowhere on the host"
}

# The full host view never makes a missing --bind destination or --cwd on the host, even in a
# directory its ids could write (a 1777 one): refused, the host unchanged.
test_sandbox_view_full_makes_nothing_on_the_host() {
	local d
	d=$(mktemp -d /opt/bwit-ww.XXXXXX)
	chmod 1777 "$d"
	mkdir -p "$WORK/vw-src"
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" sandbox --host-view full --bind "$WORK/vw-src:$d/pwn" -- true 2>&1) || rc=$?
	rc2=0; "$BULWARK" --root "$BW_ROOT" sandbox --host-view full --cwd "$d/cwd" -- true >/dev/null 2>&1 || rc2=$?
	left=$(ls -A "$d")
	rm -rf "$d"
	expect_eq "refused" "125 125" "$rc $rc2"
	expect_contains "why" "nothing is made on the host's own /" "$out"
	expect_eq "host unchanged" "" "$left"
}

# With the host's whole / (and a --rootfs), the mounts below the root are read-only, nosuid and
# nodev too, not only the root's own: a host file system mounted under /srv, and a device node
# on it, are no way to write or to reach a device (only Landlock and the devices cgroup stood
# in the way before).
test_sandbox_view_full_seals_the_mounts_below_the_root() {
	local m=/srv/bulwark-t-seal out
	mkdir -p $m
	mount -t tmpfs -o mode=1777 bulwark-t-seal $m
	mknod $m/null c 1 3
	chmod 666 $m/null
	out=$(sbx --host-view full --seccomp-complain -- sh -c "grep ' $m ' /proc/self/mountinfo | cut -d' ' -f6
		(echo x >$m/f) 2>/dev/null && echo wrote || echo refused
		(echo x >$m/null) 2>/dev/null && echo dev-opened || echo dev-refused" 2>/dev/null)
	umount $m
	rmdir $m
	expect_eq "below the root" "ro,nosuid,nodev,relatime refused dev-refused" "$(echo $out)"
}
