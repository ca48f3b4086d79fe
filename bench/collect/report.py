#!/usr/bin/env python3
"""Summarizes a run.sh output directory as Markdown tables (printed) and results.json.

Reads the measurements (*.measure.json), the recordings (*.recording.jsonl), the replay
statistics (*.stats.json) and the load tests (*-throughput*.json) that run.sh wrote.

Usage: report.py --out DIR [--repeat N] [--latency-ms 30]
"""

import argparse
import json
import os
import statistics
from collections import Counter



def read_json(path):
    with open(path) as file:
        return json.load(file)


def recording_summary(path):
    calls, errors = 0, 0
    by_service, by_operation = Counter(), Counter()
    with open(path) as recording:
        for line in recording:
            exchange = json.loads(line)
            calls += 1
            errors += exchange["status"] >= 400
            by_service[exchange["service"]] += 1
            by_operation[f"{exchange['service']}:{exchange['operation']}"] += 1
    return {"calls": calls, "errors": errors, "by_service": dict(by_service), "by_operation": dict(by_operation.most_common())}


def ratio(numerator, denominator):
    return f"{numerator / denominator:.1f}x" if denominator else "n/a"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--tools", default="vigil prowler", help="the tools run.sh ran, space-separated")
    args = parser.parse_args()
    tools = args.tools.split()
    out = args.out

    moto = read_json(os.path.join(out, "moto-throughput.json"))
    replay_load = {c: read_json(os.path.join(out, f"replay-throughput-{c}.json")) for c in (64, 256)}
    results = {"moto_throughput": moto, "replay_throughput": replay_load, "tools": {}}
    for tool in tools:
        recording = recording_summary(os.path.join(out, f"{tool}.recording.jsonl"))
        on_moto = read_json(os.path.join(out, f"{tool}-moto.measure.json"))
        rounds = []
        for round_number in range(1, args.repeat + 1):
            measured = read_json(os.path.join(out, f"{tool}-replay-{round_number}.measure.json"))
            measured["replay"] = read_json(os.path.join(out, f"{tool}-replay-{round_number}.stats.json"))
            rounds.append(measured)
        results["tools"][tool] = {"recording": recording, "moto": on_moto, "replay_rounds": rounds}

    def tool_row(label, value_of, compare=None):
        values = [value_of(results["tools"][tool]) for tool in tools] + ["not run"] * (2 - len(tools))
        extra = compare(*values) if compare and len(tools) == 2 else ""
        return f"| {label} | {values[0]} | {values[1]} | {extra} |"

    def median(tool_results, field):
        return statistics.median(round_result[field] for round_result in tool_results["replay_rounds"])

    throughput = moto["calls_per_second"]
    lines = [
        f"moto throughput (sts:GetCallerIdentity, {moto['connections']} connections): {throughput} calls/s",
        f"replay server throughput ({args.latency_ms:g} ms latency): "
        + ", ".join(f"{load['calls_per_second']} calls/s at {c} connections (mean {load['mean_latency_ms']} ms)" for c, load in replay_load.items()),
        "",
        "| | vigil | Prowler | Prowler / vigil |",
        "|---|---|---|---|",
        tool_row("API calls (recorded on moto)", lambda t: t["recording"]["calls"], lambda v, p: ratio(p, v)),
        tool_row("  of which answered with HTTP >= 400", lambda t: t["recording"]["errors"]),
        tool_row("exit code on moto", lambda t: t["moto"]["exit_code"]),
        tool_row("wall time on moto (s)", lambda t: t["moto"]["wall_seconds"], lambda v, p: ratio(p, v)),
        tool_row("floor on moto = calls / moto throughput (s)", lambda t: round(t["recording"]["calls"] / throughput, 1)),
        tool_row("peak RSS on moto (MiB, largest process)", lambda t: t["moto"]["max_rss_mib"], lambda v, p: ratio(p, v)),
        tool_row(f"wall time on replay, {args.latency_ms:g} ms/call (s, median of {args.repeat})", lambda t: median(t, "wall_seconds"), lambda v, p: ratio(p, v)),
        tool_row("CPU time on replay (user+sys s, median)", lambda t: round(statistics.median(r["user_cpu_seconds"] + r["system_cpu_seconds"] for r in t["replay_rounds"]), 2), lambda v, p: ratio(p, v)),
        tool_row("peak RSS on replay (MiB, largest process)", lambda t: median(t, "max_rss_mib"), lambda v, p: ratio(p, v)),
        tool_row("peak RSS on replay (MiB, sum over process tree)", lambda t: median(t, "tree_peak_rss_mib"), lambda v, p: ratio(p, v)),
        tool_row("calls on replay (last round)", lambda t: t["replay_rounds"][-1]["replay"]["calls"]),
        tool_row("  replay misses (no recorded reply)", lambda t: t["replay_rounds"][-1]["replay"]["misses"]),
        tool_row("exit code on replay (last round)", lambda t: t["replay_rounds"][-1]["exit_code"]),
        "",
        "API calls by service (recorded on moto):",
        "",
        "| service | vigil | Prowler |",
        "|---|---|---|",
    ]
    services = sorted(set().union(*(results["tools"][tool]["recording"]["by_service"] for tool in tools)))
    for service in services:
        lines.append(f"| {service} | " + " | ".join(str(results["tools"][tool]["recording"]["by_service"].get(service, 0)) for tool in tools) + " |")
    print("\n".join(lines))
    with open(os.path.join(out, "results.json"), "w") as results_file:
        json.dump(results, results_file, indent=1)


if __name__ == "__main__":
    main()
