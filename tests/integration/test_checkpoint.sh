# checkpoint/restore through CRIU (runtime/checkpoint/checkpoint.c, docs/checkpoint.md).
# test_ckpt_*: everywhere (refusals, and on a kernel CRIU cannot work with, its reason).
# test_criu_*: run by tests/vm/run-vm-suite.sh (the VM's 6.1 kernel); those after the
# criu_works line define themselves only where `criu check` passes.

command -v criu >/dev/null || return 0

# A busybox counter: pid 1 of the container writes 1, 2, 3... to /tmp/count every 0.2 s (by a
# rename, so a reader never sees it empty). Its stdio is the container's own /dev/null, so
# nothing outside the container is open in it.
ckpt_bundle() {
	local b
	b=$(new_bundle "$1")
	cfg "$b" '.process.args=["sh","-c","exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.2; done"]'
	echo "$b"
}
# The count as the container sees it (the loop truncates before it writes: retry an empty read).
ckpt_count() {
	local n i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		n=$(bw exec "$1" cat /tmp/count) || return 1
		[ -n "$n" ] && { echo "$n"; return 0; }
		sleep 0.05
	done
	return 1
}
ckpt_counting() { # ckpt_counting ID: the container answers exec, and the counter moves on
	local a i
	a=$(ckpt_count "$1") || return 1
	for i in $(seq 50); do
		sleep 0.2
		[ "$(ckpt_count "$1")" -gt "$a" ] 2>/dev/null && return 0
	done
	return 1
}
# The init's confinement as /proc shows it.
ckpt_confinement() {
	local pid
	pid=$(bw state "$1" | jq -r .pid)
	grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|Seccomp_filters|CapInh|CapPrm|CapEff|CapBnd|CapAmb):' \
		"/proc/$pid/status"
	echo "lsm: $(cat "/proc/$pid/attr/current" 2>/dev/null | tr -d '\0')"
}
criu_works() { criu check --no-default-config --log-file=/dev/null >/dev/null 2>&1; }

test_ckpt_bad_flags_refused_with_one_line() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b out
	b=$(ckpt_bundle ck-flags)
	bw run -d -b "$b" ck-flags </dev/null >/dev/null 2>&1
	out=$(bw checkpoint --lazy-pages --image-path "$img" ck-flags 2>&1) && fail "lazy-pages accepted"
	expect_contains "lazy-pages" "--lazy-pages: not supported" "$out"
	out=$(bw checkpoint --manage-cgroups-mode bogus --image-path "$img" ck-flags 2>&1) && fail "bogus mode accepted"
	expect_contains "mode" "--manage-cgroups-mode: \`bogus\` is not one of" "$out"
	out=$(bw checkpoint --empty-ns ipc --image-path "$img" ck-flags 2>&1) && fail "empty-ns ipc accepted"
	expect_contains "empty-ns" "--empty-ns: \`ipc\` is not supported" "$out"
	out=$(bw checkpoint --parent-path /abs --image-path "$img" ck-flags 2>&1) && fail "absolute parent accepted"
	expect_contains "parent" "--parent-path: \`/abs\` must be a path relative" "$out"
	[ ! -e "$img" ] || fail "a refused checkpoint made the image directory"
	expect_eq "status" running "$(bw state ck-flags | jq -r .status)"
	ckpt_counting ck-flags || fail "the container stopped counting"
	bw delete --force ck-flags
}

# ckpt_run_landlocked ID: a counting container under Landlock (which CRIU cannot dump),
# running; its bundle is echoed.
ckpt_run_landlocked() {
	local b
	b=$(ckpt_bundle "$1")
	cfg "$b" '.annotations["run.bulwark.landlock"]="default"'
	bw run -d -b "$b" "$1" </dev/null >/dev/null 2>&1
	echo "$b"
}

# runc's checkpoint: --parent-path is relative to the image path and names an existing
# directory (an earlier pre-dump); anything else is one line naming the flag, checked before the
# dump and before the container's own refusals, and leaves no image directory behind.
test_ckpt_parent_path_must_be_an_existing_directory() {
	local img=$WORK/img.${FUNCNAME[0]}
	local out
	ckpt_run_landlocked ck-parent >/dev/null
	out=$(bw checkpoint --parent-path ./no-such-parent --image-path "$img" ck-parent 2>&1) &&
		fail "a missing parent accepted"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains "missing" "--parent-path: \`./no-such-parent\` (as \`$img/no-such-parent\`): No such file or directory" "$out"
	touch "$WORK/parent-file.${FUNCNAME[0]}"
	out=$(bw checkpoint --parent-path "../parent-file.${FUNCNAME[0]}" --image-path "$img" ck-parent 2>&1) &&
		fail "a file as the parent accepted"
	expect_contains "not a directory" "(as \`$WORK/parent-file.${FUNCNAME[0]}\`): Not a directory" "$out"
	[ ! -e "$img" ] || fail "a refused checkpoint made the image directory"
	# An existing parent passes this check: the refusal is the container's own (Landlock).
	mkdir "$WORK/parent.${FUNCNAME[0]}"
	out=$(bw checkpoint --parent-path "../parent.${FUNCNAME[0]}" --image-path "$img" ck-parent 2>&1) &&
		fail "checkpoint of a Landlock container succeeded"
	expect_contains "next check" "confined by Landlock" "$out"
	ckpt_counting ck-parent || fail "the container stopped counting"
	bw delete --force ck-parent
}

test_criu_restore_refuses_missing_image_path() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b out
	b=$(ckpt_bundle ck-noimg)
	out=$(bw restore --image-path "$WORK/no-such-image" -b "$b" ck-noimg 2>&1) && fail "restore succeeded"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains "message" "--image-path: \`$WORK/no-such-image\`: No such file or directory" "$out"
	mkdir "$WORK/empty-image"
	out=$(bw restore --image-path "$WORK/empty-image" -b "$b" ck-noimg 2>&1) && fail "restore of an empty dir succeeded"
	expect_contains "message" "holds no CRIU image (no inventory.img)" "$out"
	[ ! -e "$BW_ROOT/ck-noimg" ] || fail "a refused restore left state"
}

test_ckpt_landlock_container_refused() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b out
	b=$(ckpt_run_landlocked ck-ll)
	out=$(bw checkpoint --image-path "$img" ck-ll 2>&1) && fail "checkpoint of a Landlock container succeeded"
	expect_contains "message" "confined by Landlock (run.bulwark.landlock=default), which CRIU cannot" "$out"
	[ ! -e "$img" ] || fail "a refused checkpoint made the image directory"
	ckpt_counting ck-ll || fail "the container stopped counting"
	bw delete --force ck-ll
	mkdir -p "$img.2" && touch "$img.2/inventory.img"
	out=$(bw restore --image-path "$img.2" -b "$b" ck-ll2 2>&1) && fail "restore with Landlock succeeded"
	expect_contains "restore" "restore: the container is confined by Landlock" "$out"
}

# On a kernel CRIU 3.17 cannot work with (this host's 6.18: vdso), checkpoint says CRIU's own
# reason in one line, leaves the container running and usable, and writes no image.
if ! criu_works; then
test_ckpt_criu_failure_quotes_reason_and_leaves_container() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b out before
	b=$(ckpt_bundle ck-fail)
	bw run -d -b "$b" ck-fail </dev/null >/dev/null 2>&1
	before=$(bw state ck-fail | jq -r .pid)
	out=$(bw checkpoint --image-path "$img" ck-fail 2>&1) && fail "checkpoint succeeded"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains "reason" "checkpoint: criu dump failed: " "$out"
	expect_contains "log" "(log: $img/dump.log; no image was written)" "$out"
	# CRIU's first error line that is not a helper child's exit, quoted
	local first
	first=$(grep 'Error (' "$img/dump.log" | grep -v '): exited, status' | head -1 | sed 's/.*): //')
	[ -n "$first" ] || fail "no error line in CRIU's log"
	expect_contains "criu's reason" "$first" "$out"
	[ -z "$(ls "$img" | grep -v '^dump.log$')" ] || fail "image files left: $(ls "$img")"
	expect_eq "status" running "$(bw state ck-fail | jq -r .status)"
	expect_eq "same init" "$before" "$(bw state ck-fail | jq -r .pid)"
	ckpt_counting ck-fail || fail "the container stopped counting"
	bw delete --force ck-fail
}
fi

criu_works || return 0

test_criu_checkpoint_restore_continues_counting() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b before after conf_before
	b=$(ckpt_bundle ck-cr)
	cfg "$b" '.linux.seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ptrace"],"action":"SCMP_ACT_ERRNO"}]}'
	bw run -d -b "$b" ck-cr </dev/null >/dev/null 2>&1
	conf_before=$(ckpt_confinement ck-cr)
	expect_contains "seccomp on" "Seccomp:	2" "$conf_before"
	wait_for 10 sh -c "[ \"\$(cat $ROOTFS/tmp/count)\" -gt 3 ] 2>/dev/null" || fail "the counter did not start"
	bw checkpoint --image-path "$img" ck-cr || { cat "$img/dump.log" | grep -i error | head; fail "checkpoint failed"; }
	[ -f "$img/inventory.img" ] || fail "no image written"
	# Released as runc does: the container is gone (CRIU killed it), so is its state.
	bw state ck-cr >/dev/null 2>&1 && fail "the container is still there after checkpoint"
	before=$(cat "$ROOTFS/tmp/count")
	[ -n "$before" ] || fail "the checkpointed count is empty"
	sleep 1
	expect_eq "stopped counting" "$before" "$(cat "$ROOTFS/tmp/count")"
	bw restore -d --image-path "$img" -b "$b" --pid-file "$WORK/pid" ck-cr ||
		{ grep -i error "$img/restore.log" | head; fail "restore failed"; }
	expect_eq "status" running "$(bw state ck-cr | jq -r .status)"
	expect_eq "pid file" "$(bw state ck-cr | jq -r .pid)" "$(cat "$WORK/pid")"
	# The same confinement: seccomp filters, no_new_privs, capabilities, credentials.
	expect_eq "confinement after restore" "$conf_before" "$(ckpt_confinement ck-cr)"
	# In its own cgroup (the config's cgroupsPath), where delete finds and removes it.
	grep -q "/$CG_PREFIX/ck-cr\$" "/proc/$(bw state ck-cr | jq -r .pid)/cgroup" ||
		fail "restored outside its cgroup: $(cat "/proc/$(bw state ck-cr | jq -r .pid)/cgroup")"
	wait_for 10 sh -c "[ \"\$(cat $ROOTFS/tmp/count)\" -gt $before ] 2>/dev/null" || fail "the counter did not go on"
	after=$(ckpt_count ck-cr)
	# It goes on from where it was, not from 1.
	[ "$after" -gt "$before" ] || fail "count $after after restore, $before before"
	bw delete --force ck-cr
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
}

test_criu_leave_running_keeps_container() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b pid
	b=$(ckpt_bundle ck-lr)
	bw run -d -b "$b" ck-lr </dev/null >/dev/null 2>&1
	pid=$(bw state ck-lr | jq -r .pid)
	bw checkpoint --leave-running --image-path "$img" ck-lr || { grep -i error "$img/dump.log" | head; fail "checkpoint failed"; }
	[ -f "$img/inventory.img" ] || fail "no image written"
	expect_eq "status" running "$(bw state ck-lr | jq -r .status)"
	expect_eq "same init" "$pid" "$(bw state ck-lr | jq -r .pid)"
	ckpt_counting ck-lr || fail "the container stopped counting"
	bw delete --force ck-lr
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
}

# bulwark's default: a user namespace. CRIU restores it with its id maps.
test_criu_user_namespace_container_restored() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b before maps
	b=$(ckpt_bundle ck-us)
	cfg "$b" '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":100000,"size":65536}]'
	bw run -d -b "$b" ck-us </dev/null >/dev/null 2>&1
	maps=$(cat "/proc/$(bw state ck-us | jq -r .pid)/uid_map")
	wait_for 10 sh -c "[ -s $ROOTFS/tmp/count ]" || fail "the counter did not start"
	bw checkpoint --image-path "$img" ck-us || { grep -i error "$img/dump.log" | head; fail "checkpoint failed"; }
	before=$(cat "$ROOTFS/tmp/count")
	[ -n "$before" ] || fail "the checkpointed count is empty"
	bw restore -d --image-path "$img" -b "$b" ck-us ||
		{ grep -i error "$img/restore.log" | head; fail "restore failed"; }
	expect_eq "uid map" "$maps" "$(cat "/proc/$(bw state ck-us | jq -r .pid)/uid_map")"
	wait_for 10 sh -c "[ \"\$(cat $ROOTFS/tmp/count)\" -gt $before ] 2>/dev/null" || fail "the counter did not go on"
	bw delete --force ck-us
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
}

# Without -d, restore waits for the container as run does: its exit status, then released.
test_criu_restore_attached_waits_and_releases() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b rpid rc
	b=$(ckpt_bundle ck-at)
	bw run -d -b "$b" ck-at </dev/null >/dev/null 2>&1
	wait_for 10 sh -c "[ -s $ROOTFS/tmp/count ]" || fail "the counter did not start"
	bw checkpoint --image-path "$img" ck-at || { grep -i error "$img/dump.log" | head; fail "checkpoint failed"; }
	bw restore --image-path "$img" -b "$b" ck-at </dev/null >/dev/null 2>"$WORK/restore.err" &
	rpid=$!
	wait_for 60 sh -c "[ \"\$($BULWARK --root $BW_ROOT state ck-at 2>/dev/null | jq -r .status)\" = running ]" ||
		{ kill "$rpid"; fail "not running after restore: $(cat "$WORK/restore.err")"; }
	ckpt_counting ck-at || fail "the restored container does not count"
	bw kill ck-at KILL
	rc=0
	wait "$rpid" || rc=$?
	expect_eq "restore's exit status" 137 "$rc"
	bw state ck-at >/dev/null 2>&1 && fail "the container was not released"
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
}

# A joined network namespace (as Podman's) is external to the image: the restored container is
# in that same namespace again.
test_criu_joined_netns_restored_into_it() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b ns=bwit-ck-$$ pid
	ip netns add "$ns"
	b=$(ckpt_bundle ck-ns)
	cfg "$b" "(.linux.namespaces[] | select(.type == \"network\")) += {\"path\": \"/run/netns/$ns\"}"
	bw run -d -b "$b" ck-ns </dev/null >/dev/null 2>&1 || { ip netns del "$ns"; fail "run failed"; }
	bw checkpoint --image-path "$img" ck-ns || { grep -i error "$img/dump.log" | head -3; ip netns del "$ns"; fail "checkpoint failed"; }
	if ! bw restore -d --image-path "$img" -b "$b" ck-ns; then
		grep -i error "$img/restore.log" | head -3
		ip netns del "$ns"
		fail "restore failed"
	fi
	pid=$(bw state ck-ns | jq -r .pid)
	local want got
	want=$(stat -L -c %i "/run/netns/$ns")
	got=$(stat -L -c %i "/proc/$pid/ns/net")
	bw delete --force ck-ns
	ip netns del "$ns"
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
	expect_eq "network namespace after restore" "$want" "$got"
}

# stdio as an engine gives it (conmon: pipes; stdin the host's /dev/null): the restored init
# writes to the restoring caller's stdout (descriptors.json, --inherit-fd).
test_criu_stdio_pipe_handed_to_restore() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b
	b=$(new_bundle ck-io)
	cfg "$b" '.process.args=["sh","-c","i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done"]'
	bw run -d -b "$b" ck-io </dev/null 2>/dev/null | cat >"$WORK/out1" &
	wait_for 10 sh -c "[ -s $WORK/out1 ]" || fail "no output"
	bw checkpoint --image-path "$img" ck-io || { grep -i error "$img/dump.log" | head -3; fail "checkpoint failed"; }
	wait
	local last
	last=$(tail -1 "$WORK/out1")
	bw restore -d --image-path "$img" -b "$b" ck-io </dev/null 2>"$WORK/err2" | cat >"$WORK/out2" &
	wait_for 20 sh -c "[ -s $WORK/out2 ]" || { grep -i error "$img/restore.log" | head -3; cat "$WORK/err2"; bw delete --force ck-io 2>/dev/null; fail "no output after restore"; }
	bw delete --force ck-io
	wait
	[ "$(head -1 "$WORK/out2")" -gt "$last" ] || fail "restored output starts at $(head -1 "$WORK/out2"), the last before was $last"
}

# AppArmor (the VM): a named profile comes back on the restored init; bulwark's generated one is
# refused (a restore would not load it again).
[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] || return 0

test_criu_apparmor_named_profile_kept() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b pf=$WORK/bwit-ckpt.aa label
	printf 'profile bwit-ckpt flags=(attach_disconnected,mediate_deleted) {\n  file,\n  capability,\n  mount,\n  umount,\n  signal,\n  ptrace,\n  unix,\n  network,\n  pivot_root,\n}\n' >"$pf"
	apparmor_parser -r "$pf" || fail "profile not loaded"
	b=$(ckpt_bundle ck-aa)
	cfg "$b" '.process.apparmorProfile="bwit-ckpt"'
	bw run -d -b "$b" ck-aa </dev/null >/dev/null 2>&1 || { apparmor_parser -R "$pf"; fail "run failed"; }
	label=$(cat "/proc/$(bw state ck-aa | jq -r .pid)/attr/current")
	expect_eq "label before" "bwit-ckpt (enforce)" "$label"
	bw checkpoint --image-path "$img" ck-aa || { apparmor_parser -R "$pf"; fail "checkpoint failed"; }
	if ! bw restore -d --image-path "$img" -b "$b" ck-aa; then
		grep -i error "$img/restore.log" | head -3
		apparmor_parser -R "$pf"
		fail "restore failed"
	fi
	label=$(cat "/proc/$(bw state ck-aa | jq -r .pid)/attr/current")
	bw delete --force ck-aa
	apparmor_parser -R "$pf"
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
	expect_eq "label after restore" "bwit-ckpt (enforce)" "$label"
}

test_criu_apparmor_generated_profile_refused() {
	local img=$WORK/img.${FUNCNAME[0]}
	local b out
	b=$(ckpt_bundle ck-aag)
	cfg "$b" '.annotations["run.bulwark.apparmor"]="default"'
	bw run -d -b "$b" ck-aag </dev/null >/dev/null 2>&1
	out=$(bw checkpoint --image-path "$img" ck-aag 2>&1) && fail "checkpoint succeeded"
	expect_contains "message" "bulwark's generated AppArmor profile (run.bulwark.apparmor=default)" "$out"
	expect_eq "status" running "$(bw state ck-aag | jq -r .status)"
	bw delete --force ck-aag
	rm -f "$ROOTFS/tmp/count" "$ROOTFS/tmp/count.new"
}
