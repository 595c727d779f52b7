#!/usr/bin/python3
"""Interop tests for `nexsuj tracker`: libtorrent, transmission and aria2 announce to it over HTTP
and over UDP, find each other through it, and a real transfer completes — a libtorrent seeder and a
transmission leecher (on a second test host in a network namespace, since transmission refuses loopback
peers) that know of each other only through nexsuj, and aria2 beside them. libtorrent's scrape agrees
with the swarm.

    NEXSUJ=target/release/nexsuj /usr/bin/python3 interop/tracker.py

Needs root (network namespaces). The last line printed is `N passed, N failed`.
"""

import filecmp
import os
import subprocess
import sys
import tempfile
import traceback
import urllib.request
from pathlib import Path

import libtorrent as lt

from peers import Netns, Nexsuj, Transmission, lt_add, lt_session, lt_wait_alert, wait_until

REPO = Path(__file__).resolve().parent.parent
NEXSUJ = str(Path(os.environ.get("NEXSUJ") or REPO / "target/release/nexsuj").resolve())
SIZE = 6 * 1024 * 1024 + 4321


def bdecode(data):
    return lt.bdecode(data)


def http_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def probe(http, info_hash):
    """Announces as an extra leecher (dictionary peers) and returns the peer ids the tracker
    hands out; then leaves again."""
    q = "info_hash=" + urllib.request.quote(info_hash) + "&peer_id=-PROBE0-000000000000&port=9&left=1&compact=0"
    reply = bdecode(http_get(f"http://{http}/announce?{q}&numwant=50"))
    http_get(f"http://{http}/announce?{q}&event=stopped")
    return [p[b"peer id"][:3].decode("latin-1") for p in reply[b"peers"]]


def scrape(http, info_hash):
    reply = bdecode(http_get(f"http://{http}/scrape?info_hash=" + urllib.request.quote(info_hash)))
    stats = reply[b"files"][info_hash]
    return stats[b"complete"], stats[b"incomplete"], stats[b"downloaded"]


def round_trip(proto, ns, tracker, work):
    http, udp = tracker.addresses["HTTP tracker listening"], tracker.addresses["UDP tracker listening"]
    url = f"http://{http}/announce" if proto == "http" else f"udp://{udp}/announce"
    seed_dir, lt_dir, aria_dir = (work / d for d in ("seed", "aria2", "lt-unused"))
    for d in (seed_dir, lt_dir, aria_dir):
        d.mkdir(parents=True)
    content = seed_dir / f"payload-{proto}.bin"
    content.write_bytes(os.urandom(SIZE))
    torrent = work / f"{proto}.torrent"
    subprocess.run([NEXSUJ, "create", content, "-t", url, "--piece-length", "64KiB", "-o", torrent, "-f"],
                   check=True, capture_output=True)
    info_hash = lt.torrent_info(str(torrent)).info_hash().to_bytes()

    seeder = lt_session(ns.host_ip, 6881)
    lt_add(seeder, torrent, seed_dir, seed=True)
    reply = lt_wait_alert(seeder, lt.tracker_reply_alert, f"libtorrent's {proto} announce")
    print(f"  libtorrent announced over {proto}: {reply.message()}")

    with Transmission(ns, work / "transmission") as tr:
        tr.add(torrent)
        # aria2, slowed down so that all three are in the swarm at once.
        # aria2 speaks UDP trackers through its DHT socket, so UDP needs DHT on; with no
        # entry point and no other node it learns nothing from it.
        dht = ["--enable-dht=false"]
        if proto == "udp":
            dht = ["--enable-dht=true", "--dht-listen-port=6992", f"--dht-file-path={work}/dht.dat"]
        aria = subprocess.Popen(
            ["aria2c", "--seed-time=0", *dht, "--bt-enable-lpd=false",
             "--enable-peer-exchange=false", "--listen-port=6991", "--max-download-limit=1M",
             "--console-log-level=warn", "--summary-interval=0", "-d", str(aria_dir), str(torrent)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            seen = wait_until("all three clients in the swarm",
                              lambda: (lambda ids: ids if {"-LT", "-TR", "A2-"} <= set(ids) else None)(
                                  probe(http, info_hash)), timeout=60)
            print(f"  swarm seen by a probe: {sorted(seen)}")
            # libtorrent re-announces and gets the other two.
            seeder.get_torrents()[0].force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            reply = lt_wait_alert(seeder, lt.tracker_reply_alert, "re-announce", match=lambda a: a.num_peers >= 2)
            print(f"  libtorrent got {reply.num_peers} peers")
            wait_until("transmission to finish", lambda: tr.percent_done() >= 100.0, timeout=120)
            tracker_info = tr.remote("-t", 1, "-it")
            assert "Got a list of" in tracker_info, tracker_info
            out, _ = aria.communicate(timeout=120)
            assert aria.returncode == 0, f"aria2 failed: {out}"
        finally:
            if aria.poll() is None:
                aria.kill()
        got = work / "transmission/data" / content.name
        assert filecmp.cmp(content, got, shallow=False), "transmission's copy differs"
        assert filecmp.cmp(content, aria_dir / content.name, shallow=False), "aria2's copy differs"
        print("  transmission and aria2 copies are byte-identical to the seed")

        # Scrape: libtorrent's view (over the same protocol) agrees with the swarm.
        handle = seeder.get_torrents()[0]
        expected = wait_until("the swarm to settle (aria2 stopped, transmission seeding)",
                              lambda: (lambda s: s if s[0] == 2 and s[1] == 0 else None)(scrape(http, info_hash)),
                              timeout=60)
        handle.scrape_tracker()
        reply = lt_wait_alert(seeder, lt.scrape_reply_alert, f"{proto} scrape")
        assert (reply.complete, reply.incomplete) == expected[:2], (reply.complete, reply.incomplete, expected)
        assert expected[2] >= 2, f"downloaded should count transmission and aria2: {expected}"
        print(f"  scrape over {proto}: complete={reply.complete} incomplete={reply.incomplete} "
              f"downloaded={expected[2]}")
    del seeder


def main():
    passed, failed = 0, 0
    with tempfile.TemporaryDirectory(prefix="nexsuj-tracker-interop-") as tmp, Netns(0) as ns:
        with Nexsuj(NEXSUJ, "tracker", "--http", f"{ns.host_ip}:0", "--udp", f"{ns.host_ip}:0") as tracker:
            for proto in sys.argv[1:] or ("http", "udp"):
                name = f"libtorrent seeder -> transmission + aria2 leechers over {proto}"
                print(f"- {name}")
                try:
                    round_trip(proto, ns, tracker, Path(tmp) / proto)
                    passed += 1
                    print("  ok")
                except Exception:
                    failed += 1
                    traceback.print_exc()
                    print("".join(tracker.lines[-60:]))
                    print(http_get(f"http://{tracker.addresses['HTTP tracker listening']}/stats").decode())
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
