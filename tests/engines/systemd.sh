# The engines with the systemd cgroup driver (ENGINES_CGROUP_DRIVER=systemd): Docker with
# native.cgroupdriver=systemd, Podman with cgroup_manager = "systemd", ctr with
# --runc-systemd-cgroup, and containerd's CRI config with SystemdCgroup = true. Each engine passes
# the runtime --systemd-cgroup and a cgroupsPath "slice:prefix:ID"; the runtime makes the scope
# prefix-ID.scope in that slice. Needs systemd as PID 1 and cgroup v2: the VM booted with systemd
# (tests/vm/run-vm-suite.sh --systemd --engines). Sourced by run.sh after matrix.sh: the cells are
# matrix.sh's (they check systemd's view where CG_DRIVER=systemd), in a short matrix, because
# software emulation makes every container start cost seconds.

e_slice() { case $E in podman) echo machine.slice ;; *) echo system.slice ;; esac; }
e_unit_glob() { case $E in docker) echo 'docker-*.scope' ;; podman) echo 'libpod-*.scope' ;; ctr) echo "$CTR_NS-*.scope" ;; esac; }
sd_prop() { systemctl show -p "$2" --value "$1"; }

# sd_gone UNIT CGDIR: the unit is neither loaded nor listed, and its cgroup is gone.
sd_gone() {
	case $(systemctl show -p LoadState,ActiveState --value "$1" | tr '\n' ' ') in
	"not-found inactive "* | "loaded inactive "*) ;;
	*) return 1 ;;
	esac
	[ -z "$(systemctl list-units --all --no-legend "$1" 2>/dev/null)" ] && [ ! -e "$2" ]
}
sd_expect_gone() { # UNIT CGDIR: sd_gone, or fail saying what is left
	sd_gone "$1" "$2" || fail "left behind: unit $1 ($(systemctl show -p LoadState,ActiveState --value "$1" |
		tr '\n' ' '))$([ -e "$2" ] && echo ", cgroup $2")"
}

# sd_check_scope NAME PID: PID is in the container's scope, which systemd has active, delegated,
# in the engine's slice, and lists PID in its status.
sd_check_scope() {
	local cg u
	cg=$(e_cgpath "$1")
	u=${cg##*/}
	expect_eq "$(cat "/proc/$2/cgroup")" "0::$cg" "the init's cgroup"
	expect_eq "$(sd_prop "$u" ActiveState)" active "$u ActiveState"
	expect_eq "$(sd_prop "$u" Slice)" "$(e_slice)" "$u Slice"
	expect_eq "$(sd_prop "$u" Delegate)" yes "$u Delegate"
	expect_contains "$(systemctl status --no-pager -n 0 "$u" 2>&1)" "$2" "systemctl status $u"
}

# The limits of c_run_limits (memory 32 MiB, a quarter CPU, 50 pids but for ctr) in the scope's
# properties and in its cgroup v2 files; gone with the container.
sd_check_limits() { # NAME PID
	local cg u d
	sd_check_scope "$1" "$2"
	cg=$(e_cgpath "$1")
	u=${cg##*/}
	d=/sys/fs/cgroup$cg
	expect_eq "$(sd_prop "$u" MemoryMax)" 33554432 "$u MemoryMax"
	expect_eq "$(cat "$d/memory.max")" 33554432 "memory.max"
	expect_eq "$(sd_prop "$u" CPUQuotaPerSecUSec)" 250ms "$u CPUQuotaPerSecUSec"
	expect_eq "$(cat "$d/cpu.max")" "25000 100000" "cpu.max"
	if [ $E != ctr ]; then
		expect_eq "$(sd_prop "$u" TasksMax)" 50 "$u TasksMax"
		expect_eq "$(cat "$d/pids.max")" 50 "pids.max"
	fi
	e_rm_f "$1"
	wait_for 10 sd_gone "$u" "$d" || sd_expect_gone "$u" "$d"
}

# c_update's limits (memory 64 MiB, swap 128 MiB in all, 512 shares, half a CPU) in the scope.
sd_check_update() { # NAME
	local cg u d
	cg=$(e_cgpath "$1")
	u=${cg##*/}
	d=/sys/fs/cgroup$cg
	expect_eq "$(sd_prop "$u" MemoryMax)" 67108864 "$u MemoryMax"
	expect_eq "$(cat "$d/memory.max")" 67108864 "memory.max"
	expect_eq "$(sd_prop "$u" MemorySwapMax)" 67108864 "$u MemorySwapMax"
	expect_eq "$(cat "$d/memory.swap.max")" 67108864 "memory.swap.max"
	expect_eq "$(sd_prop "$u" CPUQuotaPerSecUSec)" 500ms "$u CPUQuotaPerSecUSec"
	expect_eq "$(cat "$d/cpu.max")" "50000 100000" "cpu.max"
	expect_eq "$(cat "$d/cpu.weight")" 20 "cpu.weight (512 shares)"
	d1_running
}

# exec: output and exit code, and the process joins the container's scope (seen from inside: its
# cgroup namespace's root). One exec: each client call costs seconds under emulation.
c_sd_exec() {
	local out cg rc=0
	d1_running
	cg=$(e_cgpath d1)
	out=$(e_exec d1 sh -c 'cat /proc/self/cgroup; exit 3' 2>&1) || rc=$?
	expect_eq "$rc" 3 "exec exit code"
	case $out in "0::/" | "0::$cg") ;; *) fail "exec'd process's cgroup: $out (want 0::/ or 0::$cg)" ;; esac
}

sd_matrix() {
	cell "$E/run-detached" c_run_detached
	cell "$E/run-with-limits" c_run_limits
	cell "$E/exec" c_sd_exec
	cell "$E/update-memory-cpu" c_update
	cell "$E/stop-sigterm" c_stop_term
	cell "$E/rm-f-running" c_rm_f_running
	cell "$E/nothing-left" c_nothing_left
}

docker_matrix() {
	E=docker
	cell docker/runtime-cgroup-driver c_sd_docker_info
	sd_matrix
}
c_sd_docker_info() {
	expect_eq "$(dk info -f '{{.DefaultRuntime}} {{.CgroupDriver}}')" "$DOCKER_RT_NAME systemd" \
		"docker info DefaultRuntime CgroupDriver"
}

ctr_matrix() {
	E=ctr
	sd_matrix
}

podman_matrix() {
	E=podman
	# (no "podman info" cell: it took 64-84 s in the VM; run-detached's scope in machine.slice shows
	# the systemd manager, and the host run checks the registration)
	sd_matrix
}
