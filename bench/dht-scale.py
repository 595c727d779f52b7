#!/usr/bin/python3
"""Benchmark, not a test: 10,000 nexsuj DHT nodes on loopback (bench/dht-scale, one process, one UDP socket per
node), then libtorrent sessions joining that same network, side by side with fresh nexsuj nodes:

- the harness's own figures: queries and hops per get_peers lookup (median, p95), how often the 8 closest nodes
  found are the true 8 closest, routing-table sizes, resident memory per node, and time to first peer for fresh
  nexsuj nodes (from the start of the lookup to the first peer, after joining through one random node);
- libtorrent (the Python bindings, Debian's python3, the loopback DHT settings of INTEROP.md plus a per-IP
  packet limit raised since every node shares 127.0.0.1, otherwise its defaults): a fresh session joins through one random node of the network, and once it reports the DHT
  bootstrapped, a magnet with only the info-hash is added; the time from the add to the first `dht_reply_alert`
  carrying peers. Twice: added at once (libtorrent then waits about half a second before its first DHT lookup of
  a new torrent), and added 2 s after the bootstrap (its lookup then starts at once): the second is the lookup
  against the lookup, comparable with the nexsuj figure, which starts its lookup right after joining.

    /usr/bin/python3 bench/dht-scale.py     # env: NODES (default 10000), RUNS (libtorrent runs, default 10),
                                            #      DHT_SCALE (the harness binary; built if unset)
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

NODES = int(os.environ.get("NODES", "10000"))
RUNS = int(os.environ.get("RUNS", "10"))
TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/tmp/nexsuj-target")


def harness():
    path = os.environ.get("DHT_SCALE")
    if path:
        return path
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "nexsuj-dht-scale"], check=True,
                   env={**os.environ, "CARGO_TARGET_DIR": TARGET})
    return os.path.join(TARGET, "release", "dht-scale")


def lt_session(entry):
    host, port = entry.rsplit(":", 1)
    mask = (lt.alert.category_t.dht_notification | lt.alert.category_t.status_notification
            | lt.alert.category_t.tracker_notification | lt.alert.category_t.error_notification)
    s = lt.session({
        "listen_interfaces": "127.0.0.1:0", "enable_dht": True, "enable_lsd": False, "enable_upnp": False,
        "enable_natpmp": False, "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False, "dht_ignore_dark_internet": False,
        "dht_prefer_verified_node_ids": False, "dht_enforce_node_id": False, "dht_extended_routing_table": False,
        # Every node of this network shares 127.0.0.1: libtorrent's per-IP DoS blocker (5 packets a second by
        # default, then the IP is ignored for 5 minutes) would shut the whole network out after ~50 answers.
        "dht_block_ratelimit": 1_000_000,
        "dht_bootstrap_nodes": entry, "alert_mask": mask,
    })
    s.add_dht_node((host, int(port)))
    return s


def wait_alert(s, match, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.wait_for_alert(50)
        for a in s.pop_alerts():
            if match(a):
                return time.monotonic()
    return None


def libtorrent_first_peer(info_hash, entry, settle):
    s = lt_session(entry)
    tmp = tempfile.mkdtemp(prefix="nexsuj-dht-scale-lt-")
    try:
        if wait_alert(s, lambda a: isinstance(a, lt.dht_bootstrap_alert), 30) is None:
            return None, "no dht_bootstrap_alert"
        time.sleep(settle)
        p = lt.parse_magnet_uri(f"magnet:?xt=urn:btih:{info_hash}")
        p.save_path = tmp
        start = time.monotonic()
        s.add_torrent(p)
        got = wait_alert(s, lambda a: isinstance(a, lt.dht_reply_alert) and a.num_peers > 0, 60)
        return (None if got is None else (got - start) * 1000.0), None
    finally:
        del s
        subprocess.run(["rm", "-rf", tmp])


def main():
    proc = subprocess.Popen([harness(), "--nodes", str(NODES), "--hold"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        report = json.loads(proc.stdout.readline())
        ready = proc.stdout.readline()
        assert ready.startswith("READY "), ready
        net = json.loads(ready[len("READY "):])
        for settle in (0, 2):
            times, failures = [], []
            for _ in range(RUNS):
                t, why = libtorrent_first_peer(net["info_hash"], random.choice(net["nodes"]), settle)
                if t is None:
                    failures.append(why or "no peer in 60 s")
                else:
                    times.append(t)
            times.sort()
            report[f"libtorrent_first_peer_ms_settle_{settle}s"] = {
                "version": lt.__version__, "runs": RUNS, "missed": len(failures), "why": failures[:3],
                "median": statistics.median(times) if times else None,
                "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else None,
            }
        print(json.dumps(report, indent=2))
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
