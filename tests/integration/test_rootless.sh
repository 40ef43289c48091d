# Rootless (issue 14 §2): bulwark run by an unprivileged user (nobody, 65534, with no
# /etc/subuid range), with the confinement that needs no privilege. This host has no cgroup an
# unprivileged user may write (hybrid hierarchy), so limits are refused or replaced.

RL_UID=65534

# rl: run bulwark as the unprivileged user, with a state root of its own.
rl() {
	setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$WORK/rl-root" "$@"
}

rl_setup() {
	mkdir -p "$WORK/rl-root"
	chown $RL_UID:$RL_UID "$WORK/rl-root"
	chmod 700 "$WORK/rl-root"
}

# rl_bundle NAME: a bundle the user owns, from `spec --rootless`, echoed.
rl_bundle() {
	local b=$WORK/rl-bundles/$1
	mkdir -p "$b"
	cp -a "$ROOTFS" "$b/rootfs"
	chown -R $RL_UID:$RL_UID "$WORK/rl-bundles"
	(cd "$b" && setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups "$BULWARK" spec --rootless) || fail "spec --rootless"
	echo "$b"
}

rl_cfg() {
	cfg "$1" "$2"
	chown $RL_UID:$RL_UID "$1/config.json"
}

test_rootless_sandbox_runs_confined() {
	rl_setup
	out=$(cd / && rl sandbox -- sh -c 'id -u; cat /proc/self/uid_map | tr -s " " | sed "s/^ //"; grep -E "^(Seccomp|NoNewPrivs|CapEff|CapBnd):" /proc/self/status | tr -d "\t"; grep "Max processes" /proc/self/limits | tr -s " "; ls /sys/class/net' 2>"$WORK/rl.err") || fail "sandbox: $(cat "$WORK/rl.err")"
	expect_eq "confined" "1000 1000 65534 1 CapEff:0000000000000000 CapBnd:0000000000000000 NoNewPrivs:1 Seccomp:2 Max processes 1024 1024 processes lo" "$(echo $out)"
	# The limits that could not be had are named once.
	expect_eq "one warning" "1" "$(grep -c 'rootless without a writable cgroup' "$WORK/rl.err")"
	# Where AppArmor is enabled (the VM suite) its default profile cannot be loaded: said.
	if [ -e /sys/kernel/security/apparmor/profiles ]; then
		expect_contains "apparmor named" "the default profile cannot be loaded without root" "$(cat "$WORK/rl.err")"
	fi
	[ -z "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)" ] || fail "state left: $(ls -A "$WORK/rl-root")"
}

# What stands in for the cgroup and what needs no privilege, in force: RLIMIT_NPROC stops the
# 1025th task of the sandbox's id (EAGAIN), and Landlock refuses a write to /proc that the
# kernel would otherwise allow an unprivileged process (raising its own oom_score_adj: not
# EROFS, as /proc is writable there, but EACCES, Landlock's answer; docs/landlock.md).
test_rootless_sandbox_enforces_nproc_and_landlock() {
	rl_setup
	out=$(cd / && rl sandbox --timeout 60s -- python3 -c '
import os, time, signal
kids, err = [], None
for i in range(1100):
    try:
        p = os.fork()
    except OSError as e:
        err = e.errno
        break
    if p == 0:
        time.sleep(20)
        os._exit(0)
    kids.append(p)
print("forked", len(kids), "errno", err)
for k in kids:
    os.kill(k, signal.SIGKILL)
try:
    open("/proc/self/oom_score_adj", "w").write("500")
    print("proc-write ok")
except OSError as e:
    print("proc-write", e.errno)
' 2>"$WORK/rl.err") || fail "sandbox: $(cat "$WORK/rl.err")"
	# 1024 tasks of the id: python, and at most 1023 children (the sandbox's init is another id).
	set -- $out
	[ "$2" -ge 1000 ] && [ "$2" -le 1023 ] || fail "forks before the limit: $out"
	expect_eq "refused with EAGAIN" "11" "$4"
	expect_eq "Landlock refuses the /proc write" "proc-write 13" "$5 $6"
}

# Without --root, an unprivileged caller's state lives in $XDG_RUNTIME_DIR/bulwark while the
# sandbox runs, and is gone after it.
test_rootless_state_under_xdg_runtime_dir() {
	local x=$WORK/rl-xdg
	mkdir -p "$x"
	chown $RL_UID:$RL_UID "$x"
	chmod 700 "$x"
	(cd / && setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups --inh-caps=-all \
		env XDG_RUNTIME_DIR="$x" "$BULWARK" sandbox --timeout 30s -- sleep 3) >/dev/null 2>&1 &
	wait_for 10 sh -c "ls -A '$x/bulwark' 2>/dev/null | grep -q sandbox-" || fail "no state under \$XDG_RUNTIME_DIR/bulwark: $(ls -la "$x" "$x/bulwark" 2>&1)"
	expect_eq "owned by the caller" "$RL_UID" "$(stat -c %u "$x/bulwark")"
	wait $! || fail "sandbox failed"
	expect_eq "state gone" "" "$(ls -A "$x/bulwark" | grep -v '^\.' || true)"
}

# A caller with subordinate ranges in /etc/subuid and /etc/subgid (and newuidmap/newgidmap,
# Debian's uidmap) gets them in its sandbox around its own id: the sandbox user (1000) is still
# the caller, and an image's files of other ids show as their owners, not as nobody. The test
# user (4252) and its ranges exist for the test only.
test_rootless_sandbox_maps_the_callers_subordinate_ids() {
	local u=4252 f img=$WORK/rl-sub-img
	for f in passwd subuid subgid; do [ -e /etc/$f ] || : >/etc/$f; cp -a /etc/$f "$WORK/$f.orig"; done
	trap 'for f in passwd subuid subgid; do cp -a "$WORK/$f.orig" /etc/$f; done' EXIT
	echo "bw-rl-sub:x:$u:$u::/nonexistent:/usr/sbin/nologin" >>/etc/passwd
	echo "bw-rl-sub:300000:65536" >>/etc/subuid
	echo "$u:400000:65536" >>/etc/subgid # by number: as shadow's tools read it
	mkdir -p "$WORK/rl-sub-root"
	cp -a "$ROOTFS" "$img"
	chown -R $u:$u "$WORK/rl-sub-root" "$img"
	chmod 700 "$WORK/rl-sub-root"
	echo www >"$img/www"
	chown $((300000 + 33)):$((400000 + 33)) "$img/www"
	out=$(cd / && setpriv --reuid=$u --regid=$u --clear-groups --inh-caps=-all env -u XDG_RUNTIME_DIR \
		"$BULWARK" --root "$WORK/rl-sub-root" sandbox --rootfs "$img" -- sh -c 'id -u; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /www; touch /tmp/t && stat -c %u /tmp/t' 2>"$WORK/rl.err") ||
		fail "sandbox: $(cat "$WORK/rl.err")"
	expect_eq "maps" "1000 0 300000 1000 1000 $u 1 1001 301000 64535 0 400000 1000 1000 $u 1 1001 401000 64535 33:33 1000" "$(echo $out)"
	# newgidmap leaves setgroups allowed: the caller's supplementary groups must stay all the
	# same, or a file that denies one of them ("other" may read, the group may not) opens up.
	mkdir -p "$WORK/rl-neg"
	echo secret >"$WORK/rl-neg/f"
	chown 0:4253 "$WORK/rl-neg/f"
	chmod 0604 "$WORK/rl-neg/f"
	rc=0; out=$(cd / && setpriv --reuid=$u --regid=$u --groups=4253 --inh-caps=-all env -u XDG_RUNTIME_DIR \
		"$BULWARK" --root "$WORK/rl-sub-root" sandbox --ro "$WORK/rl-neg" -- cat "$WORK/rl-neg/f" 2>&1) || rc=$?
	case "$out" in *secret*) fail "a file denied to the caller's group was read: $out" ;; esac
	expect_contains "denied" "Permission denied" "$out"
	expect_eq "state left" "" "$(ls -A "$WORK/rl-sub-root" | grep -v '^\.' || true)"
}

test_rootless_sandbox_report_names_the_limits() {
	rl_setup
	mkdir -p "$WORK/rl-rep"
	chown $RL_UID:$RL_UID "$WORK/rl-rep"
	(cd / && rl sandbox --report "$WORK/rl-rep/r.json" -- true) 2>/dev/null || fail "sandbox"
	expect_eq "report" "true true" "$(jq -r '[.rootless, (.rootless_limits | test("RLIMIT_NPROC"))] | map(tostring) | join(" ")' "$WORK/rl-rep/r.json")"
}

# The limits a rootless sandbox does without are said once it exists: a sandbox refused after
# planning (a flag checked late, or at create inside the sandbox) prints the refusal alone.
test_rootless_refused_sandbox_prints_only_the_refusal() {
	rl_setup
	for flags in "--env-file $WORK/rl-missing.env" "--cwd /no-such-dir"; do
		rc=0; out=$(cd / && rl sandbox $flags -- touch "$WORK/rl-ran" 2>&1) || rc=$?
		# Where AppArmor is enabled (the VM) its note about the host comes from create too.
		out=$(echo "$out" | grep -v '^bulwark: warning: apparmor: the default profile cannot be loaded without root' || true)
		expect_eq "$flags: one line" "125 1" "$rc $(echo "$out" | wc -l)"
		case "$out" in *warning*) fail "$flags: a warning before the refusal: $out" ;; esac
	done
	[ ! -e "$WORK/rl-ran" ] || fail "the command ran"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# A limit only a cgroup enforces is refused, never dropped: one line, 125, the command not run.
test_rootless_sandbox_refuses_limits_and_allowlists_it_cannot_enforce() {
	rl_setup
	for flag in "--memory 256m" "--cpus 1" "--pids 50"; do
		rc=0; out=$(cd / && rl sandbox $flag -- touch "$WORK/rl-ran" 2>&1) || rc=$?
		expect_eq "$flag: refused" "125 1" "$rc $(echo "$out" | wc -l)"
		expect_contains "$flag: names it" "${flag%% *}" "$out"
	done
	[ ! -e "$WORK/rl-ran" ] || fail "the command ran"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# An rw workspace of the user's own is written as that user; one of another user's is
# refused.
test_rootless_sandbox_workspaces() {
	rl_setup
	mkdir -p "$WORK/rl-ws" "$WORK/rl-other"
	chown $RL_UID:$RL_UID "$WORK/rl-ws"
	(cd / && rl sandbox --workspace "$WORK/rl-ws:rw" -- sh -c 'echo w > '"$WORK/rl-ws/out") 2>/dev/null || fail "rw"
	expect_eq "written as the user" "$RL_UID w" "$(stat -c %u "$WORK/rl-ws/out") $(cat "$WORK/rl-ws/out")"
	rc=0; out=$(cd / && rl sandbox --workspace "$WORK/rl-other:rw" -- true 2>&1) || rc=$?
	expect_eq "another's rw refused" "125" "$rc"
	expect_contains "why" "must be the caller's own" "$out"
}

# An overlay workspace without root: the sandbox's init builds it in its own user namespace
# over the user's directory (in a 0700 home); the directory is left byte for byte,
# --keep-changes gets exactly the changes (whiteouts, an opaque directory), --disk bounds the
# upper layer, and another user's directory is refused.
test_rootless_sandbox_overlay_workspace() {
	local home=$WORK/rl-ovhome ws before out rc
	rl_setup
	rm -rf "$home"
	ws=$home/proj
	mkdir -p "$ws/d" "$WORK/rl-ovother"
	echo orig >"$ws/f"
	echo doomed >"$ws/g"
	echo deep >"$ws/d/old"
	chown -R $RL_UID:$RL_UID "$home"
	chmod 700 "$home"
	# Kernels before 6.6 (the VM's 6.1) refuse the overlay bulwark builds in the sandbox's user
	# namespace (detached layers, a tmpfs upper without user xattrs): there bulwark must refuse
	# in one line and leave nothing; from 6.6 on it must work.
	local kv
	kv=$(uname -r | awk -F. '{ printf "%d%03d", $1, $2 }')
	if [ "$kv" -lt 6006 ]; then
		rc=0; out=$(cd / && rl sandbox --workspace "$ws:overlay" -- true 2>&1) || rc=$?
		expect_eq "refused on $(uname -r)" "125 1" "$rc $(echo "$out" | grep -vc 'warning:')"
		expect_contains "why" "cannot mount an overlay" "$out"
		expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
		rm -rf "$home"
		return 0
	fi
	before=$(cd "$ws" && find . -printf '%p %y %m %U:%G %s %T@\n' | sort)
	out=$(cd / && rl sandbox --workspace "$ws:overlay" --keep-changes "$home/keep" --report "$home/r.json" \
		-- sh -c 'echo more >>f && echo new >n && rm g && rm -r d && mkdir d && echo z >d/q &&
			cat f && grep " $PWD " /proc/self/mountinfo | grep -o " - [a-z]*" | cut -c4-' 2>&1) || fail "overlay: $out"
	expect_eq "inside" "orig more overlay" "$(echo $out | sed 's/^bulwark: warning.*RLIMIT_NPROC //')"
	expect_eq "the directory is untouched" "$before" "$(cd "$ws" && find . -printf '%p %y %m %U:%G %s %T@\n' | sort)"
	expect_eq "kept" "d/q f g n" "$(cd "$home/keep" && find . -mindepth 1 ! -type d | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')"
	expect_eq "whiteout" "character special file 0,0" "$(stat -c '%F %t,%T' "$home/keep/g")"
	# The opaque mark needs user xattrs on the scratch tmpfs (Linux 6.6; the VM runs 6.1).
	if python3 -c 'import os,tempfile; f=tempfile.NamedTemporaryFile(dir="/dev/shm"); os.setxattr(f.name, "user.bwt", b"1")' 2>/dev/null; then
		expect_eq "opaque directory" "y" "$(python3 -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.overlay.opaque').decode())" "$home/keep/d" 2>&1)"
	fi
	expect_eq "kept as the user's" "$RL_UID" "$(stat -c %u "$home/keep/n")"
	[ "$(jq .workspace_bytes_written "$home/r.json")" -gt 0 ] || fail "bytes written: $(jq .workspace_bytes_written "$home/r.json")"
	rc=0; out=$(cd / && rl sandbox --disk 8m --workspace "$ws:overlay" -- \
		sh -c 'head -c 20000000 /dev/zero >big 2>/dev/null && echo wrote || echo refused' 2>/dev/null) || rc=$?
	expect_eq "--disk bounds the upper layer" "0 refused" "$rc $out"
	[ ! -e "$ws/big" ] || fail "the scratch reached the directory"
	# One overlay per workspace: the same directory given to --bind too is refused.
	rc=0; out=$(cd / && rl sandbox --workspace "$ws:overlay" --bind "$ws:/elsewhere" --keep-changes "$home/keep2" -- true 2>&1) || rc=$?
	expect_eq "overlay and a bind of it" "125" "$rc"
	expect_contains "why" "also given to --bind or --ro" "$out"
	# A directory whose group the user cannot give: the kept changes get the user's own.
	chgrp 4301 "$ws"
	rm -rf "$home/keep3"
	(cd / && rl sandbox --workspace "$ws:overlay" --keep-changes "$home/keep3" -- sh -c 'echo b >b') 2>/dev/null ||
		fail "keep with a foreign group"
	expect_eq "kept with the user's group" "$RL_UID:$RL_UID b" "$(stat -c %u:%g "$home/keep3/b") $(cat "$home/keep3/b")"
	rc=0; out=$(cd / && rl sandbox --workspace "$WORK/rl-ovother:overlay" -- true 2>&1) || rc=$?
	expect_eq "another's overlay refused" "125" "$rc"
	expect_contains "why" "must be the caller's own" "$out"
	[ -z "$(grep -l ' bulwark-workspace ' /proc/[0-9]*/mountinfo 2>/dev/null || true)" ] || fail "overlay left mounted"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
	rm -rf "$home"
}

# The runc verbs on a `spec --rootless` bundle: run -d, exec, ps, kill -a, delete.
test_rootless_runc_verbs() {
	rl_setup
	b=$(rl_bundle rl-verbs)
	rl_cfg "$b" '.process.terminal=false | .process.args=["sleep","60"]'
	rl run -d -b "$b" rl-verbs </dev/null || fail "run -d"
	out=$(rl exec rl-verbs sh -c 'id -u; cat /proc/self/uid_map | tr -s " " | sed "s/^ //"' 2>&1) || { rl delete -f rl-verbs; fail "exec: $out"; }
	expect_eq "exec" "0 0 65534 1" "$(echo $out)"
	rc=0; rl exec rl-verbs sh -c 'exit 7' || rc=$?
	expect_eq "exec status" "7" "$rc"
	rl exec -d rl-verbs sleep 60 || fail "exec -d"
	expect_eq "ps" "2" "$(rl ps -f json rl-verbs | jq length)"
	# kill --all reaches the exec'd process through the pid namespace (the init, pid 1 there,
	# ignores TERM). Gone or a zombie (its parent may be a PID 1 that does not reap).
	other=$(rl ps -f json rl-verbs | jq '.[1]')
	rl kill -a rl-verbs TERM || fail "kill -a"
	for _ in $(seq 50); do
		st=$(awk '/^State:/ {print $2}' "/proc/$other/status" 2>/dev/null || true)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
	done
	[ -z "$st" ] || [ "$st" = Z ] || fail "kill -a left pid $other ($st)"
	rc=0; out=$(rl pause rl-verbs 2>&1) || rc=$?
	expect_contains "pause refused" "no cgroup" "$out"
	rl kill rl-verbs KILL
	for _ in $(seq 50); do [ "$(rl state rl-verbs | jq -r .status)" = stopped ] && break; sleep 0.1; done
	rl delete rl-verbs || fail "delete"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# A config limit that needs a cgroup: refused with the field named, nothing left behind.
test_rootless_run_refuses_a_cgroup_limit() {
	rl_setup
	b=$(rl_bundle rl-lim)
	rl_cfg "$b" '.process.terminal=false | .process.args=["true"] | .linux.resources.pids={"limit":100}'
	rc=0; out=$(rl run -b "$b" rl-lim </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "ran without its pids limit"
	expect_contains "names the field" "linux.resources.pids.limit: no cgroup can be written by uid $RL_UID" "$out"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# The fallback state root /tmp/bulwark-UID is the caller's own or nothing: one another user made
# first (to plant state, hooks or seccomp cache entries), a symlink, or a group-writable one is
# refused before anything is read from it; a missing one is made 0700.
test_rootless_state_root_made_by_someone_else_is_refused() {
	local uid=4243 r=/tmp/bulwark-4243
	rm -rf "$r"
	as_u() { setpriv --reuid=$uid --regid=$uid --clear-groups env -u XDG_RUNTIME_DIR "$BULWARK" "$@"; }
	mkdir -m 777 "$r"
	rc=0; out=$(cd / && as_u list 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || { rm -rf "$r"; fail "used a root made by root"; }
	expect_contains "owner" "owned by uid 0, not by uid $uid" "$out"
	rmdir "$r"
	ln -s /tmp "$r"
	rc=0; out=$(cd / && as_u sandbox -- true 2>&1) || rc=$?
	rm -f "$r"
	expect_eq "symlink refused" "125" "$rc"
	expect_contains "symlink" "not a directory" "$out"
	(cd / && as_u list >/dev/null) || fail "list with no root"
	expect_eq "made 0700" "$uid 700" "$(stat -c '%u %a' "$r")"
	chmod 770 "$r"
	rc=0; out=$(cd / && as_u list 2>&1) || rc=$?
	rm -rf "$r"
	[ "$rc" -ne 0 ] || fail "used a group-writable root"
	expect_contains "group-writable" "writable by other users" "$out"
}

# Egress without root (issue 14 §2): --allow/--allow-domain through pasta, under the same
# table and DNS proxy, in the test internet of net-lab.sh. The caller (nobody) lives in the
# lab's "sandbox" namespace, which stands for the host pasta talks from.
. "$(dirname "${BASH_SOURCE[0]}")/net-lab.sh"

# A uid of their own (no other test or process uses it), so that every process of it is the
# test's: pasta, the agent, the watcher and the sandbox can be found and ended by uid.
RLN_UID=4251
BULWARK_NET=${BULWARK_NET:-$(dirname "$BULWARK")/../netns/bulwark-net}

rl_net() {
	nsenter --net="$SB_NS" setpriv --reuid=$RLN_UID --regid=$RLN_UID --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$WORK/rln-root" "$@"
}

rl_lab_up() {
	mkdir -p "$WORK/rln-root" "$WORK/rl-rep"
	chown $RLN_UID:$RLN_UID "$WORK/rln-root" "$WORK/rl-rep"
	chmod 700 "$WORK/rln-root"
	lab_up
	chmod 755 "$LAB_DIR"
}

# pasta processes of the test's uid that are not zombies (this host's PID 1 may not reap).
# pasta needs /dev/net/tun, opened by the test's user (the test VM's plain init may have no
# node for it; a host without udev may have it root's, mode 0600).
rl_pasta_usable() {
	[ -n "$(command -v pasta)" ] && [ -c /dev/net/tun ] &&
		setpriv --reuid=$RLN_UID --regid=$RLN_UID --clear-groups sh -c ': <>/dev/net/tun' 2>/dev/null
}

# The network agent: of the test user's bulwark-net processes, not pasta's watcher (a fork
# with the same name, which holds three pidfds at 3-5 and nothing else: pasta.c), nor the
# zombie of an earlier test's (this host's PID 1 may not reap).
rl_agent() {
	local p f watcher
	for p in $(ps -u $RLN_UID -o pid=,stat=,comm= | awk '$3 ~ /^bulwark-net/ && $2 !~ /^Z/ {print $1}'); do
		watcher=1
		for f in 3 4 5; do
			[ "$(readlink /proc/$p/fd/$f 2>/dev/null)" = "anon_inode:[pidfd]" ] || watcher=
		done
		[ ! -e /proc/$p/fd/6 ] || watcher=
		[ -n "$watcher" ] || { echo "$p"; return 0; }
	done
}

rl_pastas() {
	ps -u $RLN_UID --sort=start_time -o pid=,stat=,comm= | awk '$3 ~ /^pas/ && $2 !~ /^Z/ {print $1}'
}

rl_net_left() {
	expect_eq "no pasta left" "" "$(rl_pastas)"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rln-root" | grep -v '^\.' || true)"
}

# A service of the caller's on every address (0.0.0.0:8081, tcp and udp): the sandbox must
# reach it at none of them, not through the gateway either (pasta --no-map-gw, no -T/-U).
RL_CALLER_SRV='
import socket, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 8081)); s.listen(8)
    while True:
        c, _ = s.accept(); c.sendall(b"the caller\n"); c.close()
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 8081))
    while True:
        d, peer = u.recvfrom(100); u.sendto(b"the caller", peer)
threading.Thread(target=tcp, daemon=True).start()
threading.Thread(target=udp, daemon=True).start()
threading.Event().wait()'

test_rootless_sandbox_egress_through_pasta() {
	if ! rl_pasta_usable; then
		rl_setup
		rc=0; out=$(cd / && rl sandbox --allow 192.0.2.1:80/tcp -- true 2>&1) || rc=$?
		expect_eq "refused without pasta or a tun device" "125" "$rc"
		expect_contains "names pasta" "pasta" "$out"
		return 0
	fi
	rl_lab_up
	nsenter --net="$SB_NS" python3 -c "$RL_CALLER_SRV" </dev/null >/dev/null 2>&1 &
	local caller_srv=$!
	sleep 0.3
	# A file the caller has open: pasta, which reads the sandbox's frames, must not get it.
	echo secret >"$WORK/rl-secret"
	local P="python3 $LAB_DIR/probe.py"
	out=$(cd / && exec 7<"$WORK/rl-secret" && rl_net sandbox --ro "$LAB_DIR" --allow 198.51.100.10:80/tcp --allow 203.0.113.0/24 \
		--allow '[2001:db8:1::10]:80/tcp' --report "$WORK/rl-rep/r.json" -- sh -c "$P tcp 198.51.100.10 80; $P tcp 2001:db8:1::10 80; $P tcp 198.51.100.20 80; $P tcp 203.0.113.1 8081; $P tcp 203.0.113.2 8081; $P tcp 127.0.0.1 8081; ls -l /proc/\$(ps -u $RLN_UID -o pid=,comm= 2>/dev/null | awk '\$2 ~ /^pas/ {print \$1}')/fd 2>/dev/null | grep -c rl-secret; true" 2>"$WORK/rl.err")
	expect_contains "allowed reached" "hello from 198.51.100.10:80" "$out"
	expect_contains "IPv6 reached" "hello from 2001:db8:1::10:80" "$out"
	[ "$(echo "$out" | grep -c '^failed')" = 4 ] || fail "expected 4 blocked probes: $out $(cat "$WORK/rl.err")"
	case "$out" in *"the caller"*) kill $caller_srv; fail "reached the caller's own services: $out" ;; esac
	expect_eq "denial reported" "198.51.100.20" "$(jq -r '[.denials[] | select(.port == 80) | .destination] | join(",")' "$WORK/rl-rep/r.json")"
	rl_net_left
	kill $caller_srv 2>/dev/null || true
}

# pasta: only the caller's two namespaces, no fd of the caller's; UDP and ICMP off when the
# policy lets none out.
test_rootless_pasta_gets_no_fds_and_only_the_protocols_allowed() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	echo secret >"$WORK/rl-secret"
	(cd / && exec 7<"$WORK/rl-secret" && rl_net sandbox --allow 198.51.100.10:80/tcp -- sleep 30) </dev/null >"$WORK/rl.out" 2>&1 &
	local bw=$! pasta= args= fds=
	# Once the sandbox's command runs, its pasta is up (the newest of the uid's).
	for _ in $(seq 200); do
		pasta=$(rl_pastas | tail -1)
		if [ -n "$pasta" ] && ps -u $RLN_UID -o comm= | grep -qx sleep; then
			args=$(tr '\0' ' ' <"/proc/$pasta/cmdline" 2>/dev/null || true)
			fds=$(ls -l "/proc/$pasta/fd" 2>/dev/null | grep -c rl-secret || true)
			[ -n "$args" ] && break
		fi
		sleep 0.05
	done
	[ -n "$args" ] || fail "no pasta with a running sandbox: $(cat "$WORK/rl.out")"
	for p in $(ps -u $RLN_UID -o pid=,comm= | awk '$2 == "sleep" {print $1}'); do kill -KILL "$p"; done
	wait $bw || true
	expect_eq "the caller's fd" 0 "$fds"
	expect_contains "no udp" "--no-udp" "$args"
	expect_contains "no icmp" "--no-icmp" "$args"
	rl_net_left
}

# An address the caller's namespace gains while the sandbox runs is closed as it appears, and
# UDP leaves only from the ephemeral ports (pasta binds each source port in the caller's
# namespace: a sandbox must not hold the caller's service ports).
test_rootless_pasta_closes_new_local_addresses_and_service_udp_ports() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	nsenter --net="$SB_NS" python3 -c "$RL_CALLER_SRV" </dev/null >/dev/null 2>&1 &
	local caller_srv=$!
	local P="python3 $LAB_DIR/probe.py"
	(sleep 1.5; nsenter --net="$SB_NS" ip addr add 203.0.113.7/24 dev eth0) &
	local adder=$!
	out=$(cd / && rl_net sandbox --ro "$LAB_DIR" --allow 203.0.113.0/24 --allow 198.51.100.10:9999/udp -- sh -c "
		sleep 3; $P tcp 203.0.113.7 8081; $P udp 203.0.113.7 8081
		$P udp 198.51.100.10 9999
		python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.bind((\"0.0.0.0\", 8125))
try: s.sendto(b\"x\", (\"198.51.100.10\", 9999)); print(\"sport 8125:\", s.recv(10))
except OSError as e: print(\"sport 8125 failed:\", e)'" 2>"$WORK/rl.err")
	wait $adder || true
	kill $caller_srv 2>/dev/null || true
	nsenter --net="$SB_NS" ip addr del 203.0.113.7/24 dev eth0 2>/dev/null || true
	case "$out" in *"the caller"*) fail "reached the caller at its new address: $out" ;; esac
	expect_eq "new address closed" 2 "$(echo "$out" | grep -c '^failed')"
	expect_contains "ephemeral udp goes" "echo" "$out"
	expect_contains "service port dropped" "sport 8125 failed" "$out"
	rl_net_left
}

# The ephemeral ports are the caller's (ip_local_port_range minus ip_local_reserved_ports of
# the namespace bulwark runs in), not the kernel's default: the table lets UDP out only from
# those, and the sandbox's own kernel picks its ports there. --debug names them.
test_rootless_pasta_udp_ports_are_the_callers_ephemeral_ones() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	nsenter --net="$SB_NS" sysctl -qw net.ipv4.ip_local_port_range="40000 50000"
	nsenter --net="$SB_NS" sysctl -qw net.ipv4.ip_local_reserved_ports="45000"
	local P="python3 $LAB_DIR/probe.py"
	out=$(cd / && rl_net --debug sandbox --ro "$LAB_DIR" --allow 198.51.100.10:9999/udp -- sh -c "
		cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/ipv4/ip_local_reserved_ports
		$P udp 198.51.100.10 9999
		python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1); s.bind((\"0.0.0.0\", 35000))
try: s.sendto(b\"x\", (\"198.51.100.10\", 9999)); print(\"sport 35000:\", s.recv(10))
except OSError as e: print(\"sport 35000 failed:\", e)'" 2>"$WORK/rl.err")
	expect_eq "the sandbox's range" "40000 50000 45000" "$(echo "$out" | head -2 | tr -s '\t ' ' ' | tr '\n' ' ' | sed 's/ $//')"
	expect_contains "ephemeral udp goes" "echo" "$out"
	expect_contains "outside the caller's range dropped" "sport 35000 failed" "$out"
	expect_contains "--debug names them" "udp-ports={ 40000-44999, 45001-50000 } (the caller's ephemeral ports)" "$(cat "$WORK/rl.err")"
	rl_net_left
}

# A whole prefix made local in the caller's namespace (AnyIP: `ip route add local P dev lo`)
# reaches the caller's services at every address of it: one there at start is closed; one
# that appears while the sandbox runs ends its egress (pasta with it).
test_rootless_pasta_closes_local_prefix_routes() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	nsenter --net="$SB_NS" python3 -c "$RL_CALLER_SRV" </dev/null >/dev/null 2>&1 &
	local caller_srv=$!
	local P="python3 $LAB_DIR/probe.py"
	nsenter --net="$SB_NS" ip route add local 192.0.2.128/25 dev lo
	# Once the first probes are done (the sandbox sleeps), the new prefix.
	(for _ in $(seq 300); do ps -u $RLN_UID -o comm= | grep -qx sleep && break; sleep 0.05; done
	 nsenter --net="$SB_NS" ip route add local 192.0.2.64/26 dev lo) &
	local adder=$!
	out=$(cd / && rl_net sandbox --ro "$LAB_DIR" --allow 192.0.2.0/24 --allow 198.51.100.10:80/tcp -- sh -c "
		$P tcp 192.0.2.200 8081; $P tcp 198.51.100.10 80; sleep 2
		$P tcp 192.0.2.70 8081; $P tcp 198.51.100.10 80; true" 2>"$WORK/rl.err")
	wait $adder || true
	kill $caller_srv 2>/dev/null || true
	case "$out" in *"the caller"*) fail "reached the caller through a local route: $out" ;; esac
	[ -n "$out" ] || fail "no output: $(cat "$WORK/rl.err")"
	expect_eq "egress before, none after the new prefix" "hello from 198.51.100.10:80" \
		"$(echo "$out" | grep -v '^failed')"
	expect_eq "closed probes" 3 "$(echo "$out" | grep -c '^failed')"
	rl_net_left
}

test_rootless_sandbox_allow_domain_through_pasta() {
	rl_pasta_usable || return 0 # the refusal is tested above
	rl_lab_up
	local P="python3 $LAB_DIR/probe.py"
	out=$(cd / && rl_net sandbox --ro "$LAB_DIR" --dns 198.51.100.53 --allow-domain allowed.test -- sh -c \
		"$P dns allowed.test 198.51.100.53; $P tcp 198.51.100.10 80; $P dns denied.test 198.51.100.53; $P tcp 198.51.100.20 80; true" 2>"$WORK/rl.err") || fail "sandbox: $(cat "$WORK/rl.err")"
	expect_contains "resolved" "rcode=0 tc=0 198.51.100.10" "$out"
	expect_contains "opened" "hello from 198.51.100.10:80" "$out"
	expect_contains "denied name" "rcode=5" "$out"
	expect_contains "denied address" "failed" "$out"
	rl_net_left
}

# pasta does not notice its namespace going away: a watcher ends it with the sandbox's init,
# also when the runtime itself was killed and cleaned nothing up.
test_rootless_pasta_ends_with_the_init_when_the_runtime_is_killed() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	(cd / && exec nsenter --net="$SB_NS" setpriv --reuid=$RLN_UID --regid=$RLN_UID --clear-groups --inh-caps=-all \
		env -u XDG_RUNTIME_DIR "$BULWARK" --root "$WORK/rln-root" sandbox --allow 198.51.100.10:80/tcp -- sleep 60) </dev/null >/dev/null 2>&1 &
	local bw=$!
	local pasta= init=
	for _ in $(seq 100); do
		pasta=$(rl_pastas)
		init=$(ps -u $RLN_UID -o pid=,stat=,comm= | awk '$3 == "sleep" && $2 !~ /^Z/ {print $1}' | head -1)
		[ -n "$pasta" ] && [ -n "$init" ] && break
		sleep 0.05
	done
	# The runtime and its watchdog (which would tear the sandbox down) both die first.
	kill -KILL $bw $(ps -u $RLN_UID -o pid=,comm= | awk '$2 ~ /^bulwark-watch/ {print $1}') 2>/dev/null
	wait $bw 2>/dev/null || true
	[ -z "$init" ] || kill -KILL $init 2>/dev/null || true
	for _ in $(seq 40); do [ -z "$(rl_pastas)" ] && break; sleep 0.05; done
	local left=$(rl_pastas)
	for p in $(ps -u $RLN_UID -o pid=,stat= | awk '$2 !~ /^Z/ {print $1}'); do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$WORK/rln-root"
	[ -n "$pasta" ] || fail "no pasta started"
	[ -n "$init" ] || fail "no sandbox process"
	expect_eq "pasta ended" "" "$left"
}

# Without the agent, the caller's new addresses would no longer be closed: pasta ends with it.
# And `bulwark-net apply` on a pasta sandbox's namespace keeps the table's local sets, with the
# caller's addresses in them.
test_rootless_pasta_ends_with_the_agent_and_apply_keeps_local_sets() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	(cd / && rl_net sandbox --allow 198.51.100.10:80/tcp -- sleep 30) </dev/null >"$WORK/rl.out" 2>&1 &
	local bw=$! pasta= sleeper= agent= sets= left=
	for _ in $(seq 200); do
		pasta=$(rl_pastas | tail -1)
		sleeper=$(ps -u $RLN_UID -o pid=,stat=,comm= | awk '$3 == "sleep" && $2 !~ /^Z/ {print $1}' | head -1)
		[ -n "$pasta" ] && [ -n "$sleeper" ] && break
		sleep 0.05
	done
	[ -n "$sleeper" ] || fail "no sandbox: $(cat "$WORK/rl.out")"
	nsenter --net="$SB_NS" "$BULWARK_NET" --netns "/proc/$sleeper/ns/net" apply >"$WORK/rl.apply" 2>&1 ||
		fail "apply: $(cat "$WORK/rl.apply")"
	sets=$(nsenter --net="/proc/$sleeper/ns/net" nft list set inet bulwark local4 2>&1 &&
		nsenter --net="/proc/$sleeper/ns/net" nft list set inet bulwark deny4 2>&1 || true)
	agent=$(rl_agent)
	[ -z "$agent" ] || kill -KILL "$agent"
	for _ in $(seq 40); do [ -z "$(rl_pastas)" ] && break; sleep 0.05; done
	left=$(rl_pastas)
	kill -KILL "$sleeper" 2>/dev/null || true
	wait $bw || true
	expect_contains "apply kept the caller's address closed" "203.0.113.2" "$sets"
	[ -n "$agent" ] || fail "no agent found: $(ps -u $RLN_UID -o pid=,comm=)"
	expect_eq "pasta ended with the agent" "" "$left"
	rl_net_left
}

# The agent lives as long as the sandbox: every host user may read its command line, which
# shows only its name and the sandbox's, no host path (state root, policy, events file).
test_rootless_net_agent_cmdline_shows_no_host_paths() {
	rl_pasta_usable || return 0 # the refusal is tested in test_rootless_sandbox_egress_*
	rl_lab_up
	(cd / && rl_net sandbox --allow 198.51.100.10:80/tcp -- sleep 30) </dev/null >"$WORK/rl.out" 2>&1 &
	local bw=$! sleeper= agent= args=
	for _ in $(seq 200); do
		sleeper=$(ps -u $RLN_UID -o pid=,stat=,comm= | awk '$3 == "sleep" && $2 !~ /^Z/ {print $1}' | head -1)
		agent=$(rl_agent)
		[ -n "$sleeper" ] && [ -n "$agent" ] && break
		sleep 0.05
	done
	[ -n "$agent" ] && args=$(setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups tr '\0' ' ' <"/proc/$agent/cmdline" 2>&1 || true)
	[ -n "$agent" ] && environ=$(cat "/proc/$agent/environ" 2>/dev/null | tr '\0' ' ' || true)
	[ -z "$sleeper" ] || kill -KILL "$sleeper" 2>/dev/null || true
	wait $bw || true
	[ -n "$agent" ] || fail "no agent: $(cat "$WORK/rl.out")"
	expect_eq "only name and id" "1" "$(echo "$args" | grep -cE '^bulwark-net sandbox-[0-9a-f]{12} *$')"
	case "$args $environ" in *"$WORK"*) fail "a host path shows: $args | $environ" ;; esac
	rl_net_left
}

test_rootless_egress_refused_without_pasta() {
	rl_setup
	rc=0; out=$(cd / && BULWARK_PASTA=/nonexistent/pasta rl sandbox --allow 192.0.2.1:80/tcp -- touch "$WORK/rl-ran" 2>&1) || rc=$?
	expect_eq "refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names pasta" "pasta (Debian package passt)" "$out"
	[ ! -e "$WORK/rl-ran" ] || fail "the command ran"
	expect_eq "nothing left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# A delegated cgroup v2 subtree (issue 14 §2), as systemd's Delegate=yes leaves one: only on a
# pure cgroup v2 host (the VM suite); on a hybrid host these tests are not defined at all.
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then

# dl_setup NAME [CONTROLLERS]: /sys/fs/cgroup/$CG_PREFIX/NAME/deleg (the controllers offered
# to it: CONTROLLERS, default "cpu memory pids"), delegated to $RL_UID; echoed.
dl_setup() {
	local top=/sys/fs/cgroup/$CG_PREFIX mid=/sys/fs/cgroup/$CG_PREFIX/$1 c
	rl_setup
	mkdir -p "$mid/deleg"
	for c in ${2:-cpu memory pids}; do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
		echo "+$c" >"$top/cgroup.subtree_control"
		echo "+$c" >"$mid/cgroup.subtree_control"
	done
	chown $RL_UID:$RL_UID "$mid/deleg" "$mid/deleg/cgroup.procs" "$mid/deleg/cgroup.subtree_control" \
		"$mid/deleg/cgroup.threads"
	echo "$mid/deleg"
}

# dl_done DIR: what the test made (the leaf bulwark moved the caller into stays; it is empty now).
dl_done() {
	local _
	# A failed test may leave processes behind (a container, the caller's leaf): ended first.
	echo 1 >"$1/cgroup.kill"
	for _ in $(seq 50); do [ -z "$(cat "$1/cgroup.procs" "$1"/*/cgroup.procs "$1"/*/*/cgroup.procs 2>/dev/null)" ] && break; sleep 0.1; done
	find "$1" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
	rmdir "$1" "$(dirname "$1")"
}

# dl DIR ARGS...: bulwark as $RL_UID, started in the delegated cgroup DIR (in its leaf once
# bulwark made one: where the caller's shell then is).
dl() {
	local d=$1
	shift
	[ -d "$d/bulwark-leaf" ] && d=$d/bulwark-leaf
	(echo $BASHPID >"$d/cgroup.procs" && { [ -z "${DL_PIDFILE:-}" ] || echo $BASHPID >"$DL_PIDFILE"; } && exec setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups \
		--inh-caps=-all env -u XDG_RUNTIME_DIR "$BULWARK" --root "$WORK/rl-root" "$@")
}

# What is left below the delegated cgroup but the caller's leaf.
dl_left() { find "$1" -mindepth 1 -type d ! -name bulwark-leaf; }

# dl_report: a directory $RL_UID may write reports to, echoed.
dl_report() {
	mkdir -p "$WORK/dl-rep"
	chown $RL_UID:$RL_UID "$WORK/dl-rep"
	echo "$WORK/dl-rep"
}

test_rootless_deleg_sandbox_limits_apply() {
	d=$(dl_setup dl-sb)
	rep=$(dl_report)
	(cd / && dl "$d" sandbox --memory 64m --cpus 1 --report "$rep/r.json" -- sleep 2 2>"$WORK/dl.err") &
	sb=$!
	out=""
	for _ in $(seq 100); do
		cg=$(ls -d "$d"/bulwark/*/ 2>/dev/null | head -1)
		[ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && { out=$(cat "$cg/memory.max" "$cg/cpu.max" "$cg/pids.max" "$cg/cpu.weight"); break; }
		sleep 0.1
	done
	rc=0; wait $sb || rc=$?
	left=$(dl_left "$d")
	dl_done "$d"
	[ $rc -eq 0 ] || fail "sandbox: $(cat "$WORK/dl.err")"
	expect_eq "limits in its cgroup below the delegated one" "67108864 100000 100000 1024 50" "$(echo $out)"
	expect_eq "nothing said" "" "$(grep -i 'rlimit_nproc\|not bounded\|not applied' "$WORK/dl.err" || true)"
	expect_eq "report" "67108864 1024 false" "$(jq -r '[.budgets.memory.limit, .budgets.pids.limit, (.rootless_limits | test("RLIMIT"))] | map(tostring) | join(" ")' "$rep/r.json")"
	expect_eq "no cgroup left" "" "$left"
}

test_rootless_deleg_sandbox_pids_enforced() {
	d=$(dl_setup dl-pids)
	rep=$(dl_report)
	out=$(cd / && dl "$d" sandbox --pids 8 --report "$rep/r.json" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done 2>/dev/null; wait' 2>"$WORK/dl.err") || true
	left=$(dl_left "$d")
	dl_done "$d"
	set -- $(jq -r '[.budgets.pids.limit, .budgets.pids.hit, .budgets.pids.refused_forks] | map(tostring) | join(" ")' "$rep/r.json")
	expect_eq "limit, hit" "8 true" "$1 $2"
	[ "$3" -gt 0 ] || fail "no fork refused: $*"
	expect_eq "no cgroup left" "" "$left"
}

# The sandbox's runtime killed: its watchdog ends the sandbox and removes its cgroup.
test_rootless_deleg_watchdog_removes_the_cgroup() {
	d=$(dl_setup dl-wd)
	(cd / && DL_PIDFILE=$WORK/dl.pid dl "$d" sandbox -- sleep 30 >/dev/null 2>&1) &
	sb=$!
	cg=""
	for _ in $(seq 100); do
		cg=$(ls -d "$d"/bulwark/*/ 2>/dev/null | head -1)
		[ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break
		sleep 0.1
	done
	# dl's subshell exec'd setpriv, env, then bulwark: its pid is the runtime's.
	kill -KILL "$(cat "$WORK/dl.pid")"
	wait $sb || true
	for _ in $(seq 100); do [ -z "$(dl_left "$d")" ] && break; sleep 0.1; done
	left=$(dl_left "$d")
	for _ in $(seq 50); do [ -z "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)" ] && break; sleep 0.1; done
	dl_done "$d"
	[ -n "$cg" ] || fail "no sandbox cgroup seen"
	expect_eq "no cgroup left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# run/create, pause, update, ps, events --stats, kill --all, delete on a config with limits.
test_rootless_deleg_runc_cycle() {
	d=$(dl_setup dl-rc)
	b=$(rl_bundle dl-rc)
	rl_cfg "$b" '.process.terminal=false | .process.args=["sleep","60"] | .linux.resources={"memory":{"limit":134217728},"pids":{"limit":50}}'
	dl "$d" run -d -b "$b" dl-rc </dev/null || { dl_done "$d" || true; fail "run -d"; }
	cg=$d/bulwark/dl-rc
	r=0
	{
		expect_eq "memory.max" "134217728" "$(cat "$cg/memory.max")" &&
		dl "$d" pause dl-rc && expect_eq "frozen" "1 paused" "$(cat "$cg/cgroup.freeze") $(dl "$d" state dl-rc | jq -r .status)" &&
		dl "$d" resume dl-rc &&
		dl "$d" update --memory 100m --pids-limit 40 dl-rc &&
		expect_eq "updated" "104857600 40" "$(cat "$cg/memory.max" "$cg/pids.max" | tr '\n' ' ' | sed 's/ $//')" &&
		dl "$d" exec -d dl-rc sleep 60 &&
		expect_eq "ps" "2" "$(dl "$d" ps -f json dl-rc | jq length)" &&
		expect_eq "stats" "40" "$(dl "$d" events --stats dl-rc | jq .data.pids.limit)" &&
		dl "$d" kill --all dl-rc KILL &&
		wait_for 5 sh -c "[ -z \"\$(cat $cg/cgroup.procs)\" ]" &&
		dl "$d" delete -f dl-rc
	} || r=$?
	[ $r -eq 0 ] || dl "$d" delete -f dl-rc || true
	left=$(dl_left "$d")
	dl_done "$d"
	[ $r -eq 0 ] || fail "cycle"
	expect_eq "no cgroup left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
	# create then delete without start, twice: nothing left either time.
	d=$(dl_setup dl-rc)
	for i in 1 2; do
		dl "$d" create -b "$b" dl-rc </dev/null || { dl_done "$d" || true; fail "create $i"; }
		[ -d "$d/bulwark/dl-rc" ] || { dl "$d" delete -f dl-rc; dl_done "$d" || true; fail "no cgroup $i"; }
		dl "$d" delete -f dl-rc || true
		[ -z "$(dl_left "$d")" ] || { dl_done "$d" || true; fail "left after delete $i: $(dl_left "$d")"; }
	done
	dl_done "$d"
}

# A controller the delegated cgroup does not offer: the limit is refused by name, nothing left.
test_rootless_deleg_undelegated_controller_refused() {
	d=$(dl_setup dl-nm "pids")
	rc=0; out=$(cd / && dl "$d" sandbox --memory 64m -- touch "$WORK/dl-ran" 2>&1) || rc=$?
	b=$(rl_bundle dl-nm)
	rl_cfg "$b" '.process.terminal=false | .process.args=["true"] | .linux.resources={"memory":{"limit":134217728}}'
	rc2=0; out2=$(dl "$d" run -b "$b" dl-nm </dev/null 2>&1) || rc2=$?
	# The defaults the subtree cannot hold are named; pids still applies.
	rep=$(dl_report)
	(cd / && dl "$d" sandbox --report "$rep/r.json" -- true 2>"$WORK/dl.err") || true
	out3=$(jq -r '[.budgets.pids.limit, .budgets.memory.limit] | map(tostring) | join(" ")' "$rep/r.json" || true)
	left=$(dl_left "$d")
	dl_done "$d"
	expect_eq "sandbox refused" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names it" "--memory: the memory controller is not delegated to uid $RL_UID" "$out"
	[ ! -e "$WORK/dl-ran" ] || fail "the command ran"
	[ "$rc2" -ne 0 ] || fail "run ran without its memory limit"
	expect_contains "run names it" "linux.resources.memory: the memory controller is not delegated" "$out2"
	expect_eq "defaults: pids, no memory" "1024 null" "$out3"
	expect_contains "defaults named" "without the memory, cpu controller(s)" "$(cat "$WORK/dl.err")"
	expect_eq "no cgroup left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

fi

# Rootless limits through the user's systemd (issue 14 §2, docs/rootless.md): the caller is in
# a cgroup not delegated to it (here the runner's, in a system service) and its user manager
# runs; bulwark asks that manager for a transient scope with Delegate=yes, moves into it, and
# the limits apply below it. Needs systemd as PID 1 on cgroup v2: the VM's --systemd suite
# (tests/vm/run-vm-suite.sh --systemd, which runs ^test_sd_); elsewhere not defined at all.
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -S /run/systemd/private ] &&
	[ -f /sys/fs/cgroup/cgroup.controllers ]; then

SDR_MGR=/sys/fs/cgroup/user.slice/user-$RL_UID.slice/user@$RL_UID.service

sdr_up() {
	rl_setup
	systemctl start "user@$RL_UID.service" || fail "start user@$RL_UID.service"
	[ -S "/run/user/$RL_UID/systemd/private" ] || fail "no user manager socket"
	mkdir -p "$WORK/sdr-rep"
	chown $RL_UID:$RL_UID "$WORK/sdr-rep"
}

sdr_down() {
	systemctl stop "user@$RL_UID.service" "user-runtime-dir@$RL_UID.service" >/dev/null 2>&1 || true
}

# sdr ARGS...: bulwark as $RL_UID from this cgroup (the runner's, not the user's), with the
# user's runtime directory as a login session has it.
sdr() {
	setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups --inh-caps=-all \
		env XDG_RUNTIME_DIR=/run/user/$RL_UID "$BULWARK" --root "$WORK/rl-root" "$@"
}

# sdr_left: the user manager's bulwark scopes (units, cgroups) still there, after a moment
# for systemd to see the last process go.
sdr_left() {
	local _ units cgs
	for _ in $(seq 100); do
		units=$(setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups env XDG_RUNTIME_DIR=/run/user/$RL_UID \
			systemctl --user list-units --all --no-legend 'bulwark-*' 2>/dev/null)
		cgs=$(find "$SDR_MGR" -name 'bulwark-*' 2>/dev/null)
		[ -z "$units$cgs" ] && return 0
		sleep 0.1
	done
	echo "$units $cgs"
}

# The sandbox's cgroup (memory.max there) is read from the host: the sandbox mounts no cgroupfs.
test_sd_rootless_user_scope_memory_limit() {
	sdr_up
	(cd / && sdr sandbox --memory 64m --report "$WORK/sdr-rep/r.json" -- sleep 3 >/dev/null 2>"$WORK/sdr.err") &
	sb=$!
	out="" scope=""
	for _ in $(seq 150); do
		cg=$(find "$SDR_MGR" -maxdepth 4 -type d -path '*/bulwark-sandbox-*.scope/bulwark/*' 2>/dev/null | head -1)
		[ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && {
			out=$(cat "$cg/memory.max" "$cg/pids.max")
			scope=$(basename "$(dirname "$(dirname "$cg")")")
			deleg=$(setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups env XDG_RUNTIME_DIR=/run/user/$RL_UID \
				systemctl --user show -p Delegate --value "$scope")
			break
		}
		sleep 0.1
	done
	rc=0; wait $sb || rc=$?
	left=$(sdr_left)
	sdr_down
	[ $rc -eq 0 ] || fail "sandbox ($rc): $(cat "$WORK/sdr.err")"
	[ -n "$scope" ] || fail "no sandbox cgroup in a scope of the user's manager"
	expect_eq "memory.max, pids.max of its cgroup" "67108864 1024" "$(echo $out)"
	expect_eq "the scope is delegated" yes "$deleg"
	expect_eq "nothing replaced" "" "$(grep -i 'rlimit_nproc\|not bounded\|not applied' "$WORK/sdr.err" || true)"
	expect_contains "report: the user's scope" "user@$RL_UID.service/" "$(jq -r .rootless_limits "$WORK/sdr-rep/r.json")"
	expect_eq "no scope left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

test_sd_rootless_user_scope_pids_enforced() {
	sdr_up
	(cd / && sdr sandbox --pids 8 --report "$WORK/sdr-rep/r.json" -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 1 & done 2>/dev/null; wait' >/dev/null 2>"$WORK/sdr.err") || true
	left=$(sdr_left)
	sdr_down
	set -- $(jq -r '[.budgets.pids.limit, .budgets.pids.hit, .budgets.pids.refused_forks] | map(tostring) | join(" ")' "$WORK/sdr-rep/r.json" || true)
	expect_eq "limit, hit ($(cat "$WORK/sdr.err"))" "8 true" "${1:-} ${2:-}"
	[ "${3:-0}" -gt 0 ] || fail "no fork refused: $*"
	expect_eq "no scope left" "" "$left"
}

# A sandbox that fails after the scope is made (a command that is not there) leaves no scope.
test_sd_rootless_user_scope_gone_after_a_failure() {
	sdr_up
	rc=0; (cd / && sdr sandbox --memory 64m -- /nonexistent-cmd >/dev/null 2>"$WORK/sdr.err") || rc=$?
	left=$(sdr_left)
	sdr_down
	expect_eq "not found" 127 "$rc"
	expect_eq "no scope left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# The runtime killed: its watchdog ends the sandbox, and with the scope's last process gone
# systemd removes the scope and its cgroup.
test_sd_rootless_user_scope_gone_when_the_runtime_is_killed() {
	sdr_up
	(cd / && echo $BASHPID >"$WORK/sdr.pid" && exec setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups --inh-caps=-all \
		env XDG_RUNTIME_DIR=/run/user/$RL_UID "$BULWARK" --root "$WORK/rl-root" sandbox --memory 64m -- sleep 30 >/dev/null 2>&1) &
	sb=$!
	cg=""
	for _ in $(seq 150); do
		cg=$(find "$SDR_MGR" -maxdepth 4 -type d -path '*/bulwark-sandbox-*.scope/bulwark/*' 2>/dev/null | head -1)
		[ -n "$cg" ] && [ -n "$(cat "$cg/cgroup.procs" 2>/dev/null)" ] && break
		sleep 0.1
	done
	kill -KILL "$(cat "$WORK/sdr.pid")"
	wait $sb || true
	left=$(sdr_left)
	for _ in $(seq 50); do [ -z "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)" ] && break; sleep 0.1; done
	sdr_down
	[ -n "$cg" ] || fail "no sandbox cgroup seen in the user's scope"
	expect_eq "no scope left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# The runc verbs: create enters a scope of the user's systemd before it forks the init; the
# config's limits apply below it, pause works, and after delete neither unit nor cgroup is left.
test_sd_rootless_runc_verbs_in_a_user_scope() {
	sdr_up
	b=$(rl_bundle sdr-run)
	rl_cfg "$b" '.process.terminal=false | .process.args=["sleep","60"] | .linux.resources={"memory":{"limit":67108864},"pids":{"limit":50}}'
	rc=0; sdr run -d -b "$b" sdr-run </dev/null >"$WORK/sdr.out" 2>&1 || rc=$?
	pid=$(sdr state sdr-run 2>/dev/null | jq -r .pid || true)
	cg=/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
	out=$(cat "$cg/memory.max" "$cg/pids.max" 2>/dev/null || true)
	# exec from the caller's own cgroup (not the scope) joins the container's cgroup.
	erc=0; eout=$(sdr exec sdr-run sh -c 'cat /proc/self/cgroup' 2>&1) || erc=$?
	prc=0; sdr pause sdr-run >/dev/null 2>&1 || prc=$?
	frozen=$(cat "$cg/cgroup.freeze" 2>/dev/null || true)
	sdr resume sdr-run >/dev/null 2>&1 || true
	sdr delete -f sdr-run >/dev/null 2>&1 || true
	left=$(sdr_left)
	sdr_down
	[ $rc -eq 0 ] || fail "run -d ($rc): $(cat "$WORK/sdr.out")"
	expect_contains "the init in a scope of the user's manager" "user@$RL_UID.service/" "$cg"
	expect_contains "a bulwark scope" "/bulwark-sdr-run-" "$cg"
	expect_eq "memory.max, pids.max" "67108864 50" "$(echo $out)"
	expect_eq "exec ($eout)" 0 "$erc"
	expect_eq "pause" "0 1" "$prc $frozen"
	expect_eq "no scope left" "" "$left"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

# No user manager (no socket at all), or a runtime directory whose sockets are another uid's:
# the limit is refused as before, in one line that says why the user's systemd gave no scope.
test_sd_rootless_no_user_manager_refused() {
	rl_setup
	sdr_down
	rc=0; out=$(cd / && sdr sandbox --memory 64m -- touch "$WORK/sdr-ran" 2>&1) || rc=$?
	mkdir -p "$WORK/fake-rt/systemd"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/fake-rt/systemd/private"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/fake-rt/bus"
	rc2=0; out2=$(cd / && setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups --inh-caps=-all \
		env XDG_RUNTIME_DIR="$WORK/fake-rt" "$BULWARK" --root "$WORK/rl-root" sandbox --pids 8 -- true 2>&1) || rc2=$?
	expect_eq "refused, one line" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "says why" "--memory: a limit needs a cgroup" "$out"
	expect_contains "names the user's systemd" "the user's systemd gave no delegated scope" "$out"
	[ ! -e "$WORK/sdr-ran" ] || fail "the command ran"
	expect_eq "another uid's sockets refused" "125 1" "$rc2 $(echo "$out2" | wc -l)"
	expect_contains "names the socket" "$WORK/fake-rt/bus\` is not a socket of uid $RL_UID" "$out2"
	b=$(rl_bundle sdr-lim)
	rl_cfg "$b" '.process.terminal=false | .process.args=["true"] | .linux.resources.pids={"limit":100}'
	rc3=0; out3=$(sdr run -b "$b" sdr-lim </dev/null 2>&1) || rc3=$?
	[ "$rc3" -ne 0 ] || fail "run ran without its pids limit"
	expect_contains "run names the field and the user's systemd" "linux.resources.pids.limit: no cgroup can be written by uid $RL_UID on this host, so the limit cannot be enforced (remove it, run as root, or use a host with a delegated cgroup v2 subtree; the user's systemd gave no delegated scope" "$out3"
	expect_eq "no state left" "" "$(ls -A "$WORK/rl-root" | grep -v '^\.' || true)"
}

fi
