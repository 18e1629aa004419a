#!/usr/bin/env python3
"""The tutorial's application server, as the tutorial describes it, kept to
check the Go chapter against: one selectors loop, one Message object per
connection, a 2-byte big-endian header length, a JSON header and the
content. It answers one request per connection, then closes.

    python3 python/app_server.py 127.0.0.1 65432   (port 0 picks a free one)
"""

import json
import selectors
import signal
import socket
import struct
import sys
import traceback

REQUIRED_HEADERS = ("byteorder", "content-length", "content-type",
                    "content-encoding")

ANSWERS = {
    "morpheus": "Follow the white rabbit. \U0001f430",
    "ring": "In the caves beneath the Misty Mountains. \U0001f48d",
    "\U0001f436": "\U0001f43e Playing ball! \U0001f3d0",
}


def encode_json(obj, encoding):
    return json.dumps(obj, ensure_ascii=False).encode(encoding)


def decode_json(data, encoding):
    return json.loads(data.decode(encoding))


def build_message(content, content_type, content_encoding):
    header = encode_json({
        "byteorder": sys.byteorder,
        "content-type": content_type,
        "content-encoding": content_encoding,
        "content-length": len(content),
    }, "utf-8")
    return struct.pack(">H", len(header)) + header + content


class Message:
    """The state of one accepted connection."""

    def __init__(self, sel, sock, addr):
        self.sel, self.sock, self.addr = sel, sock, addr
        self._recv_buffer = b""
        self._send_buffer = b""
        self._jsonheader_len = None
        self.jsonheader = None
        self.request = None
        self.response_created = False

    def process_events(self, mask):
        if mask & selectors.EVENT_READ:
            self.read()
        if mask & selectors.EVENT_WRITE:
            self.write()

    def read(self):
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        if not data:
            raise RuntimeError("Peer closed.")
        self._recv_buffer += data
        if self._jsonheader_len is None:
            self._take_protoheader()
        if self._jsonheader_len is not None and self.jsonheader is None:
            self._take_jsonheader()
        if self.jsonheader and self.request is None:
            self._take_request()

    def _take_protoheader(self):
        if len(self._recv_buffer) >= 2:
            (self._jsonheader_len,) = struct.unpack(">H",
                                                    self._recv_buffer[:2])
            self._recv_buffer = self._recv_buffer[2:]

    def _take_jsonheader(self):
        size = self._jsonheader_len
        if len(self._recv_buffer) < size:
            return
        self.jsonheader = decode_json(self._recv_buffer[:size], "utf-8")
        self._recv_buffer = self._recv_buffer[size:]
        for name in REQUIRED_HEADERS:
            if name not in self.jsonheader:
                raise ValueError(f"Missing required header '{name}'.")

    def _take_request(self):
        size = self.jsonheader["content-length"]
        if len(self._recv_buffer) < size:
            return
        data = self._recv_buffer[:size]
        self._recv_buffer = self._recv_buffer[size:]
        content_type = self.jsonheader["content-type"]
        if content_type == "text/json":
            encoding = self.jsonheader["content-encoding"]
            self.request = decode_json(data, encoding)
            print(f"Received request {self.request!r} from {self.addr}",
                  flush=True)
        else:
            self.request = data
            print(f"Received {content_type} request from {self.addr}",
                  flush=True)
        self.sel.modify(self.sock, selectors.EVENT_WRITE, data=self)

    def write(self):
        # An empty request (b"" or {}) is falsy: the tutorial never answers
        # it and keeps polling for writability. Kept on purpose.
        if self.request and not self.response_created:
            self._send_buffer += self._create_response()
            self.response_created = True
        if not self._send_buffer:
            return
        print(f"Sending {self._send_buffer!r} to {self.addr}", flush=True)
        try:
            sent = self.sock.send(self._send_buffer)
        except BlockingIOError:
            return
        self._send_buffer = self._send_buffer[sent:]
        if sent and not self._send_buffer:
            self.close()

    def _create_response(self):
        if self.jsonheader["content-type"] != "text/json":
            content = b"First 10 bytes of request: " + self.request[:10]
            return build_message(content, "binary/custom-server-binary-type",
                                 "binary")
        action = self.request.get("action")
        if action == "search":
            query = self.request.get("value")
            answer = ANSWERS.get(query) or f"No match for '{query}'."
            content = {"result": answer}
        else:
            content = {"result": f"Error: invalid action '{action}'."}
        return build_message(encode_json(content, "utf-8"), "text/json",
                             "utf-8")

    def close(self):
        print(f"Closing connection to {self.addr}", flush=True)
        try:
            self.sel.unregister(self.sock)
        except (KeyError, ValueError, OSError):
            pass
        try:
            self.sock.close()
        except OSError:
            pass


def accept(sel, lsock):
    conn, addr = lsock.accept()
    print(f"Accepted connection from {addr}", flush=True)
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, data=Message(sel, conn, addr))


def on_sigterm(signum, frame):
    raise KeyboardInterrupt


def main():
    if len(sys.argv) != 3:
        print(f"Usage: {sys.argv[0]} <host> <port>", flush=True)
        sys.exit(1)
    host, port = sys.argv[1], int(sys.argv[2])
    signal.signal(signal.SIGTERM, on_sigterm)

    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((host, port))
    lsock.listen()
    print(f"Listening on {(host, lsock.getsockname()[1])}", flush=True)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, data=None)

    try:
        while True:
            for key, mask in sel.select(timeout=None):
                if key.data is None:
                    accept(sel, key.fileobj)
                    continue
                message = key.data
                try:
                    message.process_events(mask)
                except Exception:
                    print(f"Main: Error: Exception for {message.addr}:\n"
                          f"{traceback.format_exc()}", flush=True)
                    message.close()
    except KeyboardInterrupt:
        print("Caught keyboard interrupt, exiting", flush=True)
    finally:
        sel.close()


if __name__ == "__main__":
    main()
