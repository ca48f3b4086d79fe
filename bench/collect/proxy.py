#!/usr/bin/env python3
"""Recording proxy: forwards every HTTP request to moto and records each exchange.

Point a tool at it as its AWS endpoint. Every request is forwarded unchanged (one upstream
keep-alive connection per client connection) and the exchange is appended to a JSON-lines
file: normalized key, service, region, operation, method, path and query, request headers
(minus credentials) and body, response status, headers and body (bodies base64).

Usage: proxy.py --upstream 127.0.0.1:5000 --port 0 --record FILE [--port-file FILE]
Stops on SIGTERM/SIGINT, flushing the recording.
"""

import argparse
import asyncio
import json
import signal
import sys
import time

import httpwire


class Upstream:
    """One keep-alive connection to the upstream server, reopened when it closes."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        self.reader = None
        self.writer = None

    async def exchange(self, request):
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 24)
            try:
                self.writer.write(httpwire.encode_request(request, f"{self.host}:{self.port}"))
                await self.writer.drain()
                response = await httpwire.read_response(self.reader, request.method)
                connection = (httpwire.lookup(response.headers, "connection") or "").lower()
                if connection == "close" or (httpwire.lookup(response.headers, "content-length") is None and "chunked" not in (httpwire.lookup(response.headers, "transfer-encoding") or "").lower()):
                    self.close()
                return response
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 1:
                    raise
        raise ConnectionError("unreachable")

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def main_async(args):
    upstream_host, upstream_port = args.upstream.rsplit(":", 1)
    record = open(args.record, "w", encoding="utf-8")
    counts = {"calls": 0}

    async def connection(reader, writer):
        upstream = Upstream(upstream_host, int(upstream_port))
        try:
            while True:
                request = await httpwire.read_request(reader)
                if request is None:
                    break
                started = time.monotonic()
                try:
                    response = await upstream.exchange(request)
                except (ConnectionError, OSError) as error:
                    response = httpwire.Response(502, "Bad Gateway", [("Content-Type", "text/plain")], f"proxy: upstream failed: {error}".encode())
                elapsed = time.monotonic() - started
                record.write(json.dumps(httpwire.exchange_record(request, response, elapsed)) + "\n")
                counts["calls"] += 1
                writer.write(httpwire.encode_response(response.status, response.reason, response.headers, response.body, head=request.method == "HEAD"))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            upstream.close()
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", args.port, backlog=1024, limit=1 << 20)
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
    record.close()
    print(f"proxy: recorded {counts['calls']} exchanges to {args.record}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="host:port of moto")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", required=True)
    parser.add_argument("--port-file")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
