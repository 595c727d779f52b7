"""The deployment `scale_out.py` tests: redis-server processes of our own (one, or a three-master cluster), a fresh
PostgreSQL database, three `nexsuj serve` instances sharing them, and nginx in front (`http` and `stream`).
Run with Debian's python (/usr/bin/python3)."""

import importlib.util
import os
import socket
import subprocess
import tempfile
from pathlib import Path

from peers import Nexsuj, stop, wait_until

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("site_interop", HERE / "site.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)

NEXSUJ = site.NEXSUJ
TMP = Path(tempfile.mkdtemp(prefix="nexsuj-scale-interop-"))
PG = os.environ.get("NEXSUJ_SCALE_PG", "postgres://postgres@127.0.0.1:5432")


class Redis:
    """A redis-server of our own on `port` (append-only file on, so a restart keeps the swarms, as a deployment
    would run it); `extra` adds arguments (cluster mode)."""

    def __init__(self, port, *extra):
        self.port, self.extra = port, extra
        self.dir = TMP / f"redis-{port}"
        self.dir.mkdir(exist_ok=True)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", *self.extra],
            stdout=open(self.dir / "log", "ab"), stderr=subprocess.STDOUT)
        wait_until(f"redis on {self.port}", self.ping, timeout=20)
        return self

    def ping(self):
        r = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return r.stdout.strip() == "PONG"

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None


def cluster_ports(n):
    """`n` ports whose cluster bus ports (port + 10000) are free too, so below 55536."""
    import random
    out = []
    while len(out) < n:
        p = random.randrange(20000, 45000)
        if p in out:
            continue
        try:
            for port in (p, p + 10000):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        out.append(p)
    return out


def cluster(ports):
    """Three masters, slots spread by redis-cli."""
    nodes = [Redis(p, "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{p}.conf").start() for p in ports]
    subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "0",
                    "--cluster-yes"], check=True, capture_output=True)

    def ok():
        r = subprocess.run(["redis-cli", "-p", str(ports[0]), "cluster", "info"], capture_output=True, text=True)
        return "cluster_state:ok" in r.stdout
    wait_until("the Redis Cluster", ok, timeout=30)
    return nodes


def psql(sql):
    subprocess.run(["psql", f"{PG}/postgres", "-v", "ON_ERROR_STOP=1", "-qtAc", sql], check=True,
                   capture_output=True)


def pg_cluster(action):
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action], check=True,
                   capture_output=True)
    if action == "start":
        wait_until("PostgreSQL", lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"]).returncode == 0,
                   timeout=60)


class Deployment:
    """Three `nexsuj serve` on `ns.host_ip` sharing a fresh database and `redis_url`, nginx in front."""

    def __init__(self, ns, name, redis_url):
        self.ns, self.name, self.redis_url = ns, name, redis_url
        ip = ns.host_ip
        self.db = f"nexsuj_scale_{os.getpid()}_{name}"
        self.http = [f"{ip}:{site.free_port(ip)}" for _ in range(3)]
        self.udp = [f"{ip}:{site.free_port(ip, socket.SOCK_DGRAM)}" for _ in range(3)]
        self.front = f"{ip}:{site.free_port(ip)}"
        self.front_udp = f"{ip}:{site.free_port(ip, socket.SOCK_DGRAM)}"
        self.base = f"http://{self.front}"
        self.instances = [None, None, None]

    def __enter__(self):
        psql(f"CREATE DATABASE {self.db}")
        for i in range(3):
            self.start(i)
        self.nginx = self.start_nginx()
        return self

    def env(self):
        extra = ",".join(f'"http://{h}/announce"' for h in self.http)
        return {"NEXSUJ_FLUSH_INTERVAL_SECS": "1", "NEXSUJ_TRACKER_INTERVAL": "60", "NEXSUJ_TRACKER_MIN_INTERVAL": "0",
                "NEXSUJ_TRACKER_TRUSTED_PROXIES": f'["{self.ns.host_ip}/32"]', "NEXSUJ_TRACKER_REDIS_TIMEOUT_MS": "2000",
                "NEXSUJ_UDP_ANNOUNCE_URL": f"udp://{self.front_udp}/announce",
                "NEXSUJ_EXTRA_ANNOUNCE_URLS": f"[{extra}]"}

    def start(self, i):
        data = TMP / f"{self.name}-data{i}"
        self.instances[i] = Nexsuj(NEXSUJ, "serve", "--http", self.http[i], "--udp", self.udp[i], "--data-dir", data,
                                   "--database-url", f"{PG}/{self.db}", "--redis-url", self.redis_url,
                                   "--base-url", self.base, env=self.env()).__enter__()

    def stop(self, i):
        self.instances[i].__exit__(None, None, None)
        self.instances[i] = None

    def outboxes(self):
        return [TMP / f"{self.name}-data{i}/outbox" for i in range(3)]

    def start_nginx(self):
        d = TMP / f"{self.name}-nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        http = "".join(f"server {h};" for h in self.http)
        udp = "".join(f"server {u};" for u in self.udp)
        (d / "nginx.conf").write_text(f"""
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    upstream instances {{ {http} keepalive 16; }}
    server {{
        listen {self.front};
        client_max_body_size 16m;
        location / {{
            proxy_pass http://instances;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_next_upstream error timeout;
        }}
    }}
}}
stream {{
    upstream udp_instances {{ hash $remote_addr$remote_port; {udp} }}
    server {{
        listen {self.front_udp} udp;
        proxy_pass udp_instances;
        proxy_responses 1;
        proxy_timeout 5s;
    }}
}}
""")
        proc = subprocess.Popen(["nginx", "-c", str(d / "nginx.conf"), "-p", str(d)], stdout=open(d / "out", "wb"),
                                stderr=subprocess.STDOUT)
        host, port = self.front.rsplit(":", 1)
        wait_until("nginx", lambda: proc.poll() is not None or reachable(host, int(port)), timeout=20)
        assert proc.poll() is None, (d / "out").read_text() + (d / "error.log").read_text()
        return proc

    def logs(self):
        return "".join("".join(i.lines[-25:]) for i in self.instances if i)

    def __exit__(self, *exc):
        stop(self.nginx)
        for i in range(3):
            if self.instances[i]:
                self.stop(i)
        psql(f"DROP DATABASE IF EXISTS {self.db} WITH (FORCE)")


def reachable(host, port):
    try:
        socket.create_connection((host, port), 0.5).close()
        return True
    except OSError:
        return False
