# AppArmor in real containers (docs/apparmor.md). These need a kernel with AppArmor enabled: run
# them in the VM (tests/vm/run-in-vm.sh). On a host without AppArmor this file defines no tests
# at all, so nothing here is reported as passed without having run.
[ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] || return 0

AA_PROFILES=/sys/kernel/security/apparmor/profiles

# aa_bundle NAME: the base bundle with the default profile asked for.
aa_bundle() {
	local b
	b=$(new_bundle "$1")
	cfg "$b" '.annotations["run.bulwark.apparmor"]="default"'
	echo "$b"
}

test_apparmor_default_profile_confines_the_process() {
	b=$(aa_bundle aa-on)
	cfg "$b" '.process.args=["cat","/proc/self/attr/current"]'
	out=$(bw run -b "$b" aa-on 2>&1) || fail "run: $out"
	case "$out" in "bulwark-"????????????" (enforce)") ;; *) fail "label: $out" ;; esac
}

test_apparmor_default_profile_denies_mount_even_with_cap_sys_admin() {
	b=$(aa_bundle aa-mount)
	cfg "$b" '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	cfg "$b" '.process.args=["sh","-c","mkdir -p /tmp/m; mount -t tmpfs none /tmp/m && echo mounted; grep -c \" /tmp/m \" /proc/mounts"]'
	out=$(bw run -b "$b" aa-mount 2>&1) || true
	expect_contains message "permission denied" "$(echo "$out" | tr A-Z a-z)"
	expect_eq "mounts at /tmp/m" 0 "$(echo "$out" | tail -1)"
}

test_apparmor_default_profile_denies_sysrq_trigger_without_readonly_paths() {
	b=$(aa_bundle aa-sysrq)
	# No readonlyPaths/maskedPaths: the profile alone must stop it.
	cfg "$b" 'del(.linux.readonlyPaths) | del(.linux.maskedPaths)'
	cfg "$b" '.process.args=["sh","-c","echo h >/proc/sysrq-trigger; echo rc=$?; cat /proc/kcore >/dev/null; echo kcore=$?"]'
	out=$(bw run -b "$b" aa-sysrq 2>&1)
	expect_contains message "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
	expect_contains kcore "kcore=1" "$out"
}

test_apparmor_default_profile_denies_sys_writes_on_a_writable_sysfs() {
	b=$(aa_bundle aa-sys)
	cfg "$b" '(.mounts[] | select(.destination=="/sys") | .options) = ["nosuid","noexec","nodev","rw"]'
	cfg "$b" '.process.args=["sh","-c","echo 0 >/sys/kernel/mm/ksm/run; echo rc=$?"]'
	out=$(bw run -b "$b" aa-sys 2>&1)
	expect_contains message "Permission denied" "$out"
	expect_contains status "rc=1" "$out"
}

test_apparmor_default_profile_keeps_own_comm_writable_and_proc_sys_not() {
	b=$(aa_bundle aa-proc)
	cfg "$b" 'del(.linux.readonlyPaths)'
	cfg "$b" '.process.args=["sh","-c","echo renamed >/proc/self/comm && echo comm-ok; echo 1 >/proc/sys/kernel/ns_last_pid; echo sys=$?; echo 1 >/proc/self/clear_refs; echo clear=$?"]'
	out=$(bw run -b "$b" aa-proc 2>&1)
	expect_contains comm "comm-ok" "$out"
	expect_contains "proc/sys" "sys=1" "$out"
	expect_contains clear_refs "clear=1" "$out"
}

test_apparmor_profile_is_shared_and_unloaded_with_the_last_container() {
	b1=$(aa_bundle aa-ref1)
	b2=$(aa_bundle aa-ref2)
	for b in "$b1" "$b2"; do cfg "$b" '.process.args=["sleep","30"]'; done
	bw create -b "$b1" aa-ref1 </dev/null || fail "create 1"
	bw create -b "$b2" aa-ref2 </dev/null || fail "create 2"
	name=$(grep -o '^bulwark-[0-9a-f]\{12\}' "$AA_PROFILES" | head -1)
	[ -n "$name" ] || fail "no bulwark profile loaded"
	expect_eq "profiles loaded" 1 "$(grep -c '^bulwark-' "$AA_PROFILES")"
	bw delete --force aa-ref1
	grep -q "^$name " "$AA_PROFILES" || fail "unloaded while aa-ref2 uses it"
	bw delete --force aa-ref2
	grep -q "^$name " "$AA_PROFILES" && fail "still loaded after the last delete"
	true
}

test_apparmor_named_profile_not_loaded_starts_nothing() {
	b=$(new_bundle aa-missing)
	cfg "$b" '.process.apparmorProfile="no-such-profile"'
	out=$(bw run -b "$b" aa-missing 2>&1) && fail "run succeeded"
	expect_contains message 'process.apparmorProfile: profile "no-such-profile" is not loaded' "$out"
}

test_apparmor_named_profile_is_applied_as_named() {
	cat >"$WORK/aa-named.profile" <<'EOF'
abi <abi/3.0>,
profile bwit-named flags=(attach_disconnected) {
  file,
  capability,
  deny /etc/hostname r,
}
EOF
	apparmor_parser -r -K "$WORK/aa-named.profile" || fail "load test profile"
	b=$(new_bundle aa-named)
	echo container >"$ROOTFS/etc/hostname"
	cfg "$b" '.process.apparmorProfile="bwit-named"'
	cfg "$b" '.process.args=["sh","-c","cat /proc/self/attr/current; cat /etc/hostname; echo rc=$?"]'
	out=$(bw run -b "$b" aa-named 2>&1)
	echo -n bwit-named >/sys/kernel/security/apparmor/.remove
	rm -f "$ROOTFS/etc/hostname"
	expect_contains label "bwit-named (enforce)" "$out"
	expect_contains denied "Permission denied" "$out"
}
