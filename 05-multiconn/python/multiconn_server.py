#!/usr/bin/env python3
"""The tutorial's multi-connection echo server, as the tutorial describes it,
for measuring the Go server against: one selectors loop over non-blocking
sockets, each socket's state in a SimpleNamespace, recv(1024) and send.
It prints nothing per connection, so that printing does not dominate a
load test.

    python3 python/multiconn_server.py 127.0.0.1 65432
"""

import selectors
import socket
import sys
import types


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} HOST PORT")
    host, port = sys.argv[1], int(sys.argv[2])

    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen()
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, data=None)
    print(f"listening on {host}:{lsock.getsockname()[1]}", flush=True)

    try:
        while True:
            for key, mask in sel.select(timeout=None):
                if key.data is None:
                    accept(sel, key.fileobj)
                else:
                    serve(sel, key, mask)
    except KeyboardInterrupt:
        pass
    finally:
        sel.close()


def accept(sel, lsock):
    conn, addr = lsock.accept()
    conn.setblocking(False)
    state = types.SimpleNamespace(addr=addr, outb=b"")
    sel.register(conn, selectors.EVENT_READ | selectors.EVENT_WRITE, data=state)


def serve(sel, key, mask):
    sock, state = key.fileobj, key.data
    if mask & selectors.EVENT_READ:
        try:
            data = sock.recv(1024)
        except OSError:
            data = b""
        if not data:
            sel.unregister(sock)
            sock.close()
            return
        state.outb += data
    if mask & selectors.EVENT_WRITE and state.outb:
        try:
            sent = sock.send(state.outb)
        except BlockingIOError:
            sent = 0
        except OSError:
            sel.unregister(sock)
            sock.close()
            return
        state.outb = state.outb[sent:]


if __name__ == "__main__":
    main()
