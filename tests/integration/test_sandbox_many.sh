# 50 sandboxes at once (issue 7): all alive together, each with its own /tmp, HOME and network
# namespace holding only `lo`; none sees another's files or reaches another's loopback listener;
# afterwards nothing is left (state, cgroups, namespaces, mounts, veths, nft tables).

# What each sandbox runs (the host's bash on the read-only host root): tokens in /tmp and $HOME,
# a listener on 127.0.0.1:20000+I, "ready"; once it reads a line from the go FIFO, its report and
# "checked"; it ends at a line from the done FIFO, so every listener is up while the others
# probe (one FIFO per phase: from a single one, a fast sandbox would take a slow one's first
# line as its second and end early). The FIFOs' directory is bound on /srv: a bind needs a
# mountpoint that exists in the read-only root.
# Blocking on the FIFO, not polling a file: 50 pollers would load the 2 cores.
SANDBOX_MANY_SCRIPT='
i=$1 n=$2 port=$((20000 + $1)) other=$((20000 + ($1 + 1) % $2))
echo "tok-$i" >"/tmp/tok-$i" && echo "tok-$i" >"$HOME/tok-$i" || exit 3
busybox nc -ll -p "$port" -e echo "srv-$i" &
hexport=$(printf "%04X" "$port")
for _ in $(seq 100); do grep -qE ":$hexport [0-9A-F]+:0000 0A" /proc/net/tcp6 /proc/net/tcp && break; sleep 0.05; done
exec 8</srv/go 7</srv/done
echo ready
read -t 50 -r _ <&8 || exit 4
echo "netns=$(readlink /proc/self/ns/net)"
echo "links=$(ip -o link | awk -F": " "{print \$2}" | tr "\n" " ")"
echo "tmp=$(ls -A /tmp | tr "\n" " ")"
echo "home=$(ls -A "$HOME" | tr "\n" " ")"
if (exec 3<>"/dev/tcp/127.0.0.1/$other") 2>/dev/null; then echo cross=open; else echo cross=refused; fi
exec 3<>"/dev/tcp/127.0.0.1/$port" && read -r line <&3 && echo "self=$line"
exec 3>&-
echo checked
read -t 50 -r _ <&7 || exit 5
kill %1
'

# Host-side things a sandbox with a network could leave: bw-* veths, nftables tables.
many_host_net() {
	ip -o link show | awk -F': ' '$2 ~ /^bw-/ {print $2}' | sort
	nft list tables 2>/dev/null | sort
}

# many_ns_holders INODE...: "PID COMMAND" of each process holding one of these network
# namespaces (as its own or through an fd), and "mount PATH" of each nsfs mount of one. The
# kernel reuses namespace inode numbers: callers judge whether a holder is a sandbox's.
many_ns_holders() {
	local want=" $* " pid
	find /proc/[0-9]*/ns/net /proc/[0-9]*/fd -maxdepth 1 -lname 'net:*' -printf '%p %l\n' 2>/dev/null |
		awk -v want="$want" '{ i = $2; gsub(/[^0-9]/, "", i); if (index(want, " " i " ")) { split($1, p, "/"); print p[3] } }' |
		sort -u | while read -r pid; do
		echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
	done
	awk -v want="$want" '$4 ~ /^net:\[/ { i = $4; gsub(/[^0-9]/, "", i); if (index(want, " " i " ")) print "mount " $5 }' \
		/proc/self/mountinfo
}

test_sandbox_many_at_once_isolated_and_clean() {
	local n=50 d=$WORK/many i pids=() ids inodes host_before t0
	mkdir -p "$d/sync"
	chmod 755 "$d" "$d/sync"
	mkfifo -m 644 "$d/sync/go" "$d/sync/done"
	exec 9<>"$d/sync/go" # held open: a sandbox's open for reading never blocks, its read does
	exec 10<>"$d/sync/done"
	host_before=$(many_host_net)
	go() { printf 'go\n%.0s' $(seq $n) >&9; }
	done_() { printf 'done\n%.0s' $(seq $n) >&10; }
	# wait_all WORD: every sandbox printed WORD (and none died before).
	wait_all() {
		for _ in $(seq 400); do
			[ "$(grep -lx "$1" "$d"/out.* 2>/dev/null | wc -l)" = $n ] && return 0
			for i in "${!pids[@]}"; do
				kill -0 "${pids[$i]}" 2>/dev/null || fail "sandbox $i ended early: $(head -c 400 "$d/out.$i")"
			done
			sleep 0.1
		done
		expect_eq "sandboxes at \"$1\" together" $n "$(grep -lx "$1" "$d"/out.* | wc -l)"
	}
	release() { # whatever happens, every sandbox is told to finish and is waited for
		go
		done_
		for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
		exec 9>&- 10>&-
	}
	trap release EXIT
	t0=$(date +%s%N)
	for i in $(seq 0 $((n - 1))); do
		"$BULWARK" --root "$BW_ROOT" sandbox --timeout 60s --bind "$d/sync:/srv" -- \
			bash -c "$SANDBOX_MANY_SCRIPT" sandbox "$i" "$n" >"$d/out.$i" 2>&1 </dev/null &
		pids+=($!)
	done
	# All 50 alive at the same time: every one has said "ready" and none has been let go.
	wait_all ready
	echo "    $n sandboxes ready after $((($(date +%s%N) - t0) / 1000000)) ms"
	ids=$(ls "$BW_ROOT" | grep '^sandbox-' || true)
	expect_eq "sandboxes in the state root at once" $n "$(echo "$ids" | grep -c .)"
	go
	wait_all checked
	echo "    checked after $((($(date +%s%N) - t0) / 1000000)) ms"
	release
	trap - EXIT
	echo "    all gone after $((($(date +%s%N) - t0) / 1000000)) ms"
	for i in $(seq 0 $((n - 1))); do
		out=$(cat "$d/out.$i")
		expect_contains "sandbox $i /tmp" "tmp=tok-$i 
" "$out"
		expect_contains "sandbox $i HOME" "home=tok-$i 
" "$out"
		expect_contains "sandbox $i interfaces" "links=lo 
" "$out"
		expect_contains "sandbox $i: sandbox $(((i + 1) % n))'s loopback listener" "cross=refused" "$out"
		expect_contains "sandbox $i: its own listener" "self=srv-$i" "$out"
	done
	inodes=$(sed -n 's/^netns=net:\[\([0-9]*\)\]$/\1/p' "$d"/out.* | sort -u)
	expect_eq "distinct network namespaces" $n "$(echo "$inodes" | grep -c .)"
	echo "$inodes" | grep -qx "$(readlink /proc/self/ns/net | tr -dc 0-9)" && fail "a sandbox shared the host's netns"

	# Nothing left: state, cgroups, processes, the namespaces themselves (held by no process of
	# ours, no fd, no mount: so no veth or table inside them remains), host veths and tables.
	expect_eq "state left" "" "$(ls "$BW_ROOT" | grep '^sandbox-' || true)"
	left=$(find /sys/fs/cgroup -maxdepth 4 -type d -name 'sandbox-*' 2>/dev/null | grep -F -f <(echo "$ids") || true)
	[ -z "$left" ] || fail "cgroups left: $left"
	left=$(grep -l -e "$d/sync" -e 'srv-' /proc/[0-9]*/cmdline 2>/dev/null || true)
	[ -z "$left" ] || fail "processes left: $left"
	left=$(many_ns_holders $inodes | grep -e bulwark -e "$WORK" -e 'srv-' -e "^mount $BW_ROOT" || true)
	[ -z "$left" ] || fail "sandbox network namespaces still held: $left"
	for _ in $(seq 20); do [ "$(many_host_net)" = "$host_before" ] && break; sleep 0.1; done
	expect_eq "host veths and nft tables" "$host_before" "$(many_host_net)"
	echo "    leak checks done after $((($(date +%s%N) - t0) / 1000000)) ms"
}
