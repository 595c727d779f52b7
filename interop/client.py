#!/usr/bin/python3
"""Interop tests of the nexsuj client (`nexsuj download` / `nexsuj seed`) against libtorrent and transmission.

    /usr/bin/python3 interop/client.py [SCENARIO ...]     # every scenario, or only the named ones

Reads $NEXSUJ (the binary). libtorrent runs inside this process (python3-libtorrent, TCP only); transmission runs
as a separate test host in a network namespace made here (it refuses loopback peers), reached over a veth pair;
everything is removed at exit. The tracker is ours (`nexsuj tracker`), or aquatic_http ($NEXSUJ_TOOLS/bin, installed
by setup.sh) with its default settings. Every download is compared byte for byte.
"""

import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import libtorrent as lt

NEXSUJ = os.environ.get("NEXSUJ", "target/release/nexsuj")
AQUATIC = os.path.join(os.environ.get("NEXSUJ_TOOLS", "/var/tmp/nexsuj-tools"), "bin", "aquatic_http")
TMP = tempfile.mkdtemp(prefix="nexsuj-client-interop-")
PROCS = []
NET = None  # the namespace, once made
TIMEOUT = 120


def log(msg):
    print(f"  {msg}", flush=True)


def free_port(host="127.0.0.1"):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def spawn(args, logname, netns=None):
    if netns:
        args = ["ip", "netns", "exec", netns] + args
    out = open(os.path.join(TMP, logname), "wb")
    p = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    PROCS.append(p)
    return p


def wait_until(what, cond, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def read_log(name):
    with open(os.path.join(TMP, name), "rb") as f:
        return f.read().decode(errors="replace")


def content(name, size, seed):
    """A folder holding `name` with `size` deterministic bytes; returns the folder."""
    d = os.path.join(TMP, f"src-{name}")
    os.makedirs(os.path.join(d, name), exist_ok=True)
    rng = random.Random(seed)
    files = [("a.bin", size // 2 + 12345), ("sub/b.bin", size // 2 - 12345), ("empty.txt", 0)]
    for rel, n in files:
        path = os.path.join(d, name, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(rng.randbytes(n))
    return d


def make_torrent(src, name, trackers, piece="256KiB", private=False):
    out = os.path.join(TMP, f"{name}.torrent")
    args = [NEXSUJ, "create", os.path.join(src, name), "--piece-length", piece, "-o", out, "-f"]
    for t in trackers:
        args += ["-t", t]
    if private:
        args.append("--private")
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return out


def tree_digest(root):
    """Digest of the non-empty files under `root` (transmission does not create empty files)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".nexsuj")
        for fn in sorted(filenames):
            p = os.path.join(dirpath, fn)
            if os.path.getsize(p) == 0:
                continue
            h.update(os.path.relpath(p, root).encode())
            with open(p, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def same(src, dst, name, settle=0):
    """The trees are equal; `settle` seconds are allowed for a client that flushes its cache late."""
    a = tree_digest(os.path.join(src, name))
    deadline = time.time() + settle
    while tree_digest(os.path.join(dst, name)) != a:
        assert time.time() < deadline, f"{dst}/{name} differs from {src}/{name}"
        time.sleep(0.2)


# ---- libtorrent ----------------------------------------------------------------------------------------------


def lt_session(host="127.0.0.1", upload_rate=0):
    port = free_port(host)
    s = lt.session({
        "listen_interfaces": f"{host}:{port}", "enable_dht": False, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True, "upload_rate_limit": upload_rate,
        "announce_to_all_trackers": True, "alert_mask": 0, "ignore_limits_on_local_network": False,
    })
    return s, port


def lt_add(s, torrent, path, seed=False, peers=()):
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(torrent)
    p.save_path = path
    if seed:
        p.flags |= lt.torrent_flags.seed_mode
    h = s.add_torrent(p)
    for peer in peers:
        h.connect_peer(peer)
    return h


# ---- transmission in a network namespace ---------------------------------------------------------------------


class Netns:
    """A test host: namespace `name` at 10.81.N.2; this host at 10.81.N.1 and, for peers that need an address
    of their own (transmission keeps one connection per address), 10.81.N.3 and 10.81.N.4."""

    def __init__(self):
        n = os.getpid() % 200 + 20
        self.name, self.v0, self.v1 = f"nxc{n}", f"nxc{n}a", f"nxc{n}b"
        self.host, self.guest = f"10.81.{n}.1", f"10.81.{n}.2"
        self.others = [f"10.81.{n}.3", f"10.81.{n}.4"]
        self.cleanup()
        for cmd in [
            f"ip netns add {self.name}",
            f"ip link add {self.v0} type veth peer name {self.v1}",
            f"ip link set {self.v1} netns {self.name}",
            f"ip addr add {self.host}/24 dev {self.v0}",
            f"ip addr add {self.others[0]}/24 dev {self.v0}",
            f"ip addr add {self.others[1]}/24 dev {self.v0}",
            f"ip link set {self.v0} up",
            f"ip netns exec {self.name} ip addr add {self.guest}/24 dev {self.v1}",
            f"ip netns exec {self.name} ip link set {self.v1} up",
            f"ip netns exec {self.name} ip link set lo up",
        ]:
            subprocess.run(cmd.split(), check=True)

    def cleanup(self):
        subprocess.run(["ip", "netns", "del", self.name], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", self.v0], stderr=subprocess.DEVNULL)


class Transmission:
    count = 0

    def __init__(self, data_dir, encryption="-et"):
        """`encryption`: transmission-daemon's flag, -et (tolerated), -ep (preferred) or -er (required)."""
        Transmission.count += 1
        self.data_dir = data_dir
        self.rpc = 9200 + Transmission.count
        self.peer_port = 51400 + Transmission.count
        cfg = os.path.join(TMP, f"tr{self.count}-cfg")
        os.makedirs(cfg, exist_ok=True)
        os.makedirs(data_dir, exist_ok=True)
        self.proc = spawn(["transmission-daemon", "-f", "-g", cfg, "-w", data_dir, "-p", str(self.rpc),
                           "-P", str(self.peer_port), "--no-dht", "--no-lpd", "--no-portmap", "--no-utp", encryption,
                           "-a", "127.0.0.1"], f"tr{self.count}.log", NET.name)
        wait_until("transmission's RPC", lambda: self.remote("-l").returncode == 0, 30)

    def remote(self, *args):
        return subprocess.run(["ip", "netns", "exec", NET.name, "transmission-remote", str(self.rpc), *args],
                              capture_output=True, text=True)

    def add(self, torrent):
        r = self.remote("-a", torrent)
        assert r.returncode == 0, r.stderr

    def info(self):
        return self.remote("-t", "1", "-i").stdout

    def uploaded(self):
        """The `Uploaded:` figure, e.g. `1.2 MB` (`None` before the first byte)."""
        line = [l for l in self.info().splitlines() if "Uploaded:" in l]
        return line[0].split(":", 1)[1].strip() if line else "None"

    def done(self):
        """100 % and every file renamed from its `.part` name."""
        parts = [f for _, _, fs in os.walk(self.data_dir) for f in fs if f.endswith(".part")]
        return "Percent Done: 100%" in self.info() and not parts

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---- nexsuj ----------------------------------------------------------------------------------------------------


def tracker(host):
    http, udp = free_port(host), free_port(host)
    spawn([NEXSUJ, "tracker", "--http", f"{host}:{http}", "--udp", f"{host}:{udp}", "--mode", "open"],
          f"tracker-{http}.log")
    wait_until("the tracker", lambda: can_connect(host, http), 20)
    return f"http://{host}:{http}/announce", f"udp://{host}:{udp}/announce"


def aquatic(host="127.0.0.1"):
    """aquatic_http with the configuration it prints (keep-alive on, as deployed), on our address."""
    port = free_port(host)
    printed = subprocess.run([AQUATIC, "-p"], check=True, capture_output=True, text=True).stdout
    cfg = os.path.join(TMP, f"aquatic-{port}.toml")
    with open(cfg, "w") as f:
        f.write(re.sub(r"(?m)^address = .*$", f'address = "{host}:{port}"', printed))
    spawn([AQUATIC, "-c", cfg], f"aquatic-{port}.log")
    wait_until("aquatic_http", lambda: can_connect(host, port), 20)
    return f"http://{host}:{port}/announce"


def scraped(announce_url, info_hash):
    """The tracker's (seeders, leechers) for the torrent (BEP 48 scrape)."""
    url = announce_url.replace("/announce", "/scrape") + "?info_hash=" + urllib.parse.quote_from_bytes(info_hash)
    with urllib.request.urlopen(url, timeout=5) as r:
        body = r.read()
    count = lambda key: int(re.search(key + rb"i(\d+)e", body).group(1)) if key in body else 0
    return count(b"8:complete"), count(b"10:incomplete")


def can_connect(host, port):
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False


def nexsuj(mode, torrent, dir_, host="127.0.0.1", peers=(), extra=(), logname=None):
    port = free_port(host)
    args = [NEXSUJ, mode, torrent] + (["-o", dir_] if mode == "download" else [dir_])
    args += ["--listen", host, "--port", str(port), *extra]
    for p in peers:
        args += ["--peer", f"{p[0]}:{p[1]}"]
    name = logname or f"nexsuj-{mode}-{port}.log"
    return spawn(args, name), port, name


def wait_exit(p, what):
    try:
        rc = p.wait(TIMEOUT)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what} did not finish")
    assert rc == 0, f"{what} exited with {rc}"


def ready(logname):
    wait_until("nexsuj to check its data", lambda: "pieces verified" in read_log(logname), 60)


# ---- scenarios --------------------------------------------------------------------------------------------------


def scenario_from_libtorrent():
    """nexsuj downloads from a libtorrent seeder given directly."""
    src = content("lt1", 6_000_000, 1)
    t = make_torrent(src, "lt1", ["http://127.0.0.1:1/announce"])
    s, port = lt_session()
    lt_add(s, t, src, seed=True)
    dst = os.path.join(TMP, "dst-lt1")
    p, _, _ = nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers"])
    wait_exit(p, "nexsuj download")
    same(src, dst, "lt1")


def scenario_to_libtorrent():
    """A libtorrent leecher downloads from a nexsuj seeder found through our tracker."""
    src = content("lt2", 5_000_000, 2)
    http, udp = tracker("127.0.0.1")
    t = make_torrent(src, "lt2", [udp, http])
    seed, _, name = nexsuj("seed", t, src)
    ready(name)
    s, _ = lt_session()
    dst = os.path.join(TMP, "dst-lt2")
    h = lt_add(s, t, dst)
    wait_until("the libtorrent leecher", lambda: h.status().is_seeding)
    same(src, dst, "lt2")
    seed.terminate()
    seed.wait(10)


def scenario_magnet_from_libtorrent():
    """nexsuj downloads a magnet link: the metadata (BEP 9) and the data from a libtorrent seeder."""
    src = content("mag1", 3_000_000, 11)
    t = make_torrent(src, "mag1", [])
    s, port = lt_session()
    lt_add(s, t, src, seed=True)
    magnet = f"magnet:?xt=urn:btih:{info_hash(t).hex()}&dn=mag1&x.pe=127.0.0.1:{port}"
    dst = os.path.join(TMP, "dst-mag1")
    p, _, name = nexsuj("download", magnet, dst, extra=["--no-trackers"])
    wait_exit(p, "nexsuj download of a magnet link")
    assert "fetching the torrent's metadata" in read_log(name), "the magnet path was taken"
    same(src, dst, "mag1")


def scenario_magnet_to_libtorrent():
    """libtorrent downloads a magnet link from a nexsuj seeder, which serves the metadata (BEP 9)."""
    src = content("mag2", 3_000_000, 12)
    t = make_torrent(src, "mag2", [])
    seed, port, name = nexsuj("seed", t, src)
    ready(name)
    s, _ = lt_session()
    params = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{info_hash(t).hex()}")
    params.save_path = os.path.join(TMP, "dst-mag2")
    h = s.add_torrent(params)
    h.connect_peer(("127.0.0.1", port))
    wait_until("libtorrent to receive the metadata from nexsuj", lambda: h.status().has_metadata)
    wait_until("the libtorrent leecher", lambda: h.status().is_seeding)
    same(src, params.save_path, "mag2")
    seed.terminate()
    seed.wait(10)


def scenario_aquatic_from_libtorrent():
    """nexsuj downloads from a libtorrent seeder that only an aquatic_http tracker names."""
    src = content("aq1", 4_000_000, 13)
    url = aquatic()
    t = make_torrent(src, "aq1", [url])
    s, _ = lt_session()
    lt_add(s, t, src, seed=True)
    # aquatic_http asks for announces every 2 minutes: the seeder must be there before nexsuj asks.
    wait_until("libtorrent's announce to aquatic_http", lambda: scraped(url, info_hash(t))[0] == 1, 60)
    dst = os.path.join(TMP, "dst-aq1")
    p, _, _ = nexsuj("download", t, dst)
    wait_exit(p, "nexsuj download through aquatic_http")
    same(src, dst, "aq1")


def scenario_aquatic_to_libtorrent():
    """A libtorrent leecher finds a nexsuj seeder through aquatic_http: our announce is accepted."""
    src = content("aq2", 4_000_000, 14)
    url = aquatic()
    t = make_torrent(src, "aq2", [url])
    seed, _, name = nexsuj("seed", t, src)
    ready(name)
    wait_until("nexsuj's announce to aquatic_http", lambda: scraped(url, info_hash(t))[0] == 1, 60)
    s, _ = lt_session()
    dst = os.path.join(TMP, "dst-aq2")
    h = lt_add(s, t, dst)
    wait_until("the libtorrent leecher", lambda: h.status().is_seeding)
    same(src, dst, "aq2")
    seed.terminate()
    seed.wait(10)


def scenario_transmission_seeds():
    """nexsuj downloads from a transmission seeder in the namespace, given directly."""
    src = content("tr1", 5_000_000, 3)
    t = make_torrent(src, "tr1", ["http://127.0.0.1:1/announce"])
    tr = Transmission(src)
    tr.add(t)
    wait_until("transmission to verify its data", tr.done, 60)
    dst = os.path.join(TMP, "dst-tr1")
    p, _, _ = nexsuj("download", t, dst, host=NET.host, peers=[(NET.guest, tr.peer_port)],
                     extra=["--no-trackers"])
    wait_exit(p, "nexsuj download from transmission")
    same(src, dst, "tr1")
    tr.stop()


def scenario_transmission_leeches():
    """A transmission leecher downloads from a nexsuj seeder through our tracker."""
    src = content("tr2", 5_000_000, 4)
    http, _ = tracker(NET.host)
    t = make_torrent(src, "tr2", [http])
    seed, _, name = nexsuj("seed", t, src, host=NET.host)
    ready(name)
    dst = os.path.join(TMP, "dst-tr2")
    tr = Transmission(dst)
    tr.add(t)
    wait_until("the transmission leecher", tr.done)
    same(src, dst, "tr2", settle=30)
    tr.stop()
    seed.terminate()
    seed.wait(10)


def scenario_both_seeders():
    """nexsuj downloads from a libtorrent and a transmission seeder at once."""
    src = content("both", 12_000_000, 5)
    t = make_torrent(src, "both", ["http://127.0.0.1:1/announce"], piece="64KiB")
    tr = Transmission(src)
    tr.add(t)
    wait_until("transmission to verify its data", tr.done, 60)
    # Slow enough that transmission (which unchokes on a 10 s timer) gets its turn.
    s, port = lt_session(NET.others[0], upload_rate=500_000)
    h = lt_add(s, t, src, seed=True)
    dst = os.path.join(TMP, "dst-both")
    p, _, _ = nexsuj("download", t, dst, host=NET.host,
                     peers=[(NET.guest, tr.peer_port), (NET.others[0], port)], extra=["--no-trackers", "--json"])
    wait_exit(p, "nexsuj download from both")
    same(src, dst, "both")
    from_lt, from_tr = h.status().total_payload_upload, tr.uploaded()
    log(f"libtorrent sent {from_lt} bytes, transmission {from_tr}")
    assert from_lt > 0 and from_tr != "None", "both seeders must have contributed"
    tr.stop()


def scenario_mixed_swarm():
    """One nexsuj seeder; nexsuj, libtorrent and transmission leechers meet through our tracker."""
    src = content("swarm", 8_000_000, 6)
    http, udp = tracker(NET.host)
    t = make_torrent(src, "swarm", [udp, http], piece="64KiB")
    seed, _, name = nexsuj("seed", t, src, host=NET.host, extra=["--max-up", "3MiB"])
    ready(name)
    dsts = {k: os.path.join(TMP, f"dst-swarm-{k}") for k in ["nexsuj", "libtorrent", "transmission"]}
    leech, _, _ = nexsuj("download", t, dsts["nexsuj"], host=NET.others[1])
    s, _ = lt_session(NET.others[0])
    h = lt_add(s, t, dsts["libtorrent"])
    tr = Transmission(dsts["transmission"])
    tr.add(t)
    start = time.time()
    wait_exit(leech, "the nexsuj leecher")
    log(f"nexsuj leecher done after {time.time() - start:.1f} s")
    wait_until("the libtorrent leecher", lambda: h.status().is_seeding)
    log(f"libtorrent leecher done after {time.time() - start:.1f} s")
    wait_until("the transmission leecher", tr.done)
    log(f"transmission leecher done after {time.time() - start:.1f} s")
    for d in dsts.values():
        same(src, d, "swarm", settle=30)
    tr.stop()
    seed.terminate()
    seed.wait(10)


class MaliciousPeer(threading.Thread):
    """Claims every piece (BEP 6 have all), unchokes, and answers every request with garbage."""

    def __init__(self, info_hash):
        super().__init__(daemon=True)
        self.info_hash = info_hash
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.served = 0

    def run(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            hs = recv_exact(conn, 68)
            assert hs[28:48] == self.info_hash
            reserved = bytes([0, 0, 0, 0, 0, 0, 0, 0x04])
            conn.sendall(b"\x13BitTorrent protocol" + reserved + self.info_hash + b"-EV0001-" + b"x" * 12)
            conn.sendall(struct.pack(">IB", 1, 14) + struct.pack(">IB", 1, 1))  # have all, unchoke
            while True:
                (n,) = struct.unpack(">I", recv_exact(conn, 4))
                body = recv_exact(conn, n) if n else b""
                if body[:1] == b"\x06":
                    index, begin, length = struct.unpack(">III", body[1:13])
                    junk = os.urandom(length)
                    conn.sendall(struct.pack(">IBII", 9 + length, 7, index, begin) + junk)
                    self.served += 1
        except (OSError, AssertionError, struct.error):
            conn.close()


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


def info_hash(torrent):
    return lt.torrent_info(torrent).info_hash().to_bytes()


def scenario_malicious_peer():
    """A peer sending corrupted blocks is banned; the download still completes from an honest libtorrent."""
    src = content("evil", 8_000_000, 7)
    t = make_torrent(src, "evil", ["http://127.0.0.1:1/announce"], piece="64KiB")
    evil = MaliciousPeer(info_hash(t))
    evil.start()
    s, port = lt_session(upload_rate=2_000_000)
    lt_add(s, t, src, seed=True)
    dst = os.path.join(TMP, "dst-evil")
    p, _, name = nexsuj("download", t, dst, peers=[("127.0.0.1", evil.port), ("127.0.0.1", port)],
                        extra=["--no-trackers", "--json"])
    wait_exit(p, "nexsuj download next to a malicious peer")
    same(src, dst, "evil")
    summary = json.loads(read_log(name)[read_log(name).index("{"):])
    assert summary["banned_peers"] >= 1 and summary["hash_failures"] >= 1, summary
    log(f"malicious peer served {evil.served} blocks, {summary['hash_failures']} bad pieces, banned")


def scenario_kill_and_recheck():
    """kill -9 mid-download, restart: completes, verified pieces are not fetched again. Then a byte flipped on
    disk is found by --recheck and only that piece is fetched again."""
    src = content("kill", 16_000_000, 8)
    t = make_torrent(src, "kill", ["http://127.0.0.1:1/announce"], piece="64KiB")
    s, port = lt_session(upload_rate=4_000_000)
    h = lt_add(s, t, src, seed=True)
    dst = os.path.join(TMP, "dst-kill")
    p, _, _ = nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers"])
    journal = os.path.join(dst, ".nexsuj", info_hash(t).hex() + ".journal")
    wait_until("a third of the pieces", lambda: os.path.exists(journal) and os.path.getsize(journal) >= 4 * 80)
    p.send_signal(signal.SIGKILL)
    p.wait()
    verified = os.path.getsize(journal) // 4
    assert verified < 245, "the download finished before the kill"
    sent_before = h.status().total_payload_upload
    p, _, name = nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers", "--json"])
    wait_exit(p, "the restarted download")
    same(src, dst, "kill")
    total = lt.torrent_info(t).total_size()
    again = h.status().total_payload_upload - sent_before
    log(f"killed after {verified} verified pieces; the restart fetched {again} of {total} bytes")
    assert again <= total - verified * 65536 + 16 * 65536, "verified pieces were fetched again"

    victim = os.path.join(dst, "kill", "a.bin")
    with open(victim, "r+b") as f:
        f.seek(1_000_000)
        b = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([b[0] ^ 0xFF]))
    p, _, name = nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers", "--json",
                                                                               "--recheck"])
    wait_exit(p, "the recheck")
    same(src, dst, "kill")
    summary = json.loads(read_log(name)[read_log(name).index("{"):])
    assert summary["downloaded"] == 65536, f"expected one piece fetched again: {summary}"


SCENARIOS = {
    "from_libtorrent": (scenario_from_libtorrent, False),
    "to_libtorrent": (scenario_to_libtorrent, False),
    "magnet_from_libtorrent": (scenario_magnet_from_libtorrent, False),
    "magnet_to_libtorrent": (scenario_magnet_to_libtorrent, False),
    "aquatic_from_libtorrent": (scenario_aquatic_from_libtorrent, False),
    "aquatic_to_libtorrent": (scenario_aquatic_to_libtorrent, False),
    "transmission_seeds": (scenario_transmission_seeds, True),
    "transmission_leeches": (scenario_transmission_leeches, True),
    "both_seeders": (scenario_both_seeders, True),
    "mixed_swarm": (scenario_mixed_swarm, True),
    "malicious_peer": (scenario_malicious_peer, False),
    "kill_and_recheck": (scenario_kill_and_recheck, False),
}


def main(scenarios=None, label="client"):
    """Runs the scenarios named on the command line (all by default): name -> (function, needs the namespace).
    daemon.py runs its own through here too."""
    global NET
    scenarios = scenarios or SCENARIOS
    names = sys.argv[1:] or list(scenarios)
    failed = []
    try:
        if any(scenarios[n][1] for n in names):
            NET = Netns()
        for n in names:
            fn, _ = scenarios[n]
            print(f"{label}: {n}: {fn.__doc__.splitlines()[0]}", flush=True)
            start = time.time()
            try:
                fn()
                print(f"{label}: {n}: ok ({time.time() - start:.1f} s)", flush=True)
            except Exception as e:  # report and go on with the next scenario
                failed.append(n)
                print(f"{label}: {n}: FAILED: {e!r}", flush=True)
                for f in sorted(os.listdir(TMP)):
                    if f.endswith(".log"):
                        print(f"---- {f}\n{read_log(f)[-3000:]}", flush=True)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if NET:
            NET.cleanup()
        shutil.rmtree(TMP, ignore_errors=True)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
