#!/usr/bin/env python3
"""Raw control-socket client for tests: sends exact bytes, prints what comes
back. Deliberately independent of the C code (its own tiny msgpack reader
for flat maps), so a bug shared by encoder and decoder cannot hide.

  ctl_raw.py SOCK send HEX...            send each HEX chunk, half-close,
                                         print every reply frame as one JSON
                                         line, then EOF or TIMEOUT
  ctl_raw.py SOCK flood N                open N connections, print how many
                                         the daemon closed within 1 s
"""
import json
import socket
import struct
import sys
import time


def unpack(b, i=0):
    t = b[i]
    if t <= 0x7f:
        return t, i + 1
    if t >= 0xe0:
        return t - 256, i + 1
    if 0xa0 <= t <= 0xbf:
        n = t & 0x1f
        return b[i + 1:i + 1 + n].decode(), i + 1 + n
    if 0x80 <= t <= 0x8f:
        d = {}
        i += 1
        for _ in range(t & 0x0f):
            k, i = unpack(b, i)
            v, i = unpack(b, i)
            d[k] = v
        return d, i
    if t == 0xc0:
        return None, i + 1
    if t in (0xc2, 0xc3):
        return t == 0xc3, i + 1
    if t == 0xcc:
        return b[i + 1], i + 2
    if t == 0xcd:
        return struct.unpack(">H", b[i + 1:i + 3])[0], i + 3
    if t == 0xce:
        return struct.unpack(">I", b[i + 1:i + 5])[0], i + 5
    if t == 0xd9:
        n = b[i + 1]
        return b[i + 2:i + 2 + n].decode(), i + 2 + n
    if t == 0xda:
        n = struct.unpack(">H", b[i + 1:i + 3])[0]
        return b[i + 3:i + 3 + n].decode(), i + 3 + n
    if t == 0xde:
        n = struct.unpack(">H", b[i + 1:i + 3])[0]
        d = {}
        i += 3
        for _ in range(n):
            k, i = unpack(b, i)
            v, i = unpack(b, i)
            d[k] = v
        return d, i
    raise ValueError("unsupported msgpack byte %#x" % t)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            return None
        buf += c
    return buf


def cmd_send(path, args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    try:
        for h in args:
            s.sendall(bytes.fromhex(h))
        # Half-close: the daemon answers what it has, then closes.
        s.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        print("SEND-CLOSED")  # the daemon closed first (e.g. too_large)
    s.settimeout(2.0)
    try:
        while True:
            hdr = recv_exact(s, 4)
            if hdr is None:
                print("EOF")
                return
            (n,) = struct.unpack(">I", hdr)
            body = recv_exact(s, n)
            if body is None:
                print("EOF-IN-FRAME")
                return
            m, end = unpack(body)
            assert end == len(body), "trailing bytes in reply"
            print(json.dumps(m, sort_keys=True))
            sys.stdout.flush()
    except socket.timeout:
        print("TIMEOUT")
    except ConnectionResetError:
        print("EOF")


def cmd_flood(path, n):
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.settimeout(0.05)
        socks.append(s)
    deadline = time.time() + 1.0
    closed = set()
    while time.time() < deadline and len(closed) < n:
        for i, s in enumerate(socks):
            if i in closed:
                continue
            try:
                if s.recv(1) == b"":
                    closed.add(i)
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed.add(i)
    print(len(closed))
    for s in socks:
        s.close()


def main():
    path, cmd = sys.argv[1], sys.argv[2]
    if cmd == "send":
        cmd_send(path, sys.argv[3:])
    elif cmd == "flood":
        cmd_flood(path, int(sys.argv[3]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
