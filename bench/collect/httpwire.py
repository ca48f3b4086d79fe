"""HTTP/1.1 wire helpers shared by the recording proxy, the replay server and the load test.

Only what AWS SDK clients send is handled: keep-alive connections, request bodies with
Content-Length or chunked encoding, and responses delimited by Content-Length, chunked
encoding or connection close. Also the normalized key that matches a replayed request to
its recording: method, service and region (from the SigV4 credential scope), path, query
without signing parameters, X-Amz-Target, and the body's parameters minus volatile fields.
"""

import asyncio
import base64
import hashlib
import json
import re
import urllib.parse

# Query or form parameters that change on every run (signatures, dates, tokens).
SIGNING_PARAMETERS = {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders", "x-amz-signature", "x-amz-security-token"}
# Body fields that hold the current time in read calls (e.g. metric or event windows).
VOLATILE_FIELDS = {"StartTime", "EndTime", "startTime", "endTime", "StartDate", "EndDate", "StartTimeUtc", "EndTimeUtc"}
# Services whose answers do not depend on the region the request was signed for.
GLOBAL_SERVICES = {"sts", "iam", "organizations"}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


class Request:
    __slots__ = ("method", "target", "version", "headers", "body")

    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers  # list of (name, value), original case and order
        self.body = body

    def header(self, name):
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Response:
    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


async def _read_headers(reader):
    lines = []
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed in headers")
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line.decode("latin-1").rstrip("\r\n"))


def _parse_header_lines(lines):
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return headers


def lookup(headers, name):
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


async def _read_chunked(reader):
    body = bytearray()
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            # Trailers end with an empty line.
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readline()


async def read_request(reader):
    """Reads one request; returns None when the client closed the connection cleanly."""
    line = await reader.readline()
    while line in (b"\r\n", b"\n"):
        line = await reader.readline()
    if not line:
        return None
    method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = _parse_header_lines(await _read_headers(reader))
    body = b""
    if (lookup(headers, "transfer-encoding") or "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        length = int(lookup(headers, "content-length") or 0)
        if length:
            body = await reader.readexactly(length)
    return Request(method, target, version, headers, body)


async def read_response(reader, method):
    """Reads one response to a request made with `method`."""
    status_line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
    if not status_line:
        raise ConnectionError("connection closed before the status line")
    parts = status_line.split(" ", 2)
    status = int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = _parse_header_lines(await _read_headers(reader))
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, reason, headers, b"")
    if (lookup(headers, "transfer-encoding") or "").lower() == "chunked":
        body = await _read_chunked(reader)
    elif lookup(headers, "content-length") is not None:
        body = await reader.readexactly(int(lookup(headers, "content-length")))
    else:
        body = await reader.read()
    return Response(status, reason, headers, body)


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te", "trailer", "upgrade"}


def encode_response(status, reason, headers, body, head=False):
    """Serializes a response with an exact Content-Length, keeping the connection open."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in HOP_BY_HOP]
    lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: keep-alive")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data if head else data + body


def encode_request(request, host):
    lines = [f"{request.method} {request.target} HTTP/1.1"]
    for name, value in request.headers:
        if name.lower() in HOP_BY_HOP or name.lower() == "host":
            continue
        lines.append(f"{name}: {value}")
    lines.append(f"Host: {host}")
    lines.append(f"Content-Length: {len(request.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


def service_and_region(request):
    """The SigV4 credential scope names the service and region of every signed request."""
    authorization = request.header("authorization") or ""
    match = CREDENTIAL_SCOPE.search(authorization)
    if not match:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.target).query)
        credential = (query.get("X-Amz-Credential") or [""])[0]
        match = re.match(r"[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", credential)
    if not match:
        return "unsigned", "none"
    return match.group(2), match.group(1)


def _strip_volatile(value):
    if isinstance(value, dict):
        return {key: _strip_volatile(item) for key, item in value.items() if key not in VOLATILE_FIELDS}
    if isinstance(value, list):
        return [_strip_volatile(item) for item in value]
    return value


def operation_of(request):
    """A readable operation name for counting calls: Action, X-Amz-Target, or METHOD path."""
    target = request.header("x-amz-target")
    if target:
        return target.rsplit(".", 1)[-1]
    content_type = (request.header("content-type") or "").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = dict(urllib.parse.parse_qsl(request.body.decode("utf-8", "replace")))
        if "Action" in form:
            return form["Action"]
    split = urllib.parse.urlsplit(request.target)
    query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
    if "Action" in query:
        return query["Action"]
    if "x-id" in query:
        return query["x-id"]
    subresources = sorted(name for name in query if name.lower() not in SIGNING_PARAMETERS)
    depth = len([part for part in split.path.split("/") if part])
    shape = {0: "service", 1: "bucket", 2: "object"}.get(depth, "path")
    return f"{request.method} {shape}" + (f"?{subresources[0]}" if subresources else "")


def request_key(request):
    """The normalized key that identifies a request across runs."""
    service, region = service_and_region(request)
    if service in GLOBAL_SERVICES:
        # Which region signs a global call can vary between runs (Prowler picks one from a set).
        region = "global"
    split = urllib.parse.urlsplit(request.target)
    query = sorted((name, value) for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True) if name.lower() not in SIGNING_PARAMETERS)
    parts = [request.method, service, region, urllib.parse.unquote(split.path), urllib.parse.urlencode(query)]
    target = request.header("x-amz-target")
    if target:
        parts.append(target)
    content_type = (request.header("content-type") or "").lower()
    body = request.body
    if not body:
        body_key = ""
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = sorted(
            (name, value)
            for name, value in urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
            if name not in VOLATILE_FIELDS and name.lower() not in SIGNING_PARAMETERS
        )
        body_key = urllib.parse.urlencode(form)
    elif "json" in content_type:
        try:
            body_key = json.dumps(_strip_volatile(json.loads(body)), sort_keys=True, separators=(",", ":"))
        except ValueError:
            body_key = hashlib.sha256(body).hexdigest()
    else:
        body_key = hashlib.sha256(body).hexdigest()
    parts.append(body_key)
    return "\n".join(parts)


def exchange_record(request, response, elapsed):
    """One recorded exchange as a JSON-serializable dict (bodies base64-encoded)."""
    return {
        "key": request_key(request),
        "service": service_and_region(request)[0],
        "region": service_and_region(request)[1],
        "operation": operation_of(request),
        "method": request.method,
        "target": request.target,
        "request_headers": [[name, value] for name, value in request.headers if name.lower() not in ("authorization", "x-amz-security-token")],
        "request_body": base64.b64encode(request.body).decode("ascii"),
        "status": response.status,
        "reason": response.reason,
        "response_headers": [[name, value] for name, value in response.headers],
        "response_body": base64.b64encode(response.body).decode("ascii"),
        "elapsed_ms": round(elapsed * 1000, 2),
    }


async def serve(handler, host, port, started=None):
    """Runs an HTTP/1.1 keep-alive server calling `await handler(request) -> bytes`."""

    async def connection(reader, writer):
        try:
            while True:
                request = await read_request(reader)
                if request is None:
                    break
                writer.write(await handler(request))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, host, port, backlog=1024, limit=1 << 20)
    if started is not None:
        started(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def normalize_key(key):
    """Applies request_key's global-service rule to a key recorded by an older harness."""
    parts = key.split("\n")
    if len(parts) > 2 and parts[1] in GLOBAL_SERVICES:
        parts[2] = "global"
    return "\n".join(parts)
