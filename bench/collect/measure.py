#!/usr/bin/env python3
"""Runs one command and measures its wall time and peak memory.

Peak memory is reported two ways: the kernel's max RSS of the largest process in the tree
(os.wait4's ru_maxrss, the figure `/usr/bin/time -v` prints as "Maximum resident set size"),
and the peak of the sum of RSS over the whole process tree, sampled from /proc every 50 ms
(catches tools that fork workers). Prints one JSON object on the last line of stdout; the
command's own output goes to --log.

Usage: measure.py --log FILE [--env NAME=VALUE ...] -- COMMAND ARGS...
"""

import argparse
import json
import os
import subprocess
import threading
import time


def tree_rss_kib(root_pid):
    """Sum of VmRSS over root_pid and all its descendants, in KiB."""
    children = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            parent = int(fields[1])
            with open(f"/proc/{entry}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss[int(entry)] = int(line.split()[1])
                        break
            children.setdefault(parent, []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True)
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command and args.command[0] == "--" else args.command
    environment = dict(os.environ)
    for assignment in args.env:
        name, _, value = assignment.partition("=")
        environment[name] = value

    with open(args.log, "w") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_kib(process.pid))
                done.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
    print(
        json.dumps(
            {
                "command": command,
                "exit_code": os.waitstatus_to_exitcode(status),
                "wall_seconds": round(elapsed, 2),
                "max_rss_mib": round(usage.ru_maxrss / 1024, 1),
                "tree_peak_rss_mib": round(peak[0] / 1024, 1),
                "user_cpu_seconds": round(usage.ru_utime, 2),
                "system_cpu_seconds": round(usage.ru_stime, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
