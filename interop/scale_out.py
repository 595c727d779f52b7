#!/usr/bin/python3
"""Interop test of several tracker instances answering as one: three `nexsuj serve` processes sharing one
PostgreSQL database and one Redis (a single server, then a three-master Redis Cluster), behind Debian's nginx
(`http` for the site and HTTP tracker, `stream` for UDP).

- A libtorrent seeder announcing to instance 1 and a transmission leecher (network namespace) announcing to
  instance 3 over UDP find each other and complete; the site shows the bytes once.
- The same on a Redis Cluster.
- 10,000 concurrent UDP announces for one swarm spread over the three instances: exact seeder and leecher counts.
- BEP 12: the downloaded torrent lists every instance; libtorrent fails over when the first is stopped.
- Redis stopped and restarted, then PostgreSQL: a clear failure reason (or error page) during each outage, correct
  service after, and the accounting neither loses nor doubles a byte.

    NEXSUJ=target/release/nexsuj /usr/bin/python3 interop/scale_out.py     # SCALE_ONLY=redis|cluster: one of them

Needs root (network namespace; PostgreSQL is stopped and started with pg_ctlcluster). The last line printed is
`N passed, N failed`.
"""

import filecmp
import os
import socket
import struct
import subprocess
import sys
import time
import traceback
import urllib.parse
import urllib.request

import libtorrent as lt

from deploy import NEXSUJ, TMP, Deployment, Redis, cluster, cluster_ports, pg_cluster, site
from peers import Netns, Transmission, lt_add, lt_session, lt_wait_alert, wait_until

SIZE = 4 * 1024 * 1024 + 321
PIECE = 64 * 1024
DEGRADED = "tracker degraded: its swarm store is unreachable; retry shortly"


def sign_up(dep, nick):
    """site.sign_up, with the code looked for in every instance's outbox (whichever sent the mail)."""
    c = site.Client(dep.base)
    email = f"{nick}@example.org"
    status, reply = c.post_json("/signup/code", {"email": email})
    assert status == 200, reply

    def code():
        for outbox in dep.outboxes():
            for f in outbox.glob("*.eml") if outbox.exists() else []:
                text = f.read_text(errors="replace")
                if f"To: {email}" in text and "sign-up code: " in text:
                    return text.split("sign-up code: ")[1][:6]
        return None
    status, reply = c.post_json("/signup", {"nick": nick, "email": email, "pwd": site.PASSWORD, "sex": 0,
                                            "code": wait_until(f"the code mailed to {email}", code, timeout=20)})
    assert status == 200 and reply["code"] == 200, reply
    status, reply = c.post_json("/login", {"email": email, "pwd": site.PASSWORD})
    assert status == 200 and c.cookie, reply
    return c


def upload(dep, user, content):
    original = TMP / f"{dep.name}-original.torrent"
    subprocess.run([NEXSUJ, "create", content, "-t", "http://elsewhere.example/announce", "--piece-length", "64KiB",
                    "-o", original, "-f"], check=True, capture_output=True)
    body, ctype = site.multipart({"title": f"Scale-out {dep.name}", "type": "other", "labels": "interop",
                                  "description": "made by interop/scale_out.py"}, "torrent", "payload.torrent",
                                 original.read_bytes())
    status, reply = user.call("POST", "/upload/torrent", body, {"Content-Type": ctype})
    assert status == 200, reply
    return reply["body"]["id"], reply["body"]["infoHash"]


def download(dep, user, tid, name):
    status, data = user.call("GET", f"/download/torrent?id={tid}", raw=True)
    assert status == 200, data
    path = TMP / f"{dep.name}-{name}-full.torrent"
    path.write_bytes(data)
    return path


def only(torrent, url, out):
    """The torrent announcing to `url` alone (the announce list is outside the info dictionary)."""
    meta = lt.bdecode(torrent.read_bytes())
    meta[b"announce"] = url.encode()
    meta[b"announce-list"] = [[url.encode()]]
    out.write_bytes(lt.bencode(meta))
    return out


def trackers(torrent):
    return [t.url for t in lt.torrent_info(str(torrent)).trackers()]


def transfer(ns, dep):
    """libtorrent seeds through instance 1 (HTTP), transmission leeches through instance 3 (UDP)."""
    seeder_user, leecher_user = sign_up(dep, "seeder"), sign_up(dep, "leecher")
    content_dir = TMP / f"{dep.name}-seed"
    content_dir.mkdir()
    content = content_dir / "payload.bin"
    content.write_bytes(os.urandom(SIZE))
    tid, info_hash = upload(dep, seeder_user, content)
    full = {n: download(dep, u, tid, n) for n, u in (("seeder", seeder_user), ("leecher", leecher_user))}
    key = site.profile(leecher_user)["authKey"]
    want = [f"{dep.base}/announce?auth_key={key}", f"udp://{dep.front_udp}/announce?auth_key={key}",
            *[f"http://{h}/announce?auth_key={key}" for h in dep.http]]
    assert sorted(trackers(full["leecher"])) == sorted(want), trackers(full["leecher"])
    print(f"  users signed up and uploaded through nginx; the torrent lists nginx (HTTP, UDP) and all 3 instances")
    skey = site.profile(seeder_user)["authKey"]
    seed_torrent = only(full["seeder"], f"http://{dep.http[0]}/announce?auth_key={skey}", TMP / f"{dep.name}-s.torrent")
    # transmission sends no BEP 41 URL data over UDP, so no passkey: it announces over HTTP.
    leech_torrent = only(full["leecher"], f"http://{dep.http[2]}/announce?auth_key={key}", TMP / f"{dep.name}-l.torrent")
    seeder = lt_session(ns.host_ip, site.free_port(ns.host_ip))
    handle = lt_add(seeder, seed_torrent, content_dir, seed=True)
    lt_wait_alert(seeder, lt.tracker_reply_alert, "the seeder's announce to instance 1")
    # Through nginx's UDP proxy (BEP 41 passkey), whichever instance it picks: the seeder is there.
    front = (dep.front_udp.rsplit(":", 1)[0], int(dep.front_udp.rsplit(":", 1)[1]))
    s, conn = udp_connect(front)
    reply = udp_exchange(s, front, udp_announce_packet(conn, 9, bytes.fromhex(info_hash), 50000, 100, 2, key, -1))
    action, _, _, leechers, seeders = struct.unpack(">IIIII", reply[:20])
    assert action == 1 and seeders == 1 and len(reply) == 26, reply
    udp_exchange(s, front, udp_announce_packet(conn, 10, bytes.fromhex(info_hash), 50000, 100, 3, key))
    print("  a UDP announce through nginx's stream proxy found the seeder")
    with Transmission(ns, TMP / f"{dep.name}-transmission", peer_port=site.free_port(ns.host_ip)) as tr:
        tr.add(leech_torrent)
        try:
            wait_until("transmission to finish", lambda: tr.percent_done() >= 100.0, timeout=180)
        except Exception:
            print(tr.remote("-t", 1, "-it"), tr.remote("-t", 1, "-ip"), tr.info())
            raise
        assert filecmp.cmp(content, TMP / f"{dep.name}-transmission/data/payload.bin", shallow=False)
        print("  libtorrent (instance 1) and transmission (instance 3, network namespace) met; byte-identical copy")
        tr.remote("-t", 1, "--stop")
        handle.pause()
        handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)

        def settled():
            up, down = site.profile(seeder_user), site.profile(leecher_user)
            ok = abs(down["downloaded"] - SIZE) <= PIECE and abs(up["uploaded"] - SIZE) <= PIECE
            return (up, down) if ok and down["snatched"] == 1 else None
        up, down = wait_until("the site to show the transfer once", settled, timeout=60)
    print(f"  site: seeder uploaded {up['uploaded']}, leecher downloaded {down['downloaded']} (file {SIZE}), "
          f"snatched {down['snatched']}")
    del seeder
    return tid, info_hash, seeder_user, leecher_user


def udp_exchange(sock, addr, packet):
    sock.sendto(packet, addr)
    return sock.recv(4096)


def udp_connect(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.settimeout(5)
    reply = udp_exchange(s, addr, struct.pack(">QII", 0x41727101980, 0, 1))
    return s, struct.unpack(">IIQ", reply[:16])[2]


def udp_announce_packet(conn, tid, info_hash, peer, left, event, passkey, numwant=0):
    url = f"/announce?auth_key={passkey}".encode()
    data = bytes([2, len(url)]) + url + bytes([0])
    peer_id = b"-NX0001-" + peer.to_bytes(12, "big")
    return struct.pack(">QII20s20sQQQIIIiH", conn, 1, tid, info_hash, peer_id, 0, left, 0, event, 0, 0, numwant,
                       10000 + peer) + data


def concurrent_announces(dep, info_hash_hex, passkey, n=10_000):
    """n peers (every third a seeder) start at once over the three instances, then every fifth stops."""
    info_hash = bytes.fromhex(info_hash_hex)
    addrs = [(u.rsplit(":", 1)[0], int(u.rsplit(":", 1)[1])) for u in dep.udp]
    conns = [udp_connect(a) for a in addrs]
    seeds = lambda p: p % 3 == 0  # noqa: E731
    degraded = [0]

    def scrape(h):
        q = urllib.parse.urlencode({"info_hash": info_hash, "auth_key": passkey})
        with urllib.request.urlopen(f"http://{h}/scrape?{q}", timeout=10) as r:
            stats = lt.bdecode(r.read())[b"files"][info_hash]
        return stats[b"complete"], stats[b"incomplete"]
    # The transfer's seeder and leecher have stopped; whatever their last announces left is counted on top.
    base_seeders, base_leechers = scrape(dep.http[0])

    def phase(peers, event, left_of):
        pending = set(peers)
        for attempt in range(5):
            for p in sorted(pending):
                s, conn = conns[p % 3]
                s.sendto(udp_announce_packet(conn, p, info_hash, p, left_of(p), event, passkey), addrs[p % 3])
            deadline = time.monotonic() + 5
            for s, _ in conns:
                s.settimeout(0.05)
            while pending and time.monotonic() < deadline:
                for s, _ in conns:
                    try:
                        reply = s.recv(4096)
                    except socket.timeout:
                        continue
                    action, tid = struct.unpack(">II", reply[:8])
                    if action == 3 and reply[8:].decode(errors="replace") == DEGRADED:
                        degraded[0] += 1  # Redis answered too late: sent again
                        continue
                    assert action == 1, reply[8:].decode(errors="replace")
                    pending.discard(tid)
            if not pending:
                return attempt
        raise AssertionError(f"{len(pending)} announces never answered")

    retries = phase(range(n), 2, lambda p: 0 if seeds(p) else 100)
    stopped = [p for p in range(n) if p % 5 == 0]
    retries += phase(stopped, 3, lambda p: 0 if seeds(p) else 100)
    want_seeders = base_seeders + sum(1 for p in range(n) if seeds(p) and p % 5)
    want_leechers = base_leechers + sum(1 for p in range(n) if not seeds(p) and p % 5)
    for h in dep.http:
        assert scrape(h) == (want_seeders, want_leechers), (h, scrape(h), want_seeders, want_leechers)
    print(f"  {n} announces over 3 instances, then {len(stopped)} stops: every instance scrapes {want_seeders} "
          f"seeders, {want_leechers} leechers (resend rounds: {retries}; answered degraded and resent: "
          f"{degraded[0]})")


def http_announce(url, info_hash_hex, peer, uploaded, left, event=""):
    q = urllib.parse.urlencode({"info_hash": bytes.fromhex(info_hash_hex), "peer_id": f"-NX0001-{peer:012d}",
                                "port": 20000 + peer, "uploaded": uploaded, "downloaded": 0, "left": left,
                                "compact": 1, **({"event": event} if event else {})})
    with urllib.request.urlopen(f"{url}&{q}", timeout=10) as r:
        return lt.bdecode(r.read())


def outages(dep, redis, info_hash_hex, user):
    """Redis, then PostgreSQL, stopped and started under a peer that keeps uploading."""
    key = site.profile(user)["authKey"]
    before = site.profile(user)["uploaded"]
    urls = [f"http://{h}/announce?auth_key={key}" for h in dep.http]
    mib = 1 << 20
    assert b"failure reason" not in http_announce(urls[0], info_hash_hex, 7, 0, 0, "started")
    assert b"failure reason" not in http_announce(urls[1], info_hash_hex, 7, 1 * mib, 0)
    redis.stop()
    reply = http_announce(urls[2], info_hash_hex, 7, 2 * mib, 0)
    assert reply.get(b"failure reason") == DEGRADED.encode(), reply
    s, conn = udp_connect((dep.udp[0].rsplit(":", 1)[0], int(dep.udp[0].rsplit(":", 1)[1])))
    udp_reply = udp_exchange(s, (dep.udp[0].rsplit(":", 1)[0], int(dep.udp[0].rsplit(":", 1)[1])),
                             udp_announce_packet(conn, 5, bytes.fromhex(info_hash_hex), 7, 0, 0, key))
    assert struct.unpack(">I", udp_reply[:4])[0] == 3 and udp_reply[8:].decode() == DEGRADED, udp_reply
    print(f"  Redis stopped: HTTP and UDP announces get '{DEGRADED}'")
    redis.start()
    wait_until("the instances to reach Redis again",
               lambda: b"failure reason" not in http_announce(urls[2], info_hash_hex, 7, 3 * mib, 0), timeout=30)
    assert b"failure reason" not in http_announce(urls[0], info_hash_hex, 7, 4 * mib, 0)
    print("  Redis restarted: announces answered again")
    pg_cluster("stop")
    try:
        # Announces go on (passkeys cached, accounting queued); the site's pages say the database failed.
        assert b"failure reason" not in http_announce(urls[1], info_hash_hex, 7, 5 * mib, 0)
        status, body = user.call("GET", "/api/profile", raw=True)
        assert status >= 500, (status, body)
        print(f"  PostgreSQL stopped: announces still answered, the API answers {status}")
    finally:
        pg_cluster("start")
    assert b"failure reason" not in http_announce(urls[2], info_hash_hex, 7, 6 * mib, 0, "stopped")
    want = before + 6 * mib
    got = wait_until("the accounting to catch up", lambda: (lambda u: u if u == want else None)(
        site.profile(user)["uploaded"]), timeout=60)
    print(f"  PostgreSQL restarted: uploaded {got - before} bytes credited for 6 MiB announced — none lost, none twice")


def failover(ns, dep, torrent):
    """BEP 12: libtorrent (default settings: one tracker of a tier at a time, in its own shuffled order) is given
    the three instances' URLs from the downloaded announce-list; the one it would ask first is stopped, and its
    announce goes to the next."""
    meta = lt.bdecode(torrent.read_bytes())
    urls = [u for tier in meta[b"announce-list"] for u in tier
            if any(u.startswith(f"http://{h}/".encode()) for h in dep.http)]
    assert len(urls) == 3, meta[b"announce-list"]
    meta[b"announce"] = urls[0]
    meta[b"announce-list"] = [urls]
    path = TMP / f"{dep.name}-failover.torrent"
    path.write_bytes(lt.bencode(meta))
    s = lt.session({"listen_interfaces": f"{ns.host_ip}:{site.free_port(ns.host_ip)}", "enable_dht": False,
                    "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                    "alert_mask": lt.alert.category_t.all_categories})
    p = lt.add_torrent_params()
    p.ti = lt.torrent_info(str(path))
    p.save_path = str(TMP / f"{dep.name}-failover")
    p.flags |= lt.torrent_flags.paused
    p.flags &= ~lt.torrent_flags.auto_managed
    h = s.add_torrent(p)
    first = h.trackers()[0]["url"]
    down = next(i for i, hp in enumerate(dep.http) if first.startswith(f"http://{hp}/"))
    dep.stop(down)
    h.resume()
    failed_first = [False]

    def answered_elsewhere(a):
        if isinstance(a, lt.tracker_error_alert) and a.tracker_url() == first:
            failed_first[0] = True
        return isinstance(a, lt.tracker_reply_alert) and a.tracker_url() != first
    a = lt_wait_alert(s, lt.alert, "an announce answered by another instance", timeout=90, match=answered_elsewhere)
    assert failed_first[0], "libtorrent never tried the stopped instance"
    print(f"  instance {down + 1} (first in libtorrent's order) stopped: its announce failed, then "
          f"{a.tracker_url().split('?')[0]} answered")


def main():
    passed = failed = 0
    redis_port = site.free_port("127.0.0.1")
    redis = Redis(redis_port)
    nodes = []
    try:
        with Netns(4) as ns:
            redis.start()
            scenarios = [("redis", f"redis://127.0.0.1:{redis_port}")]
            node_ports = cluster_ports(3)
            scenarios.append(("cluster", "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in node_ports)))
            only_one = os.environ.get("SCALE_ONLY")
            for name, url in [sc for sc in scenarios if not only_one or sc[0] == only_one]:
                print(f"- three nexsuj serve on {'a Redis Cluster' if name == 'cluster' else 'one Redis'} and "
                      "PostgreSQL behind nginx")
                dep = None
                try:
                    if name == "cluster":
                        nodes = cluster(node_ports)
                    with Deployment(ns, name, url) as dep:
                        tid, info_hash, seeder_user, leecher_user = transfer(ns, dep)
                        concurrent_announces(dep, info_hash, site.profile(leecher_user)["authKey"])
                        if name == "redis":
                            outages(dep, redis, info_hash, seeder_user)
                            failover(ns, dep, TMP / f"{dep.name}-leecher-full.torrent")
                    passed += 1
                    print("  ok")
                except Exception:
                    failed += 1
                    traceback.print_exc()
                    if dep:
                        print(dep.logs())
    finally:
        redis.stop()
        for n in nodes:
            n.stop()
        subprocess.run(["rm", "-rf", str(TMP)])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
