#!/usr/bin/env python3
"""Interleaved start-to-exit timing of several commands, for the benches' ratios.

Usage: interleave.py [-n N] [--warm K] [--rss RSSWRAP --rss-of NAME...] [--ratio A/B]...
                     NAME=COMMAND...
Each COMMAND is split like a shell word list (no shell runs it). Iteration i runs every command
once, in turn, so a change of load on the shared machine hits all of them alike. Prints, per
command, the median and p90 wall time, then each requested ratio of medians and p90s. With
--rss, the commands named by --rss-of run 3 more times under the rsswrap helper (a tiny C
parent: a child spawned by this interpreter would report the interpreter's own RSS, which exec
carries over), which reports the peak RSS of the command and every child it reaped. A command
that fails stops the bench with its stderr. Timings on a shared machine are noisy: only ratios
taken in one run mean anything."""
import argparse, math, os, shlex, statistics, sys, tempfile, time


def pctl(xs, p):
    """The p-th percentile, nearest rank (no interpolation: a sample that happened)."""
    s = sorted(xs)
    return s[min(len(s), max(1, math.ceil(p / 100.0 * len(s)))) - 1]


def run_once(argv, errpath):
    """Wall time (s) of one run; spawned without a shell, stdio on /dev/null and errpath."""
    fa = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
          (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
          (os.POSIX_SPAWN_OPEN, 2, errpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)]
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=fa)
    _, status = os.waitpid(pid, 0)
    dt = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        with open(errpath) as f:
            msg = f.read().strip()
        sys.exit("bench: `%s` failed (%d): %s" % (shlex.join(argv), os.waitstatus_to_exitcode(status),
                                                   msg[-600:]))
    return dt


def peak_rss(wrap, argv, errpath):
    out = errpath + ".rss"
    os.environ["RSSWRAP_OUT"] = out
    try:
        run_once([wrap] + argv, errpath)
        with open(out) as f:
            return int(f.read())
    finally:
        del os.environ["RSSWRAP_OUT"]
        if os.path.exists(out):
            os.unlink(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--warm", type=int, default=2)
    ap.add_argument("--rss", metavar="RSSWRAP")
    ap.add_argument("--rss-of", action="append", default=[])
    ap.add_argument("--ratio", action="append", default=[])
    ap.add_argument("cmds", nargs="+")
    a = ap.parse_args()
    cmds = []
    for c in a.cmds:
        name, _, line = c.partition("=")
        cmds.append((name, shlex.split(line)))
    errfd, errpath = tempfile.mkstemp(prefix="bwbench-err.")
    os.close(errfd)
    data = {name: {"t": [], "rss": 0} for name, _ in cmds}
    try:
        for _ in range(a.warm):  # page cache, compiled filters, the daemons' first-call paths
            for _, argv in cmds:
                run_once(argv, errpath)
        for _ in range(a.n):
            for name, argv in cmds:
                data[name]["t"].append(run_once(argv, errpath) * 1000)
        for name, argv in cmds:
            if a.rss and name in a.rss_of:
                data[name]["rss"] = max(peak_rss(a.rss, argv, errpath) for _ in range(3))
    finally:
        os.unlink(errpath)
    res = {}
    print("%-16s %10s %10s%s" % ("command", "median", "p90", "   peak RSS" if a.rss else ""))
    for name, _ in cmds:
        t = data[name]["t"]
        res[name] = (statistics.median(t), pctl(t, 90), data[name]["rss"])
        print("%-16s %8.2fms %8.2fms%s" % (name, res[name][0], res[name][1],
                                          ("  %8d KiB" % res[name][2] if res[name][2] else
                                           "         -") if a.rss else ""))
    for r in a.ratio:
        x, _, y = r.partition("/")
        line = "ratio %s/%s: median %.2fx, p90 %.2fx" % (
            x, y, res[x][0] / res[y][0], res[x][1] / res[y][1])
        if res[x][2] and res[y][2]:
            line += ", peak RSS %.2fx" % (res[x][2] / res[y][2])
        print(line)


main()
