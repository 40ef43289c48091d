# Set-id bits through an rw workspace (issue #11): the sandbox writes a root-owned DIR in place as
# its owner, so a file it gives S_ISUID or S_ISGID would be a setuid/setgid-root program on the
# host. One test per system call that sets a mode, each with S_ISUID and S_ISGID:
#  - control, without the filter: the sandbox user's host uid, the same call, run on the host
#    (setpriv) in a directory on the same file system that this uid owns: the bit sticks on the
#    host file, so the attack is real and the test cannot pass vacuously (an rw --bind was the
#    control before it got the guard too, see test_setid_rw_bind);
#  - attack: --workspace DIR:rw with a root-owned DIR: the call fails (EPERM from the filter;
#    ENOSYS for openat2) and no host file has a set-id bit.
# The probe is helpers/setid_probe.c (raw system calls: no libc fallback between them).

SETID_HELPERS=$(dirname "${BASH_SOURCE[0]}")/helpers
# The sandbox user (1000) as the host sees it outside idmapped workspaces (specgen.h).
SETID_HOST_UID=$((100000000 + 1000))

setid_setup() {
	if [ ! -x "$WORK/setid-bin/setid_probe" ]; then
		mkdir -p "$WORK/setid-bin"
		gcc -static -O2 -o "$WORK/setid-bin/setid_probe" "$SETID_HELPERS/setid_probe.c"
	fi
}

# setid_dirs CALL: fresh control and workspace directories; the chmod family gets an existing
# 0755 file per mode in each (the control's owned by the sandbox user's host id, the
# workspace's by root).
setid_dirs() {
	ctl=$WORK/setid-ctl-$1 wsd=$WORK/setid-ws-$1
	rm -rf "$ctl" "$wsd"
	mkdir -m 755 "$ctl" "$wsd"
	for m in 4755 2755; do
		case $1 in *chmod*) install -m 755 /dev/null "$ctl/s$m"; install -m 755 /dev/null "$wsd/s$m" ;; esac
	done
	chown -R "$SETID_HOST_UID:$SETID_HOST_UID" "$ctl"
}

# setid_as_sandbox_user CMD...: CMD on the host as the sandbox user's host uid and gid.
setid_as_sandbox_user() {
	setpriv --reuid="$SETID_HOST_UID" --regid="$SETID_HOST_UID" --clear-groups "$@" </dev/null
}

# setid_script DIR CALL: the script that tries both modes on DIR/s4755 and DIR/s2755.
setid_script() {
	echo "for m in 4755 2755; do echo \"\$m \$($WORK/setid-bin/setid_probe $2 $1/s\$m \$m)\"; done"
}

# setid_case CALL [KERNEL_KEEPS]: the control and the attack for CALL. KERNEL_KEEPS=no for
# calls whose set-id bits the kernel drops by itself (mkdir): the control then only shows that
# the call works without the filter, and the refusal is the filter's.
setid_case() {
	local call=$1 keeps=${2:-yes} out m want
	setid_setup
	setid_dirs "$call"
	out=$(setid_as_sandbox_user sh -c "$(setid_script "$ctl" "$call")")
	for m in 4755 2755; do
		want="rc=ok mode=$m"
		[ "$keeps" = yes ] || want="rc=ok mode=755"
		expect_contains "control $call $m (no filter)" "$m $want" "$out"
	done
	if [ "$keeps" = yes ]; then
		expect_eq "control: the bits stick on the host" "s2755 s4755" "$(cd "$ctl" && echo $(find . -perm /6000 -printf '%P\n' | sort))"
	fi
	out=$(bw sandbox --bind "$WORK/setid-bin" --workspace "$wsd:rw" -- sh -c "$(setid_script "$wsd" "$call")" </dev/null)
	for m in 4755 2755; do
		case $call in
		openat2) want="rc=ENOSYS mode=none" ;;
		*chmod*) want="rc=EPERM mode=755" ;;
		*) want="rc=EPERM mode=none" ;;
		esac
		expect_contains "rw workspace $call $m" "$m $want" "$out"
	done
	[ -z "$(find "$wsd" -perm /6000)" ] || fail "set-id file on the host: $(find "$wsd" -perm /6000 -ls)"
	# The guard refuses only set-id modes: the same call with a plain mode still works.
	out=$(bw sandbox --bind "$WORK/setid-bin" --workspace "$wsd:rw" -- "$WORK/setid-bin/setid_probe" "$call" "$wsd/s4755" 750 </dev/null)
	if [ "$call" = openat2 ]; then
		expect_eq "plain $call" "rc=ENOSYS mode=none" "$out"
	else
		expect_eq "plain $call" "rc=ok mode=750" "$out"
		expect_eq "plain mode on the host, root-owned" "750 0:0" "$(stat -c '%a %u:%g' "$wsd/s4755")"
	fi
}

test_setid_open() { setid_case open; }
test_setid_openat() { setid_case openat; }
test_setid_creat() { setid_case creat; }
test_setid_open_o_tmpfile() { setid_case open_tmpfile; }
test_setid_openat_o_tmpfile() { setid_case openat_tmpfile; }
test_setid_mknod() { setid_case mknod; }
test_setid_mknodat() { setid_case mknodat; }
test_setid_chmod() { setid_case chmod; }
test_setid_fchmod() { setid_case fchmod; }
test_setid_fchmodat() { setid_case fchmodat; }
test_setid_fchmodat2() { setid_case fchmodat2; }
test_setid_fchmodat2_symlink_nofollow() { setid_case fchmodat2_nofollow; }
test_setid_fchmodat2_empty_path() { setid_case fchmodat2_empty; }
test_setid_chmod_through_proc_self_fd() { setid_case chmod_procfd; }
# openat2's mode is in struct open_how, out of a filter's reach: ENOSYS for every openat2, so
# that libc falls back to openat (whose mode the filter reads).
test_setid_openat2() { setid_case openat2; }
# The kernel drops S_ISUID/S_ISGID from mkdir's mode today; the filter refuses them anyway.
test_setid_mkdir() { setid_case mkdir no; }
test_setid_mkdirat() { setid_case mkdirat no; }

# An rw --bind is the host's disk written in place too (F3 of the attacker review): a sandbox
# user's set-id file there would run as its host uid, which every sandbox shares. The bound
# directory is owned by that uid (the usual case: a directory made for the sandbox); the control
# is the same call by the same uid on the host, where the bits stick.
test_setid_rw_bind() {
	local call m out
	setid_setup
	for call in chmod open; do
		setid_dirs "bind-$call"
		rm -f "$wsd"/s*
		for m in 4755 2755; do [ "$call" = chmod ] && install -m 755 /dev/null "$wsd/s$m"; done
		chown -R "$SETID_HOST_UID:$SETID_HOST_UID" "$wsd"
		# Each sandbox has host ids of its own (runtime/idpool.h): the directory is open to
		# whichever they are this time, and the files in it to the sandbox user.
		chmod 777 "$wsd"
		out=$(setid_as_sandbox_user sh -c "$(setid_script "$ctl" "$call")")
		for m in 4755 2755; do
			expect_contains "control $call $m (no filter)" "$m rc=ok mode=$m" "$out"
		done
		# chmod: the sandbox user makes the files itself, so that it owns them (only the
		# filter can then refuse the bits).
		local mk=""
		[ "$call" = chmod ] && mk="rm -f $wsd/s*; for m in 4755 2755; do : >$wsd/s\$m; chmod 755 $wsd/s\$m; done; "
		out=$(bw sandbox --bind "$WORK/setid-bin" --bind "$wsd:$wsd:rw" -- sh -c "$mk$(setid_script "$wsd" "$call")" </dev/null)
		for m in 4755 2755; do
			if [ "$call" = chmod ]; then want="rc=EPERM mode=755"; else want="rc=EPERM mode=none"; fi
			expect_contains "rw --bind $call $m" "$m $want" "$out"
		done
		[ -z "$(find "$wsd" -perm /6000)" ] || fail "set-id file on the host: $(find "$wsd" -perm /6000 -ls)"
	done
	# A plain mode still works, as the sandbox user's host uid.
	out=$(bw sandbox --bind "$WORK/setid-bin" --bind "$wsd:rw" -- "$WORK/setid-bin/setid_probe" open "$wsd/plain" 750 </dev/null)
	expect_eq "plain open" "rc=ok mode=750" "$out"
	# Owned by the sandbox user's host id: 1000 into the sandbox's own range of the pool.
	local owner=$(stat -c %u "$wsd/plain")
	expect_eq "plain file on the host" "750 1000" "$(stat -c %a "$wsd/plain") $(( owner >= 100065536 ? (owner - 100065536) % 65536 : -1 ))"
	# Complain mode would only log the guard's refusals.
	rc=0; out=$(bw sandbox --seccomp-complain --bind "$wsd:rw" -- true 2>&1 </dev/null) || rc=$?
	[ "$rc" -ne 0 ] || fail "--seccomp-complain accepted with an rw --bind"
	expect_contains "complain refused" "not with an rw workspace or rw --bind" "$out"
}
