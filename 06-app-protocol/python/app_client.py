#!/usr/bin/env python3
"""The tutorial's application client, as the tutorial describes it, kept to
check the Go chapter against: it sends one request (a JSON search or a
custom binary one) framed as a 2-byte big-endian header length, a JSON
header and the content, prints the response and exits.

    python3 python/app_client.py 127.0.0.1 65432 search morpheus
"""

import json
import selectors
import socket
import struct
import sys
import traceback

REQUIRED_HEADERS = ("byteorder", "content-length", "content-type",
                    "content-encoding")


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


def build_request(action, value):
    if action == "search":
        content = encode_json({"action": action, "value": value}, "utf-8")
        return build_message(content, "text/json", "utf-8")
    content = bytes(action + value, encoding="utf-8")
    return build_message(content, "binary/custom-client-binary-type",
                         "binary")


class Message:
    """The state of the client's one connection."""

    def __init__(self, sel, sock, addr, request):
        self.sel, self.sock, self.addr = sel, sock, addr
        self.request = request
        self._request_queued = False
        self._recv_buffer = b""
        self._send_buffer = b""
        self._jsonheader_len = None
        self.jsonheader = None
        self.response = None

    def process_events(self, mask):
        if mask & selectors.EVENT_READ:
            self.read()
        if mask & selectors.EVENT_WRITE:
            self.write()

    def write(self):
        if not self._request_queued:
            self._send_buffer += self.request
            self._request_queued = True
        if self._send_buffer:
            print(f"Sending {self._send_buffer!r} to {self.addr}", flush=True)
            try:
                sent = self.sock.send(self._send_buffer)
            except BlockingIOError:
                sent = 0
            self._send_buffer = self._send_buffer[sent:]
        if not self._send_buffer:
            self.sel.modify(self.sock, selectors.EVENT_READ, data=self)

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
        if self.jsonheader and self.response is None:
            self._take_response()

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

    def _take_response(self):
        size = self.jsonheader["content-length"]
        if len(self._recv_buffer) < size:
            return
        data = self._recv_buffer[:size]
        self._recv_buffer = self._recv_buffer[size:]
        content_type = self.jsonheader["content-type"]
        if content_type == "text/json":
            encoding = self.jsonheader["content-encoding"]
            self.response = decode_json(data, encoding)
            print(f"Received response {self.response!r} from {self.addr}",
                  flush=True)
            print(f"Got result: {self.response.get('result')}", flush=True)
        else:
            self.response = data
            print(f"Received {content_type} response from {self.addr}",
                  flush=True)
            print(f"Got response: {data!r}", flush=True)
        self.close()

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


def main():
    if len(sys.argv) != 5:
        print(f"Usage: {sys.argv[0]} <host> <port> <action> <value>",
              flush=True)
        sys.exit(1)
    host, port = sys.argv[1], int(sys.argv[2])
    addr = (host, port)
    request = build_request(sys.argv[3], sys.argv[4])

    sel = selectors.DefaultSelector()
    print(f"Starting connection to {addr}", flush=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    sock.connect_ex(addr)
    events = selectors.EVENT_READ | selectors.EVENT_WRITE
    sel.register(sock, events, data=Message(sel, sock, addr, request))

    try:
        while True:
            for key, mask in sel.select(timeout=1):
                message = key.data
                try:
                    message.process_events(mask)
                except Exception:
                    print(f"Main: Error: Exception for {message.addr}:\n"
                          f"{traceback.format_exc()}", flush=True)
                    message.close()
            if not sel.get_map():
                break
    except KeyboardInterrupt:
        print("Caught keyboard interrupt, exiting", flush=True)
    finally:
        sel.close()


if __name__ == "__main__":
    main()
