"""What the test proxies (delay_proxy.py, fault_proxy.py) share: the listener on 127.0.0.1, a
thread per accepted client (at most as many as `slots` allows), a lifetime limit, the READY
line, and the control loop that answers one line of stdin with one line of stdout and exits
when stdin closes.

    run(doc, handle, command, slots, lifetime, backlog)

`handle(client, upstream_port)` serves one connection and releases its slot; `command(words)`
answers a control line.
"""

import os
import socket
import sys
import threading


def run(doc, handle, command, slots, lifetime, backlog):
    if len(sys.argv) < 2:
        sys.stderr.write(doc)
        sys.exit(2)
    upstream_port = int(sys.argv[1])
    listen_port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", listen_port))
    listener.listen(backlog)

    def serve():
        while True:
            client, _ = listener.accept()
            slots.acquire()
            threading.Thread(target=handle, args=(client, upstream_port), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    threading.Timer(lifetime, lambda: os._exit(0)).start()
    print(f"READY port={listener.getsockname()[1]}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words:
            print(command(words), flush=True)
    os._exit(0)
