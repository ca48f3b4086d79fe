#!/usr/bin/env python3
"""Summarizes a run.sh output directory as Markdown tables (printed) and results.json.

Reads the measurements (*.measure.json), the recordings (*.recording.jsonl), the replay
statistics (*.stats.json) and the load tests (*-throughput*.json) that run.sh wrote.

Usage: report.py --out DIR [--tools "vigil prowler"] [--repeat N] [--latency-ms 30] [--max-in-flight 64]
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
    parser.add_argument("--max-in-flight", type=int, default=64, help="vigil's calls in flight (the floor's divisor)")
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
    results["max_in_flight"] = args.max_in_flight
    results["latency_ms"] = args.latency_ms

    names = {"vigil": "vigil", "vigil-before": "vigil (before)", "prowler": "Prowler"}
    compare = "vigil" in tools and "prowler" in tools

    def tool_row(label, value_of, prowler_over_vigil=False):
        values = []
        for tool in tools:
            try:
                values.append(value_of(results["tools"][tool]))
            except (KeyError, TypeError, ZeroDivisionError):
                values.append("n/a")
        extra = ""
        if prowler_over_vigil and compare:
            vigil, prowler = values[tools.index("vigil")], values[tools.index("prowler")]
            extra = ratio(prowler, vigil) if all(isinstance(v, (int, float)) for v in (vigil, prowler)) else "n/a"
        return "| " + " | ".join([label] + [str(value) for value in values] + ([extra] if compare else [])) + " |"

    def median(tool_results, field):
        return statistics.median(round_result[field] for round_result in tool_results["replay_rounds"])

    def cpu(measured):
        return round(measured["user_cpu_seconds"] + measured["system_cpu_seconds"], 2)

    # The floor on the replay (issue 20): no client with `max_in_flight` calls in flight, each
    # answered after `latency`, can make its calls faster than calls / (max_in_flight / latency).
    per_second = args.max_in_flight / (args.latency_ms / 1000.0)

    def floor(tool_results):
        return round(tool_results["replay_rounds"][-1]["replay"]["calls"] / per_second, 2)

    # What the replay server itself managed with as many connections, on this machine now.
    served_per_second = replay_load[64]["calls_per_second"]

    def server_floor(tool_results):
        return round(tool_results["replay_rounds"][-1]["replay"]["calls"] / served_per_second, 2)

    throughput = moto["calls_per_second"]
    header = ["", *(names.get(tool, tool) for tool in tools)] + (["Prowler / vigil"] if compare else [])
    lines = [
        f"moto throughput (sts:GetCallerIdentity, {moto['connections']} connections): {throughput} calls/s",
        f"replay server throughput ({args.latency_ms:g} ms latency): "
        + ", ".join(f"{load['calls_per_second']} calls/s at {c} connections (mean {load['mean_latency_ms']} ms)" for c, load in replay_load.items()),
        f"floor on the replay = calls / ({args.max_in_flight} in flight / {args.latency_ms:g} ms) = calls / {per_second:.0f} calls/s",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        tool_row("API calls (recorded on moto)", lambda t: t["recording"]["calls"], True),
        tool_row("  of which answered with HTTP >= 400", lambda t: t["recording"]["errors"]),
        tool_row("exit code on moto", lambda t: t["moto"]["exit_code"]),
        tool_row("wall time on moto (s)", lambda t: t["moto"]["wall_seconds"], True),
        tool_row("floor on moto = calls / moto throughput (s)", lambda t: round(t["recording"]["calls"] / throughput, 1)),
        tool_row("CPU time on moto (user+sys s)", lambda t: cpu(t["moto"]), True),
        tool_row("peak RSS on moto (MiB, largest process)", lambda t: t["moto"]["max_rss_mib"], True),
        tool_row(f"wall time on replay, {args.latency_ms:g} ms/call (s, median of {args.repeat})", lambda t: median(t, "wall_seconds"), True),
        tool_row(f"floor on replay = calls / {per_second:.0f} calls/s (s)", floor),
        tool_row("wall on replay / floor", lambda t: round(median(t, "wall_seconds") / floor(t), 2)),
        tool_row(f"calls / the replay server's own rate at 64 connections, {served_per_second:g} calls/s (s)", server_floor),
        tool_row("CPU time on replay (user+sys s, median)", lambda t: round(statistics.median(cpu(r) for r in t["replay_rounds"]), 2), True),
        tool_row("peak RSS on replay (MiB, largest process)", lambda t: median(t, "max_rss_mib"), True),
        tool_row("peak RSS on replay (MiB, sum over process tree)", lambda t: median(t, "tree_peak_rss_mib"), True),
        tool_row("calls on replay (last round)", lambda t: t["replay_rounds"][-1]["replay"]["calls"]),
        tool_row("  replay misses (no recorded reply)", lambda t: t["replay_rounds"][-1]["replay"]["misses"]),
        tool_row("exit code on replay (last round)", lambda t: t["replay_rounds"][-1]["exit_code"]),
    ]
    if compare:
        vigil, prowler = results["tools"]["vigil"], results["tools"]["prowler"]
        lines.append("")
        lines.append(f"vigil's peak RSS on the replay as a fraction of Prowler's: {median(vigil, 'max_rss_mib') / median(prowler, 'max_rss_mib'):.3f} (target: at most 0.10)")
        lines.append(f"vigil's wall time on the replay over its floor: {median(vigil, 'wall_seconds') / floor(vigil):.2f} (target: at most 1.5)")
    lines += [
        "",
        "API calls by service (recorded on moto):",
        "",
        "| service | " + " | ".join(names.get(tool, tool) for tool in tools) + " |",
        "|---|" + "---|" * len(tools),
    ]
    services = sorted(set().union(*(results["tools"][tool]["recording"]["by_service"] for tool in tools)))
    for service in services:
        lines.append(f"| {service} | " + " | ".join(str(results["tools"][tool]["recording"]["by_service"].get(service, 0)) for tool in tools) + " |")
    print("\n".join(lines))
    with open(os.path.join(out, "results.json"), "w") as results_file:
        json.dump(results, results_file, indent=1)


if __name__ == "__main__":
    main()
