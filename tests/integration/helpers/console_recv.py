#!/usr/bin/env python3
"""Console-socket receiver (ENGINES.md §5): accepts one connection, receives one fd with
SCM_RIGHTS, reports the payload and what the fd is, optionally writes input and echoes what the
container prints. Usage: console_recv.py SOCKET OUTFILE [INPUT]"""
import os, socket, stat, sys, time

path, out = sys.argv[1], sys.argv[2]
data_in = sys.argv[3].encode() if len(sys.argv) > 3 else b""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
s.settimeout(20)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 4)
st = os.fstat(fds[0])
lines = [f"payload={msg.decode()}", f"nfds={len(fds)}",
         f"chr={int(stat.S_ISCHR(st.st_mode))}", f"major={os.major(st.st_rdev)}"]
if data_in:
    os.write(fds[0], data_in)
buf = b""
deadline = time.time() + 10
os.set_blocking(fds[0], False)
while time.time() < deadline:
    try:
        chunk = os.read(fds[0], 4096)
        if not chunk:
            break
        buf += chunk
        if b"DONE" in buf:
            break
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        break
lines.append("output=" + buf.decode(errors="replace").replace("\r", "").replace("\n", "|"))
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
