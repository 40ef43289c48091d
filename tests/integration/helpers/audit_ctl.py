#!/usr/bin/python3
# The kernel's audit switch, for the test of Landlock refusals in the report (the kernel logs
# those only while audit is on). `audit_ctl.py get` prints "enabled failure"; `audit_ctl.py set
# N` sets enabled to N (0 or 1). AUDIT_GET/AUDIT_SET over NETLINK_AUDIT. `audit_ctl.py watch
# CMD...` runs CMD and prints the seccomp records (type 1326) the kernel logged meanwhile.
import socket, struct, subprocess, sys, time

AUDIT_GET, AUDIT_SET, NETLINK_AUDIT = 1000, 1001, 9
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
s.bind((0, 0))
if sys.argv[1] == "watch":
    w = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
    w.bind((0, 1))  # AUDIT_NLGRP_READLOG
    subprocess.run(sys.argv[2:])
    w.settimeout(0.3)
    while True:
        try:
            d = w.recv(65536)
        except socket.timeout:
            break
        ln, typ = struct.unpack("=IH", d[:6])
        if typ == 1326:
            print(d[16:].decode(errors="replace").rstrip("\0"))
elif sys.argv[1] == "get":
    s.send(struct.pack("=IHHII", 16, AUDIT_GET, 1, 1, 0))
    while True:
        d = s.recv(65536)
        typ = struct.unpack("=H", d[4:6])[0]
        if typ == AUDIT_GET:
            mask, enabled, failure = struct.unpack("=3I", d[16:28])
            print(enabled, failure)
            break
        if typ == 2 and struct.unpack("=i", d[16:20])[0] != 0:
            sys.exit("AUDIT_GET refused")
else:
    st = struct.pack("=9I", 1, int(sys.argv[2]), 0, 0, 0, 0, 0, 0, 0)  # mask: ENABLED
    s.send(struct.pack("=IHHII", 16 + len(st), AUDIT_SET, 1 | 4, 1, 0) + st)
    d = s.recv(65536)
    err = struct.unpack("=i", d[16:20])[0]
    if err != 0:
        sys.exit("AUDIT_SET: error %d" % err)
