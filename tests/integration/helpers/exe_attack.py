#!/usr/bin/python3
# CVE-2019-5736 from the host's view of a created container: PID is its init, still running
# bulwark. Holds a read fd on /proc/PID/exe, tries to write through the link, runs START (the
# runtime's `start`), then tries again through the fd once the init has exec'd the payload.
# Prints one "key=value" line per observation.
import errno, fcntl, os, subprocess, sys, time

pid, start = sys.argv[1], sys.argv[2:]
exe = f"/proc/{pid}/exe"
first = os.readlink(exe)
print("link=" + first)
held = os.open(exe, os.O_RDONLY)
try:
    print(f"seals={fcntl.fcntl(held, fcntl.F_GET_SEALS)}")
except OSError:
    # Not a memfd: the runtime's other sealed form, a read-only overlay (runtime/sealed.c).
    v = os.fstatvfs(held)
    print("sealed-by=" + ("read-only" if v.f_flag & os.ST_RDONLY else "nothing"))


def try_write(path, when):
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        print(f"open-{when}={errno.errorcode[e.errno]}")
        return
    try:
        os.write(fd, b"#!/bin/sh\necho pwned\n")
        print(f"write-{when}=ok")
    except OSError as e:
        print(f"write-{when}={errno.errorcode[e.errno]}")
    finally:
        os.close(fd)


try_write(exe, "running")
subprocess.run(start, check=True)
# `start` returns once the init has been told to go; its execve of the payload happens a moment
# later. Until then the sealed copy is still being executed, so wait for the link to change.
deadline = time.monotonic() + 10
while time.monotonic() < deadline:
    try:
        if os.readlink(exe) != first:
            break
    except OSError:
        break
    time.sleep(0.01)
print("exe-after-start=" + os.readlink(exe))
try_write(f"/proc/self/fd/{held}", "after-exec")
