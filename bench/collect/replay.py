#!/usr/bin/env python3
"""Replay server: answers each AWS call from a recording after a fixed latency.

Loads the JSON-lines recordings written by proxy.py and serves them over HTTP/1.1 keep-alive
with asyncio, so any number of calls wait out their latency concurrently. A request is
matched on its normalized key (httpwire.request_key: method, service, region, path, query
without signing parameters, X-Amz-Target, body parameters minus volatile fields). When a
key was recorded several times (repeated calls, a polled credential report), the recorded
replies are served in order and the last one is repeated after that. A request whose key
was never recorded is a miss: it gets a 400 `BenchReplayMiss` error and is counted. A
recorded HTTP 500 for a call moto does not emulate but AWS answers (AWS_ANSWERS) is replaced
by AWS's reply, and counted (`answered_as_aws`).

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
import time
from collections import defaultdict

import httpwire

MISS_BODY = b'<ErrorResponse><Error><Code>BenchReplayMiss</Code><Message>no recorded reply for this request</Message></Error></ErrorResponse>'
# The synthetic key served by every replay server so load tests need no recording.
PING_KEY = "GET\nunsigned\nnone\n/__bench/ping\n\n"


EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"
# Calls every AWS account answers but moto does not emulate: moto replies HTTP 500 ("not yet
# implemented"), and a recorded 500 replayed sends the SDK into retries with backoff (a second
# or more each) that no real account causes. On the replay these calls get the reply AWS
# documents for an account that never set the feature: the default EBS key is the AWS managed
# `alias/aws/ebs`; no account-level instance metadata defaults; no SSM managed instances. Only a
# recorded 5xx is replaced, for both tools alike, and each replacement is counted.
AWS_ANSWERS = {
    ("ec2", "GetEbsDefaultKmsKeyId"): ("text/xml;charset=UTF-8", f'<?xml version="1.0" encoding="UTF-8"?>\n<GetEbsDefaultKmsKeyIdResponse xmlns="{EC2_XMLNS}"><requestId>bench-replay</requestId><kmsKeyId>alias/aws/ebs</kmsKeyId></GetEbsDefaultKmsKeyIdResponse>'),
    ("ec2", "GetInstanceMetadataDefaults"): ("text/xml;charset=UTF-8", f'<?xml version="1.0" encoding="UTF-8"?>\n<GetInstanceMetadataDefaultsResponse xmlns="{EC2_XMLNS}"><requestId>bench-replay</requestId><accountLevel/></GetInstanceMetadataDefaultsResponse>'),
    ("ssm", "DescribeInstanceInformation"): ("application/x-amz-json-1.1", '{"InstanceInformationList": []}'),
}


def load(paths, replaced=None):
    """The recorded replies by normalized key. `replaced` (a dict) counts the recorded 5xx
    replies of AWS_ANSWERS' operations answered as AWS would instead."""
    replies = defaultdict(list)
    for path in paths:
        with open(path, encoding="utf-8") as recording:
            for line in recording:
                exchange = json.loads(line)
                headers = [tuple(header) for header in exchange["response_headers"]]
                reply = (exchange["status"], exchange["reason"], headers, base64.b64decode(exchange["response_body"]))
                answer = AWS_ANSWERS.get((exchange.get("service"), exchange.get("operation")))
                if answer and exchange["status"] >= 500:
                    content_type, body = answer
                    reply = (200, "OK", [("Content-Type", content_type), ("x-amzn-RequestId", "bench-replay")], body.encode())
                    if replaced is not None:
                        name = f"{exchange['service']}:{exchange['operation']}"
                        replaced[name] = replaced.get(name, 0) + 1
                replies[httpwire.normalize_key(exchange["key"])].append(reply)
    replies[PING_KEY].append((200, "OK", [("Content-Type", "text/plain")], b"pong"))
    return replies


async def main_async(args):
    replaced = {}
    replies = load(args.recording, replaced)
    latency = args.latency_ms / 1000.0
    served = defaultdict(int)
    stats = {"calls": 0, "misses": 0, "repeats_beyond_recording": 0, "missed": defaultdict(int), "answered_as_aws": replaced}
    encoded = {}
    # (Unix time, operation) of each request, for --timeline.
    timeline = []

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
                if args.timeline:
                    timeline.append((time.time(), httpwire.operation_of(request)))
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
    if args.timeline:
        with open(args.timeline, "w") as timeline_file:
            for at, operation in timeline:
                timeline_file.write(f"{at:.4f}\t{operation}\n")
    print(f"replay: {stats['calls']} calls, {stats['misses']} misses, {stats['repeats_beyond_recording']} repeats beyond the recording", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recording", action="append", required=True)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--stats")
    parser.add_argument("--timeline", help="write each request's arrival (Unix time) and operation, a line each")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
