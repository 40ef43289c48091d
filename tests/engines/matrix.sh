# The matrix: the same cells for every engine, each driven with that engine's own client.
# E is the engine (docker, ctr, podman); the e_* adapters hide how each one spells an action.
# Containers: "d1" runs for the exec/signal/pause/update/stats/top/restart/rm cells; every other
# cell starts and removes its own.

# The long-running init of d1: USR1 leaves a mark, TERM exits 3 (so stop/restart are quick).
D1_SCRIPT='trap "echo usr1 >/tmp/usr1" USR1; trap "exit 3" TERM; while :; do sleep 1000 & wait $!; done'

cli() { case $E in docker) dk "$@" ;; podman) pm "$@" ;; ctr) cr "$@" ;; esac; }
# The client as one command line, for script(1).
cli_line() { case $E in docker) echo "$DK_LINE" ;; podman) echo "$PM_LINE" ;; ctr) echo "$CR_LINE" ;; esac; }
img() { case $E in docker) echo "$IMG_DOCKER" ;; podman) echo "$IMG_PODMAN" ;; ctr) echo "$IMG_CTR" ;; esac; }

# ctr has no defaults to register a runtime with: every run names the binary and its root.
# With the systemd driver, the container ID NAME: ctr wants the cgroup named (slice:prefix:name).
CTR_RT() { # [NAME]
	echo "--runc-binary $RT_PATH --runc-root $T/ctr-rtroot"
	[ "$CG_DRIVER" != systemd ] || echo "--runc-systemd-cgroup --cgroup system.slice:$CTR_NS:$1"
}

e_run_d() { # NAME CMD...: start detached
	local n=$1
	shift
	case $E in
	ctr) cr run -d $(CTR_RT "$n") "$(img)" "$n" "$@" >/dev/null ;;
	*) cli run -d --name "$n" "$(img)" "$@" >/dev/null ;;
	esac
}

e_run_rm() { # [CLIENT OPTS...] -- CMD...: foreground, removed afterwards; the client's exit code
	local opts=() n=fg$RANDOM
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	case $E in
	ctr) cr run --rm $(CTR_RT "$n") "${opts[@]}" "$(img)" "$n" "$@" ;;
	*) cli run --rm "${opts[@]}" "$(img)" "$@" ;;
	esac
}

e_status() { # NAME -> running|paused|exited|absent
	local s
	case $E in
	ctr)
		s=$(cr task ls 2>/dev/null | awk -v n="$1" '$1 == n { print tolower($3) }')
		[ "$s" = stopped ] && s=exited
		echo "${s:-absent}"
		;;
	*) s=$(cli inspect -f '{{.State.Status}}' "$1" 2>/dev/null) && echo "$s" || echo absent ;;
	esac
}

e_pid() { # NAME -> host pid of the container's init
	case $E in
	ctr) cr task ls 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }' ;;
	*) cli inspect -f '{{.State.Pid}}' "$1" ;;
	esac
}

e_id() {
	case $E in
	ctr) echo "$1" ;;
	*)
		# systemd driver (the VM): a client call costs seconds, so the ID of a name is asked once
		# (names are not reused within an engine's matrix there).
		[ "$CG_DRIVER" = systemd ] || { cli inspect -f '{{.Id}}' "$1"; return; }
		[ -s "$T/id-$E-$1" ] || cli inspect -f '{{.Id}}' "$1" >"$T/id-$E-$1" || return
		cat "$T/id-$E-$1"
		;;
	esac
}

e_cgpath() { # NAME -> the cgroupsPath the engine asked for (systemd driver: the scope's cgroup)
	local id
	id=$(e_id "$1")
	if [ "$CG_DRIVER" = systemd ]; then
		case $E in
		docker) echo "/system.slice/docker-$id.scope" ;;
		podman) echo "/machine.slice/libpod-$id.scope" ;;
		ctr) echo "/system.slice/$CTR_NS-$id.scope" ;;
		esac
		return
	fi
	case $E in
	docker) echo "/docker/$id" ;;
	podman) echo "/libpod_parent/libpod-$id" ;;
	ctr) echo "/$CTR_NS/$id" ;;
	esac
}

e_cgparent() { case $E in docker) echo /docker ;; podman) echo /libpod_parent ;; ctr) echo "/$CTR_NS" ;; esac; }

e_rtroot() { # the --root the engine passes to the runtime
	case $E in
	docker) echo "$T/docker/exec/runtime-runc/moby" ;;
	podman) echo "$PM_RTROOT" ;;
	ctr) echo "$T/ctr-rtroot/$CTR_NS" ;;
	esac
}

e_exec() { # [OPTS...] NAME CMD...
	case $E in
	ctr) cr task exec --exec-id "e$RANDOM" "$@" ;;
	*) cli exec "$@" ;;
	esac
}

e_rm_f() { # NAME: remove, running or not
	case $E in
	ctr)
		cr task rm -f "$1" >/dev/null 2>&1 || true
		cr container rm "$1" >/dev/null
		;;
	podman) pm rm -f -t 0 "$1" >/dev/null ;;
	docker) dk rm -f "$1" >/dev/null ;;
	esac
}

is_state() { [ "$(e_status "$1")" = "$2" ]; }

d1_running() {
	is_state d1 running || fail "d1 is not running (status $(e_status d1))"
}

# ---- cells -----------------------------------------------------------------------------------

c_run_detached() {
	local pid
	e_run_d d1 sh -c "$D1_SCRIPT"
	wait_for 10 is_state d1 running || fail "d1 status: $(e_status d1)"
	pid=$(e_pid d1)
	pid_alive "$pid" || fail "init pid '$pid' is not alive"
	check_cgroups "$pid" "$(e_cgpath d1)"
	[ "$CG_DRIVER" != systemd ] || sd_check_scope d1 "$pid"
	# The shim hands the runtime an extra fd 3 (its socket): nothing but stdio may reach the init.
	expect_eq "$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ')" "0 1 2 " "fds of the container's init"
	[ -e "$(e_rtroot)/$(e_id d1)" ] || fail "no runtime state at $(e_rtroot)/$(e_id d1)"
}

c_run_tty() {
	local out
	local rc=0
	out=$(in_tty "$(cli_line) run --rm -t $([ $E = ctr ] && CTR_RT) $(img) $([ $E = ctr ] && echo tty$RANDOM) sh -c 'tty; exit 5'") || rc=$?
	expect_contains "$out" "/dev/pts/" "tty in the container"
	[ $E = ctr ] || expect_eq "$rc" 5 "exit code through the tty"
}

c_run_tty_input() { # keystrokes through the pty master the runtime handed over
	local out
	case $E in
	ctr) out=$(printf 'abc\n' | timeout -k 5 "$TMO" script -qec "$(cli_line) run --rm -t $(CTR_RT) $(img) ti$RANDOM sh -c 'read x; echo got:\$x'" /dev/null) ;;
	*) out=$(printf 'abc\n' | timeout -k 5 "$TMO" script -qec "$(cli_line) run --rm -it $(img) sh -c 'read x; echo got:\$x'" /dev/null) ;;
	esac
	expect_contains "$out" "got:abc" "input read through the tty"
}

c_run_stdin() {
	local out
	local -a opts=(-i)
	[ $E = ctr ] && opts=() # ctr attaches stdin by default, but never closes it: read one line
	out=$(echo "hello from stdin" | e_run_rm "${opts[@]}" -- sh -c 'read -r l; echo "$l"')
	expect_eq "$out" "hello from stdin" "stdin piped through the container"
}

# The runtime's own messages never reach the container's output: the stdio of create is the
# container's stdio (docker also passes --debug through runtimeArgs).
c_run_output_exact() {
	local out err
	out=$(e_run_rm -- sh -c 'echo to-stdout; echo to-stderr >&2' 2>"$T/err-$E")
	err=$(grep -v '^WARNING: IPv4 forwarding is disabled' "$T/err-$E" || true)
	expect_eq "$out" to-stdout "the container's stdout"
	expect_eq "$err" to-stderr "the container's stderr"
}

c_run_rm_exit7() {
	local rc=0 out
	case $E in
	ctr) out=$(e_run_rm -- sh -c 'echo bye; exit 7' 2>&1) || rc=$? ;;
	*) out=$(e_run_rm --name rm7 -- sh -c 'echo bye; exit 7' 2>&1) || rc=$? ;;
	esac
	expect_eq "$rc" 7 "client exit code"
	expect_contains "$out" bye "output"
	[ $E = ctr ] || expect_eq "$(e_status rm7)" absent "container after --rm"
}

c_run_user_cwd_env() {
	local out want="65534 65534 /tmp bar"
	case $E in
	ctr) # ctr run has no --user
		out=$(e_run_rm --cwd /tmp --env FOO=bar -- sh -c 'id -u; id -g; pwd; echo $FOO')
		want="0 0 /tmp bar"
		;;
	*) out=$(e_run_rm -u 65534:65534 -w /tmp -e FOO=bar -- sh -c 'id -u; id -g; pwd; echo $FOO') ;;
	esac
	expect_eq "$(echo $out)" "$want" "uid gid cwd env of the init"
}

# No engine lists /dev/null & co. (podman even sends a deny-all device cgroup): the runtime's own.
c_devices() {
	local out
	out=$(e_run_rm -- sh -c 'echo x >/dev/null && head -c 4 /dev/zero | od -An -tx1 &&
		head -c 4 /dev/urandom >/dev/full; test -c /dev/random && test -c /dev/tty &&
		ls -l /dev/ptmx && ls /proc/self/fd/ >/dev/null && readlink /dev/stdin' 2>&1)
	expect_contains "$out" "00 00 00 00" "/dev/zero"
	expect_contains "$out" "No space left on device" "/dev/full"
	expect_contains "$out" "/dev/ptmx -> pts/ptmx" "/dev/ptmx"
	expect_contains "$out" "/proc/self/fd/0" "/dev/stdin"
}

c_run_limits() { # limits given at create time land in the container's cgroups
	local pid mem
	case $E in
	ctr) cr run -d $(CTR_RT lim1) --memory-limit 33554432 --cpu-quota 25000 --cpu-period 100000 \
		"$(img)" lim1 sleep 1000 >/dev/null ;;
	*) cli run -d --name lim1 --memory 32m --cpus 0.25 --pids-limit 50 "$(img)" sleep 1000 >/dev/null ;;
	esac
	wait_for 10 is_state lim1 running || fail "lim1: $(e_status lim1)"
	pid=$(e_pid lim1)
	if [ "$CG_DRIVER" = systemd ]; then
		sd_check_limits lim1 "$pid"
		return
	fi
	mem=$(cgroup_of "$pid" memory)
	expect_eq "$(cg_file memory "$mem" memory.limit_in_bytes)" 33554432 "memory.limit_in_bytes"
	expect_eq "$(cg_file cpu "$(cgroup_of "$pid" cpu)" cpu.cfs_quota_us)" 25000 "cpu.cfs_quota_us"
	[ $E = ctr ] || expect_eq "$(cg_file pids "$(cgroup_of "$pid" pids)" pids.max)" 50 "pids.max"
	e_rm_f lim1
}

c_run_bind_readonly() { # read-only root, a writable bind mount, a tmpfs
	local out
	mkdir -p "$T/vol-$E"
	case $E in
	ctr) out=$(e_run_rm --read-only --mount "type=bind,src=$T/vol-$E,dst=/data,options=rbind:rw" -- \
		sh -c 'echo hi >/data/f && cat /data/f; touch /x 2>/dev/null || echo ro-ok') ;;
	*) out=$(e_run_rm --read-only -v "$T/vol-$E:/data" --tmpfs /run -- \
		sh -c 'echo hi >/data/f && cat /data/f; touch /x 2>/dev/null || echo ro-ok; touch /run/y && echo tmpfs-ok') ;;
	esac
	expect_contains "$out" hi "write through the bind mount"
	expect_contains "$out" ro-ok "read-only root"
	[ $E = ctr ] || expect_contains "$out" tmpfs-ok "tmpfs on /run"
	expect_eq "$(cat "$T/vol-$E/f")" hi "the file on the host"
}

c_run_caps_nnp() {
	local out
	[ $E = ctr ] && not_applicable "ctr run has no --cap-drop/--security-opt"
	out=$(e_run_rm --cap-drop ALL --cap-add NET_BIND_SERVICE --security-opt no-new-privileges -- \
		sh -c 'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status')
	expect_contains "$out" "CapEff:	0000000000000400" "effective capabilities"
	expect_contains "$out" "CapBnd:	0000000000000400" "bounding capabilities"
	expect_contains "$out" "NoNewPrivs:	1" "no_new_privs"
}

c_exec() {
	local out rc=0
	d1_running
	out=$(e_exec d1 sh -c 'echo out; echo err >&2; exit 0' 2>/dev/null)
	expect_eq "$out" out "exec stdout"
	e_exec d1 sh -c 'exit 3' || rc=$?
	expect_eq "$rc" 3 "exec exit code"
}

c_exec_missing() {
	local out rc=0 want
	d1_running
	out=$(e_exec d1 nosuchcmd 2>&1) || rc=$?
	case $E in docker) want=126 ;; podman) want=127 ;; ctr) want=1 ;; esac
	expect_eq "$rc" "$want" "client exit code"
	expect_contains "$out" 'exec: "nosuchcmd": executable file not found in $PATH' "error message"
	d1_running
}

c_exec_tty() {
	local out
	d1_running
	case $E in
	ctr) out=$(in_tty "$(cli_line) task exec -t --exec-id t$RANDOM d1 sh -c 'tty; exit 0'") ;;
	*) out=$(in_tty "$(cli_line) exec -t d1 sh -c 'tty; exit 0'") ;;
	esac
	expect_contains "$out" "/dev/pts/" "tty of the exec"
}

c_exec_user_cwd() {
	local out
	d1_running
	case $E in
	# uid:gid, not a bare uid: for a bare uid ctr 1.6 looks the group up by mounting the live
	# snapshot a second time, which breaks the container's overlay (creating files then fails
	# with ENOENT), whatever the runtime.
	ctr) out=$(e_exec --user 65534:65534 --cwd /tmp d1 sh -c 'id -u; id -g; pwd') ;;
	*) out=$(e_exec -u 65534:65534 -w /tmp d1 sh -c 'id -u; id -g; pwd') ;;
	esac
	expect_eq "$(echo $out)" "65534 65534 /tmp" "uid gid cwd of the exec"
}

c_kill_usr1() {
	d1_running
	case $E in
	ctr) cr task kill -s SIGUSR1 d1 ;;
	*) cli kill -s USR1 d1 >/dev/null ;;
	esac
	wait_for 5 e_exec d1 test -e /tmp/usr1 ||
		fail "the USR1 trap did not run: $(e_exec d1 sh -c 'ls -la /tmp; ps -o pid,user,args' 2>&1)"
	d1_running
}

freezer_state() { cg_file freezer "$(cgroup_of "$1" freezer)" freezer.state; }

c_pause_unpause() {
	local pid
	d1_running
	pid=$(e_pid d1)
	case $E in ctr) cr task pause d1 ;; *) cli pause d1 >/dev/null ;; esac
	wait_for 5 is_state d1 paused || fail "status after pause: $(e_status d1)"
	expect_eq "$(freezer_state "$pid")" FROZEN "freezer.state"
	case $E in ctr) cr task resume d1 ;; *) cli unpause d1 >/dev/null ;; esac
	wait_for 5 is_state d1 running || fail "status after unpause: $(e_status d1)"
	expect_eq "$(freezer_state "$pid")" THAWED "freezer.state"
	expect_eq "$(e_exec d1 echo alive)" alive "exec after unpause"
}

c_update() {
	local pid mem cpu
	[ $E = ctr ] && not_applicable "ctr 1.6 has no 'task update'"
	d1_running
	cli update --memory 64m --memory-swap 128m --cpu-shares 512 --cpus 0.5 d1 >/dev/null
	pid=$(e_pid d1)
	if [ "$CG_DRIVER" = systemd ]; then
		sd_check_update d1
		return
	fi
	mem=$(cgroup_of "$pid" memory)
	cpu=$(cgroup_of "$pid" cpu)
	expect_eq "$(cg_file memory "$mem" memory.limit_in_bytes)" 67108864 "memory.limit_in_bytes"
	expect_eq "$(cg_file memory "$mem" memory.memsw.limit_in_bytes)" 134217728 "memory.memsw.limit_in_bytes"
	expect_eq "$(cg_file cpu "$cpu" cpu.shares)" 512 "cpu.shares"
	expect_eq "$(cg_file cpu "$cpu" cpu.cfs_quota_us)/$(cg_file cpu "$cpu" cpu.cfs_period_us)" \
		50000/100000 "cpu quota/period"
	d1_running
}

c_stats() {
	local out
	d1_running
	case $E in
	ctr)
		out=$(cr task metrics d1)
		expect_contains "$out" memory.usage_in_bytes "ctr task metrics"
		expect_contains "$out" pids.current "ctr task metrics"
		;;
	*)
		out=$(cli stats --no-stream --format '{{.MemUsage}} {{.PIDs}}' d1)
		[[ $out =~ [0-9.]+[kKMG]?i?B\ /\ [0-9.]+[kKMG]?i?B\ [1-9] ]] || fail "stats: '$out'"
		;;
	esac
}

c_top() {
	local out pid
	d1_running
	pid=$(e_pid d1)
	case $E in
	ctr) out=$(cr task ps d1) ;;
	*) out=$(cli top d1) ;;
	esac
	expect_contains "$out" "$([ $E = ctr ] && echo "$pid" || echo sleep)" "top"
}

c_restart() {
	local old new
	d1_running
	old=$(e_pid d1)
	case $E in
	ctr)
		cr task kill -s SIGTERM d1
		wait_for 10 is_state d1 exited || fail "d1 did not stop: $(e_status d1)"
		cr task rm d1 >/dev/null
		cr task start -d d1
		;;
	*) cli restart -t 5 d1 >/dev/null ;;
	esac
	wait_for 10 is_state d1 running || fail "status after restart: $(e_status d1)"
	new=$(e_pid d1)
	[ "$new" != "$old" ] && pid_alive "$new" || fail "pid after restart: '$new' (was $old)"
	! pid_alive "$old" || fail "the old init $old is still alive"
	check_cgroups "$new" "$(e_cgpath d1)"
	expect_eq "$(e_exec d1 echo alive)" alive "exec after restart"
}

# sig_caught PID SIGNO: PID has a handler for SIGNO.
sig_caught() { (($(printf '%d' "0x$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status")") >> ($2 - 1) & 1)); }

c_stop_term() {
	# The stop timeout: the client calls alone take seconds under emulation (the VM).
	local t0 dt code cg u pid stop_t=10
	[ "$CG_DRIVER" != systemd ] || stop_t=60
	e_run_d st1 sh -c 'trap "exit 3" TERM; sleep 1000 & wait $!'
	wait_for 10 is_state st1 running || fail "st1: $(e_status st1)"
	cg=$(e_cgpath st1)
	u=${cg##*/}
	pid=$(e_pid st1)
	[ "$CG_DRIVER" != systemd ] || sd_check_scope st1 "$pid"
	# the shell has installed its trap (SIGTERM, bit 15, in SigCgt): under emulation it can take seconds
	wait_for 10 sig_caught "$pid" 15 || fail "st1's shell does not catch SIGTERM"
	t0=$(now_ms)
	case $E in
	ctr)
		cr task kill -s SIGTERM st1
		wait_for "$stop_t" is_state st1 exited || fail "st1 did not exit on SIGTERM"
		;;
	*) cli stop -t "$stop_t" st1 >/dev/null ;;
	esac
	dt=$(($(now_ms) - t0))
	[ $dt -lt $((stop_t * 500)) ] || fail "SIGTERM was not delivered: stop took ${dt} ms"
	if [ $E != ctr ]; then
		code=$(cli inspect -f '{{.State.ExitCode}}' st1)
		expect_eq "$code" 3 "exit code after SIGTERM"
	fi
	# systemd driver: the stopped (not yet removed) container's scope and cgroup are gone
	[ "$CG_DRIVER" != systemd ] || wait_for 10 sd_gone "$u" "/sys/fs/cgroup$cg" || sd_expect_gone "$u" "/sys/fs/cgroup$cg"
	e_rm_f st1
}

c_stop_kill() {
	local t0 dt code pid
	e_run_d st2 sleep 1000 # pid 1 without a handler: SIGTERM is ignored
	wait_for 10 is_state st2 running || fail "st2: $(e_status st2)"
	pid=$(e_pid st2)
	t0=$(now_ms)
	case $E in
	ctr)
		cr task kill -s SIGTERM st2
		sleep 2
		is_state st2 running || fail "st2 did not survive SIGTERM"
		cr task kill -s SIGKILL st2
		wait_for 10 is_state st2 exited || fail "st2 did not exit on SIGKILL"
		;;
	*) cli stop -t 2 st2 >/dev/null ;;
	esac
	dt=$(($(now_ms) - t0))
	[ $dt -ge 1900 ] || fail "stopped after ${dt} ms, before the 2 s timeout"
	[ $dt -lt 12000 ] || fail "stop took ${dt} ms"
	! pid_alive "$pid" || fail "init $pid still alive"
	if [ $E != ctr ]; then
		code=$(cli inspect -f '{{.State.ExitCode}}' st2)
		expect_eq "$code" 137 "exit code after SIGKILL"
	fi
	e_rm_f st2
}

c_rm_f_running() {
	local pid id cg
	d1_running
	pid=$(e_pid d1)
	id=$(e_id d1)
	cg=$(e_cgpath d1)
	e_rm_f d1
	expect_eq "$(e_status d1)" absent "status after rm -f"
	wait_for 5 eval '! pid_alive $pid' || fail "init $pid still alive"
	[ ! -e "$(e_rtroot)/$id" ] || fail "runtime state left at $(e_rtroot)/$id"
	if [ "$CG_DRIVER" = systemd ]; then
		wait_for 10 sd_gone "${cg##*/}" "/sys/fs/cgroup$cg" || sd_expect_gone "${cg##*/}" "/sys/fs/cgroup$cg"
		return
	fi
	[ ! -d "/sys/fs/cgroup/memory$cg" ] || fail "cgroup left: memory$cg"
}

# A missing executable: the client exits 127 (ctr: 1) and shows runc's wording.
missing_exe() { # CMD WANT-MESSAGE
	local out rc=0 want=127
	out=$(e_run_rm -- "$1" 2>&1) || rc=$?
	[ $E = ctr ] && want=1
	expect_eq "$rc" "$want" "client exit code"
	expect_contains "$out" "$2" "error message"
}
c_missing_exe() { missing_exe nosuchcmd 'exec: "nosuchcmd": executable file not found in $PATH'; }
c_missing_exe_path() { missing_exe /bin/nosuch 'exec: "/bin/nosuch": stat /bin/nosuch: no such file or directory'; }

c_create_fail_clean() {
	local before after rc=0 id cg
	before=$(snapshot "$(e_cgparent)" "$(e_rtroot)")
	case $E in
	ctr) cr run $(CTR_RT) "$(img)" cf1 nosuchcmd >/dev/null 2>&1 || rc=$? ;;
	*) cli run --name cf1 "$(img)" nosuchcmd >/dev/null 2>&1 || rc=$? ;;
	esac
	[ $rc != 0 ] || fail "create of a missing executable succeeded"
	# The runtime's part, right away: no state, no cgroup, and delete --force still succeeds.
	id=$(e_id cf1)
	cg=$(e_cgpath cf1)
	[ ! -e "$(e_rtroot)/$id" ] || fail "runtime state left at $(e_rtroot)/$id"
	[ -z "$(ls -d /sys/fs/cgroup/*"$cg" 2>/dev/null)" ] || fail "cgroups left: $(ls -d /sys/fs/cgroup/*"$cg")"
	"$BULWARK" --root "$(e_rtroot)" delete --force "$id" || fail "delete --force after a failed create"
	# The engine's part (its record, rootfs mounts) goes with its rm; then nothing may remain.
	case $E in
	ctr) cr task rm -f cf1 >/dev/null 2>&1 || true; cr container rm cf1 ;;
	*) cli rm cf1 >/dev/null ;;
	esac
	wait_for 5 no_leak_since "$before" || true
	after=$(snapshot "$(e_cgparent)" "$(e_rtroot)")
	[ -z "$(leak_diff "$before" "$after")" ] || fail "left behind: $(leak_diff "$before" "$after")"
}

no_leak_since() { [ -z "$(leak_diff "$1" "$(snapshot "$(e_cgparent)" "$(e_rtroot)")")" ]; }

c_loop20() {
	local before after i
	before=$(snapshot "$(e_cgparent)" "$(e_rtroot)")
	for i in $(seq 20); do
		e_run_d "loop$i" sleep 1000 || fail "run $i"
		wait_for 10 is_state "loop$i" running || fail "loop$i: $(e_status "loop$i")"
		e_rm_f "loop$i" || fail "rm $i"
	done
	wait_for 5 no_leak_since "$before" || true
	after=$(snapshot "$(e_cgparent)" "$(e_rtroot)")
	[ -z "$(leak_diff "$before" "$after")" ] || fail "leaked: $(leak_diff "$before" "$after" | head -n 10)"
}

c_nothing_left() { # after the engine's matrix: no container, no runtime state, no cgroup
	local left
	case $E in
	ctr) left=$(cr container ls -q) ;;
	*) left=$(cli ps -aq) ;;
	esac
	[ -z "$left" ] || fail "containers left: $left"
	[ -z "$(ls -A "$(e_rtroot)" 2>/dev/null | grep -vx .cache)" ] || fail "runtime state left: $(ls "$(e_rtroot)")"
	if [ "$CG_DRIVER" = systemd ]; then
		left=$(sd_our_units "$(e_unit_glob)")
		[ -z "$left" ] || fail "units left: $left"
		left=$(find /sys/fs/cgroup/system.slice /sys/fs/cgroup/machine.slice -name "$(e_unit_glob)" 2>/dev/null || true)
		[ -z "$left" ] || fail "cgroups left: $left"
		return
	fi
	[ -z "$(find /sys/fs/cgroup/*/"$(e_cgparent)" -mindepth 1 -type d ! -name conmon 2>/dev/null)" ] ||
		fail "cgroups left: $(find /sys/fs/cgroup/*/"$(e_cgparent)" -mindepth 1 -type d ! -name conmon | head -n 3)"
}

common_matrix() {
	cell "$E/run-detached" c_run_detached
	cell "$E/run-tty" c_run_tty
	cell "$E/run-tty-input" c_run_tty_input
	cell "$E/run-stdin" c_run_stdin
	cell "$E/run-stdout-stderr-exact" c_run_output_exact
	cell "$E/run-rm-exit-7" c_run_rm_exit7
	cell "$E/run-user-cwd-env" c_run_user_cwd_env
	cell "$E/default-devices" c_devices
	cell "$E/run-with-limits" c_run_limits
	cell "$E/run-bind-mount-read-only" c_run_bind_readonly
	cell "$E/run-caps-no-new-privs" c_run_caps_nnp
	cell "$E/exec" c_exec
	cell "$E/exec-missing-exe" c_exec_missing
	cell "$E/exec-tty" c_exec_tty
	cell "$E/exec-user-cwd" c_exec_user_cwd
	cell "$E/kill-usr1" c_kill_usr1
	cell "$E/pause-unpause" c_pause_unpause
	cell "$E/update-memory-cpu" c_update
	cell "$E/stats" c_stats
	cell "$E/top" c_top
	cell "$E/restart" c_restart
	cell "$E/rm-f-running" c_rm_f_running
	cell "$E/stop-sigterm" c_stop_term
	cell "$E/stop-sigkill-after-timeout" c_stop_kill
	cell "$E/missing-exe-127" c_missing_exe
	cell "$E/missing-exe-path-127" c_missing_exe_path
	cell "$E/create-fail-leaves-nothing" c_create_fail_clean
	cell "$E/loop-20-no-leak" c_loop20
}

# ---- docker only -----------------------------------------------------------------------------

c_docker_runtime_registered() {
	local rts
	rts=$(dk info -f '{{json .Runtimes}}')
	expect_contains "$rts" "\"$DOCKER_RT_NAME\"" "docker info runtimes"
	expect_eq "$(dk info -f '{{.DefaultRuntime}}')" "$DOCKER_RT_NAME" "default runtime"
	# runtimeArgs: dockerd wraps the binary in a script that adds them to every call.
	expect_contains "$(cat "$T/docker/data/runtimes/$DOCKER_RT_NAME" 2>/dev/null)" "$RT_PATH $RUNTIME_ARGS" \
		"runtimeArgs wrapper"
}

c_docker_bridge_hook() {
	local out err
	dk network create -d bridge --subnet 10.213.0.0/24 \
		-o com.docker.network.bridge.name=br-bwtest bwt-net >/dev/null
	out=$(dk run --rm --network bwt-net "$IMG_DOCKER" sh -c 'ip -4 addr show eth0; ping -c 1 -W 2 10.213.0.1' 2>"$T/err-hook") ||
		{ dk network rm bwt-net >/dev/null; fail "run on the user-defined bridge: $out $(cat "$T/err-hook")"; }
	dk network rm bwt-net >/dev/null
	err=$(grep -v '^WARNING: IPv4 forwarding is disabled' "$T/err-hook" || true)
	expect_contains "$out" "inet 10.213.0." "address from the prestart hook (libnetwork-setkey)"
	expect_contains "$out" "1 packets received" "ping of the bridge"
	expect_eq "$err" "" "the container's stderr"
	! ip link show br-bwtest >/dev/null 2>&1 || fail "bridge br-bwtest left on the host"
}

c_docker_init() {
	local out
	out=$(dk run --rm --init "$IMG_DOCKER" sh -c 'cat /proc/1/cmdline | tr "\0" " "')
	expect_contains "$out" "docker-init" "pid 1 with --init"
}

c_docker_logs() {
	local out err
	dk run -d --name lg1 "$IMG_DOCKER" sh -c 'echo to-stdout; echo to-stderr >&2' >/dev/null
	dk wait lg1 >/dev/null
	out=$(dk logs lg1 2>/dev/null)
	err=$(dk logs lg1 2>&1 >/dev/null)
	dk rm lg1 >/dev/null
	expect_eq "$out" to-stdout "docker logs, stdout"
	expect_eq "$err" to-stderr "docker logs, stderr"
}

docker_matrix() {
	E=docker
	cell docker/runtime-registered c_docker_runtime_registered
	common_matrix
	cell docker/bridge-network-prestart-hook c_docker_bridge_hook
	cell docker/init c_docker_init
	cell docker/logs c_docker_logs
	cell docker/nothing-left c_nothing_left
}

ctr_matrix() {
	E=ctr
	common_matrix
	cell ctr/nothing-left c_nothing_left
}

# ---- podman only -----------------------------------------------------------------------------

c_podman_runtime_info() {
	local out
	out=$(pm info -f '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}')
	expect_eq "$out" "$RT_NAME $RT_PATH" "podman info runtime"
}

c_podman_read_only() { # tmpcopyup of the image's /tmp onto the tmpfs, rootfs read-only
	local out
	out=$(pm run --rm --read-only "$IMG_PODMAN" sh -c 'touch /tmp/x && echo tmp-ok; touch /x 2>/dev/null || echo ro-ok')
	expect_eq "$(echo $out)" "tmp-ok ro-ok" "--read-only"
}

c_podman_privileged() { # podman takes the caps of its own bounding set, so this works here
	local out
	out=$(pm run --rm --privileged "$IMG_PODMAN" sh -c 'grep CapEff /proc/self/status; test -c /dev/null && ls /dev | wc -l')
	expect_contains "$out" "CapEff:	$(awk '/CapBnd/ { print $2 }' /proc/self/status)" "capabilities of --privileged"
}

podman_matrix() {
	E=podman
	cell podman/runtime-info c_podman_runtime_info
	common_matrix
	cell podman/read-only-tmpcopyup c_podman_read_only
	cell podman/privileged c_podman_privileged
	cell podman/nothing-left c_nothing_left
}
