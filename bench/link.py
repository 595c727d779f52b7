"""A delay line with random loss between two TUN devices, for the benchmarks' emulated links where the kernel has no
sch_netem: every packet read from one device is written to the other DELAY_MS later, unless dropped (LOSS, a
fraction, each packet on its own). Run inside the router namespace of bench/utp-netem.sh, whose routing rules send
each direction into one device and take it out of the other. Prints "ready" once both devices exist; runs until
killed.

    /usr/bin/python3 bench/link.py TUN_A TUN_B DELAY_MS LOSS [SEED]
"""
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    a_name, b_name, delay_ms, loss = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    a, b = open_tun(a_name), open_tun(b_name)
    other = {a: b, b: a}
    delay = delay_ms / 1000.0
    line = []  # (due, order, fd to write, packet): a heap, so equal delays keep their order
    order = 0
    print('ready', flush=True)
    while True:
        timeout = max(0.0, line[0][0] - time.monotonic()) if line else None
        readable, _, _ = select.select([a, b], [], [], timeout)
        now = time.monotonic()
        for fd in readable:
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if rng.random() < loss:
                    continue
                order += 1
                heapq.heappush(line, (now + delay, order, other[fd], packet))
        while line and line[0][0] <= now:
            _, _, fd, packet = heapq.heappop(line)
            try:
                os.write(fd, packet)
            except OSError:
                pass  # the device's queue is full: lost, as on a wire


if __name__ == '__main__':
    main()
