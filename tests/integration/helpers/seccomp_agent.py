#!/usr/bin/env python3
"""A minimal seccomp notify agent for the integration tests (linux.seccomp.listenerPath).

Usage: seccomp_agent.py SOCKET OUT_JSON EXPECTED_ID EXPECTED_METADATA
Accepts one connection from the runtime, receives the listener fd with the OCI state message,
validates it, then answers every notification with EACCES until the container's last task is
gone (POLLHUP). Writes the received message plus "answered" (a count) to OUT_JSON. Exits 1 when
the message is wrong, 2 on a timeout.
"""
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # struct seccomp_notif, 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # struct seccomp_notif_resp, 24 bytes
NOTIF_SIZE = 80


def check(msg, want_id, want_meta):
    problems = []
    if not str(msg.get("ociVersion", "")).startswith("1."):
        problems.append("ociVersion %r" % msg.get("ociVersion"))
    if msg.get("fds") != ["seccompFd"]:
        problems.append("fds %r" % msg.get("fds"))
    if not isinstance(msg.get("pid"), int) or msg["pid"] <= 0:
        problems.append("pid %r" % msg.get("pid"))
    if msg.get("metadata") != want_meta:
        problems.append("metadata %r" % msg.get("metadata"))
    if (msg.get("state") or {}).get("id") != want_id:
        problems.append("state.id %r" % (msg.get("state") or {}).get("id"))
    return problems


def answer_all(fd):
    answered = 0
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        events = poller.poll(20000)
        if not events:
            sys.exit(2)
        if events[0][1] & select.POLLIN:
            buf = bytearray(NOTIF_SIZE)
            try:
                fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
            except OSError:
                continue  # the caller went away between poll and recv
            notif_id = struct.unpack_from("=Q", buf, 0)[0]
            resp = bytearray(struct.pack("=QqiI", notif_id, 0, -13, 0))
            try:
                fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
                answered += 1
            except OSError:
                pass
        elif events[0][1] & (select.POLLHUP | select.POLLERR):
            return answered


def main():
    path, out, want_id, want_meta = sys.argv[1:5]
    signal.alarm(30)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conn, _ = srv.accept()
    data, fds, _, _ = socket.recv_fds(conn, 65536, 1)
    conn.close()
    srv.close()
    os.unlink(path)
    msg = json.loads(data.decode())
    with open(out, "w") as f:
        json.dump(msg, f)
    problems = check(msg, want_id, want_meta)
    if len(fds) != 1:
        problems.append("%d fds" % len(fds))
    if problems:
        print("seccomp_agent: " + "; ".join(problems), file=sys.stderr)
        for fd in fds:
            os.close(fd)
        sys.exit(1)
    msg["answered"] = answer_all(fds[0])
    os.close(fds[0])
    with open(out, "w") as f:
        json.dump(msg, f)


if __name__ == "__main__":
    main()
