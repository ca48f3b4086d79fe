#!/usr/bin/env python3
"""Replay server: answers each AWS call from a recording after a fixed latency.

Loads the JSON-lines recordings written by proxy.py and serves them over HTTP/1.1 keep-alive
with asyncio, so any number of calls wait out their latency concurrently. A request is
matched on its normalized key (httpwire.request_key: method, service, region, path, query
without signing parameters, X-Amz-Target, body parameters minus volatile fields). When a
key was recorded several times (repeated calls, a polled credential report), the recorded
replies are served in order and the last one is repeated after that. A request whose key
was never recorded is a miss: it gets a 400 `BenchReplayMiss` error and is counted.

Usage: replay.py --recording FILE [--recording FILE ...] [--latency-ms 30] [--port 0]
                 [--port-file FILE] [--stats FILE]
Stops on SIGTERM/SIGINT and writes the statistics (calls, misses, missed keys) as JSON.
"""

import argparse
import asyncio
import base64
import json
import signal
import sys
from collections import defaultdict

import httpwire

MISS_BODY = b'<ErrorResponse><Error><Code>BenchReplayMiss</Code><Message>no recorded reply for this request</Message></Error></ErrorResponse>'
# The synthetic key served by every replay server so load tests need no recording.
PING_KEY = "GET\nunsigned\nnone\n/__bench/ping\n\n"


def load(paths):
    replies = defaultdict(list)
    for path in paths:
        with open(path, encoding="utf-8") as recording:
            for line in recording:
                exchange = json.loads(line)
                headers = [tuple(header) for header in exchange["response_headers"]]
                replies[httpwire.normalize_key(exchange["key"])].append((exchange["status"], exchange["reason"], headers, base64.b64decode(exchange["response_body"])))
    replies[PING_KEY].append((200, "OK", [("Content-Type", "text/plain")], b"pong"))
    return replies


async def main_async(args):
    replies = load(args.recording)
    latency = args.latency_ms / 1000.0
    served = defaultdict(int)
    stats = {"calls": 0, "misses": 0, "repeats_beyond_recording": 0, "missed": defaultdict(int)}
    encoded = {}

    def reply_for(request):
        key = httpwire.request_key(request)
        candidates = replies.get(key)
        if not candidates:
            stats["misses"] += 1
            stats["missed"][f"{httpwire.operation_of(request)} | {key}"[:400]] += 1
            return httpwire.encode_response(400, "Bad Request", [("Content-Type", "text/xml")], MISS_BODY)
        index = served[key]
        served[key] = index + 1
        if index >= len(candidates):
            if key != PING_KEY:
                stats["repeats_beyond_recording"] += 1
            index = len(candidates) - 1
        cache_key = (key, index, request.method == "HEAD")
        data = encoded.get(cache_key)
        if data is None:
            status, reason, headers, body = candidates[index]
            data = httpwire.encode_response(status, reason, headers, body, head=request.method == "HEAD")
            encoded[cache_key] = data
        return data

    async def connection(reader, writer):
        try:
            while True:
                request = await httpwire.read_request(reader)
                if request is None:
                    break
                stats["calls"] += 1
                data = reply_for(request)
                if latency:
                    await asyncio.sleep(latency)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", args.port, backlog=2048, limit=1 << 20)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file, "w") as port_file:
            port_file.write(str(port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with server:
        await stop.wait()
    stats["calls"] -= served[PING_KEY]
    stats["ping_calls"] = served[PING_KEY]
    stats["missed"] = dict(sorted(stats["missed"].items(), key=lambda item: -item[1]))
    if args.stats:
        with open(args.stats, "w") as stats_file:
            json.dump(stats, stats_file, indent=1)
    print(f"replay: {stats['calls']} calls, {stats['misses']} misses, {stats['repeats_beyond_recording']} repeats beyond the recording", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", action="append", required=True)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--stats")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
