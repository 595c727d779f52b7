#!/usr/bin/python3
"""Interop tests of nexsuj's DHT (BEP 5) with libtorrent's, on loopback: a network of libtorrent sessions and a
`nexsuj dht serve` node, bootstrapped from each other.

    /usr/bin/python3 interop/dht.py [SCENARIO ...]

Reads $NEXSUJ. libtorrent runs in this process with the DHT settings INTEROP.md gives for loopback.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

import libtorrent as lt

import client as c


def lt_dht_session(port, others):
    s = lt.session({
        "listen_interfaces": f"127.0.0.1:{port}", "enable_dht": True, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True, "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False, "dht_ignore_dark_internet": False, "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False, "dht_extended_routing_table": False,
        "dht_bootstrap_nodes": ",".join(f"127.0.0.1:{p}" for p in others), "alert_mask": 0,
    })
    for p in others:
        s.add_dht_node(("127.0.0.1", p))
    return s


def dht(*args, timeout=60):
    r = subprocess.run([c.NEXSUJ, "dht", *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def scenario_get_peers_from_libtorrent():
    """`nexsuj dht get-peers` finds a libtorrent seeder announced in the DHT only, through libtorrent nodes and a
    `nexsuj dht serve` node; `nexsuj dht ping` gets an answer from a libtorrent node."""
    ports = [c.free_port() for _ in range(4)]
    ours, http = c.free_port(), c.free_port()
    state = os.path.join(c.TMP, "dht-serve.state")
    serve = c.spawn([c.NEXSUJ, "dht", "serve", "--listen", f"127.0.0.1:{ours}", "--http", f"127.0.0.1:{http}",
                     "--state", state, *sum((["--bootstrap", f"127.0.0.1:{p}"] for p in ports), [])],
                    "dht-serve.log")
    sessions = [lt_dht_session(p, [q for q in ports if q != p] + [ours]) for p in ports]
    src = c.content("dht1", 1_000_000, 31)
    t = c.make_torrent(src, "dht1", [])
    h = c.lt_add(sessions[0], t, src, seed=True)
    ih = c.info_hash(t).hex()
    h.force_dht_announce()

    code, out, err = dht("ping", f"127.0.0.1:{ports[1]}")
    assert code == 0 and out.startswith(f"127.0.0.1:{ports[1]} "), (code, out, err)
    c.log(f"libtorrent node answered our ping: {out.split()[1]}")

    seeder = f"127.0.0.1:{ports[0]}"
    found = {}

    def lookup():
        code, out, err = dht("get-peers", ih, "--json", "--bootstrap", f"127.0.0.1:{ports[2]}",
                             "--bootstrap", f"127.0.0.1:{ours}")
        if code == 0:
            found.update(json.loads(out))
        return seeder in found.get("peers", [])
    c.wait_until("nexsuj dht get-peers to find the libtorrent seeder", lookup, 60)
    c.log(f"found {found['peers']} with {found['queries']} queries; our table had {found['table']} nodes")
    # The serving node's /stats: libtorrent's nodes queried it, and it knows them.
    stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{http}/stats", timeout=10))
    asked = stats["queries_in"]["by_method"]
    assert stats["table"]["nodes"] >= 1 and sum(asked.values()) >= 1, stats
    c.log(f"dht serve: table {stats['table']['nodes']} nodes, queries answered {asked}")
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10).read().decode()
    assert 'nexsuj_dht_queries_in_total{method="find_node"}' in metrics, metrics[:500]
    serve.terminate()
    serve.wait(10)
    assert os.path.getsize(state) > 20, "the node's state is saved at exit"


def lt_network(n, extra=()):
    """`n` libtorrent DHT sessions bootstrapped from each other (and from `extra` ports): (sessions, ports)."""
    ports = [c.free_port() for _ in range(n)]
    return [lt_dht_session(p, [q for q in ports if q != p] + list(extra)) for p in ports], ports


def scenario_magnet_from_libtorrent():
    """`nexsuj download` of a magnet with only the info-hash: peers from the DHT (libtorrent nodes, the seeder
    announced there only), then the metadata and the data."""
    sessions, ports = lt_network(4)
    src = c.content("dht2", 3_000_000, 32)
    t = c.make_torrent(src, "dht2", [])
    h = c.lt_add(sessions[0], t, src, seed=True)
    h.force_dht_announce()
    dst = os.path.join(c.TMP, "dst-dht2")
    magnet = f"magnet:?xt=urn:btih:{c.info_hash(t).hex()}"
    args = [c.NEXSUJ, "download", magnet, "-o", dst, "--listen", "127.0.0.1", "--port", str(c.free_port())]
    for p in ports[1:]:
        args += ["--dht-bootstrap", f"127.0.0.1:{p}"]
    p = c.spawn(args, "dht-download.log")
    c.wait_exit(p, "nexsuj download of a DHT-only magnet")
    assert "looking for peers in the DHT" in c.read_log("dht-download.log")
    c.same(src, dst, "dht2")


def scenario_libtorrent_from_magnet():
    """A nexsuj seeder announced in the DHT only is found and downloaded by libtorrent from a magnet."""
    sessions, ports = lt_network(3)
    src = c.content("dht3", 3_000_000, 33)
    t = c.make_torrent(src, "dht3", [])
    port = c.free_port()
    args = [c.NEXSUJ, "seed", t, src, "--listen", "127.0.0.1", "--port", str(port)]
    for p in ports:
        args += ["--dht-bootstrap", f"127.0.0.1:{p}"]
    seed = c.spawn(args, "dht-seed.log")
    c.ready("dht-seed.log")
    leecher = lt_dht_session(c.free_port(), ports)
    params = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{c.info_hash(t).hex()}")
    params.save_path = os.path.join(c.TMP, "dst-dht3")
    h = leecher.add_torrent(params)
    c.wait_until("libtorrent to download from the nexsuj seeder found in the DHT", lambda: h.status().is_seeding)
    c.same(src, params.save_path, "dht3")
    peers = [str(p.ip) for p in h.get_peer_info()]
    c.log(f"libtorrent's peers: {peers}")
    seed.terminate()
    seed.wait(10)


def scenario_trackerless_torrent():
    """`nexsuj create --dht-node` writes a trackerless torrent with `nodes`; `nexsuj download` of it joins the DHT
    through those nodes alone and downloads from a libtorrent seeder announced there."""
    sessions, ports = lt_network(3)
    src = c.content("dht4", 2_000_000, 34)
    t = os.path.join(c.TMP, "dht4.torrent")
    subprocess.run([c.NEXSUJ, "create", os.path.join(src, "dht4"), "-o", t, "-f", "--dht-node", f"127.0.0.1:{ports[1]}"],
                   check=True, stdout=subprocess.DEVNULL)
    info = lt.torrent_info(t)
    assert [(n[0], n[1]) for n in info.nodes()] == [("127.0.0.1", ports[1])], info.nodes()
    assert not list(info.trackers()), "trackerless"
    h = c.lt_add(sessions[0], t, src, seed=True)
    h.force_dht_announce()
    dst = os.path.join(c.TMP, "dst-dht4")
    p = c.spawn([c.NEXSUJ, "download", t, "-o", dst, "--listen", "127.0.0.1", "--port", str(c.free_port())],
                "dht-trackerless.log")
    c.wait_exit(p, "nexsuj download of a trackerless torrent")
    c.same(src, dst, "dht4")


def scenario_sample_libtorrent_network():
    """`nexsuj dht sample` walks a libtorrent DHT with BEP 51 `sample_infohashes` and finds a torrent a libtorrent
    seeder announced there."""
    sessions, ports = lt_network(4)
    src = c.content("dht5", 200_000, 35)
    t = c.make_torrent(src, "dht5", [])
    h = c.lt_add(sessions[0], t, src, seed=True)
    h.force_dht_announce()
    ih = c.info_hash(t).hex()
    boot = sum((["--bootstrap", f"127.0.0.1:{p}"] for p in ports[1:]), [])
    # Sample only once the announce has landed: libtorrent keeps a node's first sample for hours.
    c.wait_until("the announce to reach the libtorrent nodes",
                 lambda: f"127.0.0.1:{ports[0]}" in dht("get-peers", ih, *boot)[1], 60)
    code, out, err = dht("sample", "--json", *boot)
    walk = json.loads(out)
    assert code == 0 and ih in walk["info_hashes"], (code, out, err)
    assert walk["sampled"] >= 1, walk
    c.log(f"sample walk: asked {walk['asked']} nodes, {walk['sampled']} answered with samples, "
          f"{len(walk['info_hashes'])} info-hashes")


def scenario_flood_from_another_host():
    """A flood of malformed and oversized KRPC packets from another host (a network namespace) does not stop
    `nexsuj dht serve` answering well-formed queries from elsewhere, and its memory stays bounded."""
    net = c.Netns()
    try:
        port, http = c.free_port(net.host), c.free_port()
        serve = c.spawn([c.NEXSUJ, "dht", "serve", "--listen", f"{net.host}:{port}", "--http", f"127.0.0.1:{http}"],
                        "dht-flood-serve.log")
        c.wait_until("the node to listen", lambda: dht("ping", f"{net.host}:{port}", timeout=20)[0] == 0, 30)
        before = rss(serve.pid)
        flood = subprocess.Popen(["ip", "netns", "exec", net.name, sys.executable, "-c", FLOOD, net.host, str(port)],
                                 stdout=subprocess.PIPE, text=True)
        answered, lost = 0, []
        while flood.poll() is None:
            # From another address (this host's second one on the link): answered throughout. A ping may be
            # lost when the flood fills the socket's receive queue faster than it is read on 2 busy cores (the
            # kernel drops it before we see it), as on any UDP server; most must get through. Like a KRPC client,
            # the pinger asks once more before it calls the node gone.
            code, out, err = dht("ping", f"{net.host}:{port}", "--listen", f"{net.others[0]}:0", timeout=20)
            if code != 0:
                code, out, err = dht("ping", f"{net.host}:{port}", "--listen", f"{net.others[0]}:0", timeout=20)
            if code == 0:
                answered += 1
            else:
                lost.append(err.strip())
        sent = int(flood.stdout.read().strip())
        stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{http}/stats", timeout=10))
        grew = rss(serve.pid) - before
        c.log(f"flood: {sent} packets from {net.guest}; {answered} pings from {net.others[0]} answered meanwhile, {len(lost)} lost; "
              f"rate-limited {stats['rate_limited']}, bad {stats['bad_packets']}, memory grew {grew // 1024} KiB")
        assert answered >= 3 and len(lost) * 10 <= answered, (answered, lost)
        assert stats["rate_limited"] > 0, stats
        assert grew < 32 << 20, f"memory grew by {grew} bytes"
        serve.terminate()
        serve.wait(10)
    finally:
        net.cleanup()


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


# Sent from the namespace for about 5 s: oversized packets, junk, truncated and lying KRPC, queries with
# unknown methods and answers to questions never asked, as fast as one process can. Prints the count.
FLOOD = r"""
import os, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
to = (sys.argv[1], int(sys.argv[2]))
kinds = [b"d" * 9000, os.urandom(1400), b"d1:ad2:id20:" + b"x" * 20 + b"e1:q4:vote1:t2:aa1:y1:qe",
         b"d1:rd2:id20:" + b"y" * 20 + b"5:nodes9999:" + b"z" * 100 + b"e1:t2:zz1:y1:re",
         b"d1:ad2:id20:" + b"x" * 20 + b"6:target20:" + b"t" * 20 + b"e1:q9:find_node1:t2:ff1:y1:qe",
         b"l" * 500 + b"e" * 500]
n, end = 0, time.time() + 5
while time.time() < end:
    for k in kinds:
        try:
            s.sendto(k, to)
            n += 1
        except OSError:
            pass
print(n)
"""


SCENARIOS = {
    "trackerless_torrent": (scenario_trackerless_torrent, False),
    "magnet_from_libtorrent": (scenario_magnet_from_libtorrent, False),
    "libtorrent_from_magnet": (scenario_libtorrent_from_magnet, False),
    "get_peers_from_libtorrent": (scenario_get_peers_from_libtorrent, False),
    "sample_libtorrent_network": (scenario_sample_libtorrent_network, False),
    "flood_from_another_host": (scenario_flood_from_another_host, False),
}

if __name__ == "__main__":
    sys.exit(c.main(SCENARIOS, "dht"))
