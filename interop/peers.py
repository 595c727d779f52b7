"""Launchers for the real programs the interop suites run against: a network namespace as a
second test host, transmission-daemon inside it, libtorrent sessions, aria2c, and nexsuj
processes whose logs tell where they listen.

Every launcher is a context manager that cleans up after itself, also when a test fails.
Run with Debian's python (/usr/bin/python3), which has the libtorrent bindings.
"""

import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import libtorrent as lt


class Timeout(Exception):
    """Something did not happen in time; the message says what."""


def wait_until(what, check, timeout=120, every=0.2):
    """Polls `check()` (for a state of another program, which sends us no event) until it is
    true or `timeout` seconds pass; returns its value or raises Timeout naming `what`."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise Timeout(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def stop(proc, grace=15):
    """Asks a process to end (SIGTERM), kills it if it has not after `grace` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Netns:
    """A test host in its own network namespace, joined to this one by a veth pair:
    we are `host_ip`, it is `ns_ip` (a /24 chosen from `index`)."""

    def __init__(self, index):
        tag = f"{os.getpid() % 10000}x{index}"
        self.name = f"nx-{tag}"
        self.veth = f"nxv{tag}"
        self.host_ip = f"10.{77 + index}.{os.getpid() % 250}.1"
        self.ns_ip = self.host_ip[:-1] + "2"

    def __enter__(self):
        self.down(quiet=True)
        prefix = self.host_ip.rsplit(".", 1)[0]
        for cmd in [
            f"ip netns add {self.name}",
            f"ip link add {self.veth}a type veth peer name {self.veth}b",
            f"ip link set {self.veth}b netns {self.name}",
            f"ip addr add {self.host_ip}/24 dev {self.veth}a",
            f"ip link set {self.veth}a up",
            f"ip netns exec {self.name} ip addr add {prefix}.2/24 dev {self.veth}b",
            f"ip netns exec {self.name} ip link set {self.veth}b up",
            f"ip netns exec {self.name} ip link set lo up",
        ]:
            subprocess.run(cmd.split(), check=True, capture_output=True)
        return self

    def exec(self, *args):
        return ["ip", "netns", "exec", self.name, *[str(a) for a in args]]

    def down(self, quiet=False):
        for cmd in [f"ip link del {self.veth}a", f"ip netns del {self.name}"]:
            subprocess.run(cmd.split(), capture_output=True, check=not quiet)

    def __exit__(self, *exc):
        self.down(quiet=True)


class Transmission:
    """transmission-daemon in a namespace (it refuses loopback peers), driven by
    transmission-remote; uTP off, encryption tolerated."""

    def __init__(self, netns, workdir, peer_port=51413, rpc_port=9091):
        self.netns, self.dir = netns, Path(workdir)
        self.peer_port, self.rpc_port = peer_port, rpc_port

    def __enter__(self):
        (self.dir / "cfg").mkdir(parents=True, exist_ok=True)
        (self.dir / "data").mkdir(exist_ok=True)
        self.log = open(self.dir / "daemon.log", "w")
        self.proc = subprocess.Popen(
            self.netns.exec(
                "transmission-daemon", "-f", "-g", self.dir / "cfg", "-w", self.dir / "data",
                "-p", self.rpc_port, "-P", self.peer_port, "--no-dht", "--no-lpd", "--no-portmap",
                "-a", "127.0.0.1", "--log-error",
            ),
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        wait_until("transmission RPC", lambda: self.remote_ok("-l"), timeout=30)
        self.remote("--no-utp", "-et")
        return self

    def remote_ok(self, *args):
        r = subprocess.run(self.netns.exec("transmission-remote", self.rpc_port, *args), capture_output=True, text=True)
        return r.returncode == 0 and r.stdout

    def remote(self, *args):
        r = subprocess.run(self.netns.exec("transmission-remote", self.rpc_port, *args), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"transmission-remote {' '.join(map(str, args))}: {r.stdout}{r.stderr}")
        return r.stdout

    def add(self, torrent):
        """Adds a torrent; the first one added to a daemon has id 1."""
        self.remote("-a", torrent)

    def info(self, tid=1):
        return self.remote("-t", tid, "-i")

    def percent_done(self, tid=1):
        m = re.search(r"Percent Done: ([\d.]+)%", self.info(tid))
        return float(m.group(1)) if m else 0.0

    def __exit__(self, *exc):
        stop(self.proc)
        self.log.close()


def lt_session(ip, port):
    """A libtorrent session for loopback-style tests: one interface, TCP only, nothing that
    reaches outside."""
    s = lt.session({
        "listen_interfaces": f"{ip}:{port}",
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_outgoing_utp": False, "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "alert_mask": lt.alert.category_t.all_categories,
        "announce_to_all_tiers": True, "announce_to_all_trackers": True,
    })
    return s


def lt_add(session, torrent, save_path, seed=False):
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(str(torrent))
    params.save_path = str(save_path)
    if seed:
        params.flags |= lt.torrent_flags.seed_mode
    return session.add_torrent(params)


def lt_wait_alert(session, kind, what, timeout=60, match=lambda a: True):
    """Waits for an alert of type `kind` (e.g. lt.scrape_reply_alert) that `match`es."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        session.wait_for_alert(500)
        for a in session.pop_alerts():
            if isinstance(a, kind) and match(a):
                return a
    raise Timeout(f"no {kind.__name__} ({what}) within {timeout}s")


class Nexsuj:
    """A long-running `nexsuj` subcommand; reads its log until the listening lines show,
    keeps draining it in a thread so the pipe never fills."""

    def __init__(self, binary, *args, env=None, expect=("HTTP tracker listening", "UDP tracker listening")):
        self.cmd = [binary, *[str(a) for a in args]]
        self.env = {"NEXSUJ_LOG": "info", **os.environ, **(env or {})}
        self.expect = expect
        self.addresses = {}
        self.lines = []

    def __enter__(self):
        self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE, text=True, env=self.env)
        pending = list(self.expect)
        while pending:
            line = self.proc.stderr.readline()
            if not line:
                raise RuntimeError(f"{self.cmd} exited: {''.join(self.lines)}")
            self.lines.append(line)
            for what in list(pending):
                if what in line:
                    m = re.search(r"address=(\S+)", line)
                    self.addresses[what] = m.group(1) if m else None
                    pending.remove(what)
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def __exit__(self, *exc):
        stop(self.proc)


def aria2(torrent, workdir, port, extra=()):
    """Runs aria2c to completion (it exits when the download is done)."""
    return subprocess.run(
        ["aria2c", "--seed-time=0", "--enable-dht=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
         f"--listen-port={port}", "--summary-interval=0", "--console-log-level=warn", "-d", str(workdir),
         *extra, str(torrent)],
        capture_output=True, text=True, timeout=180,
    )


def have(binary):
    return shutil.which(binary) is not None
