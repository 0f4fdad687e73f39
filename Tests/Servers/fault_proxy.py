#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy for the store's retry tests (stdlib only, loopback only).

Usage: fault_proxy.py UPSTREAM_PORT [LISTEN_PORT]   (LISTEN_PORT 0 or absent: a free port)

Prints `READY port=<port>` when listening. Forwards each request to 127.0.0.1:UPSTREAM_PORT
and answers with `Connection: close`. Commands on stdin, one per line, each answered by one
line on stdout:
    faults F1 F2 ...   queue faults; each request takes the next one (none left: pass)
    log                JSON list of {method, path, range, fault} seen since `clear`
    clear              forget queued faults and the log
Faults: pass, 503, 500, reset-before-body, reset-during-body, truncate, stall,
stall-before-headers, corrupt-request. `stall` waits STALL_SECONDS (env, default 5, at most 60)
after half the body; `corrupt-request` flips one bit in the middle of the request body on its
way upstream (damage in transit that only a payload checksum catches). The proxy exits when stdin closes, and after at most 30 minutes anyway.
"""
import json
import os
import socket
import struct
import threading
import time

import proxy_main

STALL_SECONDS = min(60.0, float(os.environ.get("STALL_SECONDS", "5")))
MAX_LIFETIME = 1800
MAX_CLIENTS = 64

lock = threading.Lock()
queued = []
log = []
slots = threading.BoundedSemaphore(MAX_CLIENTS)


def next_fault():
    with lock:
        return queued.pop(0) if queued else "pass"


def read_head(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > 1 << 20:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def header(lines, name):
    for line in lines[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def read_exactly(sock, count, already):
    data = already
    while len(data) < count:
        chunk = sock.recv(min(1 << 20, count - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def reset(sock):
    # SO_LINGER with a zero timeout turns close() into a TCP RST.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def error_response(status, code):
    body = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>injected by fault_proxy</Message></Error>").encode()
    reason = {503: "Slow Down", 500: "Internal Server Error"}[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    return head + body


def forward(upstream_port, head, body):
    lines = head.split("\r\n")
    kept = [line for line in lines[1:] if line.partition(":")[0].strip().lower() not in ("connection", "proxy-connection")]
    request = "\r\n".join([lines[0]] + kept + ["Connection: close", "", ""]).encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", upstream_port), timeout=60) as upstream:
        upstream.sendall(request)
        chunks = []
        while True:
            chunk = upstream.recv(1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    response_head, _, response_body = response.partition(b"\r\n\r\n")
    head_lines = response_head.decode("latin-1").split("\r\n")
    head_lines = [line for line in head_lines if line.partition(":")[0].strip().lower() != "connection"]
    head_lines.append("Connection: close")
    return ("\r\n".join(head_lines) + "\r\n\r\n").encode("latin-1"), response_body


def handle(client, upstream_port):
    try:
        client.settimeout(60)
        head, rest = read_head(client)
        if head is None:
            return
        lines = head.split("\r\n")
        method, path = (lines[0].split(" ") + ["", ""])[:2]
        length = int(header(lines, "content-length") or "0")
        body = read_exactly(client, length, rest)
        fault = next_fault()
        with lock:
            log.append({"method": method, "path": path, "range": header(lines, "range"), "fault": fault})
        if fault in ("503", "500"):
            client.sendall(error_response(int(fault), "SlowDown" if fault == "503" else "InternalError"))
            client.close()
            return
        if fault == "stall-before-headers":
            time.sleep(STALL_SECONDS)
            client.close()
            return
        if fault == "corrupt-request" and body:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1:]
        response_head, response_body = forward(upstream_port, head, body)
        half = response_body[: len(response_body) // 2]
        if fault == "reset-before-body":
            reset(client)
        elif fault == "reset-during-body":
            client.sendall(response_head + half)
            time.sleep(0.05)
            reset(client)
        elif fault == "truncate":
            client.sendall(response_head + half)
            client.close()
        elif fault == "stall":
            client.sendall(response_head + half)
            time.sleep(STALL_SECONDS)
            client.close()
        else:
            client.sendall(response_head + response_body)
            client.close()
    except OSError:
        try:
            client.close()
        except OSError:
            pass
    finally:
        slots.release()


def command(words):
    with lock:
        if words[0] == "faults":
            queued.extend(words[1:])
            return "OK"
        if words[0] == "log":
            return json.dumps(log)
        if words[0] == "clear":
            queued.clear()
            log.clear()
            return "OK"
        return "ERROR unknown command"


if __name__ == "__main__":
    proxy_main.run(__doc__, handle, command, slots, MAX_LIFETIME, backlog=64)
