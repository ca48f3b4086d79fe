#!/usr/bin/env python3
"""Concurrent load test: how many cheap calls per second an endpoint answers.

Opens --connections keep-alive connections (spread over --processes client processes) and
sends the same cheap request on each as fast as replies come back, for --seconds. Prints one
JSON object: calls, calls per second, mean and 99th-percentile latency, errors.

Targets:
  moto    sts:GetCallerIdentity (awsQuery POST; moto does not check signatures)
  replay  GET /__bench/ping, which every replay.py server answers after its latency

Usage: loadtest.py --port PORT --target moto|replay [--connections 16] [--seconds 10] [--processes 1]
"""

import argparse
import asyncio
import json
import multiprocessing
import time

import httpwire

AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"


def request_bytes(target, port):
    if target == "moto":
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        headers = [
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("Authorization", AUTHORIZATION),
            ("X-Amz-Date", "20260101T000000Z"),
        ]
        request = httpwire.Request("POST", "/", "HTTP/1.1", headers, body)
    else:
        request = httpwire.Request("GET", "/__bench/ping", "HTTP/1.1", [], b"")
    return httpwire.encode_request(request, f"127.0.0.1:{port}"), request.method


async def client(port, data, method, deadline, latencies, errors):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    try:
        while time.monotonic() < deadline:
            started = time.monotonic()
            writer.write(data)
            await writer.drain()
            response = await httpwire.read_response(reader, method)
            if response.status != 200:
                errors[0] += 1
            latencies.append(time.monotonic() - started)
            if (httpwire.lookup(response.headers, "connection") or "").lower() == "close":
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 24)
    finally:
        writer.close()


async def run_clients(port, target, connections, seconds):
    data, method = request_bytes(target, port)
    latencies, errors = [], [0]
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(client(port, data, method, deadline, latencies, errors) for _ in range(connections)))
    return latencies, errors[0], time.monotonic() - started


def worker(arguments):
    port, target, connections, seconds = arguments
    return asyncio.run(run_clients(port, target, connections, seconds))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", choices=["moto", "replay"], required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    per_process = max(1, args.connections // args.processes)
    jobs = [(args.port, args.target, per_process, args.seconds)] * args.processes
    if args.processes == 1:
        results = [worker(jobs[0])]
    else:
        with multiprocessing.Pool(args.processes) as pool:
            results = pool.map(worker, jobs)
    latencies = sorted(latency for result in results for latency in result[0])
    errors = sum(result[1] for result in results)
    elapsed = max(result[2] for result in results)
    count = len(latencies)
    print(
        json.dumps(
            {
                "target": args.target,
                "connections": per_process * args.processes,
                "seconds": round(elapsed, 2),
                "calls": count,
                "calls_per_second": round(count / elapsed, 1),
                "mean_latency_ms": round(1000 * sum(latencies) / max(count, 1), 2),
                "p99_latency_ms": round(1000 * latencies[int(count * 0.99)] if count else 0, 2),
                "errors": errors,
            }
        )
    )


if __name__ == "__main__":
    main()
