#!/bin/bash
# selftest.sh: checks run-in-vm.sh itself (exit codes, quoting, -e, --rw, leftover daemons, panic and
# timeout handling), then runs guest-checks.sh in the VM. Every VM is bounded with -t.
# About 1.5-2.5 minutes on a quiet 2-core host. Exit status: the number of failures (0 = all passed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
vm=$here/run-in-vm.sh
fails=0
# guest-checks.sh runs the host's apparmor_parser, aa-exec, runc and jq in the guest.
need=()
for t in apparmor_parser:apparmor aa-exec:apparmor runc:runc jq:jq; do
	command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
		>/dev/null || { echo "selftest: apt-get install ${need[*]} failed" >&2; exit 1; }
fi
tmp=$(mktemp -d /tmp/bw-vm-selftest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

result() { # result NAME OK DETAIL
	if [ "$2" = 1 ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fails=$((fails + 1)); fi
}
run() { # run ARGS...: sets out, rc, secs
	local t0=$EPOCHREALTIME
	out=$("$vm" "$@" 2>"$tmp/stderr")
	rc=$?
	secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
}

run -T -t 120 true
result "true exits 0 ($(grep -o 'boot.*' "$tmp/stderr"), script ${secs}s)" $((rc == 0)) "rc $rc"
run -t 120 false
result "false exits 1" $((rc == 1)) "rc $rc"
run -t 120 sh -c 'exit 7'
result "sh -c 'exit 7' exits 7" $((rc == 7)) "rc $rc"

# Arguments and -e values survive unchanged (spaces, newlines, quotes, $); -s is capped at nproc;
# stdin is /dev/null and stdout is not a tty.
args=('a b' $'c\nd' '$HOME' "it's" '*')
want=$(printf '[%s]' "${args[@]}" 'x y' $'1\n2' "$(nproc)" notty eof)
run -s 64 -t 120 -e 'FOO=x y' -e $'BAR=1\n2' bash -c \
	'printf "[%s]" "$@" "$FOO" "$BAR" "$(nproc)" "$([ -t 1 ] && echo tty || echo notty)" \
	"$(read -r l && echo got || echo eof)"' - "${args[@]}"
result "args, -e, -s cap, stdio" "$([ "$out" = "$want" ] && echo 1)" "got '$out' want '$want'"

# --rw: a host dir under /tmp is writable at the same path and is the cwd; the guest's own /tmp
# does not show the host's other files.
mkdir "$tmp/rw"
touch "$tmp/hidden"
cd "$tmp/rw" || exit 1
run -t 120 --rw "$tmp/rw" sh -c \
	'echo from-guest >"$PWD/f" && pwd && { [ -e '"$tmp"'/hidden ] && echo visible || echo hidden; }'
cd - >/dev/null || exit 1
want=$(printf '%s\n%s' "$tmp/rw" hidden)
result "--rw dir writable, cwd kept, host /tmp hidden" \
	"$([ "$rc" = 0 ] && [ "$out" = "$want" ] && [ "$(cat "$tmp/rw/f" 2>/dev/null)" = from-guest ] && echo 1)" \
	"rc $rc out '$out' file '$(cat "$tmp/rw/f" 2>&1)'"

# A daemon left holding stdout must neither hang the VM nor eat the status.
run -t 60 sh -c 'sleep 600 & echo started; exit 3'
result "leftover daemon: rc 3 in ${secs}s" "$([ "$rc" = 3 ] && [ "$out" = started ] && echo 1)" \
	"rc $rc out '$out'"

# A guest panic ends qemu at once (panic=-1, -no-reboot): 125 and the console log on stderr.
run -t 60 sh -c 'echo c >/proc/sysrq-trigger'
result "guest panic: 125 in ${secs}s, console dumped" \
	"$([ "$rc" = 125 ] && grep -q 'Kernel panic' "$tmp/stderr" && echo 1)" "rc $rc"

# -t is a hard bound: a hung command is killed, 125 within the limit plus the kill grace.
run -t 15 sleep 600
result "hung guest under -t 15: 125 in ${secs}s" \
	"$([ "$rc" = 125 ] && awk -v s="$secs" 'BEGIN { exit !(s < 28) }' && echo 1)" "rc $rc"

# --systemd: systemd is PID 1, the command runs in its service once D-Bus is up, the status and
# a leftover daemon behave as without it.
run --systemd -T -t 240 sh -c 'cat /proc/1/comm; systemctl is-active dbus.service;
	cut -d: -f3 /proc/self/cgroup; sleep 600 & exit 4'
want=$(printf 'systemd\nactive\n/system.slice/bulwark-vm.service')
result "--systemd: PID 1, D-Bus, the command's unit, rc 4 ($(grep -o 'boot.*' "$tmp/stderr"))" \
	"$([ "$rc" = 4 ] && [ "$out" = "$want" ] && echo 1)" "rc $rc out '$out'"

run -T -t 240 "$here/guest-checks.sh"
printf '%s\n' "$out"
result "guest checks ($(grep -o 'boot.*' "$tmp/stderr"))" $((rc == 0)) "rc $rc"

echo "selftest: $fails failure(s)"
exit $fails
