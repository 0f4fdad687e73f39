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
LINK_MBIT (env, default 0: unlimited) caps each direction at that many megabits per second,
shared by all connections as one link would be.
At most BUFFER_MIB (env, default 32) are held per direction (in pipes, see DelayedPipe), which
also bounds one connection's throughput to BUFFER_MIB / DELAY_MS, as a TCP window does.

Commands on stdin, one per line, each answered by one line on stdout:
    stats   JSON {connections, bytes_up, bytes_down}
    reset   zero the counters
The proxy exits when stdin closes, and after MAX_LIFETIME seconds (env, default 1800) anyway.
"""
import collections
import fcntl
import json
import os
import select
import socket
import threading
import time

import proxy_main

DELAY = max(0.0, float(os.environ.get("DELAY_MS", "10"))) / 1000.0
HANDSHAKE = os.environ.get("HANDSHAKE", "1") != "0"
BUFFER = int(float(os.environ.get("BUFFER_MIB", "32")) * (1 << 20))
LINK_MBIT = float(os.environ.get("LINK_MBIT", "0"))
MAX_LIFETIME = float(os.environ.get("MAX_LIFETIME", "1800"))
MAX_CLIENTS = 256
CHUNK = 1 << 20

lock = threading.Lock()
counters = {"connections": 0, "bytes_up": 0, "bytes_down": 0}
slots = threading.BoundedSemaphore(MAX_CLIENTS)


def count(key, amount):
    with lock:
        counters[key] += amount


F_SETPIPE_SZ = 1031


class Link:
    """One direction of a shared link of LINK_MBIT: each run leaves when the link has finished
    sending the runs before it."""

    def __init__(self, megabits):
        self.bytes_per_second = megabits * 1e6 / 8
        self.free_at = 0.0
        self.lock = threading.Lock()

    def wait_to_send(self, length):
        if self.bytes_per_second <= 0:
            return
        with self.lock:
            self.free_at = max(self.free_at, time.monotonic()) + length / self.bytes_per_second
            done = self.free_at
        wait = done - time.monotonic()
        if wait > 0:
            time.sleep(wait)


links = {"bytes_up": Link(LINK_MBIT), "bytes_down": Link(LINK_MBIT)}


def new_pipe():
    """A pipe holding as much as this process may ask for (/proc/sys/fs/pipe-max-size)."""
    read_end, write_end = os.pipe()
    try:
        with open("/proc/sys/fs/pipe-max-size") as limit:
            fcntl.fcntl(write_end, F_SETPIPE_SZ, int(limit.read()))
    except (OSError, ValueError):
        pass
    return read_end, write_end


def wait_for(fd, event, timeout=None):
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(timeout))


def ready(fd, event):
    return wait_for(fd, event, 0)


class DelayedPipe:
    """One direction. Bytes move socket -> pipe -> socket with splice(2), so they never enter
    Python: at a GB/s a copying proxy needs a core of its own, which on a small machine is taken
    from the client under test. A reader thread splices what arrives into a pipe and stamps it;
    a writer thread splices each stamped run out when it is due. One pipe holds about 1 MiB, too
    little for DELAY_MS of a fast stream, so a direction has a ring of pipes (added as needed, up
    to BUFFER_MIB in all); the reader fills one after another and the queue remembers which run
    is in which. With every pipe full the reader waits, as a closed TCP window would. Both sides
    splice without blocking after a poll: a blocking splice into a pipe holds the pipe's lock
    while it waits for the socket, which would stall the other thread."""

    def __init__(self, source, target, counter, not_before):
        self.source, self.target, self.counter = source, target, counter
        self.not_before = not_before
        self.pipes = [new_pipe()]
        self.limit = max(1, BUFFER >> 20)
        self.queue = collections.deque()
        self.closed = False
        self.condition = threading.Condition()

    def start(self):
        reader = threading.Thread(target=self.read, daemon=True)
        writer = threading.Thread(target=self.write, daemon=True)
        reader.start()
        writer.start()
        return reader, writer

    def read(self):
        source = self.source.fileno()
        current = 0
        try:
            while not self.closed:
                if not ready(self.pipes[current][1], select.POLLOUT):
                    current += 1
                    if current == len(self.pipes) and len(self.pipes) < self.limit:
                        self.pipes.append(new_pipe())
                    current %= len(self.pipes)
                    wait_for(self.pipes[current][1], select.POLLOUT)
                wait_for(source, select.POLLIN)
                try:
                    moved = os.splice(source, self.pipes[current][1], CHUNK, flags=os.SPLICE_F_NONBLOCK)
                except BlockingIOError:
                    continue
                if not moved:
                    break
                due = max(time.monotonic(), self.not_before) + DELAY
                with self.condition:
                    self.queue.append((due, current, moved))
                    self.condition.notify_all()
        except OSError:
            pass
        with self.condition:
            # End of stream travels with the same delay as data.
            self.queue.append((time.monotonic() + DELAY, None, 0))
            self.condition.notify_all()

    def write(self):
        target = self.target.fileno()
        try:
            while True:
                with self.condition:
                    while not self.queue:
                        self.condition.wait()
                    due, pipe, length = self.queue.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if pipe is None:
                    try:
                        self.target.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                # Counted before sending: a client that has all its bytes may ask for the stats
                # before this thread would get to count them.
                links[self.counter].wait_to_send(length)
                count(self.counter, length)
                pipe_read = self.pipes[pipe][0]
                while length:
                    wait_for(target, select.POLLOUT)
                    try:
                        moved = os.splice(pipe_read, target, length, flags=os.SPLICE_F_NONBLOCK)
                    except BlockingIOError:
                        continue
                    if not moved:
                        raise OSError("pipe drained early")
                    length -= moved
        except OSError:
            self.closed = True
            for sock in (self.source, self.target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            # The reader may be waiting for room in a full pipe: draining them lets it see the
            # shut-down socket and stop.
            for pipe_read, _ in list(self.pipes):
                try:
                    os.set_blocking(pipe_read, False)
                    while os.read(pipe_read, CHUNK):
                        pass
                except OSError:
                    pass

    def close(self):
        for pair in self.pipes:
            for fd in pair:
                try:
                    os.close(fd)
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
        up.close()
        down.close()
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
