# The sandbox network (issue 5): firewall, policy errors, DNS allowlist, with real packets in
# the test internet of net-lab.sh. The firewall is loaded into a namespace given by path, the
# way an engine's namespace is handled.
. "$(dirname "${BASH_SOURCE[0]}")/net-lab.sh"
BULWARK_NET=${BULWARK_NET:-$(dirname "$BULWARK")/../netns/bulwark-net}

# fw POLICY_JSON [bulwark-net apply options]: load the sandbox firewall from a policy text.
fw() {
	local doc=$1
	shift
	printf '%s' "$doc" >"$LAB_DIR/policy.json"
	"$BULWARK_NET" --netns "$SB_NS" --policy "$LAB_DIR/policy.json" "$@" apply
}

test_net_default_sandbox_has_only_lo() {
	b=$(new_bundle net-lo)
	cfg "$b" '.process.args=["sh","-c","ls /sys/class/net; cat /sys/class/net/lo/operstate"]'
	out=$(bw run -b "$b" net-lo | tr '\n' ' ')
	expect_eq interfaces "lo unknown " "$out"
}

test_net_lab_is_reachable_without_a_firewall() {
	lab_up
	reach tcp 198.51.100.10 80
	reach udp 198.51.100.10 9999
	reach tcp 2001:db8:1::10 80
	reach tcp 169.254.169.254 80
	expect_contains dns "198.51.100.10" "$(probe dns allowed.test 198.51.100.53)"
}

test_net_default_policy_blocks_everything_but_loopback() {
	lab_up
	fw '{}'
	blocked tcp 198.51.100.10 80
	blocked udp 198.51.100.10 9999
	blocked tcp 2001:db8:1::10 80
	blocked dns allowed.test 198.51.100.53
	if sb_exec busybox ping -c1 -W1 198.51.100.10 >/dev/null 2>&1; then fail "ping passed"; fi
	sb_exec python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",7000)); s.listen(1); c=socket.create_connection(("127.0.0.1",7000),1)' ||
		fail "loopback blocked"
}

test_net_allowed_cidr_and_port_reachable_others_blocked() {
	lab_up
	fw '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}'
	reach tcp 198.51.100.10 80
	blocked tcp 198.51.100.10 443
	blocked tcp 198.51.100.20 80
	blocked udp 198.51.100.10 9999
	if sb_exec busybox ping -c1 -W1 198.51.100.10 >/dev/null 2>&1; then fail "icmp passed"; fi
}

test_net_port_ranges_and_icmp_rules() {
	lab_up
	fw '{"egress":[{"action":"allow","protocol":"tcp","port":"443-8080"},{"action":"allow","protocol":"icmp","cidr":"198.51.100.0/24"}]}'
	reach tcp 198.51.100.20 443
	reach tcp 198.51.100.20 8080
	blocked tcp 198.51.100.20 80
	sb_exec busybox ping -c1 -W1 198.51.100.10 >/dev/null || fail "icmp blocked"
}

test_net_metadata_and_host_address_blocked_under_allow_all() {
	lab_up
	fw '{"egress":[{"action":"allow"}]}'
	reach tcp 198.51.100.10 80
	reach tcp 2001:db8:1::10 80
	blocked tcp 169.254.169.254 80
	# 192.0.2.2 is this host's own address (the lab holds a copy: the packet cannot escape).
	if ip -br addr | grep -qw '192.0.2.2/24'; then blocked tcp 192.0.2.2 80; fi
	fw '{"egress":[{"action":"allow","cidr":"169.254.0.0/16"}]}'
	blocked tcp 169.254.169.254 80
}

test_net_rule_order_first_match_wins() {
	lab_up
	fw '{"egress":[{"action":"deny","cidr":"198.51.100.10/32"},{"action":"allow","cidr":"198.51.100.0/24"}]}'
	blocked tcp 198.51.100.10 80
	reach tcp 198.51.100.20 80
	fw '{"egress":[{"action":"allow","cidr":"198.51.100.0/24"},{"action":"deny","cidr":"198.51.100.10/32"}]}'
	reach tcp 198.51.100.10 80
}

test_net_ipv6_blocked_unless_allowed() {
	lab_up
	fw '{"egress":[{"action":"allow","cidr":"0.0.0.0/0"}]}'
	reach tcp 198.51.100.10 80
	blocked tcp 2001:db8:1::10 80
	fw '{"egress":[{"action":"allow","cidr":"2001:db8::/32"}]}'
	reach tcp 2001:db8:1::10 80
}

test_net_annotations_narrow_the_host_policy() {
	lab_up
	fw '{"egress":[{"action":"allow"}]}' --annotation 'run.bulwark.net.egress=[{"action":"allow","protocol":"tcp","port":443}]'
	reach tcp 198.51.100.10 443
	blocked tcp 198.51.100.10 80
}

test_net_ingress_default_deny_and_allowed_port() {
	lab_up
	# nsenter itself in the background (not the sb_exec function) so $! is the process that
	# becomes the listener and `kill` ends it.
	nsenter --net="$SB_NS" python3 -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0",8088)); s.listen(8)
while True:
    c,_=s.accept(); c.sendall(b"sandbox\n"); c.close()' </dev/null >/dev/null 2>&1 &
	lsn=$!
	sleep 0.3
	lab_probe() { lab_exec python3 "$LAB_DIR/probe.py" tcp 203.0.113.2 8088 >/dev/null; }
	fw '{"egress":[{"action":"allow"}]}'
	if lab_probe; then kill $lsn; fail "ingress passed"; fi
	fw '{"ingress":[{"action":"allow","protocol":"tcp","port":8088,"cidr":"203.0.113.1/32"}]}'
	lab_probe || { kill $lsn; fail "allowed ingress blocked"; }
	kill $lsn
	wait $lsn 2>/dev/null || true
}

test_net_bad_policies_give_clear_errors_and_load_nothing() {
	lab_up
	out=$(fw '{"egress":[{"action":"allow","cidr":"10.0.0.0/33"}]}' 2>&1) && fail "bad CIDR accepted"
	expect_contains error 'egress[0].cidr: invalid CIDR "10.0.0.0/33"' "$out"
	out=$(fw '{"egress":[' 2>&1) && fail "malformed policy accepted"
	expect_contains error "invalid JSON" "$out"
	out=$(fw '{}' --annotation 'run.bulwark.net.allow-domains=ok.test,foo.*.com' 2>&1) &&
		fail "bad wildcard accepted"
	expect_contains error 'run.bulwark.net.allow-domains[1]: bad wildcard "foo.*.com"' "$out"
	if "$BULWARK_NET" --netns "$SB_NS" list >/dev/null 2>&1; then fail "a table was loaded"; fi
}

# The base bundle is runc's default, which grants CAP_NET_RAW: policy tests drop it.
no_net_raw() { cfg "$1" '.process.capabilities |= map_values(map(select(. != "CAP_NET_RAW")))'; }

# Under a policy, a capability that gets around the firewall (rewrite it, or send packet-socket
# frames that never pass it) refuses the create, naming the capability.
test_net_runtime_refuses_capabilities_that_bypass_the_firewall() {
	echo '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}' >"$WORK/pol.json"
	b=$(new_bundle net-caps)
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --policy "$WORK/pol.json" run -b "$b" net-caps </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "started with CAP_NET_RAW under a policy"
	expect_contains error "grants CAP_NET_RAW" "$out"
	no_net_raw "$b"
	cfg "$b" '.process.capabilities.bounding += ["CAP_NET_ADMIN"]'
	rc=0; out=$("$BULWARK" --root "$BW_ROOT" --policy "$WORK/pol.json" run -b "$b" net-caps </dev/null 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "started with CAP_NET_ADMIN under a policy"
	expect_contains error "grants CAP_NET_ADMIN" "$out"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
}

test_net_runtime_refuses_bad_policy_and_starts_nothing() {
	b=$(new_bundle net-badpol)
	echo '{"egress":[{"action":"allow","cidr":"10.0.0.0/33"}]}' >"$WORK/bad.json"
	cfg "$b" '.process.args=["sh","-c","touch /tmp/started"]'
	out=$("$BULWARK" --root "$BW_ROOT" --policy "$WORK/bad.json" run -b "$b" net-badpol 2>&1) &&
		fail "bulwark started a container under an invalid policy"
	expect_contains error 'egress[0].cidr: invalid CIDR "10.0.0.0/33"' "$out"
}

# An engine passes the namespace by path; the container inside has no CAP_NET_ADMIN.
test_net_container_in_joined_namespace_is_filtered_and_cannot_change_it() {
	lab_up
	fw '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}'
	b=$(new_bundle net-join)
	cfg "$b" ".linux.namespaces |= map(if .type == \"network\" then .path = \"$SB_NS\" else . end)"
	cfg "$b" '.process.args=["sh","-c","nc -w 2 198.51.100.10 80 </dev/null; echo rc=$?; nc -w 1 198.51.100.20 80 </dev/null; echo rc=$?; ip link set lo down; echo ip=$?"]'
	out=$(bw run -b "$b" net-join 2>&1 | tr '\n' ' ')
	expect_contains allowed "rc=0" "$out"
	expect_contains denied "rc=1" "$out"
	expect_contains "no CAP_NET_ADMIN" "Operation not permitted" "$out"
	"$BULWARK_NET" --netns "$SB_NS" list | grep -q 'ip daddr 198.51.100.10 ' || fail "table changed"
}

test_net_ten_thousand_cidr_rules_load() {
	lab_up
	python3 -c 'import json
r=[{"action":"deny","protocol":"tcp","port":1+i%60000,"cidr":"10.%d.%d.0/24"%(i//256,i%256)} for i in range(10000)]
r.append({"action":"allow","cidr":"198.51.100.10/32"})
print(json.dumps({"egress":r}))' >"$LAB_DIR/big.json"
	start=$(date +%s%N)
	"$BULWARK_NET" --netns "$SB_NS" --policy "$LAB_DIR/big.json" apply
	echo "    10,000 CIDR rules loaded in $((($(date +%s%N) - start) / 1000000)) ms"
	reach tcp 198.51.100.10 80
	blocked tcp 198.51.100.20 80
}

# Direct mode: bulwark makes the veth pair, the route and the host's NAT; a sandbox reaches
# the lab through the host (a temporary host route to one lab address), and everything is
# removed with the last sandbox. ip_forward is restored to what it was.
test_net_direct_mode_plumbing_reaches_the_lab_and_is_removed() {
	lab_up
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	lab_netns direct
	cleanup_direct() {
		"$BULWARK_NET" --id "bwit-direct-$$" unplumb 2>/dev/null || true
		ip route del 198.51.100.10/32 via 198.51.100.254 2>/dev/null || true
		ip link del bwlab-h 2>/dev/null || true
		echo "$fwd" >/proc/sys/net/ipv4/ip_forward || true
		kill "$direct" 2>/dev/null || true
		lab_down
	}
	trap cleanup_direct EXIT
	ip link add bwlab-h type veth peer name v-host netns "$LAB_HOLDER"
	ip addr add 198.51.100.253/30 dev bwlab-h
	ip link set bwlab-h up
	lab_exec ip addr add 198.51.100.254/30 dev v-host
	lab_exec ip link set v-host up
	ip route add 198.51.100.10/32 via 198.51.100.254
	out=$("$BULWARK_NET" --netns "/proc/$direct/ns/net" --id "bwit-direct-$$" plumb)
	gw=$(echo "$out" | jq -r .gateway)
	hostif=$(echo "$out" | jq -r .hostInterface)
	expect_contains address "10.213." "$(echo "$out" | jq -r .address)"
	expect_contains route "default via $gw dev eth0" "$(nsenter --net=/proc/$direct/ns/net ip route)"
	"$BULWARK_NET" list-nat | grep -q masquerade || fail "no NAT table"
	printf '%s' '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}' >"$LAB_DIR/d.json"
	"$BULWARK_NET" --netns "/proc/$direct/ns/net" --policy "$LAB_DIR/d.json" apply
	out=$(nsenter --net=/proc/$direct/ns/net python3 "$LAB_DIR/probe.py" tcp 198.51.100.10 80) ||
		fail "lab not reachable through NAT: $out"
	expect_contains "NAT source" "hello from 198.51.100.10:80" "$out"
	if nsenter --net=/proc/$direct/ns/net python3 "$LAB_DIR/probe.py" tcp "$gw" 80 >/dev/null; then
		fail "host gateway reachable"
	fi
	if nsenter --net=/proc/$direct/ns/net python3 "$LAB_DIR/probe.py" tcp 198.51.100.10 443 >/dev/null; then
		fail "denied port reachable"
	fi
	ip route del 198.51.100.10/32 via 198.51.100.254
	"$BULWARK_NET" --id "bwit-direct-$$" unplumb
	if ip -br link | grep -q "^bw-"; then :; else
		if "$BULWARK_NET" list-nat >/dev/null 2>&1; then fail "NAT table left after the last sandbox"; fi
	fi
	if ip link show "$hostif" >/dev/null 2>&1; then fail "veth $hostif left"; fi
}

# The runtime itself enforces --policy (through the helper) before the process starts.
test_net_runtime_enforces_host_policy_in_a_joined_namespace() {
	lab_up
	echo '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}' >"$WORK/pol.json"
	b=$(new_bundle net-rtpol)
	no_net_raw "$b"
	cfg "$b" ".linux.namespaces |= map(if .type == \"network\" then .path = \"$SB_NS\" else . end)"
	cfg "$b" '.process.args=["sh","-c","nc -w 2 198.51.100.10 80 </dev/null >/dev/null 2>&1; echo rc=$?; nc -w 1 198.51.100.10 81 </dev/null >/dev/null 2>&1; echo rc=$?"]'
	out=$("$BULWARK" --root "$BW_ROOT" --policy "$WORK/pol.json" run -b "$b" net-rtpol 2>&1 | tr '\n' ' ')
	expect_eq "allowed, then denied" "rc=0 rc=1 " "$out"
	"$BULWARK_NET" --netns "$SB_NS" list | grep -q 'ip daddr 198.51.100.10 ' || fail "no table loaded"
}

# Direct mode through the runtime: a policy allowing egress in a fresh netns gets a veth, and
# everything (link, NAT table, ip_forward) is as before once the container is gone.
test_net_runtime_direct_mode_plumbs_and_restores_the_host() {
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	echo '{"egress":[{"action":"allow","protocol":"tcp","port":80,"cidr":"198.51.100.10/32"}]}' >"$WORK/pol.json"
	b=$(new_bundle net-direct)
	no_net_raw "$b"
	cfg "$b" '.process.args=["sh","-c","ip addr show eth0 | grep -c \"inet 10.213.\""]'
	out=$("$BULWARK" --root "$BW_ROOT" --policy "$WORK/pol.json" run -b "$b" net-direct </dev/null)
	expect_eq "sandbox address" 1 "$out"
	[ -z "$(ip -o link show | grep ' bw-')" ] || fail "host veth left: $(ip -o link show | grep ' bw-')"
	expect_eq "ip_forward restored" "$fwd" "$(cat /proc/sys/net/ipv4/ip_forward)"
}

# `bulwark-net setup` (what create runs) undoes the plumbing it made when a later step fails:
# here the agent cannot watch a process that is gone.
test_net_setup_undoes_its_plumbing_when_a_later_step_fails() {
	fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	lab_netns holder
	true & gone=$!
	wait "$gone"
	rc=0
	out=$("$BULWARK_NET" --netns "/proc/$holder/ns/net" --id "bwit-setup-$$" --pid "$gone" \
		--no-dns --plumb setup 2>&1) || rc=$?
	kill "$holder"
	[ "$rc" -ne 0 ] || fail "setup succeeded without its process"
	expect_eq "one line" 1 "$(echo "$out" | wc -l)"
	expect_contains "names the pid" "--pid" "$out"
	[ -z "$(ip -o link show | grep ' bw-')" ] || fail "veth left: $(ip -o link show | grep ' bw-')"
	expect_eq "ip_forward restored" "$fwd" "$(cat /proc/sys/net/ipv4/ip_forward)"
}
