#!/usr/bin/python3
# A console socket for --console-socket (the security tests): receives the pty master (one SCM_RIGHTS fd, payload
# /dev/ptmx), copies everything the container writes into OUT until the pty hangs up.
# Gives up after 10 s without a connection. Usage: sec_console_recv.py SOCKET OUT
import os, socket, sys

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(10)
try:
    conn, _ = srv.accept()
except socket.timeout:
    sys.exit(2)
msg, fds, _, _ = socket.recv_fds(conn, 64, 1)
with open(out, "wb") as f:
    f.write(b"payload=" + msg + b"\n")
    f.flush()
    while fds:
        try:
            data = os.read(fds[0], 4096)
        except OSError:  # EIO: every slave closed
            break
        if not data:
            break
        f.write(data)
        f.flush()
