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
    ours = c.free_port()
    serve = c.spawn([c.NEXSUJ, "dht", "serve", "--listen", f"127.0.0.1:{ours}",
                     *sum((["--bootstrap", f"127.0.0.1:{p}"] for p in ports), [])], "dht-serve.log")
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
    serve.terminate()
    serve.wait(10)


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


SCENARIOS = {
    "trackerless_torrent": (scenario_trackerless_torrent, False),
    "magnet_from_libtorrent": (scenario_magnet_from_libtorrent, False),
    "libtorrent_from_magnet": (scenario_libtorrent_from_magnet, False),
    "get_peers_from_libtorrent": (scenario_get_peers_from_libtorrent, False),
}

if __name__ == "__main__":
    sys.exit(c.main(SCENARIOS, "dht"))
