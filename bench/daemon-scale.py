#!/usr/bin/python3
"""Benchmark, not a test: 2,000 torrents seeding small files in one `nexsuj daemon`, and the same 2,000 in
qbittorrent-nox (Debian's, its default settings but the Web UI port and no log-in from localhost), side by side:
resident memory, CPU while idle, and the latency of the full list (our /alldata, brief and full; qBittorrent's
/api/v2/torrents/info, what its Web UI polls).

    /usr/bin/python3 bench/daemon-scale.py     # env: NEXSUJ (the release binary), COUNT (default 2000),
                                              #      IDLE (seconds of idle CPU measured, default 60)

Both announce every torrent to one `nexsuj tracker` on loopback (as real torrents have trackers), both get the
torrents through their HTTP API from this script, both find the data already there (qBittorrent hash-checks it,
we hash-check it, since no resume state exists yet; qBittorrent is told `skip_checking`, as its checking queue
takes one torrent at a time and needed minutes for a few hundred here). Measured once both report every torrent
seeding.
"""

import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

NEXSUJ = os.environ.get("NEXSUJ", "/var/tmp/nexsuj-target/release/nexsuj")
COUNT = int(os.environ.get("COUNT", "2000"))
IDLE = int(os.environ.get("IDLE", "60"))
TMP = tempfile.mkdtemp(prefix="nexsuj-daemon-scale-")
PROCS = []
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bencode(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"


def make(data, torrents, announce):
    """COUNT files of 16-256 KiB and a single-file torrent for each (64 KiB pieces)."""
    os.makedirs(data)
    os.makedirs(torrents)
    paths = []
    for i in range(COUNT):
        name = f"file{i:05}.bin"
        body = hashlib.sha256(b"%d" % i).digest() * (512 + (i * 97) % 7680)
        with open(os.path.join(data, name), "wb") as f:
            f.write(body)
        pieces = b"".join(hashlib.sha1(body[o:o + 65536]).digest() for o in range(0, len(body), 65536))
        meta = {"announce": announce, "info": {"name": name, "length": len(body), "piece length": 65536,
                                               "pieces": pieces}}
        path = os.path.join(torrents, f"{i:05}.torrent")
        with open(path, "wb") as f:
            f.write(bencode(meta))
        paths.append(path)
    return paths


def wait(what, cond, timeout=600, every=1.0):
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(every)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def idle_cpu(pid):
    """Percent of one core used over IDLE seconds."""
    a, t0 = cpu_ticks(pid), time.monotonic()
    time.sleep(IDLE)
    return (cpu_ticks(pid) - a) / TICK / (time.monotonic() - t0) * 100


def latency_ms(get, n=20):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        get()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def http(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=300) as r:
        return r.read()


def run_nexsuj(torrents, data):
    api = free_port()
    token = uuid.uuid4().hex
    env = dict(os.environ, NEXSUJ_API_TOKEN=token, NEXSUJ_LOG="warn")
    p = subprocess.Popen([NEXSUJ, "daemon", "--listen", f"127.0.0.1:{api}", "--state-dir",
                          os.path.join(TMP, "nexsuj-state"), "--peer-port", "0"], env=env,
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, "nexsuj.log"), "wb"))
    PROCS.append(p)
    base = f"http://127.0.0.1:{api}"
    auth = {"Authorization": f"Bearer {token}"}
    wait("the daemon", lambda: can_connect(api), 30, 0.1)
    t0 = time.monotonic()
    for t in torrents:
        with open(t, "rb") as f:
            http(f"{base}/addtorrentfile?" + urllib.parse.urlencode({"path": data}), f.read(), auth, "POST")
    added = time.monotonic() - t0

    def seeding():
        s = json.loads(http(f"{base}/alldata?brief=true", headers=auth))["sessions"]
        return len(s) == COUNT and all(x["state"] == "seeding" for x in s)
    wait("nexsuj to seed everything", seeding)
    ready = time.monotonic() - t0
    time.sleep(10)
    out = {"add_s": added, "ready_s": ready, "rss_mib": rss_mib(p.pid), "idle_cpu_pct": idle_cpu(p.pid),
           "alldata_brief_ms": latency_ms(lambda: http(f"{base}/alldata?brief=true", headers=auth)),
           "alldata_full_ms": latency_ms(lambda: http(f"{base}/alldata", headers=auth)),
           "rss_after_mib": rss_mib(p.pid)}
    p.terminate()
    p.wait(60)
    return out


def run_qbittorrent(torrents, data):
    ui = free_port()
    profile = os.path.join(TMP, "qbt")
    conf = os.path.join(profile, "qBittorrent", "config")
    os.makedirs(conf)
    with open(os.path.join(conf, "qBittorrent.conf"), "w") as f:
        f.write(f"[LegalNotice]\nAccepted=true\n\n[Preferences]\nWebUI\\Port={ui}\nWebUI\\Address=127.0.0.1\n"
                f"WebUI\\LocalHostAuth=false\nConnection\\PortRangeMin={free_port()}\n")
    p = subprocess.Popen(["qbittorrent-nox", f"--profile={profile}"], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(TMP, "qbt.log"), "wb"), stdin=subprocess.DEVNULL)
    PROCS.append(p)
    base = f"http://127.0.0.1:{ui}"
    wait("qbittorrent-nox", lambda: can_connect(ui), 60, 0.2)
    t0 = time.monotonic()
    for i in range(0, len(torrents), 100):
        boundary = uuid.uuid4().hex
        parts = []
        for t in torrents[i:i + 100]:
            with open(t, "rb") as f:
                parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"torrents\"; filename=\""
                             f"{os.path.basename(t)}\"\r\nContent-Type: application/x-bittorrent\r\n\r\n".encode()
                             + f.read() + b"\r\n")
        for k, v in (("savepath", data), ("skip_checking", "true")):
            parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode())
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        http(f"{base}/api/v2/torrents/add", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"},
             "POST")
    added = time.monotonic() - t0

    def seeding():
        s = json.loads(http(f"{base}/api/v2/torrents/info"))
        return len(s) == COUNT and all(x["state"] in ("uploading", "stalledUP", "queuedUP") for x in s)
    wait("qbittorrent-nox to seed everything", seeding)
    ready = time.monotonic() - t0
    time.sleep(10)
    out = {"add_s": added, "ready_s": ready, "rss_mib": rss_mib(p.pid), "idle_cpu_pct": idle_cpu(p.pid),
           "torrents_info_ms": latency_ms(lambda: http(f"{base}/api/v2/torrents/info")),
           "rss_after_mib": rss_mib(p.pid)}
    p.terminate()
    p.wait(60)
    return out


def can_connect(port):
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def main():
    if not shutil.which("qbittorrent-nox"):
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "qbittorrent-nox"], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    version = subprocess.run(["qbittorrent-nox", "--version"], capture_output=True, text=True).stdout.strip()
    tracker = free_port()
    tr = subprocess.Popen([NEXSUJ, "tracker", "--http", f"127.0.0.1:{tracker}", "--udp", f"127.0.0.1:{free_port()}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PROCS.append(tr)
    announce = f"http://127.0.0.1:{tracker}/announce"
    torrents = make(os.path.join(TMP, "data"), os.path.join(TMP, "torrents"), announce)
    try:
        ours = run_nexsuj(torrents, os.path.join(TMP, "data"))
        print(f"nexsuj daemon: {json.dumps(ours)}", flush=True)
        theirs = run_qbittorrent(torrents, os.path.join(TMP, "data"))
        print(f"{version}: {json.dumps(theirs)}", flush=True)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{COUNT} torrents seeding small files (16-256 KiB), idle CPU over {IDLE} s, latency median / p95 of 20")
    print(f"memory: nexsuj {ours['rss_mib']:.1f} MiB vs qbittorrent-nox {theirs['rss_mib']:.1f} MiB; idle CPU "
          f"{ours['idle_cpu_pct']:.2f} % vs {theirs['idle_cpu_pct']:.2f} % of a core")


if __name__ == "__main__":
    sys.exit(main())
