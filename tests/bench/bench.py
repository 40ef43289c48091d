#!/usr/bin/env python3
"""Startup bench: N sequential `run` of /bin/true and N create+start+delete cycles with bulwark,
runc and crun on the same bundle, in one run. Prints medians, ratios against runc and crun, and
each runtime's peak RSS (max over the runtime process and the children it reaped). Timings on
shared machines are noisy: only the ratios measured together mean anything."""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

RSSWRAP = os.environ.get("RSSWRAP")
WORK = None

def run_measured(argv):
    """Wall time of the command, and its peak RSS measured by the tiny rsswrap helper."""
    out = os.path.join(WORK, "rss")
    t0 = time.perf_counter()
    p = subprocess.run([RSSWRAP] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=open(out + ".err", "w"), env=dict(os.environ, RSSWRAP_OUT=out))
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed ({p.returncode}): " + open(out + ".err").read().strip())
    with open(out) as f:
        return dt, int(f.read())

def make_bundle(root):
    rootfs = os.path.join(root, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
    for a in ("true", "sh"):
        os.symlink("busybox", os.path.join(rootfs, "bin", a))
    for d in ("proc", "dev", "sys", "tmp"):
        os.makedirs(os.path.join(rootfs, d))
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(root, "config.json"), "w") as f:
        json.dump(cfg, f)
    return root

def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    runtimes = {}
    for name, path in (("bulwark", os.environ.get("BULWARK", "build/bulwark")),
                       ("runc", shutil.which("runc")), ("crun", shutil.which("crun"))):
        if path:
            runtimes[name] = os.path.abspath(path) if os.path.exists(path) else path
    global WORK
    work = WORK = tempfile.mkdtemp(prefix="bwbench.")
    os.chmod(work, 0o755)
    bundle = make_bundle(os.path.join(work, "bundle"))
    # Interleaved: iteration i runs every runtime once, so load changes hit all of them alike.
    data = {name: {"run": [], "cycle": [], "rss": 0} for name in runtimes}
    # State roots on tmpfs, where every runtime keeps them in real use (/run).
    state = tempfile.mkdtemp(prefix="bwbench-state.", dir="/run")
    g = {name: [path, "--root", os.path.join(state, name)] for name, path in runtimes.items()}
    for name in runtimes:  # warm-up: page cache, compiled seccomp/BPF caches
        run_measured(g[name] + ["run", "-b", bundle, f"warm-{name}"])
    for i in range(n):
        for name in runtimes:
            d = data[name]
            dt, m = run_measured(g[name] + ["run", "-b", bundle, f"r{i}-{name}"])
            d["run"].append(dt)
            d["rss"] = max(d["rss"], m)
            cid = f"c{i}-{name}"
            t0 = time.perf_counter()
            _, m1 = run_measured(g[name] + ["create", "-b", bundle, cid])
            _, m2 = run_measured(g[name] + ["start", cid])
            for _ in range(500):  # let /bin/true finish so delete does not race it
                out = subprocess.run(g[name] + ["state", cid], capture_output=True, text=True)
                if '"stopped"' in out.stdout:
                    break
                time.sleep(0.002)
            _, m3 = run_measured(g[name] + ["delete", cid])
            d["cycle"].append(time.perf_counter() - t0)
            d["rss"] = max(d["rss"], m1, m2, m3)
    results = {name: {"run_ms": statistics.median(d["run"]) * 1000,
                      "cycle_ms": statistics.median(d["cycle"]) * 1000, "rss_kb": d["rss"]}
               for name, d in data.items()}
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)
    print(f"{'runtime':8} {'run median':>12} {'create+start+delete':>20} {'peak RSS':>10}")
    for name, r in results.items():
        print(f"{name:8} {r['run_ms']:10.1f}ms {r['cycle_ms']:18.1f}ms {r['rss_kb']:8d}KB")
    b = results.get("bulwark")
    for other in ("runc", "crun"):
        o = results.get(other)
        if b and o:
            print(f"bulwark/{other}: run {b['run_ms']/o['run_ms']:.2f}x, "
                  f"create+start+delete {b['cycle_ms']/o['cycle_ms']:.2f}x, "
                  f"peak RSS {b['rss_kb']/o['rss_kb']:.2f}x")

main()
