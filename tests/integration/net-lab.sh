# A small test internet made of network namespaces, for the network tests. Only documentation
# addresses are used and every packet stays inside these namespaces:
#   lab namespace ("the internet"): its lo holds the servers' addresses
#     198.51.100.10 web (allowed.test)   198.51.100.20 web (denied.test)
#     198.51.100.11/.12 cdn/short-TTL    198.51.100.53, 198.51.100.54 DNS resolvers
#     2001:db8:1::10 web over IPv6       169.254.169.254 a fake metadata service
#     192.0.2.2 = this host's own address (so "the host's address" lands in the lab too)
#     10.77.0.10, fd00:77::10 an "intranet" server (private addresses, for DNS rebinding)
#   sandbox namespace: eth0 203.0.113.2/24, 2001:db8:2::2/64, default routes to the lab.
# TCP listeners on 80, 443, 8080 and a UDP echo on 9999 at every server address; the DNS
# servers answer A/AAAA/CNAME from a fixed table, over UDP (truncating big answers) and TCP,
# and write every query they get to $LAB_DIR/queries.log ("udp|tcp HEX" lines).
# Usage: lab_up (sets LAB_NS, SB_NS = /proc/PID/ns/net paths, LAB_DIR; tears down on exit),
# sb_exec / lab_exec CMD..., probe ..., reach/blocked PROBE-ARGS.

LAB_SERVER_PY='
import socket, struct, sys, threading, selectors
ADDRS = ["198.51.100.10", "198.51.100.20", "198.51.100.11", "198.51.100.12",
         "169.254.169.254", "192.0.2.2", "2001:db8:1::10", "198.51.100.53", "198.51.100.54",
         "10.77.0.10", "fd00:77::10"]
A, AAAA, CNAME = 1, 28, 5
ZONE = {
  "allowed.test": [(A, 60, "198.51.100.10"), (AAAA, 60, "2001:db8:1::10")],
  "denied.test": [(A, 60, "198.51.100.20")],
  "www.alias.test": [(CNAME, 60, "target.cdn.test")],
  "target.cdn.test": [(A, 60, "198.51.100.11")],
  "short.test": [(A, 1, "198.51.100.12")],
  "meta.test": [(A, 60, "169.254.169.254")],
  "intranet.test": [(A, 60, "10.77.0.10"), (AAAA, 60, "fd00:77::10")],
  "mixed.test": [(A, 60, "198.51.100.10"), (A, 60, "10.77.0.10")],
  "big.test": [(A, 60, "198.51.100.%d" % i) for i in range(100, 140)],
}
def name_wire(n):
    return b"".join(bytes([len(l)]) + l.encode() for l in n.split(".") if l) + b"\0"
def rdata(t, v):
    if t == A: return socket.inet_pton(socket.AF_INET, v)
    if t == AAAA: return socket.inet_pton(socket.AF_INET6, v)
    return name_wire(v)
def answer(q, limit):
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode()); i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name, ans, rcode = ".".join(labels).lower(), [], 0
    while True:
        recs = ZONE.get(name)
        if recs is None:
            rcode = 3 if not ans else 0; break
        cn = [r for r in recs if r[0] == CNAME]
        for t, ttl, v in (cn or [r for r in recs if r[0] == qtype]):
            d = rdata(t, v)
            ans.append(name_wire(name) + struct.pack("!HHIH", t, 1, ttl, len(d)) + d)
        if not cn: break
        name = cn[0][2]
    out = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(ans), 0, 0) + question + b"".join(ans)
    if limit and len(out) > limit:
        out = struct.pack("!HHHHHH", qid, 0x8380, 1, 0, 0, 0) + question
    return out
QLOG, QLOCK = open(sys.argv[0].rsplit("/", 1)[0] + "/queries.log", "a"), threading.Lock()
def logq(proto, q):
    with QLOCK:
        QLOG.write("%s %s\n" % (proto, q.hex())); QLOG.flush()
def serve_tcp(s, port):
    while True:
        c, _ = s.accept()
        try:
            if port == 53:
                n = struct.unpack("!H", c.recv(2, socket.MSG_WAITALL))[0]
                q = c.recv(n, socket.MSG_WAITALL)
                logq("tcp", q)
                r = answer(q, 0)
                c.sendall(struct.pack("!H", len(r)) + r)
            else:
                c.sendall(("hello from %s:%d\n" % (c.getsockname()[0], port)).encode())
        except Exception: pass
        c.close()
def serve_udp(s, port):
    while True:
        d, peer = s.recvfrom(65535)
        if port == 53: logq("udp", d)
        try: s.sendto(answer(d, 512) if port == 53 else d, peer)
        except Exception: pass
for a in ADDRS:
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    ports = [53] if a.endswith(".53") or a.endswith(".54") else [80, 443, 8080, 9999]
    for p in ports:
        t = socket.socket(fam, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, p)); t.listen(64)
        threading.Thread(target=serve_tcp, args=(t, p), daemon=True).start()
        u = socket.socket(fam, socket.SOCK_DGRAM); u.bind((a, p))
        threading.Thread(target=serve_udp, args=(u, p), daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
'

# probe tcp HOST PORT | udp HOST PORT | dns NAME SERVER [A|AAAA] [tcp]: exit 0 on success;
# dns prints "rcode=N tc=B" and the addresses.
LAB_PROBE_PY='
import socket, struct, sys, random
kind, host = sys.argv[1], sys.argv[2]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
def tcp(port):
    s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(1)
    s.connect((host, port)); print(s.recv(100).decode().strip())
def udp(port):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(1)
    s.sendto(b"ping", (host, port)); assert s.recv(100) == b"ping"; print("echo")
def dns(server, qtype, proto):
    t = {"A": 1, "AAAA": 28}[qtype]
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in host.split(".")) + b"\0" + struct.pack("!HH", t, 1)
    sf = socket.AF_INET6 if ":" in server else socket.AF_INET
    if proto == "tcp":
        s = socket.socket(sf, socket.SOCK_STREAM); s.settimeout(2); s.connect((server, 53))
        s.sendall(struct.pack("!H", len(q)) + q)
        n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]; r = s.recv(n, socket.MSG_WAITALL)
    else:
        s = socket.socket(sf, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q, (server, 53)); r = s.recv(4096)
    rid, flags, qd, an = struct.unpack("!HHHH", r[:8]); assert rid == qid
    i = 12
    for _ in range(qd):
        while r[i]: i += 1 + r[i]
        i += 5
    out = []
    for _ in range(an):
        while True:
            if r[i] >= 0xc0: i += 2; break
            if r[i] == 0: i += 1; break
            i += 1 + r[i]
        rt, _, ttl, ln = struct.unpack("!HHIH", r[i:i + 10]); i += 10
        if rt in (1, 28): out.append(socket.inet_ntop(socket.AF_INET if rt == 1 else socket.AF_INET6, r[i:i + ln]))
        i += ln
    print("rcode=%d tc=%d %s" % (flags & 15, (flags >> 9) & 1, " ".join(out)))
    sys.exit(0 if flags & 15 == 0 else 3)
try:
    if kind == "tcp": tcp(int(sys.argv[3]))
    elif kind == "udp": udp(int(sys.argv[3]))
    else: dns(sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "A", sys.argv[5] if len(sys.argv) > 5 else "udp")
except (OSError, AssertionError) as e:
    print("failed: %s" % e); sys.exit(1)
'

lab_down() {
	[ -n "${LAB_PID:-}" ] && kill "$LAB_PID" 2>/dev/null && { wait "$LAB_PID" 2>/dev/null || true; }
	for p in ${SB_HOLDER:-} ${LAB_HOLDER:-}; do kill "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }; done
	rm -rf "$LAB_DIR"
	return 0
}

# lab_netns VAR: a network namespace held by a sleeping process (no bind mount under
# /run/netns: the tests must leave the mount table as they found it); VAR gets its pid.
lab_netns() {
	unshare --net sleep infinity </dev/null >/dev/null 2>&1 &
	local pid=$!
	printf -v "$1" '%s' "$pid"
	for _ in $(seq 50); do
		[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] && return 0
		sleep 0.02
	done
	return 1
}

lab_up() {
	LAB_DIR=$(mktemp -d /tmp/bwlab.XXXXXX)
	trap lab_down EXIT
	printf '%s' "$LAB_SERVER_PY" >"$LAB_DIR/server.py"
	printf '%s' "$LAB_PROBE_PY" >"$LAB_DIR/probe.py"
	lab_netns LAB_HOLDER
	lab_netns SB_HOLDER
	LAB_NS=/proc/$LAB_HOLDER/ns/net
	SB_NS=/proc/$SB_HOLDER/ns/net
	local L="nsenter --net=$LAB_NS ip" S="nsenter --net=$SB_NS ip"
	$L link set lo up
	$S link set lo up
	for a in 198.51.100.10 198.51.100.20 198.51.100.11 198.51.100.12 198.51.100.53 \
		198.51.100.54 169.254.169.254 192.0.2.2; do
		$L addr add "$a/32" dev lo
	done
	$L addr add 2001:db8:1::10/128 dev lo nodad
	$L addr add 10.77.0.10/32 dev lo
	$L addr add fd00:77::10/128 dev lo nodad
	$L link add v-sb type veth peer name eth0 netns "$SB_HOLDER"
	$L addr add 203.0.113.1/24 dev v-sb
	$L addr add 2001:db8:2::1/64 dev v-sb nodad
	$L link set v-sb up
	$S addr add 203.0.113.2/24 dev eth0
	$S addr add 2001:db8:2::2/64 dev eth0 nodad
	$S link set eth0 up
	$S route add default via 203.0.113.1
	$S -6 route add default via 2001:db8:2::1
	nsenter --net="$LAB_NS" python3 -u "$LAB_DIR/server.py" >"$LAB_DIR/server.log" 2>&1 &
	LAB_PID=$!
	for _ in $(seq 50); do grep -q ready "$LAB_DIR/server.log" 2>/dev/null && return 0; sleep 0.1; done
	cat "$LAB_DIR/server.log" >&2
	return 1
}

sb_exec() { nsenter --net="$SB_NS" "$@"; }
lab_exec() { nsenter --net="$LAB_NS" "$@"; }
probe() { nsenter --net="$SB_NS" python3 "$LAB_DIR/probe.py" "$@"; }
# reach / blocked: assert a probe from the sandbox succeeds / fails.
reach() { probe "$@" >/dev/null || fail "not reachable but should be: $*"; }
blocked() { if probe "$@" >/dev/null; then fail "reachable but should be blocked: $*"; fi; }
