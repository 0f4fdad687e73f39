#!/usr/bin/env python3
"""A TCP proxy that adds one-way latency, standing in for netem (this kernel has none).

Stdlib only, loopback only. Usage:
    delay_proxy.py UPSTREAM_PORT [LISTEN_PORT]   (LISTEN_PORT 0 or absent: a free port)

Prints `READY port=<port>` when listening. Each accepted connection gets its own connection
to 127.0.0.1:UPSTREAM_PORT; every chunk read on one side is written to the other DELAY_MS
(env, default 10) milliseconds after it arrived, in both directions, so a request/response
costs 2 x DELAY_MS (the round trip) while bulk transfers stay pipelined: latency is added,
bandwidth is not taken away. A new connection also pays one round trip before its first byte
goes upstream, as a TCP handshake would (HANDSHAKE=0 in the environment turns that off).
At most BUFFER_MIB (env, default 32) are held per direction, which also bounds one
connection's throughput to BUFFER_MIB / DELAY_MS, as a TCP window does.

Commands on stdin, one per line, each answered by one line on stdout:
    stats   JSON {connections, bytes_up, bytes_down}
    reset   zero the counters
The proxy exits when stdin closes, and after MAX_LIFETIME seconds (env, default 1800) anyway.
"""
import collections
import json
import os
import socket
import threading
import time

import proxy_main

DELAY = max(0.0, float(os.environ.get("DELAY_MS", "10"))) / 1000.0
HANDSHAKE = os.environ.get("HANDSHAKE", "1") != "0"
BUFFER = int(float(os.environ.get("BUFFER_MIB", "32")) * (1 << 20))
MAX_LIFETIME = float(os.environ.get("MAX_LIFETIME", "1800"))
MAX_CLIENTS = 256
CHUNK = 1 << 18

lock = threading.Lock()
counters = {"connections": 0, "bytes_up": 0, "bytes_down": 0}
slots = threading.BoundedSemaphore(MAX_CLIENTS)


def count(key, amount):
    with lock:
        counters[key] += amount


class DelayedPipe:
    """One direction: a reader thread stamps chunks, a writer thread sends each when it is due."""

    def __init__(self, source, target, counter, not_before):
        self.source, self.target, self.counter = source, target, counter
        self.not_before = not_before
        self.queue = collections.deque()
        self.buffered = 0
        self.closed = False
        self.condition = threading.Condition()

    def start(self):
        reader = threading.Thread(target=self.read, daemon=True)
        writer = threading.Thread(target=self.write, daemon=True)
        reader.start()
        writer.start()
        return reader, writer

    def read(self):
        try:
            while True:
                chunk = self.source.recv(CHUNK)
                if not chunk:
                    break
                due = max(time.monotonic(), self.not_before) + DELAY
                with self.condition:
                    while self.buffered >= BUFFER and not self.closed:
                        self.condition.wait()
                    if self.closed:
                        break
                    self.queue.append((due, chunk))
                    self.buffered += len(chunk)
                    self.condition.notify_all()
        except OSError:
            pass
        with self.condition:
            # End of stream travels with the same delay as data.
            self.queue.append((time.monotonic() + DELAY, None))
            self.condition.notify_all()

    def write(self):
        try:
            while True:
                with self.condition:
                    while not self.queue:
                        self.condition.wait()
                    due, chunk = self.queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                with self.condition:
                    self.queue.popleft()
                    if chunk is not None:
                        self.buffered -= len(chunk)
                    self.condition.notify_all()
                if chunk is None:
                    try:
                        self.target.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                # Counted before sending: a client that has all its bytes may ask for the stats
                # before this thread would get to count them.
                count(self.counter, len(chunk))
                self.target.sendall(chunk)
        except OSError:
            with self.condition:
                self.closed = True
                self.condition.notify_all()
            for sock in (self.source, self.target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def handle(client, upstream_port):
    try:
        accepted = time.monotonic()
        try:
            upstream = socket.create_connection(("127.0.0.1", upstream_port), timeout=30)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        count("connections", 1)
        not_before = accepted + 2 * DELAY if HANDSHAKE else 0.0
        up = DelayedPipe(client, upstream, "bytes_up", not_before)
        down = DelayedPipe(upstream, client, "bytes_down", 0.0)
        threads = up.start() + down.start()
        for thread in threads:
            thread.join()
        client.close()
        upstream.close()
    finally:
        slots.release()


def command(words):
    with lock:
        if words[0] == "stats":
            return json.dumps(counters)
        if words[0] == "reset":
            counters.update({"connections": 0, "bytes_up": 0, "bytes_down": 0})
            return "OK"
        return "ERROR unknown command"


if __name__ == "__main__":
    proxy_main.run(__doc__, handle, command, slots, MAX_LIFETIME, backlog=128)
