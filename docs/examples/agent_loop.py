#!/usr/bin/env python3
"""An agent loop: run model-written Python in a throw-away bulwark sandbox, read the report.

The "model" here is a stand-in (a list of candidate programs); plug in your own. Each attempt
runs with a time-out, a memory cap, no network except the allowed domains, and the workspace
as an overlay, so the code can write freely while the real directory stays untouched. The
JSON report (docs/report.md) says how it ended and what it was refused.

    sudo python3 docs/examples/agent_loop.py [--bulwark PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

CANDIDATES = [
    # 1: loops forever -> killed at the deadline, timed_out
    "while True:\n    pass\n",
    # 2: tries to phone home -> no network, the attempt fails
    "import socket\nsocket.create_connection(('198.51.100.20', 80), timeout=1)\n",
    # 3: the right answer (no final newline: the output is exactly what the program wrote)
    "import sys\nsys.stdout.write(str(sum(range(101))))\n",
]


def run_in_sandbox(bulwark, code, workdir, allow_domains=(), timeout="5s", memory="256m"):
    """Run code; return (stdout of the program, the report as a dict)."""
    path = os.path.join(workdir, "solution.py")
    with open(path, "w") as f:
        f.write(code)
    # The report goes to a file of its own, outside the workspace: the program's stdout is
    # then exactly what it wrote, whatever it wrote (no final newline, text that looks like
    # JSON).
    with tempfile.TemporaryDirectory() as reports:
        report_path = os.path.join(reports, "report.json")
        cmd = [bulwark, "sandbox", "--timeout", timeout, "--memory", memory,
               "--workspace", workdir + ":overlay", "--report", report_path]
        for d in allow_domains:
            cmd += ["--allow-domain", d]
        cmd += ["--", "python3", path]
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True).stdout
        with open(report_path) as f:
            return out, json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", default="bulwark")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        os.chmod(workdir, 0o755)
        for attempt, code in enumerate(CANDIDATES, 1):
            output, report = run_in_sandbox(args.bulwark, code, workdir)
            verdict = ("timed out" if report["timed_out"] else
                       "out of memory" if report["oom_killed"] else
                       "exit %d" % report["exit_code"])
            print("attempt %d: %s, %d ms, %d denials" %
                  (attempt, verdict, report["wall_time_ms"], report["denials_total"]))
            if report["exit_code"] == 0 and output.strip() == "5050":
                print("accepted: " + output.strip())
                return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
