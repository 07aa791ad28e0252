#!/usr/bin/env python3
"""impair: TEST TOOLING, never installed (tests/tools/README.md).

A userspace stand-in for `tc netem delay D loss L` on kernels built without
sch_netem (CONFIG_NET_SCH_NETEM unset, e.g. some VM kernels):

    impair.py --delay-ms 200 --loss 0.05 [--seed S] NS:ADDR NS:ADDR ...

For each NS (a network namespace under /run/netns) it creates a TUN device
`tun0` inside that namespace and routes IPv4 packets between them: every
packet read from one namespace's tun0 is dropped with probability LOSS,
else written to the tun0 of the namespace owning its destination address
DELAY ms later (per packet, like netem on each member's egress). Packets to
unknown addresses and non-IPv4 packets are dropped. The caller gives each
tun0 its address and brings it up (`ip -n NS addr add ADDR/24 dev tun0`,
`ip -n NS link set tun0 up`) after the line "ready" on stdout. The devices
vanish when this process exits. On SIGTERM it prints
"impair packets=P dropped=D delivered=W" and exits 0.
"""
import argparse
import ctypes
import fcntl
import heapq
import os
import random
import selectors
import signal
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000

libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def tun_in(ns, home_fd):
    nsfd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        setns(nsfd)
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", b"tun0", IFF_TUN | IFF_NO_PI))
    finally:
        setns(home_fd)
        os.close(nsfd)
    return fd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--loss", type=float, required=True)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("members", nargs="+", help="NS:ADDR")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    by_addr, sel = {}, selectors.DefaultSelector()
    for m in a.members:
        ns, addr = m.rsplit(":", 1)
        fd = tun_in(ns, home)
        by_addr[bytes(int(x) for x in addr.split("."))] = fd
        sel.register(fd, selectors.EVENT_READ)
    stats = {"packets": 0, "dropped": 0, "delivered": 0}
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    print("ready", flush=True)
    queue, seq, delay = [], 0, a.delay_ms / 1000.0
    while running[0]:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, pkt = heapq.heappop(queue)
            try:
                os.write(fd, pkt)
                stats["delivered"] += 1
            except OSError:
                stats["dropped"] += 1
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        for key, _ in sel.select(min(timeout, 0.5)):
            while True:
                try:
                    pkt = os.read(key.fd, 65536)
                except (BlockingIOError, InterruptedError):
                    break
                stats["packets"] += 1
                dst = by_addr.get(pkt[16:20]) if len(pkt) >= 20 and pkt[0] >> 4 == 4 else None
                if dst is None or rng.random() < a.loss:
                    stats["dropped"] += 1
                    continue
                seq += 1
                heapq.heappush(queue, (time.monotonic() + delay, seq, dst, pkt))
    print("impair " + " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)


if __name__ == "__main__":
    sys.exit(main())
