#!/usr/bin/python3
"""Interop test for `nexsuj serve` (the private-tracker site): a libtorrent seeder and a transmission
leecher, each using a .torrent downloaded from the site by a different user (so each carries its own
passkey), transfer a file through the site's private tracker; then the site shows the leecher's
downloaded and the seeder's uploaded bytes equal to the file size within one piece, and the snatch.
A wrong passkey gets a `failure reason` over HTTP and UDP.

    NEXSUJ=target/release/nexsuj /usr/bin/python3 interop/site.py

Needs root (transmission runs in a network namespace: it refuses loopback peers). The last line
printed is `N passed, N failed`.
"""

import filecmp
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
import urllib.parse
import urllib.request
from pathlib import Path

import libtorrent as lt

from peers import Netns, Nexsuj, Transmission, lt_add, lt_session, lt_wait_alert, wait_until

REPO = Path(__file__).resolve().parent.parent
NEXSUJ = str(Path(os.environ.get("NEXSUJ") or REPO / "target/release/nexsuj").resolve())
SIZE = 5 * 1024 * 1024 + 1234
PIECE = 64 * 1024
PASSWORD = "Interop-pass1"


def free_port(ip, kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


class Client:
    """A user of the site's JSON API, with its session cookie."""

    def __init__(self, base):
        self.base, self.cookie = base, None

    def call(self, method, path, data=None, headers=None, raw=False):
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                body, status, set_cookie = r.read(), r.status, r.headers.get("Set-Cookie")
        except urllib.error.HTTPError as e:
            body, status, set_cookie = e.read(), e.code, None
        if set_cookie and set_cookie.startswith("nx_session="):
            self.cookie = set_cookie.split(";")[0]
        return (status, body) if raw else (status, json.loads(body))

    def post_json(self, path, obj):
        return self.call("POST", path, json.dumps(obj).encode(), {"Content-Type": "application/json"})


def mailed_code(outbox, email):
    def find():
        for f in sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            text = f.read_text(errors="replace")
            if f"To: {email}" in text and "sign-up code: " in text:
                return text.split("sign-up code: ")[1][:6]
        return None
    return wait_until(f"the code mailed to {email}", find, timeout=20)


def sign_up(base, outbox, nick):
    c = Client(base)
    email = f"{nick}@example.org"
    status, reply = c.post_json("/signup/code", {"email": email})
    assert status == 200, reply
    status, reply = c.post_json("/signup", {"nick": nick, "email": email, "pwd": PASSWORD, "sex": 0,
                                            "code": mailed_code(outbox, email)})
    assert status == 200 and reply["code"] == 200, reply
    status, reply = c.post_json("/login", {"email": email, "pwd": PASSWORD})
    assert status == 200 and c.cookie, reply
    return c


def multipart(fields, file_field, file_name, file_bytes):
    boundary = "nexsuj%016x" % random.getrandbits(64)
    out = b""
    for k, v in fields.items():
        out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n".encode()
    out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{file_name}\"\r\n"
            "Content-Type: application/x-bittorrent\r\n\r\n").encode() + file_bytes + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def profile(c):
    status, reply = c.call("GET", "/api/profile")
    assert status == 200, reply
    return reply["body"]


def udp_announce(udp, info_hash, passkey):
    """A BEP 15 announce with BEP 41 URL data; returns the error text, or None on success."""
    host, port = udp.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(struct.pack(">QII", 0x41727101980, 0, 1), (host, int(port)))
        _, _, conn = struct.unpack(">IIQ", s.recv(64))
        url = f"/announce?auth_key={passkey}".encode()
        data = bytes([2, len(url)]) + url + bytes([0])
        s.sendto(struct.pack(">QII20s20sQQQIIIiH", conn, 1, 2, info_hash, b"-XX0001-000000000001",
                             0, 10, 0, 2, 0, 0, -1, 6881) + data, (host, int(port)))
        reply = s.recv(2048)
        action = struct.unpack(">I", reply[:4])[0]
        return reply[8:].decode() if action == 3 else None


def transfer(ns, site, work):
    http, udp = site.addresses["HTTP tracker listening"], site.addresses["UDP tracker listening"]
    base, outbox = f"http://{http}", work / "data/outbox"
    seeder_user = sign_up(base, outbox, "seeder")
    leecher_user = sign_up(base, outbox, "leecher")
    print("  two users signed up (codes read from the outbox) and logged in")

    content_dir = work / "seed"
    content_dir.mkdir(parents=True)
    content = content_dir / "payload.bin"
    content.write_bytes(os.urandom(SIZE))
    original = work / "original.torrent"
    subprocess.run([NEXSUJ, "create", content, "-t", "http://elsewhere.example/announce",
                    "--piece-length", "64KiB", "-o", original, "-f"], check=True, capture_output=True)
    body, ctype = multipart({"title": "Interop payload", "type": "other", "labels": "interop,test",
                             "description": "made by interop/site.py"}, "torrent", "payload.torrent",
                            original.read_bytes())
    status, reply = seeder_user.call("POST", "/upload/torrent", body, {"Content-Type": ctype})
    assert status == 200, reply
    tid, info_hash_hex = reply["body"]["id"], reply["body"]["infoHash"]
    print(f"  uploaded: id {tid}, info-hash {info_hash_hex} (rewritten: private, source)")

    torrents = {}
    for name, user in (("seeder", seeder_user), ("leecher", leecher_user)):
        status, data = user.call("GET", f"/download/torrent?id={tid}", raw=True)
        assert status == 200, data
        path = work / f"{name}.torrent"
        path.write_bytes(data)
        ti = lt.torrent_info(str(path))
        assert str(ti.info_hash()) == info_hash_hex, (str(ti.info_hash()), info_hash_hex)
        assert ti.priv(), "downloaded torrents are private"
        trackers = [t.url for t in ti.trackers()]
        key = profile(user)["authKey"]
        assert sorted(trackers) == sorted([f"{base}/announce?auth_key={key}", f"udp://{udp}/announce?auth_key={key}"]), trackers
        torrents[name] = path
    print("  each user downloaded a copy with their own passkey; same info-hash")

    seeder = lt_session(ns.host_ip, free_port(ns.host_ip))
    # lt_session announces to every URL of every tier (HTTP and UDP, one swarm): the repeated
    # announces, the second `stopped` above all, must not be credited twice.
    handle = lt_add(seeder, torrents["seeder"], content_dir, seed=True)
    lt_wait_alert(seeder, lt.tracker_reply_alert, "libtorrent's announce with the seeder's passkey")
    print("  libtorrent seeder announced")
    with Transmission(ns, work / "transmission", peer_port=free_port(ns.host_ip)) as tr:
        tr.add(torrents["leecher"])
        wait_until("transmission to finish", lambda: tr.percent_done() >= 100.0, timeout=180)
        got = work / "transmission/data" / content.name
        assert filecmp.cmp(content, got, shallow=False), "transmission's copy differs"
        print("  transmission downloaded a byte-identical copy")
        # Stop both: each sends a final announce (event=stopped) with its totals.
        tr.remote("-t", 1, "--stop")
        handle.pause()
        handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)

        last = {}

        def settled():
            up, down = profile(seeder_user), profile(leecher_user)
            last.update(seeder=up, leecher=down)
            if abs(down["downloaded"] - SIZE) <= PIECE and abs(up["uploaded"] - SIZE) <= PIECE and down["snatched"] == 1:
                return up, down
            return None
        try:
            up, down = wait_until("the site to show the transfer", settled, timeout=60)
        except Exception:
            print(f"  last profiles: {json.dumps(last)}")
            print(tr.remote("-t", 1, "-it"))
            try:  # /stats answers loopback only, and the site listens on the namespace's address
                with urllib.request.urlopen(f"{base}/stats", timeout=10) as r:
                    print(r.read().decode())
            except OSError as e:
                print(f"  /stats: {e}")
            raise
        print(f"  site: seeder uploaded {up['uploaded']}, leecher downloaded {down['downloaded']} "
              f"(file {SIZE}), leecher snatched {down['snatched']}")
        status, detail = leecher_user.call("GET", f"/api/torrents/{tid}")
        assert detail["body"]["completed"] >= 1, detail
    del seeder

    # A wrong passkey is refused with a failure reason, over HTTP and UDP.
    info_hash = bytes.fromhex(info_hash_hex)
    q = urllib.parse.urlencode({"info_hash": info_hash, "peer_id": "-XX0001-000000000001", "port": 6881,
                                "uploaded": 0, "downloaded": 0, "left": 10, "auth_key": "0" * 32})
    with urllib.request.urlopen(f"{base}/announce?{q}", timeout=10) as r:
        reply = lt.bdecode(r.read())
    assert reply.get(b"failure reason") == b"unknown or disabled passkey", reply
    assert udp_announce(udp, info_hash, "0" * 32) == "unknown or disabled passkey"
    assert udp_announce(udp, info_hash, profile(leecher_user)["authKey"]) is None
    print("  a wrong passkey gets 'failure reason' over HTTP and UDP; a right one is answered")


def main():
    passed, failed = 0, 0
    with tempfile.TemporaryDirectory(prefix="nexsuj-site-interop-") as tmp, Netns(2) as ns:
        work = Path(tmp)
        http, udp = f"{ns.host_ip}:{free_port(ns.host_ip)}", f"{ns.host_ip}:{free_port(ns.host_ip, socket.SOCK_DGRAM)}"
        env = {"NEXSUJ_FLUSH_INTERVAL_SECS": "1", "NEXSUJ_TRACKER_INTERVAL": "60", "NEXSUJ_TRACKER_MIN_INTERVAL": "5"}
        with Nexsuj(NEXSUJ, "serve", "--http", http, "--udp", udp, "--data-dir", work / "data", env=env) as site:
            name = "libtorrent seeder -> transmission leecher through the private tracker, accounted by the site"
            print(f"- {name}")
            try:
                transfer(ns, site, work)
                passed += 1
                print("  ok")
            except Exception:
                failed += 1
                traceback.print_exc()
                print("".join(site.lines[-60:]))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
