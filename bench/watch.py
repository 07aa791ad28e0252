#!/usr/bin/env python3
"""bench/watch.py: time of arrival of every alert at every node, without a
process per alert (bench/README.md, "How arrival is timed").

One process, one poll loop, one long-lived subscription per node:

  watch.py tocsin OUTPREFIX SOCK1 SOCK2 ...   # tocsind control sockets
  watch.py serf   OUTPREFIX PORT1 PORT2 ...   # serf agents' RPC (127.0.0.1)

For node i (1-based, in argument order) it appends "ID KIND TIME_US" to
OUTPREFIX<i>.notified (the format of the on_alert hooks in
tests/harness/fleet.sh) when the node's event arrives: for tocsind the
control socket's `alert` event (docs/control.md; sent where the desktop
notification is shown), for Serf a user event from the RPC `stream`
command (the point where Serf would run its event handler). TIME_US is the
wall clock in microseconds when the event was read.

It writes "ready" to stdout once every subscription is acknowledged, and
runs until SIGTERM or until every connection has closed.
"""
import os
import selectors
import signal
import socket
import struct
import sys
import time

import msgpack


def now_us():
    return time.time_ns() // 1000


class Node:
    def __init__(self, index, sock, out):
        self.index, self.sock, self.out = index, sock, out
        self.buf = b""
        self.ready = False


class Tocsin(Node):
    """4-byte big-endian length, then one msgpack map (docs/control.md)."""

    def start(self):
        body = msgpack.packb({"id": 1, "op": "subscribe"})
        self.sock.sendall(struct.pack(">I", len(body)) + body)

    def feed(self, data, t):
        self.buf += data
        while len(self.buf) >= 4:
            (n,) = struct.unpack(">I", self.buf[:4])
            if len(self.buf) < 4 + n:
                return
            m = msgpack.unpackb(self.buf[4:4 + n], raw=False)
            self.buf = self.buf[4 + n:]
            if "ok" in m:
                if not m["ok"]:
                    sys.exit(f"n{self.index}: subscribe refused: {m}")
                self.ready = True
            elif m.get("event") == "alert":
                self.out.write(f"{m['alert']} {m['kind']} {t}\n")


class Serf(Node):
    """Serf's RPC: msgpack header {Command, Seq} [+ body]; replies and
    streamed events are headers {Seq, Error} [+ body]."""

    def start(self):
        self.unpacker = msgpack.Unpacker(raw=False)
        self.sock.sendall(msgpack.packb({"Command": "handshake", "Seq": 0}) +
                          msgpack.packb({"Version": 1}) +
                          msgpack.packb({"Command": "stream", "Seq": 1}) +
                          msgpack.packb({"Type": "user"}))

    def feed(self, data, t):
        self.unpacker.feed(data)
        for m in self.unpacker:
            if "Error" in m:
                if m["Error"]:
                    sys.exit(f"s{self.index}: serf rpc error: {m['Error']}")
                if m.get("Seq") == 1:
                    self.ready = True
            elif m.get("Event") == "user":
                p = m.get("Payload") or b""
                p = p.decode() if isinstance(p, bytes) else str(p)
                self.out.write(f"{p} {m.get('Name', '')} {t}\n")


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("tocsin", "serf"):
        sys.exit(__doc__)
    kind, prefix, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
    sel = selectors.DefaultSelector()
    nodes = []
    for i, target in enumerate(targets, 1):
        out = open(f"{prefix}{i}.notified", "a", buffering=1)
        if kind == "tocsin":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(target)
            node = Tocsin(i, s, out)
        else:
            s = socket.create_connection(("127.0.0.1", int(target)))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            node = Serf(i, s, out)
        node.start()
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, node)
        nodes.append(node)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    announced = False
    while sel.get_map():
        for key, _ in sel.select():
            node = key.data
            t = now_us()
            try:
                data = node.sock.recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(node.sock)
                node.sock.close()
                continue
            node.feed(data, t)
        if not announced and all(n.ready for n in nodes):
            print("ready", flush=True)
            announced = True


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
