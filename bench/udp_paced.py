#!/usr/bin/python3
"""A paced UDP tracker load: RATE announces a second (connects first, from 8 sockets) spread over TORRENTS
info-hashes and PEERS peer ids, numwant 30, for SECONDS; prints "sent answered p50_ms p99_ms p999_ms".

    /usr/bin/python3 bench/udp_paced.py PORT RATE SECONDS [TORRENTS] [PEERS]

Open loop: requests leave on schedule whether or not replies came back, so latency is measured at a known offered
load (what a closed-loop flood such as aquatic_udp_load_test cannot show: it measures the ceiling). A reply not
back within 2 s counts as lost (and as 2 s in the percentiles).
"""

import os
import random
import select
import socket
import struct
import sys
import time

port, rate, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
torrents = int(sys.argv[4]) if len(sys.argv) > 4 else 10_000
peers = int(sys.argv[5]) if len(sys.argv) > 5 else 100_000
addr = ("127.0.0.1", port)
rng = random.Random(7)
hashes = [rng.randbytes(20) for _ in range(torrents)]
socks = []
for _ in range(8):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.settimeout(2)
    s.sendto(struct.pack(">QII", 0x41727101980, 0, 1), addr)
    conn = struct.unpack(">IIQ", s.recv(64))[2]
    s.setblocking(False)
    socks.append((s, conn))

sent_at = {}
rtts = []
tid = 0
start = time.monotonic()
end = start + secs
while True:
    now = time.monotonic()
    due = min(int((now - start) * rate), int(secs * rate))
    while tid < due:
        tid += 1
        s, conn = socks[tid % len(socks)]
        p = rng.randrange(peers)
        left = 0 if p % 4 == 0 else 1000
        pkt = struct.pack(">QII20s20sQQQIIIiH", conn, 1, tid, hashes[p % torrents], b"-PC0001-" + p.to_bytes(12, "big"),
                          0, left, 0, 0, 0, 0, 30, 1024 + p % 60000)
        try:
            s.sendto(pkt, addr)
            sent_at[tid] = time.monotonic()
        except BlockingIOError:
            pass
    if now > end + 2:
        break
    ready, _, _ = select.select([s for s, _ in socks], [], [], 0.0005)
    for s in ready:
        while True:
            try:
                reply = s.recv(2048)
            except BlockingIOError:
                break
            t = sent_at.pop(struct.unpack(">II", reply[:8])[1], None)
            if t is not None:
                rtts.append(time.monotonic() - t)
answered = len(rtts)
rtts += [2.0] * len(sent_at)
rtts.sort()
pct = lambda q: rtts[min(len(rtts) - 1, int(len(rtts) * q))] * 1000  # noqa: E731
print(f"{tid} {answered} {pct(0.5):.2f} {pct(0.99):.2f} {pct(0.999):.2f}")
