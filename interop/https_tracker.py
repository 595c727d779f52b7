#!/usr/bin/python3
"""Interop test of HTTPS trackers: `nexsuj serve` behind Debian's nginx terminating TLS with a certificate made here
(a test CA, openssl), its downloaded torrents announcing to https://localhost:PORT/announce?auth_key=… only. A
`nexsuj seed` and a libtorrent leecher meet through it; then `nexsuj download` fetches the file the same way. nginx's
access log shows every announce went over TLS, and that nexsuj's announces shared a kept connection.

    NEXSUJ=target/release/nexsuj /usr/bin/python3 interop/https_tracker.py

The last line printed is `N passed, N failed`.
"""

import filecmp
import importlib.util
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
TMP = Path(tempfile.mkdtemp(prefix="nexsuj-https-interop-"))
CA = TMP / "ca.pem"
# Python's urllib and libtorrent's OpenSSL both read the trusted roots from here: set before either starts.
os.environ["SSL_CERT_FILE"] = str(CA)

import libtorrent as lt  # noqa: E402

from peers import Nexsuj, lt_add, lt_session, lt_wait_alert, wait_until  # noqa: E402

# interop/site.py, by path: `site` is also the name of a module of Python's own.
_spec = importlib.util.spec_from_file_location("site_interop", HERE / "site.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)

NEXSUJ = site.NEXSUJ
SIZE = 3 * 1024 * 1024 + 77


def make_certs():
    """A CA and a server certificate for localhost and 127.0.0.1, signed by it."""
    def run(*args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", TMP / "ca.key",
        "-out", CA, "-days", "2", "-subj", "/CN=nexsuj interop CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", TMP / "server.key",
        "-out", TMP / "server.csr", "-subj", "/CN=localhost")
    (TMP / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
                                 "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", TMP / "server.csr", "-CA", CA, "-CAkey", TMP / "ca.key", "-CAcreateserial",
        "-out", TMP / "server.pem", "-days", "2", "-extfile", TMP / "ext.cnf")


def start_nginx(port, upstream):
    """nginx terminating TLS on 127.0.0.1:`port` in front of `upstream`; logs `$connection_requests`."""
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (TMP / f"ngx-{d}").mkdir(exist_ok=True)
    conf = TMP / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {TMP}/nginx.pid;
error_log {TMP}/nginx-error.log info;
events {{ worker_connections 256; }}
http {{
    log_format nx '$connection $connection_requests "$request" "$http_user_agent" $status';
    access_log {TMP}/nginx-access.log nx;
    client_body_temp_path {TMP}/ngx-body;
    proxy_temp_path {TMP}/ngx-proxy;
    fastcgi_temp_path {TMP}/ngx-fastcgi;
    uwsgi_temp_path {TMP}/ngx-uwsgi;
    scgi_temp_path {TMP}/ngx-scgi;
    upstream site {{ server {upstream}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {TMP}/server.pem;
        ssl_certificate_key {TMP}/server.key;
        location / {{
            proxy_pass http://site;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
        }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(TMP)], stderr=subprocess.STDOUT,
                            stdout=open(TMP / "nginx.out", "wb"))
    wait_until("nginx", lambda: site_reachable(port) or proc.poll() is not None, timeout=20)
    assert proc.poll() is None, (TMP / "nginx.out").read_text() + (TMP / "nginx-error.log").read_text()
    return proc


def site_reachable(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
        return True
    except OSError:
        return False


def https_only(torrent, out):
    """The torrent with its HTTPS announce URL alone (the announce list is outside the info dictionary)."""
    meta = lt.bdecode(torrent.read_bytes())
    https = [u for tier in meta[b"announce-list"] for u in tier if u.startswith(b"https://")]
    assert len(https) == 1, meta[b"announce-list"]
    meta[b"announce"] = https[0]
    meta[b"announce-list"] = [[https[0]]]
    out.write_bytes(lt.bencode(meta))
    return out


def announces():
    """(connection, requests on it, user agent) of every announce nginx passed on."""
    out = []
    for line in (TMP / "nginx-access.log").read_text().splitlines():
        conn, nth, rest = line.split(" ", 2)
        if '"GET /announce?' in rest:
            out.append((conn, int(nth), rest.rsplit('"', 2)[-2]))
    return out


def scenario(ngx, base, outbox):
    users = {name: site.sign_up(base, outbox, name) for name in ("seeder", "leecher", "third")}
    print("  three users signed up and logged in over HTTPS through nginx")
    content_dir = TMP / "seed"
    content_dir.mkdir()
    content = content_dir / "payload.bin"
    content.write_bytes(os.urandom(SIZE))
    original = TMP / "original.torrent"
    subprocess.run([NEXSUJ, "create", content, "-t", "http://elsewhere.example/announce", "--piece-length", "64KiB",
                    "-o", original, "-f"], check=True, capture_output=True)
    body, ctype = site.multipart({"title": "HTTPS payload", "type": "other", "labels": "interop",
                                  "description": "made by interop/https_tracker.py"}, "torrent", "payload.torrent",
                                 original.read_bytes())
    status, reply = users["seeder"].call("POST", "/upload/torrent", body, {"Content-Type": ctype})
    assert status == 200, reply
    tid = reply["body"]["id"]
    torrents = {}
    for name, user in users.items():
        status, data = user.call("GET", f"/download/torrent?id={tid}", raw=True)
        assert status == 200, data
        (TMP / f"{name}-full.torrent").write_bytes(data)
        torrents[name] = https_only(TMP / f"{name}-full.torrent", TMP / f"{name}.torrent")
    url = next(iter(lt.torrent_info(str(torrents["leecher"])).trackers())).url
    assert url.startswith(f"https://localhost:{ngx}/announce?auth_key="), url
    print(f"  each user's torrent announces to https://localhost:{ngx}/announce?auth_key=… only")

    seed_port = site.free_port("127.0.0.1")
    seed = subprocess.Popen([NEXSUJ, "seed", torrents["seeder"], content_dir, "--listen", "127.0.0.1", "--port",
                             str(seed_port), "--tracker-ca", CA, "--no-dht", "--log", "info"],
                            stdout=open(TMP / "seed.log", "wb"), stderr=subprocess.STDOUT)
    try:
        wait_until("nexsuj seed's announce through nginx",
                   lambda: seed.poll() is not None or any(ua.startswith("nexsuj/") for _, _, ua in announces()),
                   timeout=60)
        assert seed.poll() is None, f"nexsuj seed exited with {seed.returncode}"
        print("  nexsuj seed announced over HTTPS")
        leecher = lt_session("127.0.0.1", site.free_port("127.0.0.1"))
        leecher.apply_settings({"validate_https_trackers": True})
        h = lt_add(leecher, torrents["leecher"], TMP / "lt")
        lt_wait_alert(leecher, lt.tracker_reply_alert, "libtorrent's HTTPS announce")
        wait_until("the libtorrent leecher", lambda: h.status().is_seeding, timeout=120)
        assert filecmp.cmp(content, TMP / "lt" / content.name, shallow=False), "libtorrent's copy differs"
        print("  libtorrent announced over HTTPS (validate_https_trackers on), found the nexsuj seeder, and downloaded")
        dst = TMP / "third"
        done = subprocess.run([NEXSUJ, "download", torrents["third"], "-o", dst, "--listen", "127.0.0.1", "--port",
                               str(site.free_port("127.0.0.1")), "--tracker-ca", CA, "--no-dht"],
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        assert filecmp.cmp(content, dst / content.name, shallow=False), "nexsuj download's copy differs"
        print("  nexsuj download announced over HTTPS and downloaded")
    finally:
        seed.terminate()
        seed.wait(10)
    ours = [(c, n) for c, n, ua in announces() if ua.startswith("nexsuj/")]
    theirs = [(c, n) for c, n, ua in announces() if "libtorrent" in ua.lower()]
    assert ours and theirs, announces()
    assert max(n for _, n in ours) >= 2, f"nexsuj never reused a connection: {ours}"
    print(f"  nginx passed on {len(ours)} announces from nexsuj over {len({c for c, _ in ours})} TLS connections, "
          f"{len(theirs)} from libtorrent")


def main():
    passed = failed = 0
    ngx_proc = None
    try:
        make_certs()
        http = f"127.0.0.1:{site.free_port('127.0.0.1')}"
        udp = f"127.0.0.1:{site.free_port('127.0.0.1', site.socket.SOCK_DGRAM)}"
        ngx = site.free_port("127.0.0.1")
        base = f"https://localhost:{ngx}"
        env = {"NEXSUJ_FLUSH_INTERVAL_SECS": "1", "NEXSUJ_TRACKER_TRUSTED_PROXIES": '["127.0.0.1/32"]'}
        with Nexsuj(NEXSUJ, "serve", "--http", http, "--udp", udp, "--data-dir", TMP / "data", "--base-url", base,
                    env=env) as served:
            ngx_proc = start_nginx(ngx, http)
            print("- nexsuj serve behind nginx (TLS): nexsuj seed, libtorrent and nexsuj download announce over HTTPS")
            try:
                scenario(ngx, base, TMP / "data/outbox")
                passed += 1
                print("  ok")
            except Exception:
                failed += 1
                traceback.print_exc()
                print("".join(served.lines[-40:]))
                for f in ("seed.log", "nginx-error.log", "nginx-access.log"):
                    if (TMP / f).exists():
                        print(f"---- {f}\n{(TMP / f).read_text(errors='replace')[-3000:]}")
    finally:
        if ngx_proc:
            ngx_proc.terminate()
            ngx_proc.wait(10)
        subprocess.run(["rm", "-rf", str(TMP)])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
