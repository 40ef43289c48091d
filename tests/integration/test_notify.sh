# NOTIFY_SOCKET (sd_notify; docs/notify.md): the container gets a socket of bulwark's at the
# caller's socket path, and READY=1 (with a few harmless fields) reaches the caller's socket
# from bulwark, never more than that. A python listener stands in for systemd.

NTF_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers

# ntf_bundle NAME [ROOTFS]: the static sender at /home/sd_notify (read-only), in a bundle of its
# own (ROOTFS: a copy of the image the test changes).
ntf_bundle() {
	if [ ! -x "$WORK/ntf-bin/sd_notify" ]; then
		mkdir -p "$WORK/ntf-bin"
		gcc -static -O2 -o "$WORK/ntf-bin/sd_notify" "$NTF_HELPERS/sd_notify.c"
	fi
	local b
	b=$(new_bundle "$1")
	if [ -n "${2:-}" ]; then
		rm "$b/rootfs"
		ln -s "$2" "$b/rootfs"
	fi
	cfg "$b" ".mounts += [{\"destination\":\"/home\",\"type\":\"bind\",\"source\":\"$WORK/ntf-bin\",\"options\":[\"rbind\",\"ro\"]}]"
	echo "$b"
}

# ntf_listen DIR [SECONDS]: the caller's socket at DIR/host.sock, its log at DIR/log.
ntf_listen() {
	mkdir -p "$1"
	rm -f "$1/host.sock" "$1/log"
	python3 "$NTF_HELPERS/notify_listen.py" "$1/host.sock" "$1/log" "${2:-20}" &
	NTF_LISTENER=$!
	wait_for 5 grep -q listening "$1/log" 2>/dev/null || fail "listener did not start"
}

# The relayed messages, without the sender's pid.
ntf_msgs() { grep -v '^listening$' "$1/log" | sed 's/^pid=[0-9-]* //'; }

test_notify_run_relays_ready_from_bulwark_itself() {
	b=$(ntf_bundle ntf-run)
	cfg "$b" '.process.args=["sh","-c","echo env=$NOTIFY_SOCKET; ls -l $(dirname $NOTIFY_SOCKET); /home/sd_notify READY=1; /home/sd_notify STOPPING=1"]'
	ntf_listen "$WORK/n"
	NOTIFY_SOCKET=$WORK/n/host.sock "$BULWARK" --root "$BW_ROOT" run -b "$b" ntf-run >"$WORK/notify.out" 2>&1 &
	runner=$!
	wait $runner || fail "run failed: $(cat "$WORK/notify.out")"
	wait $NTF_LISTENER
	# crun's layout: the caller's path is a directory in the container, with the socket `notify`.
	expect_contains "container env" "env=$WORK/n/host.sock/notify" "$(cat "$WORK/notify.out")"
	grep -q '^s.* notify$' "$WORK/notify.out" || fail "no socket in the directory: $(cat "$WORK/notify.out")"
	expect_eq messages "fds=0 READY=1
fds=0 STOPPING=1" "$(ntf_msgs "$WORK/n")"
	# From bulwark run (NotifyAccess=main accepts only the main pid), not from the container.
	expect_eq "sender" "2" "$(grep -c "^pid=$runner " "$WORK/n/log")"
}

test_notify_start_waits_for_ready_then_returns() {
	b=$(ntf_bundle ntf-start)
	cfg "$b" '.process.args=["sh","-c","sleep 1; /home/sd_notify READY=1; exec sleep 30"]'
	ntf_listen "$WORK/n"
	export NOTIFY_SOCKET=$WORK/n/host.sock
	bw create -b "$b" ntf-start </dev/null >/dev/null 2>&1
	t0=$(date +%s%N)
	bw start ntf-start &
	local starter=$!
	# While start waits, no other host user can reach its socket (a forged READY=1 would
	# end the wait and go to systemd from bulwark's pid): the directory above it is 0700.
	wait_for 5 test -S "$BW_ROOT/ntf-start/notify/d/notify" || fail "no socket while start waits"
	out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    s.sendto(b"READY=1", sys.argv[1]); print("sent")
except OSError as e:
    print("refused", e.errno)' "$BW_ROOT/ntf-start/notify/d/notify" 2>&1) || true
	expect_eq "another host user's send" "refused 13" "$out"
	wait $starter || fail "start failed"
	ms=$((($(date +%s%N) - t0) / 1000000))
	grep -q 'READY=1' "$WORK/n/log" || fail "start returned before READY=1 was relayed"
	[ "$ms" -ge 900 ] || fail "start returned after $ms ms, before the container said READY=1"
	[ "$ms" -lt 10000 ] || fail "start waited $ms ms"
	# The relay is over: its socket is gone, a late message fails at once (no queue to fill).
	[ -d "$BW_ROOT/ntf-start/notify/d" ] || fail "no notify directory"
	[ ! -e "$BW_ROOT/ntf-start/notify/d/notify" ] || fail "socket left after start"
	expect_eq "late send" 2 "$(bw exec --env "NOTIFY_SOCKET=$WORK/n/host.sock/notify" ntf-start /home/sd_notify STATUS=late)"
	bw delete -f ntf-start
	kill $NTF_LISTENER 2>/dev/null || true
	wait $NTF_LISTENER 2>/dev/null || true
	expect_eq messages "fds=0 READY=1" "$(ntf_msgs "$WORK/n")"
}

# run --detach is create + start: it returns once READY=1 has been passed on, as start does.
test_notify_run_detached_returns_after_ready() {
	b=$(ntf_bundle ntf-rund)
	cfg "$b" '.process.args=["sh","-c","sleep 1; /home/sd_notify READY=1; exec sleep 30"]'
	ntf_listen "$WORK/n"
	NOTIFY_SOCKET=$WORK/n/host.sock timeout 60 "$BULWARK" --root "$BW_ROOT" run -d -b "$b" ntf-rund \
		</dev/null >"$WORK/notify.out" 2>&1 || fail "run -d failed: $(cat "$WORK/notify.out")"
	grep -q 'READY=1' "$WORK/n/log" || fail "run -d returned before READY=1 was relayed"
	bw delete -f ntf-rund
	kill $NTF_LISTENER 2>/dev/null || true
	wait $NTF_LISTENER 2>/dev/null || true
	expect_eq messages "fds=0 READY=1" "$(ntf_msgs "$WORK/n")"
}

test_notify_start_returns_when_the_container_ends_without_ready() {
	b=$(ntf_bundle ntf-noready)
	cfg "$b" '.process.args=["sh","-c","sleep 0.5"]'
	ntf_listen "$WORK/n"
	export NOTIFY_SOCKET=$WORK/n/host.sock
	bw create -b "$b" ntf-noready </dev/null >/dev/null 2>&1
	t0=$(date +%s%N)
	timeout 20 "$BULWARK" --root "$BW_ROOT" start ntf-noready || fail "start failed or hung"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -lt 5000 ] || fail "start waited $ms ms for a container that had ended"
	bw delete -f ntf-noready
	kill $NTF_LISTENER 2>/dev/null || true
	wait $NTF_LISTENER 2>/dev/null || true
	expect_eq messages "" "$(ntf_msgs "$WORK/n")"
}

# A hostile container gets nothing more than READY=1/STATUS= through: no MAINPID (pid 1 of the
# host, to systemd), no oversized datagram, no fd, no unknown or binary field, and it cannot
# change the directory it shares with bulwark.
test_notify_hostile_container_gets_nothing_more() {
	b=$(ntf_bundle ntf-hostile)
	cat >"$WORK/ntf-bin/hostile.sh" <<'SH'
d=$(dirname "$NOTIFY_SOCKET")
touch "$d/planted" 2>/dev/null && echo WROTE
ln -s /etc "$d/link" 2>/dev/null && echo LINKED
rm -f "$NOTIFY_SOCKET" 2>/dev/null && echo REMOVED
/home/sd_notify "$(printf 'MAINPID=1\nSTATUS=a')"
/home/sd_notify --huge 8000
/home/sd_notify --fd /etc/passwd STATUS=withfd
/home/sd_notify "$(printf 'FDSTORE=1\nBARRIER=1\nX_OTHER=1\nREADY=2\nSTATUS=b\001\nMAINPID=99999')"
/home/sd_notify "$(printf 'READY=1\nMAINPID=1')"
/home/sd_notify STOPPING=1
SH
	cfg "$b" '.process.args=["sh","/home/hostile.sh"]'
	ntf_listen "$WORK/n"
	NOTIFY_SOCKET=$WORK/n/host.sock bw run -b "$b" ntf-hostile >"$WORK/notify.out" 2>&1 || fail "run failed: $(cat "$WORK/notify.out")"
	wait $NTF_LISTENER
	grep -E 'WROTE|LINKED|REMOVED' "$WORK/notify.out" && fail "the container changed its notify directory"
	expect_eq "sends" "0 0 0 0 0 0" "$(grep -E '^[0-9]+$' "$WORK/notify.out" | tr '\n' ' ' | sed 's/ $//')"
	expect_eq messages "fds=0 STATUS=a
fds=0 READY=1
fds=0 STOPPING=1" "$(ntf_msgs "$WORK/n")"
}

# The image's own path to the socket is a symlink to a host directory: the mount lands inside
# the rootfs (RESOLVE_IN_ROOT), the host directory stays untouched.
test_notify_symlink_in_the_image_stays_in_the_rootfs() {
	img=$WORK/ntf-img-link
	rm -rf "$img"
	cp -a "$ROOTFS" "$img"
	mkdir -p "$WORK/ntf-target"
	# The caller's socket is $WORK/n/host.sock; in the image, $WORK/n points at a host path.
	mkdir -p "$img$WORK"
	ln -s "$WORK/ntf-target" "$img$WORK/n"
	b=$(ntf_bundle ntf-link "$img")
	cfg "$b" '.process.args=["sh","-c","/home/sd_notify READY=1; /home/sd_notify STOPPING=1"]'
	ntf_listen "$WORK/n"
	NOTIFY_SOCKET=$WORK/n/host.sock bw run -b "$b" ntf-link >"$WORK/notify.out" 2>&1 || fail "run failed: $(cat "$WORK/notify.out")"
	wait $NTF_LISTENER
	expect_eq "host target" "" "$(ls -A "$WORK/ntf-target")"
	expect_eq messages "fds=0 READY=1
fds=0 STOPPING=1" "$(ntf_msgs "$WORK/n")"
	rm -rf "$img"
}

# bulwark's default kind of container (a user namespace) on an image without /run, whose root
# the container's ids cannot write, with an abstract caller socket: runc's /run/notify is made.
test_notify_userns_image_without_run_abstract_socket() {
	img=$WORK/ntf-img-norun
	rm -rf "$img"
	cp -a "$ROOTFS" "$img"
	rm -rf "$img/run"
	b=$(ntf_bundle ntf-userns "$img")
	cfg "$b" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":4500,"size":1}] | .linux.gidMappings=[{"containerID":0,"hostID":4500,"size":1}]'
	cfg "$b" '.process.args=["sh","-c","echo env=$NOTIFY_SOCKET; /home/sd_notify READY=1; /home/sd_notify STOPPING=1"]'
	name="bwit-notify-$$"
	python3 - "$name" "$WORK/n.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w", buffering=1) as f:
    f.write("listening\n")
    while True:
        m = s.recv(4096).decode().replace("\n", "|")
        f.write(m + "\n")
        if m == "STOPPING=1":
            break
PY
	lst=$!
	wait_for 5 grep -q listening "$WORK/n.log" 2>/dev/null || fail "listener did not start"
	NOTIFY_SOCKET=@$name bw run -b "$b" ntf-userns >"$WORK/notify.out" 2>&1 || fail "run failed: $(cat "$WORK/notify.out")"
	wait $lst
	expect_contains "container env" "env=/run/notify/notify" "$(cat "$WORK/notify.out")"
	expect_eq messages "listening
READY=1
STOPPING=1" "$(cat "$WORK/n.log")"
	[ ! -e "$img/run" ] || [ -z "$(ls -A "$img/run/notify" 2>/dev/null)" ] || fail "files left in the image's /run/notify"
	rm -rf "$img"
}

test_notify_unset_gives_the_container_nothing() {
	b=$(ntf_bundle ntf-unset)
	cfg "$b" '.process.args=["sh","-c","echo env=${NOTIFY_SOCKET-unset}; grep -c notify /proc/self/mountinfo || true"]'
	out=$(env -u NOTIFY_SOCKET "$BULWARK" --root "$BW_ROOT" run -b "$b" ntf-unset)
	expect_eq output "env=unset
0" "$out"
}

# A sandbox is not a service: the caller's NOTIFY_SOCKET neither leaks into it nor waits.
test_notify_sandbox_gets_no_notify_socket() {
	ntf_listen "$WORK/n" 5
	out=$(NOTIFY_SOCKET=$WORK/n/host.sock sbx -- sh -c 'echo env=${NOTIFY_SOCKET-unset}; grep -c " $WORK/n/host.sock " /proc/self/mountinfo || true')
	expect_eq output "env=unset
0" "$out"
	kill $NTF_LISTENER 2>/dev/null || true
	wait $NTF_LISTENER 2>/dev/null || true
}

# Where the mountpoint truly cannot be made (a read-only image without the directory), create
# fails as crun's does, with one line naming NOTIFY_SOCKET, and leaves nothing behind.
test_notify_read_only_image_without_the_directory_is_refused_by_name() {
	img=$WORK/ntf-img-ro
	rm -rf "$img" "$WORK/ntf-ro"
	cp -a "$ROOTFS" "$img"
	rm -rf "$img/run"
	mkdir -p "$WORK/ntf-ro"
	mount --bind "$img" "$WORK/ntf-ro"
	mount -o remount,bind,ro "$WORK/ntf-ro"
	b=$(ntf_bundle ntf-ro "$WORK/ntf-ro")
	rc=0
	NOTIFY_SOCKET=/run/ntf-absent/sock bw run -b "$b" ntf-ro >"$WORK/notify.out" 2>&1 || rc=$?
	umount "$WORK/ntf-ro"
	[ "$rc" -ne 0 ] || fail "run succeeded on a read-only image without /run"
	expect_eq "error lines" 1 "$(wc -l <"$WORK/notify.out")"
	expect_contains "error" "NOTIFY_SOCKET: the notify directory's mount at \`/run/ntf-absent/sock\`" "$(cat "$WORK/notify.out")"
	expect_contains "error" "Read-only file system" "$(cat "$WORK/notify.out")"
	[ ! -e "$BW_ROOT/ntf-ro" ] || fail "state left behind"
	rm -rf "$img"
}

# A caller's NOTIFY_SOCKET that start could never send to is refused by create, by name, before
# anything exists (not after the container has been set up, nor by a start that hangs).
test_notify_unusable_caller_socket_is_refused_at_create() {
	b=$(ntf_bundle ntf-bad)
	long=/tmp/$(printf 'x%.0s' $(seq 120))
	for bad in relative/sock "$long"; do
		rc=0
		NOTIFY_SOCKET=$bad bw create -b "$b" ntf-bad </dev/null >"$WORK/notify.out" 2>&1 || rc=$?
		[ "$rc" -ne 0 ] || { bw delete -f ntf-bad; fail "create took NOTIFY_SOCKET=$bad"; }
		expect_eq "error lines" 1 "$(wc -l <"$WORK/notify.out")"
		expect_contains "error" "NOTIFY_SOCKET: \`$bad\`" "$(cat "$WORK/notify.out")"
		[ ! -e "$BW_ROOT/ntf-bad" ] || fail "state left behind"
	done
}
