#!/usr/bin/python3
# CVE-2019-5736 from the host's view of a created container: PID is its init, still running
# bulwark. Holds a read fd on /proc/PID/exe, tries to write through the link, runs START (the
# runtime's `start`), then tries again through the fd once the init has exec'd the payload.
# Prints one "key=value" line per observation.
import errno, fcntl, os, subprocess, sys

pid, start = sys.argv[1], sys.argv[2:]
exe = f"/proc/{pid}/exe"
print("link=" + os.readlink(exe))
held = os.open(exe, os.O_RDONLY)
print(f"seals={fcntl.fcntl(held, fcntl.F_GET_SEALS)}")


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
try_write(f"/proc/self/fd/{held}", "after-exec")
