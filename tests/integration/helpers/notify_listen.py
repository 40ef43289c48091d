#!/usr/bin/env python3
"""The caller's NOTIFY_SOCKET for the notify tests (as systemd's would be): binds a datagram
socket at PATH and writes one line per datagram to OUTFILE: "pid=<sender's pid> fds=<n>
<text with each newline as |, a trailing one too>". Ends after SECONDS, or after a datagram with STOPPING=1.
Usage: notify_listen.py PATH OUTFILE SECONDS"""
import os, socket, struct, sys, time

path, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
deadline = time.time() + secs
with open(out, "w", buffering=1) as f:
    f.write("listening\n")
    while time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(64))
        except socket.timeout:
            break
        pid, nfds = -1, 0
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", data[:12])[0]
            elif level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds = struct.unpack("%di" % (len(data) // 4), data[: len(data) // 4 * 4])
                nfds += len(fds)
                for fd in fds:
                    os.close(fd)
        text = msg.decode("ascii", "replace").replace("\n", "|")
        f.write("pid=%d fds=%d %s\n" % (pid, nfds, text))
        if "STOPPING=1" in text.split("|"):
            break
