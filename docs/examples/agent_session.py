#!/usr/bin/env python3
"""An agent that keeps one bulwark session for a multi-step task.

Where agent_loop.py starts a fresh sandbox for every attempt, this agent keeps one session:
the data it copies in, the files one step writes and the processes it leaves running are
still there at the next step. Each step is one `session exec` with a time-out and a JSON
report (docs/report.md); the result is copied out at the end, and the session is removed
whatever happens (it would also go by itself: --idle-timeout and --lifetime).

    sudo python3 docs/examples/agent_session.py [--bulwark PATH]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid

# The "model": the steps of a task, each a program run in the session (a stand-in for code an
# LLM would write). Step 2 reads what step 1 left; step 3 loops forever and is stopped.
STEPS = [
    ("parse", "import json\n"
              "rows = [l.split(',') for l in open('/tmp/work/data.csv').read().split()]\n"
              "json.dump({r[0]: int(r[1]) for r in rows}, open('/tmp/work/parsed.json', 'w'))\n"
              "print(len(rows), 'rows')\n"),
    ("total", "import json\n"
              "d = json.load(open('/tmp/work/parsed.json'))\n"
              "open('/tmp/work/total.txt', 'w').write(str(sum(d.values())))\n"
              "print('total', sum(d.values()))\n"),
    ("stuck", "while True:\n    pass\n"),
]


class Session:
    """A bulwark session, removed on exit from the `with` block."""

    def __init__(self, bulwark, *flags):
        self.bulwark = bulwark
        self.name = "agent-" + uuid.uuid4().hex[:12]
        subprocess.run([bulwark, "session", "create", *flags, self.name], check=True,
                       stdout=subprocess.DEVNULL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        subprocess.run([self.bulwark, "session", "rm", "--force", self.name])

    def run(self, code, timeout="10s"):
        """Run Python code in the session; return (exit status, stdout, the report)."""
        with tempfile.TemporaryDirectory() as tmp:
            report = os.path.join(tmp, "report.json")
            p = subprocess.run([self.bulwark, "session", "exec", "--timeout", timeout,
                                "--report", report, self.name, "--", "python3", "-c", code],
                               stdout=subprocess.PIPE, text=True)
            with open(report) as f:
                return p.returncode, p.stdout, json.load(f)

    def sh(self, *args):
        subprocess.run([self.bulwark, "session", "exec", self.name, "--", *args], check=True)

    def copy_in(self, src, dst):
        subprocess.run([self.bulwark, "session", "cp", src, self.name + ":" + dst], check=True)

    def copy_out(self, src, dst):
        subprocess.run([self.bulwark, "session", "cp", self.name + ":" + src, dst], check=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", default="bulwark")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as host:
        data = os.path.join(host, "data.csv")
        with open(data, "w") as f:
            f.write("apples,3\npears,4\nplums,35\n")
        with Session(args.bulwark, "--memory", "256m", "--idle-timeout", "5m",
                     "--lifetime", "30m") as s:
            s.sh("mkdir", "-p", "/tmp/work")
            s.copy_in(data, "/tmp/work/data.csv")
            for name, code in STEPS:
                status, out, report = s.run(code, timeout="3s")
                verdict = "timed out" if report["timed_out"] else "exit %d" % status
                print("step %s: %s, %d ms: %s" %
                      (name, verdict, report["wall_time_ms"], out.strip()))
            result = os.path.join(host, "total.txt")
            s.copy_out("/tmp/work/total.txt", result)
            with open(result) as f:
                print("result: " + f.read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
