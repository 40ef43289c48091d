# Namespaces new or joined by path, time offsets, --no-pivot, the container-side hooks,
# LISTEN_FDS, and the scheduling attributes of process.

test_namespace_joined_by_path() {
	ip netns add "bwit-$$" 2>/dev/null || fail "ip netns add"
	ip netns exec "bwit-$$" ip link add bwv0 type veth peer name bwv1
	b=$(new_bundle ns-join)
	cfg "$b" ".linux.namespaces=[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/run/netns/bwit-$$\"}] | .process.args=[\"sh\",\"-c\",\"ip -o link | grep -c bwv0@\"]"
	out=$(bw run -b "$b" ns-join </dev/null) || { ip netns del "bwit-$$"; fail "run: $out"; }
	ip netns del "bwit-$$"
	expect_eq "sees the joined netns" 1 "$out"
}

test_namespace_path_of_wrong_type_is_refused() {
	b=$(new_bundle ns-wrong)
	cfg "$b" '.linux.namespaces=[{"type":"pid"},{"type":"uts"},{"type":"network","path":"/proc/self/ns/uts"},{"type":"mount"}]'
	out=$(bw create -b "$b" ns-wrong </dev/null 2>&1) && fail "accepted"
	expect_contains message "linux.namespaces[2].path: \`/proc/self/ns/uts\` is not a network namespace" "$out"
	cfg "$b" '.linux.namespaces=[{"type":"pid"},{"type":"uts"},{"type":"network","path":"/etc/hostname"},{"type":"mount"}]'
	out=$(bw create -b "$b" ns-wrong </dev/null 2>&1) && fail "accepted a plain file"
	expect_contains message "is not a namespace file" "$out"
}

test_time_namespace_offsets() {
	b=$(new_bundle ns-time)
	cfg "$b" '.linux.namespaces+=[{"type":"time"}] | .linux.timeOffsets={"monotonic":{"secs":86400,"nanosecs":0},"boottime":{"secs":172800,"nanosecs":0}} | .process.args=["cat","/proc/uptime"]'
	host_up=$(cut -d. -f1 /proc/uptime)
	out=$(bw run -b "$b" ns-time </dev/null | cut -d. -f1)
	[ "$out" -ge $((host_up + 172800 - 5)) ] || fail "boottime offset not applied: host $host_up, container $out"
}

test_no_pivot_runs_with_move_and_chroot() {
	b=$(new_bundle ns-nopivot)
	cfg "$b" '.process.args=["sh","-c","ls / | grep -c ^bin$"]'
	expect_eq root 1 "$(bw run --no-pivot -b "$b" ns-nopivot </dev/null)"
}

test_no_new_keyring_keeps_session_keyring() {
	b=$(new_bundle ns-keyring)
	cfg "$b" '.process.args=["sh","-c","grep -c _ses /proc/keys 2>/dev/null || echo 0"]'
	bw run -b "$b" ns-keyring </dev/null >/dev/null
	bw run --no-new-keyring -b "$b" ns-keyring </dev/null >/dev/null
}

test_create_container_and_start_container_hooks_run_inside() {
	b=$(new_bundle ns-chooks)
	cfg "$b" '.hooks={"createContainer":[{"path":"/bin/sh","args":["sh","-c","hostname > /tmp/cc-hook"]}],"startContainer":[{"path":"/bin/sh","args":["sh","-c","echo started > /tmp/sc-hook"]}]} | .process.args=["sh","-c","cat /tmp/sc-hook"]'
	# createContainer runs in the container namespaces (before pivot: host paths), so its
	# output lands in the host's /tmp under the container's hostname.
	out=$(bw run -b "$b" ns-chooks </dev/null)
	expect_eq startContainer started "$out"
	expect_eq createContainer bwtest "$(cat /tmp/cc-hook)"
	rm -f /tmp/cc-hook
}

test_listen_fds_are_passed_through() {
	b=$(new_bundle ns-listen)
	cfg "$b" '.process.args=["sh","-c","echo $LISTEN_FDS $LISTEN_PID; cat <&3"]'
	echo sock >"$WORK/l3"
	# systemd's rule: LISTEN_PID names the process the fds are for (exec keeps the pid).
	out=$(LISTEN_FDS=1 sh -c 'LISTEN_PID=$$ exec "$0" --root "$1" run -b "$2" ns-listen' \
		"$BULWARK" "$BW_ROOT" "$b" </dev/null 3<"$WORK/l3" | tr '\n' ' ')
	expect_eq out "1 1 sock " "$out"
	# A stale LISTEN_FDS (for another process) hands nothing over.
	out=$(LISTEN_FDS=1 LISTEN_PID=1 bw run -b "$b" ns-listen2 </dev/null 3<"$WORK/l3" 2>&1 | tr '\n' ' ')
	case "$out" in *sock*) fail "fd 3 reached the container: $out" ;; esac
}

test_scheduling_attributes() {
	b=$(new_bundle ns-sched)
	cfg "$b" '.process.ioPriority={"class":"IOPRIO_CLASS_BE","priority":6} | .process.scheduler={"policy":"SCHED_BATCH","nice":5} | .process.execCPUAffinity={"final":"0"} | .process.args=["sh","-c","cat /proc/self/stat | cut -d\" \" -f19,41; grep Cpus_allowed_list /proc/self/status | tr -d \"\\t\""]'
	out=$(bw run -b "$b" ns-sched </dev/null | tr '\n' ' ')
	expect_eq "nice, policy and cpus" "5 3 Cpus_allowed_list:0 " "$out"
}

# A read-only /dev tmpfs (runc's mounts.bats "runc run [ro /dev mount]", runc issue 3248):
# /dev/pts, /dev/shm, the devices and the console are made below it
# first, then it becomes read-only (runc's order); a read-only tmpfs elsewhere likewise.
test_read_only_dev_tmpfs_gets_its_mounts_and_devices_first() {
	b=$(new_bundle ns-rodev)
	cfg "$b" '(.mounts[] | select(.destination=="/dev") | .options) += ["ro"] | .mounts += [{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["ro","mode=755"]},{"destination":"/data/sub","type":"tmpfs","source":"tmpfs","options":["mode=755"]}] | .process.args=["sh","-c","grep -E \" /dev(/pts|/shm)? | /data \" /proc/self/mounts | cut -d\" \" -f2,4 | cut -d, -f1; echo x >/dev/null && echo null; touch /dev/shm/a /data/sub/b && echo below-rw; touch /dev/x /data/x 2>/dev/null || echo ro"]'
	out=$(bw run -b "$b" ns-rodev </dev/null 2>&1 | tr '\n' ' ')
	expect_eq mounts "/dev ro /dev/pts rw /dev/shm rw /data ro null below-rw ro " "$out"
	# With a terminal: /dev/console is bound below the read-only /dev too.
	cfg "$b" '.process.terminal=true | .process.args=["sh","-c","test -c /dev/console && echo console"]'
	out=$(script -qec "$BULWARK --root $BW_ROOT run -b $b ns-rodev" /dev/null </dev/null | grep -o console)
	expect_eq console console "$out"
}

# rro: the whole tmpfs tree read-only, mounts made below it later included.
test_recursive_read_only_tmpfs_covers_the_mounts_below_it() {
	b=$(new_bundle ns-rro)
	cfg "$b" '.mounts += [{"destination":"/data","type":"tmpfs","source":"tmpfs","options":["rro"]},{"destination":"/data/sub","type":"tmpfs","source":"tmpfs"}] | .process.args=["sh","-c","touch /data/x 2>/dev/null || echo top-ro; touch /data/sub/x 2>/dev/null || echo sub-ro"]'
	expect_eq rro "top-ro sub-ro " "$(bw run -b "$b" ns-rro </dev/null 2>&1 | tr '\n' ' ')"
}

# In a user namespace the init may not mknod: the runtime makes linux.devices on the host side
# with the spec's mode and owner (crun's test_devices "owner-device"), and the devices cgroup
# still decides what may be opened.
test_user_namespace_devices_get_their_owner_mode_and_cgroup_rules() {
	b=$(new_bundle ns-udev)
	rm "$b/rootfs"
	cp -a "$ROOTFS" "$b/rootfs"
	chown -R 200000:200000 "$b/rootfs"
	cfg "$b" '.linux.namespaces+=[{"type":"user"}] | .linux.uidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":65536}] | .linux.devices=[{"path":"/dev/net/tunx","type":"c","major":10,"minor":200,"fileMode":432,"uid":10,"gid":11}] | .process.args=["sh","-c","stat -c \"%t:%T %a %u:%g\" /dev/net/tunx; (exec 3<>/dev/net/tunx) 2>/dev/null && echo opened || echo refused"]'
	expect_eq "not allowed" "a:c8 660 10:11 refused" "$(bw run -b "$b" ns-udev </dev/null | tr '\n' ' ' | sed 's/ $//')"
	cfg "$b" '.linux.resources.devices += [{"allow":true,"type":"c","major":10,"minor":200,"access":"rw"}]'
	expect_eq "allowed" "a:c8 660 10:11 opened" "$(bw run -b "$b" ns-udev </dev/null | tr '\n' ' ' | sed 's/ $//')"
	# Full mapping, a block device the host does not have at that path.
	cfg "$b" '.linux.uidMappings=[{"containerID":0,"hostID":0,"size":4294967295}] | .linux.gidMappings=[{"containerID":0,"hostID":0,"size":4294967295}] | .linux.devices=[{"path":"/dev/bwfoo","type":"b","major":1,"minor":5,"uid":10,"gid":11}] | .process.args=["stat","-c","%F %u:%g","/dev/bwfoo"]'
	chown -R 0:0 "$b/rootfs"
	expect_eq "full mapping" "block special file 10:11" "$(bw run -b "$b" ns-udev </dev/null)"
	[ ! -e /dev/bwfoo ] || fail "made on the host"
	# An owner outside the mapping is refused, naming the device.
	cfg "$b" '.linux.uidMappings=[{"containerID":0,"hostID":200000,"size":100}] | .linux.gidMappings=[{"containerID":0,"hostID":200000,"size":100}] | .linux.devices[0].uid=1000'
	out=$(bw run -b "$b" ns-udev </dev/null 2>&1) && fail "unmapped owner accepted: $out"
	expect_contains refused "owner 1000:11 is not mapped" "$out"
}
