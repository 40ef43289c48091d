# Helpers for the engine suite: cells, checks, waiting, and the leak snapshot.
# Sourced by run.sh; every engine file (docker.sh, ctr.sh, podman.sh) uses these.

PASS=0 FAILN=0 FAILED=()

# cell NAME FUNCTION [ARGS...]: run one matrix cell in a subshell with errexit, print ok/FAIL.
# A cell that prints "NA: reason" on fd 3 and exits 0 is reported as n/a, not counted.
cell() {
	local name=$1 fn=$2 out rc start ms na
	shift 2
	[ -n "${CELL_FILTER:-}" ] && ! [[ $name =~ $CELL_FILTER ]] && return 0
	start=$(date +%s%N)
	out=$( (set -e; "$fn" "$@") 2>&1 3>"$T/na")
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	na=$(cat "$T/na" 2>/dev/null)
	rm -f "$T/na"
	if [ $rc -eq 0 ] && [ -n "$na" ]; then
		printf 'n/a  %-34s %s\n' "$name" "$na"
	elif [ $rc -eq 0 ]; then
		PASS=$((PASS + 1))
		printf 'ok   %-34s (%s ms)\n' "$name" "$ms"
	else
		FAILN=$((FAILN + 1))
		FAILED+=("$name")
		printf 'FAIL %-34s (%s ms)\n' "$name" "$ms"
		printf '%s\n' "$out" | tail -n "${FAIL_LINES:-15}" | sed 's/^/    /'
	fi
	[ "${VERBOSE:-0}" = 1 ] && [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/    | /'
	return 0
}

not_applicable() { echo "$*" >&3; exit 0; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

expect_eq() { # got want what
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

expect_contains() { # haystack needle what
	case $1 in
	*"$2"*) ;;
	*) fail "$3: '$2' not in: $(printf '%s' "$1" | tail -c 600)" ;;
	esac
}

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A command in a pseudo-terminal (util-linux script), its exit code returned, output on stdout.
in_tty() {
	timeout -k 5 "${TMO:-60}" script -qec "$*" /dev/null </dev/null
}

pid_alive() { [ -n "$1" ] && [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null; }

# The cgroup path of PID in hierarchy CTRL ("memory", "cpu", "freezer", ...).
cgroup_of() {
	awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
		"/proc/$1/cgroup"
}

# check_cgroups PID WANT: the runtime put PID exactly in cgroupsPath WANT in every hierarchy the
# engines read (every v1 controller, name=systemd, and the unified mount on hybrid hosts).
check_cgroups() {
	local pid=$1 want=$2 line path bad=""
	while IFS= read -r line; do
		path=${line#*:*:}
		[ "$path" = "$want" ] || bad+=" [$line]"
	done <"/proc/$pid/cgroup"
	[ -z "$bad" ] || fail "pid $pid not in $want everywhere:$bad"
}

cg_file() { # CTRL CGPATH FILE -> content
	cat "/sys/fs/cgroup/$1$2/$3"
}

# Leak snapshot for an engine: mounts, cgroups under its parents, runtime state entries,
# processes in its cgroups, and the engine helper processes (shims, conmon) under our temp dir.
# snapshot CGPARENT RTROOT -> text; compare two snapshots with leak_diff.
snapshot() {
	local parent=$1 rtroot=$2 p
	# (the storage drivers' own homes come and go with the engine processes, not containers)
	awk -v t="$T/" 'index($5, t) == 1 && $5 !~ /\/(overlay|overlay2)$/ { print "mount " $5 }' \
		/proc/self/mountinfo | sort
	find /sys/fs/cgroup/*/"${parent#/}" -mindepth 1 -type d ! -path '*/conmon' 2>/dev/null | sort | sed 's/^/cgroup /'
	ls -A "$rtroot" 2>/dev/null | grep -vx .cache | sed 's/^/state /'
	grep -ls ":$parent/" /proc/[0-9]*/cgroup 2>/dev/null | while read -r p; do
		grep -qs ":$parent/conmon$" "$p" && continue
		p=${p%/cgroup}
		echo "proc ${p#/proc/} $(tr '\0' ' ' 2>/dev/null <"$p/cmdline" | cut -c1-60)"
	done
	echo "helpers $(helper_pids | wc -w)"
}

leak_diff() { # BEFORE AFTER -> lines only in AFTER (empty when nothing leaked)
	diff <(printf '%s\n' "$1") <(printf '%s\n' "$2") | sed -n 's/^> //p'
}

# Processes the engines started on our behalf that outlive their parents: containerd shims
# (they hold our containerd's address on their command line) and conmon (our podman root).
helper_pids() {
	local f cmd
	grep -laF "$T/" /proc/[0-9]*/cmdline 2>/dev/null | while read -r f; do
		cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
		case $cmd in
		*containerd-shim*"$T/"* | *conmon*"$T/"*) f=${f%/cmdline}; echo "${f#/proc/}" ;;
		esac
	done
}

# The systemd cgroup driver (ENGINES_CGROUP_DRIVER=systemd): the transient scopes the engines'
# containers get (docker-ID.scope, libpod-ID.scope and conmon's libpod-conmon-ID.scope,
# bwengines-ID.scope for ctr), optionally only those matching GLOB.
sd_our_units() { # [GLOB...]
	[ $# -gt 0 ] || set -- 'docker-*.scope' 'libpod-*.scope' "${CTR_NS:-bwengines}-*.scope"
	systemctl list-units --all --no-legend --plain "$@" 2>/dev/null | awk '{ print $1 }'
}
