# `bulwark sandbox` network flags, report and lifetime (issue 7), with real packets in the
# test internet of net-lab.sh: the host reaches the lab through a veth and host routes to a
# few documentation addresses, the sandbox reaches the host through bulwark's direct-mode
# veth and NAT.

# lab_host_link: the host <-> lab link and routes to the lab's web and DNS servers.
lab_host_link() {
	LAB_FWD=$(cat /proc/sys/net/ipv4/ip_forward)
	ip link add bwlab-h type veth peer name v-host netns "$LAB_HOLDER"
	ip addr add 198.51.100.253/30 dev bwlab-h
	ip link set bwlab-h up
	lab_exec ip addr add 198.51.100.254/30 dev v-host
	lab_exec ip link set v-host up
	for a in 198.51.100.10 198.51.100.20 198.51.100.11 198.51.100.53; do
		ip route add "$a/32" via 198.51.100.254
	done
	trap lab_host_unlink EXIT
	# The sandbox sees the lab's probe through a read-only bind (its /tmp is its own).
	chmod -R a+rX "$LAB_DIR"
}

sbxl() { "$BULWARK" --root "$BW_ROOT" sandbox --bind "$LAB_DIR" "$@"; }

lab_host_unlink() {
	for a in 198.51.100.10 198.51.100.20 198.51.100.11 198.51.100.53; do
		ip route del "$a/32" via 198.51.100.254 2>/dev/null || true
	done
	ip link del bwlab-h 2>/dev/null || true
	echo "$LAB_FWD" >/proc/sys/net/ipv4/ip_forward || true
	lab_down
}

sbx() { "$BULWARK" --root "$BW_ROOT" sandbox "$@"; }

# Validate a report against docs/report.schema.json.
valid_report() {
	python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$SRC_DIR/docs/report.schema.json" "$1" || fail "report does not match the schema: $(cat "$1")"
}

test_sandbox_allow_domain_resolves_connects_and_reports_refusals() {
	lab_up
	lab_host_link
	# The sandbox sees the host's /etc/resolv.conf; all port-53 traffic reaches the proxy.
	rc=0
	out=$(sbxl --allow-domain allowed.test --dns 198.51.100.53 --report "$WORK/r.json" --timeout 60s -- \
		python3 "$LAB_DIR/probe.py" dns allowed.test 1.1.1.1 2>&1) || rc=$?
	expect_eq "allowed name" 0 "$rc"
	expect_contains "answer" "198.51.100.10" "$out"
	out=$(sbxl --allow-domain allowed.test --dns 198.51.100.53 --report "$WORK/r.json" --timeout 60s -- sh -c "
		python3 $LAB_DIR/probe.py dns allowed.test 198.51.100.53 >/dev/null && python3 $LAB_DIR/probe.py tcp 198.51.100.10 80
		python3 $LAB_DIR/probe.py dns denied.test 198.51.100.53; echo dns-rc=\$?
		python3 $LAB_DIR/probe.py tcp 198.51.100.20 80; echo tcp-rc=\$?" 2>&1)
	expect_contains "connects after resolving" "hello from 198.51.100.10:80" "$out"
	expect_contains "denied name refused" "rcode=5" "$out"
	expect_contains "denied address unreachable" "tcp-rc=1" "$out"
	valid_report "$WORK/r.json"
	jq -e '.denials[] | select(.kind=="dns" and .name=="denied.test" and .count>=1)' "$WORK/r.json" >/dev/null ||
		fail "refused name not in the report: $(cat "$WORK/r.json")"
	jq -e '.denials[] | select(.kind=="packet" and .destination=="198.51.100.20" and .port==80)' "$WORK/r.json" >/dev/null ||
		fail "dropped connection not in the report: $(cat "$WORK/r.json")"
}

test_sandbox_allow_cidr_port_and_proto() {
	lab_up
	lab_host_link
	out=$(sbxl --allow 198.51.100.10:80/tcp --report "$WORK/r.json" -- sh -c "
		python3 $LAB_DIR/probe.py tcp 198.51.100.10 80 >/dev/null; echo a=\$?
		python3 $LAB_DIR/probe.py tcp 198.51.100.10 443 >/dev/null; echo b=\$?
		python3 $LAB_DIR/probe.py udp 198.51.100.10 9999 >/dev/null; echo c=\$?" 2>&1 | tr '\n' ' ')
	expect_eq "only tcp/80" "a=0 b=1 c=1 " "$out"
	valid_report "$WORK/r.json"
	expect_eq "drops reported" "443 9999" "$(jq -r '[.denials[] | select(.kind=="packet") | .port] | sort | map(tostring) | join(" ")' "$WORK/r.json")"
}

test_sandbox_network_none_is_the_default() {
	out=$(sbx -- sh -c 'ip -o link | wc -l; cat /proc/net/route | wc -l')
	expect_eq "lo only, no routes" "1 1" "$(echo $out)"
}

test_sandbox_bad_network_flags_exit_125_and_leave_nothing() {
	for args in "--allow 10.0.0.0/33" "--allow 10.0.0.1:99999" "--allow-domain foo.*.com" \
		"--network host" "--network none --allow 10.0.0.1" "--dns 10.0.0.1" "--policy /no/such.json"; do
		rc=0; out=$(sbx $args -- true 2>&1) || rc=$?
		expect_eq "status for $args" 125 "$rc"
		expect_eq "one line for $args" 1 "$(echo "$out" | wc -l)"
	done
	[ -z "$(ls -A "$BW_ROOT" 2>/dev/null | grep -v '^\.cache$' | grep -v '^\.idpool$')$(ls -A "$BW_ROOT/.idpool" 2>/dev/null)" ] || fail "state left: $(ls -A "$BW_ROOT")"
	[ -z "$(ip -o link show | grep ' bw-')" ] || fail "veth left"
}

# A policy file is opened once, without following symbolic links, and create, the audit and the
# network helper all read the runtime's private copy of those bytes: a file replaced while the
# sandbox starts cannot give them different policies.
test_sandbox_policy_file_is_read_once() {
	echo '{"egress":[]}' >"$WORK/once.json"
	for how in "sandbox --policy" "--policy"; do
		local argv
		if [ "$how" = "--policy" ]; then
			argv=(--policy "$WORK/once.json" sandbox)
		else
			argv=(sandbox --policy "$WORK/once.json")
		fi
		strace -f -qq -e trace=open,openat,openat2 -o "$WORK/once.trace" \
			"$BULWARK" --root "$BW_ROOT" "${argv[@]}" -- true || fail "$how: sandbox"
		expect_eq "$how: opened once" 1 "$(grep -c "\"$WORK/once.json\"" "$WORK/once.trace")"
	done
	ln -s "$WORK/once.json" "$WORK/once-link.json"
	rc=0; out=$(sbx --policy "$WORK/once-link.json" -- true 2>&1) || rc=$?
	expect_eq "through a symlink: refused in one line" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names the flag" "--policy" "$out"
	echo '{"egress":[{"action":"allow","cidr":"nope"}]}' >"$WORK/bad.json"
	rc=0; out=$(sbx --policy "$WORK/bad.json" -- true 2>&1) || rc=$?
	expect_eq "a bad document: refused in one line" "125 1" "$rc $(echo "$out" | wc -l)"
	expect_contains "names the file" "$WORK/bad.json" "$out"
}

test_sandbox_report_outcomes_match_the_schema() {
	rc=0; sbx --report "$WORK/ok.json" -- sh -c 'exit 7' || rc=$?
	expect_eq status 7 "$rc"
	valid_report "$WORK/ok.json"
	expect_eq "exit code" "7 7 false" "$(jq -r '"\(.exit_code) \(.command_exit_code) \(.timed_out)"' "$WORK/ok.json")"
	rc=0; sbx --timeout 1s --kill-after 1s --report "$WORK/to.json" -- sh -c 'trap "" TERM; sleep 30' 2>/dev/null || rc=$?
	expect_eq "timeout status" 124 "$rc"
	valid_report "$WORK/to.json"
	expect_eq "timed out" "true SIGKILL" "$(jq -r '"\(.timed_out) \(.signal)"' "$WORK/to.json")"
	rc=0; sbx --memory 32m --report "$WORK/oom.json" -- sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a)' >/dev/null 2>&1 || rc=$?
	valid_report "$WORK/oom.json"
	expect_eq "oom" true "$(jq -r .oom_killed "$WORK/oom.json")"
	[ "$(jq -r .peak_memory_bytes "$WORK/oom.json")" -gt 20000000 ] || fail "peak memory: $(jq .peak_memory_bytes "$WORK/oom.json")"
	rc=0; sbx --report "$WORK/nf.json" -- /no/such/cmd 2>/dev/null || rc=$?
	expect_eq "not found" 127 "$rc"
	valid_report "$WORK/nf.json"
	expect_contains "error" "no/such/cmd" "$(jq -r .error "$WORK/nf.json")"
	out=$(sbx --report - -- echo hello)
	expect_eq "command output first" hello "$(echo "$out" | head -1)"
	echo "$out" | tail -n +2 >"$WORK/stdout.json"
	valid_report "$WORK/stdout.json"
	[ "$(jq -r '.cpu_time_ms.user + .cpu_time_ms.system' "$WORK/ok.json")" -ge 0 ] || fail "cpu time"
}

# The sandbox's owner dies (SIGKILL: no chance to clean up): its watchdog releases it.
test_sandbox_killed_runner_leaves_nothing() {
	"$BULWARK" --root "$BW_ROOT" sandbox -- sleep 60 </dev/null >/dev/null 2>&1 &
	runner=$!
	for _ in $(seq 50); do [ -n "$(ls "$BW_ROOT" 2>/dev/null | grep sandbox-)" ] && break; sleep 0.1; done
	id=$(ls "$BW_ROOT" | grep sandbox-)
	[ -n "$id" ] || fail "sandbox did not start"
	sleep 0.3
	kill -9 "$runner"
	wait "$runner" 2>/dev/null || true
	for _ in $(seq 100); do [ -d "$BW_ROOT/$id" ] || break; sleep 0.1; done
	[ ! -d "$BW_ROOT/$id" ] || fail "sandbox $id still there after its runner died"
}

# The README's agent-loop example works as printed.
test_sandbox_agent_loop_example_runs() {
	out=$(python3 "$SRC_DIR/docs/examples/agent_loop.py" --bulwark "$BULWARK")
	expect_contains "timeout seen" "attempt 1: timed out" "$out"
	expect_contains "accepted" "accepted: 5050" "$out"
}

# Two sandboxes that may send anything anywhere (and one that accepts tcp/8080) still cannot
# reach each other, nor a service listening on every address of the host.
test_sandbox_sandboxes_and_host_services_unreachable_under_allow_all() {
	echo '{"egress":[{"action":"allow"}],"ingress":[{"action":"allow","protocol":"tcp","port":8080}]}' >"$WORK/open.json"
	mkdir -p "$WORK/share" && chmod 777 "$WORK/share"
	python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 18080)); s.listen(8); s.settimeout(30)
while True: c, _ = s.accept(); c.sendall(b"host\n"); c.close()' </dev/null >/dev/null 2>&1 &
	hostsrv=$!
	trap 'kill $hostsrv 2>/dev/null || true' EXIT
	sbx --policy "$WORK/open.json" --bind "$WORK/share:rw" --timeout 30s -- sh -c '
		exec python3 -c "import socket, subprocess; s=socket.socket(); s.bind((\"0.0.0.0\", 8080)); s.listen(8); s.settimeout(6)
a = subprocess.run([\"ip\", \"-o\", \"-4\", \"addr\", \"show\", \"eth0\"], capture_output=True, text=True).stdout.split()[3].split(\"/\")[0]
open(\"'"$WORK/share/b.addr"'\", \"w\").write(a)  # written once B listens
while True: c, _ = s.accept(); c.sendall(b\"sandbox b\n\"); c.close()"' </dev/null >/dev/null 2>&1 &
	b=$!
	for _ in $(seq 100); do [ -s "$WORK/share/b.addr" ] && break; sleep 0.1; done
	baddr=$(cat "$WORK/share/b.addr")
	expect_contains "b has a direct-mode address" "10.213." "$baddr"
	out=$(sbx --policy "$WORK/open.json" -- sh -c "
		gw=\$(ip -4 route show default | awk '{print \$3}')
		for t in $baddr:8080 \$gw:18080; do
			python3 -c 'import socket, sys; h, p = sys.argv[1].rsplit(\":\", 1); socket.create_connection((h, int(p)), timeout=2); print(\"reached\", sys.argv[1])' \$t 2>/dev/null || echo blocked
		done" 2>&1 | tr '\n' ' ')
	kill "$hostsrv" 2>/dev/null || true
	wait "$hostsrv" 2>/dev/null || true
	wait "$b" 2>/dev/null || true # its listener gives up after 6 s without a connection
	expect_eq "other sandbox, host service" "blocked blocked " "$out"
}

# A running sandbox does not hold its lock: list, state and kill from elsewhere answer at once,
# and the sandbox still cleans up after being killed that way.
test_sandbox_is_listed_and_killable_while_it_runs() {
	"$BULWARK" --root "$BW_ROOT" sandbox -- sleep 60 </dev/null >/dev/null 2>&1 &
	runner=$!
	for _ in $(seq 50); do id=$(ls "$BW_ROOT" 2>/dev/null | grep sandbox-) && [ -n "$id" ] && [ -s "$BW_ROOT/$id/state.json" ] && break; sleep 0.1; done
	sleep 0.3
	out=$(timeout 5 "$BULWARK" --root "$BW_ROOT" list -q) || fail "list hung or failed"
	expect_eq listed "$id" "$out"
	expect_eq state running "$(timeout 5 "$BULWARK" --root "$BW_ROOT" state "$id" | jq -r .status)"
	timeout 5 "$BULWARK" --root "$BW_ROOT" kill "$id" KILL || fail "kill hung or failed"
	rc=0; wait "$runner" || rc=$?
	expect_eq "killed by SIGKILL" 137 "$rc"
	[ ! -d "$BW_ROOT/$id" ] || fail "state left"
}

# A bulwark run from its build tree uses the network helper beside it (build/runtime/
# bulwark-net), from the binary's own directory only (not the working directory, not PATH),
# and only where no one but root, the caller or the binary's owner can change it; else the
# installed one in libexecdir; BULWARK_NET_HELPER overrides both. A fake helper that fails with
# a message of its own shows which one ran.
test_sandbox_net_helper_is_found_beside_the_binary_and_only_if_safe() {
	bt=$WORK/bt/runtime
	rm -rf "$WORK/bt" "$WORK/bt2" && mkdir -p "$bt" "$WORK/bt2"
	chmod 755 "$WORK/bt" "$bt" "$WORK/bt2"
	cp "$BULWARK" "$bt/bulwark" && cp "$BULWARK" "$WORK/bt2/bulwark"
	printf '#!/bin/sh\necho "fake helper beside ran"\nexit 1\n' >"$bt/bulwark-net"
	chmod 755 "$bt/bulwark-net"
	run_from() { # BINARY [env...]: the helper's message or the failure, in one line
		local bin=$1
		shift
		env -u BULWARK_NET_HELPER "$@" "$bin" --root "$BW_ROOT" sandbox --allow-domain example.invalid -- true 2>&1 | tr '\n' ' '
	}
	expect_contains "root's build tree" "fake helper beside ran" "$(run_from "$bt/bulwark")"
	# The sudo case: a user's build tree run by root; the user owns the binary as much as the
	# helper, so nothing is trusted that was not already.
	chown -R 1234:1234 "$WORK/bt"
	expect_contains "a user's build tree run by root" "fake helper beside ran" "$(run_from "$bt/bulwark")"
	# Someone else's helper beside root's binary: not used.
	chown 0:0 "$bt/bulwark" "$bt" "$WORK/bt"
	out=$(run_from "$bt/bulwark")
	case "$out" in *"fake helper beside ran"*) fail "another user's helper was run: $out" ;; esac
	expect_contains "another user's helper: says why" "not used: owned by uid 1234" "$out"
	chown 0:0 "$bt/bulwark-net"
	for m in "775 $bt/bulwark-net" "757 $bt/bulwark-net" "777 $bt" "775 $WORK/bt"; do
		chmod ${m% *} "${m#* }"
		out=$(run_from "$bt/bulwark")
		case "$out" in *"fake helper beside ran"*) fail "helper used with mode $m: $out" ;; esac
		expect_contains "mode $m: says why" "not used" "$out"
		chmod 755 "${m#* }"
	done
	# A sticky world-writable directory above (as /tmp) is fine.
	chmod 1777 "$WORK/bt"
	expect_contains "sticky parent" "fake helper beside ran" "$(run_from "$bt/bulwark")"
	chmod 755 "$WORK/bt"
	# Neither the working directory nor PATH.
	out=$(cd "$bt" && run_from "$WORK/bt2/bulwark" PATH="$bt:$PATH")
	case "$out" in *"fake helper beside ran"*) fail "helper taken from the working directory or PATH: $out" ;; esac
	# BULWARK_NET_HELPER wins.
	printf '#!/bin/sh\necho "fake helper from the environment ran"\nexit 1\n' >"$WORK/bt2/other-net"
	chmod 755 "$WORK/bt2/other-net"
	out=$(BULWARK_NET_HELPER=$WORK/bt2/other-net "$bt/bulwark" --root "$BW_ROOT" sandbox --allow-domain example.invalid -- true 2>&1 | tr '\n' ' ')
	expect_contains "BULWARK_NET_HELPER overrides" "fake helper from the environment ran" "$out"
	# The real helper of this build, beside the build's binary: a working sandbox.
	[ -x "$(dirname "$BULWARK")/bulwark-net" ] || fail "the build has no bulwark-net beside bulwark"
	env -u BULWARK_NET_HELPER "$BULWARK" --root "$BW_ROOT" sandbox --allow-domain example.invalid -- true ||
		fail "the build's own bulwark with --allow-domain and no BULWARK_NET_HELPER"
}

# What reaches the resolver is the proxy's own query, rebuilt from the question: one question in
# lower case, RD only (no AD, no CD), and an OPT record of its own (1232 bytes, no DO, no client
# subnet, no cookie); the client's additional records (3.8 kB over UDP, 54 kB over TCP) stay
# behind. Types outside the list are refused and reported. The client still gets the resolver's
# answer, with its own case in the question.
CRAFTED_DNS_PY='import socket, struct
def name(n): return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0"
def rr(owner, t, ttl, rd): return name(owner) + struct.pack("!HHIH", t, 1, ttl, len(rd)) + rd
opts = struct.pack("!HHHBB", 8, 7, 1, 24, 0) + bytes([192, 0, 2]) + struct.pack("!HH", 10, 8) + b"12345678"
opt = b"\0" + struct.pack("!HHIH", 41, 4096, 0x8000, len(opts)) + opts
def query(qtype, extra):
    txt = b"".join(rr("smuggled.test", 16, 60, bytes([255]) + b"x" * 255) for _ in range(extra))
    return (struct.pack("!HHHHHH", 0x1234, 0x0130, 1, 0, 0, extra + 1) + name("AlLoWeD.TeSt") +
            struct.pack("!HH", qtype, 1) + txt + opt)
def ask(q, proto):
    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)
        s.sendto(q, ("198.51.100.53", 53)); r = s.recv(65535)
    else:
        s = socket.create_connection(("198.51.100.53", 53), 3); s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]; r = s.recv(n, socket.MSG_WAITALL)
    end = 12 + len(name("allowed.test")) + 4
    print("%s id=%s rcode=%d question=%s" % (proto, r[:2] == q[:2], r[3] & 15, r[12:end] == q[12:end]))
ask(query(1, 14), "udp")
ask(query(1, 200), "tcp")
ask(query(65280, 0), "udp")
ask(query(255, 0), "tcp")'

test_sandbox_dns_forwards_only_the_question_it_understood() {
	lab_up
	lab_host_link
	printf '%s' "$CRAFTED_DNS_PY" >"$LAB_DIR/crafted.py"
	chmod a+r "$LAB_DIR/crafted.py"
	out=$(sbxl --allow-domain allowed.test --dns 198.51.100.53 --report "$WORK/r.json" --timeout 60s -- \
		python3 "$LAB_DIR/crafted.py" 2>&1 | tr '\n' ' ')
	expect_eq "answers" "udp id=True rcode=0 question=True tcp id=True rcode=0 question=True udp id=True rcode=5 question=True tcp id=True rcode=5 question=True " "$out"
	# The id is the proxy's (random); the rest is fixed: RD, 1 question, 1 additional (OPT).
	want="0100000100000000000107616c6c6f77656404746573740000010001000029""04d0""000000000000"
	got=$(python3 -c 'import sys
for l in open(sys.argv[1]):
    proto, q = l.split(); print(proto, q[4:])' "$LAB_DIR/queries.log" | sort | tr '\n' ' ')
	expect_eq "what the resolver got" "tcp $want udp $want " "$got"
	valid_report "$WORK/r.json"
	for t in TYPE65280 ANY; do
		jq -e '.denials[] | select(.kind=="dns" and .name=="AlLoWeD.TeSt" and .qtype=="'$t'" and .rule=="query type")' "$WORK/r.json" >/dev/null ||
			fail "type $t not reported: $(cat "$WORK/r.json")"
	done
}

# --allow-domain NAME:PORTS opens only those ports; along a CNAME chain, only the ports every
# name's rule allows.
test_sandbox_allow_domain_with_ports_opens_only_those() {
	lab_up
	lab_host_link
	out=$(sbxl --allow-domain allowed.test:80/tcp --allow-domain www.alias.test:80/tcp,443/tcp \
		--allow-domain '*.cdn.test:443/tcp' --dns 198.51.100.53 --timeout 60s -- sh -c "
		for n in allowed.test www.alias.test; do python3 $LAB_DIR/probe.py dns \$n 198.51.100.53 >/dev/null || echo dns-failed; done
		for t in 198.51.100.10:80 198.51.100.10:443 198.51.100.11:443 198.51.100.11:80; do
			python3 $LAB_DIR/probe.py tcp \${t%:*} \${t#*:} >/dev/null && echo \$t=open || echo \$t=closed
		done" 2>&1 | tr '\n' ' ')
	expect_eq "ports" "198.51.100.10:80=open 198.51.100.10:443=closed 198.51.100.11:443=open 198.51.100.11:80=closed " "$out"
	for args in "--allow-domain a.test:0/tcp" "--allow-domain a.test:80/icmp" "--allow-domain a.test:" \
		"--allow-domain a.test:1,2,3,4,5" "--allow-domain a.test:80-90/tcp"; do
		rc=0; out=$(sbx $args -- true 2>&1) || rc=$?
		expect_eq "status for $args" 125 "$rc"
		expect_contains "names the flag: $args" "--allow-domain" "$out"
	done
}
