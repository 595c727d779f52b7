#!/usr/bin/python3
"""Interop tests of `nexsuj daemon` through its HTTP API only (seed 004's endpoints), against libtorrent and
transmission; then chromium drives the web UI (daemon_browser.sh) and plays a video streamed while it downloads.

    /usr/bin/python3 interop/daemon.py [SCENARIO ...]     # every scenario, or only the named ones

Reads $NEXSUJ. Shares client.py's launchers (libtorrent in-process, transmission in a network namespace, our
tracker). Every download is compared byte for byte; every figure printed comes from this run.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import client as c

TOKEN = "interop-token-" + os.urandom(8).hex()


class Daemon:
    """`nexsuj daemon` on free loopback ports (or `host`), its state in `state`; talks to it over HTTP."""

    def __init__(self, state, host="127.0.0.1", logname=None, api_port=None, configured=True):
        """`configured`: the token comes from NEXSUJ_API_TOKEN; else the daemon makes one in its state folder."""
        self.state, self.host, self.configured = state, host, configured
        self.token = TOKEN
        self.api_port = api_port or c.free_port()
        self.peer_port = c.free_port(host)
        self.logname = logname or f"daemon-{self.api_port}.log"
        self.start()

    def start(self):
        env = dict(os.environ, NEXSUJ_PEER_ADDRESSES=f'["{self.host}"]')
        if self.configured:
            env["NEXSUJ_API_TOKEN"] = TOKEN
        else:
            env.pop("NEXSUJ_API_TOKEN", None)
        out = open(os.path.join(c.TMP, self.logname), "ab")
        self.proc = subprocess.Popen([c.NEXSUJ, "daemon", "--listen", f"127.0.0.1:{self.api_port}", "--state-dir",
                                      self.state, "--peer-port", str(self.peer_port)],
                                     stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        c.PROCS.append(self.proc)
        c.wait_until("the daemon's API", lambda: c.can_connect("127.0.0.1", self.api_port), 30)
        if not self.configured:
            with open(os.path.join(self.state, "api-token")) as f:
                self.token = f.read().strip()

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        self.proc.wait(30)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.api_port}"

    def call(self, endpoint, method="GET", body=None, kind="application/json", expect=200, **query):
        q = ("?" + urllib.parse.urlencode(query)) if query else ""
        req = urllib.request.Request(self.url + endpoint + q, data=body, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "Content-Type": kind})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, data = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        assert status == expect, f"{method} {endpoint}{q}: {status} (wanted {expect}): {data[:300]!r}"
        return json.loads(data) if data else None

    def add_file(self, torrent, path, **extra):
        with open(torrent, "rb") as f:
            return self.call("/addtorrentfile", "POST", f.read(), "application/x-bittorrent", path=path,
                             **extra)["infohash"]

    def add_magnet(self, url, targetdir):
        body = json.dumps({"url": url, "targetdir": targetdir, "maxdown": 0, "maxup": 0}).encode()
        return self.call("/addmagnet", "POST", body)["infohash"]

    def data(self, h):
        return self.call("/torrentdata", infohash=h)

    def wait_state(self, h, state, timeout=c.TIMEOUT):
        c.wait_until(f"state {state}", lambda: self.data(h)["state"] == state, timeout)
        return self.data(h)


def scenario_api_with_libtorrent():
    """Through the API: add a torrent seeded by libtorrent, follow it to completion with the libtorrent peer in
    Peers at plausible rates, stop, start, remove with delete=true."""
    src = c.content("api1", 20_000_000, 21)
    http, _ = c.tracker("127.0.0.1")
    t = c.make_torrent(src, "api1", [http])
    s, _ = c.lt_session(upload_rate=4_000_000)
    c.lt_add(s, t, src, seed=True)
    d = Daemon(os.path.join(c.TMP, "state-api1"))
    dst = os.path.join(c.TMP, "dst-api1")
    h = d.add_file(t, dst)
    seen = []

    def sample():
        v = d.data(h)
        lt_peers = [p for p in v["Peers"] if p["ID"].startswith("-LT")]
        if lt_peers and lt_peers[0]["downrate"] > 0:
            seen.append(lt_peers[0])
        return v["state"] == "seeding"
    c.wait_until("the download through the API", sample)
    c.same(src, dst, "api1")
    assert seen, "the libtorrent peer never showed in Peers with a download rate"
    top = max(p["downrate"] for p in seen)
    c.log(f"libtorrent peer seen {len(seen)} times; highest downrate {top:.0f} KiB/s (seeder capped at 3906 KiB/s)")
    assert 0 < top < 3906 * 1.5, f"implausible rate {top}"
    assert all(0 <= p["relevence"] <= 1 and p["bitfield_length"] == seen[0]["bitfield_length"] for p in seen)
    v = d.data(h)
    c.log(f"downloaded {v['downloaded']:.0f} KiB, wasted {v['wasted']:.0f} KiB")
    assert v["trackers"][0]["status"] == "working", v["trackers"]
    assert v["downloaded"] >= 20_000_000 / 1024, v["downloaded"]
    d.call("/stoptorrent", infohash=h)
    d.wait_state(h, "stopped")
    d.call("/starttorrent", "POST", infohash=h)
    d.wait_state(h, "seeding", 30)
    d.call("/removetorrent", infohash=h, delete="true")
    assert not os.path.exists(os.path.join(dst, "api1")), "the data is still there"
    d.call("/torrentdata", expect=404, infohash=h)
    d.stop()


def measure(what, read, seconds=20):
    """Average KiB/s of the counter `read()` over `seconds`."""
    a, t0 = read(), time.monotonic()
    time.sleep(seconds)
    return (read() - a) / (time.monotonic() - t0)


def scenario_rate_limits():
    """setdownrate 500 KiB/s against an unlimited libtorrent seeder, and setuprate 500 KiB/s to a libtorrent
    leecher: each average over 20 s within 10 %."""
    src = c.content("rate", 40_000_000, 22)
    http, _ = c.tracker("127.0.0.1")
    t = c.make_torrent(src, "rate", [http])
    s, _ = c.lt_session()
    seeder = c.lt_add(s, t, src, seed=True)
    d = Daemon(os.path.join(c.TMP, "state-rate"))
    h = d.add_file(t, os.path.join(c.TMP, "dst-rate"), maxdown=500)
    c.wait_until("the first bytes", lambda: d.data(h)["done"] > 1000)
    down = measure("download", lambda: d.data(h)["done"])
    c.log(f"download limited to 500 KiB/s: {down:.0f} KiB/s over 20 s")
    assert 450 <= down <= 550, f"download rate {down:.0f} KiB/s is not within 10 % of 500"
    d.call("/setdownrate", infohash=h, rate=0)
    d.wait_state(h, "seeding")

    # The leecher must have us as its only source.
    s.remove_torrent(seeder)
    d.call("/setuprate", "POST", infohash=h, rate=500)
    s2, _ = c.lt_session()
    leech = c.lt_add(s2, t, os.path.join(c.TMP, "lt-rate"), peers=[("127.0.0.1", d.peer_port)])
    c.wait_until("the first bytes to libtorrent", lambda: leech.status().total_wanted_done > 1_000_000)
    up = measure("upload", lambda: leech.status().total_wanted_done / 1024)
    c.log(f"upload limited to 500 KiB/s: {up:.0f} KiB/s over 20 s (as libtorrent received it)")
    assert 450 <= up <= 550, f"upload rate {up:.0f} KiB/s is not within 10 % of 500"
    d.stop()


def scenario_magnet_from_transmission():
    """/addmagnet with a magnet whose only peer is a transmission seeder (network namespace): complete."""
    src = c.content("dmag", 5_000_000, 23)
    t = c.make_torrent(src, "dmag", ["http://127.0.0.1:1/announce"])
    tr = c.Transmission(src)
    tr.add(t)
    c.wait_until("transmission to verify its data", tr.done, 60)
    d = Daemon(os.path.join(c.TMP, "state-dmag"), host=c.NET.host)
    dst = os.path.join(c.TMP, "dst-dmag")
    h = d.add_magnet(f"magnet:?xt=urn:btih:{c.info_hash(t).hex()}&x.pe={c.NET.guest}:{tr.peer_port}", dst)
    v = d.wait_state(h, "seeding")
    c.same(src, dst, "dmag")
    assert v["name"] == "dmag", v["name"]
    d.stop()
    tr.stop()


def scenario_kill_and_resume():
    """kill -9 mid-download; the restarted daemon resumes the torrent from its verified pieces and completes."""
    src = c.content("dkill", 16_000_000, 24)
    http, _ = c.tracker("127.0.0.1")
    t = c.make_torrent(src, "dkill", [http], piece="64KiB")
    s, _ = c.lt_session(upload_rate=3_000_000)
    seed = c.lt_add(s, t, src, seed=True)
    state = os.path.join(c.TMP, "state-dkill")
    d = Daemon(state)
    dst = os.path.join(c.TMP, "dst-dkill")
    h = d.add_file(t, dst)
    c.wait_until("a third done", lambda: d.data(h)["progress"] > 0.33)
    done_before = d.data(h)["done"]
    d.stop(signal.SIGKILL)
    assert done_before < 16_000_000 / 1024, "finished before the kill"
    sent_before = seed.status().total_payload_upload
    d.start()
    first = d.data(h)
    c.log(f"killed at {done_before:.0f} KiB verified; after the restart: {first['state']}, {first['done']:.0f} KiB")
    d.wait_state(h, "seeding")
    c.same(src, dst, "dkill")
    again = seed.status().total_payload_upload - sent_before
    c.log(f"the restart fetched {again} bytes of {16_000_000}")
    assert again <= 16_000_000 - done_before * 1024 + 32 * 65536, "verified pieces were fetched again"
    d.stop()


def scenario_browser():
    """Chromium logs in to the web UI, adds a torrent seeded by libtorrent, watches it complete, stops, starts and
    removes it with its data; then plays a video streamed while it downloads and ffprobe reads its duration."""
    http, _ = c.tracker("127.0.0.1")
    src = c.content("ui1", 6_000_000, 25)
    t = c.make_torrent(src, "ui1", [http])
    s, _ = c.lt_session(upload_rate=2_000_000)
    c.lt_add(s, t, src, seed=True)
    vsrc = os.path.join(c.TMP, "src-video")
    os.makedirs(os.path.join(vsrc, "video"), exist_ok=True)
    video = os.path.join(vsrc, "video", "clip.webm")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=30:size=320x240:rate=25",
                    "-c:v", "libvpx", "-b:v", "800k", "-y", video], check=True)
    vt = c.make_torrent(vsrc, "video", [http], piece="64KiB")
    sv, _ = c.lt_session(upload_rate=150_000)
    c.lt_add(sv, vt, vsrc, seed=True)
    d = Daemon(os.path.join(c.TMP, "state-ui"))
    target = os.path.join(c.TMP, "dst-ui")
    os.makedirs(target, exist_ok=True)
    env = dict(os.environ, NEXSUJ_DAEMON_URL=d.url, NEXSUJ_API_TOKEN=TOKEN, TORRENT=t, HASH=c.info_hash(t).hex(),
               TARGET=target, VIDEO_TORRENT=vt, VIDEO_HASH=c.info_hash(vt).hex())
    subprocess.run(["bash", os.path.join(os.path.dirname(__file__), "daemon_browser.sh")], check=True, env=env)
    # The video torrent was added by the browser test; ffprobe reads the stream while it downloads.
    vh = c.info_hash(vt).hex()
    v = d.data(vh)
    probe = subprocess.run(["ffprobe", "-v", "error", "-headers", f"Authorization: Bearer {TOKEN}\r\n",
                            "-show_entries", "format=duration", "-of", "json", f"{d.url}/stream/{vh}/0"],
                           capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    duration = float(json.loads(probe.stdout)["format"]["duration"])
    c.log(f"ffprobe on the stream: {duration:.1f} s (video torrent {v['progress'] * 100:.0f} % done when asked)")
    assert 29 <= duration <= 31, duration
    d.stop()


def ctl(d, *args):
    """`nexsuj ctl` against daemon `d`, with the token from its state folder; its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "NEXSUJ_API_TOKEN"}
    r = subprocess.run([c.NEXSUJ, "ctl", "--daemon", f"127.0.0.1:{d.api_port}", "--state-dir", d.state, *args],
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, f"ctl {args}: {r.returncode}: {r.stderr}"
    return r.stdout


def scenario_ctl():
    """nexsuj ctl drives the daemon: add a torrent whose data is there, list, info, limits, stop, start, remove
    with the data; the token is the one the daemon made on its first start, read from its state folder."""
    src = c.content("ctl1", 2_000_000, 26)
    t = c.make_torrent(src, "ctl1", ["http://127.0.0.1:1/announce"])
    d = Daemon(os.path.join(c.TMP, "state-ctl"), configured=False)
    assert "API token (also in" in c.read_log(d.logname), "the new token is shown once"
    assert oct(os.stat(os.path.join(d.state, "api-token")).st_mode & 0o777) == "0o600"
    h = c.info_hash(t).hex()
    assert f"added {h}" in ctl(d, "add", t, "-o", src)
    d.wait_state(h, "seeding", 30)
    listed = json.loads(ctl(d, "list", "--json"))
    assert [s["infohash"] for s in listed["sessions"]] == [h], listed
    assert "seeding" in ctl(d, "list") and "ctl1/a.bin" in ctl(d, "info", h)
    ctl(d, "rate", h, "--down", "100", "--up", "50")
    ctl(d, "rate", "--down", "1000")
    v, all_ = d.data(h), d.call("/alldata", brief="true")
    assert (v["maxdown"], v["maxup"], all_["maxdown"]) == (100, 50, 1000), (v["maxdown"], v["maxup"], all_["maxdown"])
    ctl(d, "stop", h)
    d.wait_state(h, "stopped", 30)
    ctl(d, "start", h)
    d.wait_state(h, "seeding", 30)
    # A wrong token is refused with the API's reason.
    r = subprocess.run([c.NEXSUJ, "ctl", "--daemon", f"127.0.0.1:{d.api_port}", "--token", "wrong", "list"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "401" in r.stderr, r.stderr
    ctl(d, "remove", h, "--delete")
    assert not os.path.exists(os.path.join(src, "ctl1")), "the data is still there"
    assert json.loads(ctl(d, "list", "--json"))["sessions"] == []
    d.stop()


SCENARIOS = {
    "ctl": (scenario_ctl, False),
    "api_with_libtorrent": (scenario_api_with_libtorrent, False),
    "rate_limits": (scenario_rate_limits, False),
    "magnet_from_transmission": (scenario_magnet_from_transmission, True),
    "kill_and_resume": (scenario_kill_and_resume, False),
    "browser": (scenario_browser, False),
}


if __name__ == "__main__":
    sys.exit(c.main(SCENARIOS, "daemon"))
