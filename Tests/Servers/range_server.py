#!/usr/bin/env python3
"""A counting HTTP/1.1 range server over a directory, for lazy-mount tests and benchmarks.

Stdlib only, loopback only. Usage:
    range_server.py ROOT [PORT]        (PORT 0 or absent: a free port)

Prints `READY port=<port>` when listening. Serves the files under ROOT with GET and HEAD,
keep-alive, `Accept-Ranges: bytes`, single byte ranges (`bytes=a-b`, `bytes=a-`, `bytes=-n`)
answered 206, unsatisfiable ranges 416 with `Content-Range: bytes */size`, a request with
several ranges answered 200 with the whole file (allowed by RFC 9110), a strong ETag (from
inode, size and mtime, so rewriting a file changes it) and `If-Match` (412 on mismatch).
Bodies go out with sendfile, so the server is not the bottleneck of a benchmark.

Every request except the control ones is counted and logged as
{method, path, range, status, bytes} (body bytes) before its answer is sent, so a client
holding an answer always finds its request counted:
    GET  /__stats   JSON {requests, bytes, log: [...], log_dropped}
    POST /__reset   zero the counters and the log
The same is available on stdin, one command per line, each answered by one line:
    stats | reset
The server exits when stdin closes, and after MAX_LIFETIME seconds (env, default 1800) anyway.
"""
import json
import os
import socket
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_LIFETIME = float(os.environ.get("MAX_LIFETIME", "1800"))
MAX_LOG = 200_000
MAX_CLIENTS = 256

lock = threading.Lock()
counters = {"requests": 0, "bytes": 0, "log": [], "log_dropped": 0}


def record(method, path, range_header, status, sent):
    """Counts a request before its answer goes out, so a client that has the answer sees it counted.

    Returns the log entry (or None once the log is full) so that a short send can correct it.
    """
    entry = {"method": method, "path": path, "range": range_header, "status": status, "bytes": sent}
    with lock:
        counters["requests"] += 1
        counters["bytes"] += sent
        if len(counters["log"]) < MAX_LOG:
            counters["log"].append(entry)
            return entry
        counters["log_dropped"] += 1
        return None


def correct(entry, planned, sent):
    with lock:
        counters["bytes"] -= planned - sent
        if entry is not None:
            entry["bytes"] = sent


def snapshot():
    with lock:
        return json.dumps(counters)


def reset():
    with lock:
        counters.update({"requests": 0, "bytes": 0, "log": [], "log_dropped": 0})


def parse_range(header, size):
    """(start, end_inclusive) for one satisfiable range, "unsatisfiable", or None (serve whole)."""
    if not header or not header.startswith("bytes="):
        return None
    spec = header[len("bytes="):].strip()
    if "," in spec:
        return None
    first, dash, last = spec.partition("-")
    if not dash:
        return None
    try:
        if first == "":
            suffix = int(last)
            if suffix <= 0 or size == 0:
                return "unsatisfiable"
            return (max(0, size - suffix), size - 1)
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if last and end < start:
        return None  # syntactically invalid: ignored, the whole file is served
    if start >= size:
        return "unsatisfiable"
    return (start, min(end, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "range_server"
    timeout = 120

    def log_message(self, format, *args):
        pass

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/__reset":
            reset()
            self.reply_small(200, b"OK\n", "text/plain", counted=False)
        else:
            self.reply_small(405, b"method not allowed\n", "text/plain")

    def do_GET(self):
        if self.path == "/__stats":
            self.reply_small(200, snapshot().encode(), "application/json", counted=False)
            return
        self.serve(head_only=False)

    def do_HEAD(self):
        self.serve(head_only=True)

    def reply_small(self, status, body, content_type, extra=(), counted=True):
        if counted:
            record(self.command, self.path, self.headers.get("Range"), status,
                   0 if self.command == "HEAD" else len(body))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def resolve(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        root = self.server.root
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if full != root and not full.startswith(root + os.sep):
            return None
        return full if os.path.isfile(full) else None

    def serve(self, head_only):
        range_header = self.headers.get("Range")
        full = self.resolve()
        if full is None:
            self.reply_small(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        with open(full, "rb") as file:
            info = os.fstat(file.fileno())
            size = info.st_size
            etag = '"%x-%x-%x"' % (info.st_ino, size, info.st_mtime_ns)
            if_match = self.headers.get("If-Match")
            if if_match is not None and if_match.strip() != "*" and etag not in [
                    tag.strip() for tag in if_match.split(",")]:
                self.reply_small(
                    412, b"<Error><Code>PreconditionFailed</Code></Error>", "application/xml", [("ETag", etag)])
                return
            wanted = parse_range(range_header, size)
            if wanted == "unsatisfiable":
                self.reply_small(
                    416, b"<Error><Code>InvalidRange</Code></Error>", "application/xml",
                    [("Content-Range", f"bytes */{size}"), ("ETag", etag)])
                return
            if wanted is None:
                status, start, count = 200, 0, size
            else:
                status, start, count = 206, wanted[0], wanted[1] - wanted[0] + 1
            planned = 0 if head_only else count
            entry = record(self.command, self.path, range_header, status, planned)
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(count))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{start + count - 1}/{size}")
            self.end_headers()
            if planned:
                self.wfile.flush()
                sent = 0
                try:
                    sent = self.connection.sendfile(file, start, count)
                finally:
                    if sent != count:
                        correct(entry, planned, sent)
                        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, root):
        self.root = os.path.realpath(root)
        self.slots = threading.BoundedSemaphore(MAX_CLIENTS)
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        # Bounded: at most MAX_CLIENTS connections are served at once; the rest wait in accept.
        self.slots.acquire()
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def main():
    if len(sys.argv) < 2 or not os.path.isdir(sys.argv[1]):
        sys.stderr.write(__doc__)
        sys.exit(2)
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = Server(("127.0.0.1", port), sys.argv[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Timer(MAX_LIFETIME, lambda: os._exit(0)).start()
    print(f"READY port={server.server_address[1]}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "stats":
            print(snapshot(), flush=True)
        elif words[0] == "reset":
            reset()
            print("OK", flush=True)
        else:
            print("ERROR unknown command", flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
