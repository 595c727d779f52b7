#!/usr/bin/python3
"""Interop tests of the client's transports against libtorrent and transmission: message stream encryption (MSE/PE)
each way, forced and optional, and refused where our policy or theirs says so; uTP (BEP 29) with a libtorrent whose
TCP is off, each way, and with RC4 on top.

    /usr/bin/python3 interop/transports.py [SCENARIO ...]     # every scenario, or only the named ones

Reads $NEXSUJ. Shares client.py's launchers (libtorrent in-process over TCP, transmission in a network namespace,
our tracker). Every download is compared byte for byte.
"""

import json
import os
import sys

import libtorrent as lt

import client as c

ALERTS = (lt.alert.category_t.connect_notification | lt.alert.category_t.peer_notification
          | lt.alert.category_t.error_notification)


def lt_encrypted(policy, level):
    """A libtorrent session whose incoming and outgoing policy is `policy` (lt.enc_policy) at `level`."""
    s, port = c.lt_session()
    s.apply_settings({"out_enc_policy": int(policy), "in_enc_policy": int(policy), "allowed_enc_level": int(level),
                      "prefer_rc4": level == lt.enc_level.rc4, "alert_mask": int(ALERTS)})
    return s, port


def lt_utp_only(policy=None, level=None):
    """A libtorrent session that speaks uTP only (TCP off both ways), optionally with an encryption policy."""
    s, port = c.lt_session()
    settings = {"enable_outgoing_utp": True, "enable_incoming_utp": True, "enable_outgoing_tcp": False,
                "enable_incoming_tcp": False, "alert_mask": int(ALERTS)}
    if policy is not None:
        settings.update({"out_enc_policy": int(policy), "in_enc_policy": int(policy), "allowed_enc_level": int(level),
                         "prefer_rc4": True})
    s.apply_settings(settings)
    return s, port


def summary(logname):
    """The `nexsuj download --json` summary in its log."""
    text = c.read_log(logname)
    return json.loads(text[text.index("{"):])


def refused_by(s, port):
    """Waits for libtorrent to report a connection with the peer at `port` closed; its message."""
    seen = []

    def closed():
        for a in s.pop_alerts():
            if isinstance(a, (lt.peer_disconnected_alert, lt.peer_error_alert)) and a.endpoint[1] == port:
                seen.append(a.message())
        return bool(seen)

    c.wait_until("libtorrent to see the connection closed", closed, 60)
    return seen[0]


def scenario_forced_rc4_seeds():
    """nexsuj downloads from a libtorrent seeder that forces RC4 both ways."""
    src = c.content("enc1", 6_000_000, 31)
    t = c.make_torrent(src, "enc1", ["http://127.0.0.1:1/announce"])
    s, port = lt_encrypted(lt.enc_policy.forced, lt.enc_level.rc4)
    c.lt_add(s, t, src, seed=True)
    dst = os.path.join(c.TMP, "dst-enc1")
    p, _, name = c.nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers", "--json"])
    c.wait_exit(p, "nexsuj download from a forced-RC4 libtorrent")
    c.same(src, dst, "enc1")
    counts = summary(name)["encryption"]
    c.log(f"nexsuj's peer connections: {counts}")
    assert counts["rc4"] >= 1 and counts["plaintext"] == 0, counts


def scenario_forced_rc4_leeches():
    """A libtorrent leecher that forces RC4 both ways downloads from a nexsuj seeder."""
    src = c.content("enc2", 5_000_000, 32)
    t = c.make_torrent(src, "enc2", ["http://127.0.0.1:1/announce"])
    seed, port, name = c.nexsuj("seed", t, src, extra=["--no-trackers"])
    c.ready(name)
    s, _ = lt_encrypted(lt.enc_policy.forced, lt.enc_level.rc4)
    dst = os.path.join(c.TMP, "dst-enc2")
    h = c.lt_add(s, t, dst, peers=[("127.0.0.1", port)])
    c.wait_until("the forced-RC4 libtorrent leecher", lambda: h.status().is_seeding)
    c.same(src, dst, "enc2")
    seed.terminate()
    seed.wait(10)


def scenario_required_meets_optional():
    """nexsuj with encryption required downloads over RC4 from a libtorrent that allows both and prefers neither."""
    src = c.content("enc3", 4_000_000, 33)
    t = c.make_torrent(src, "enc3", ["http://127.0.0.1:1/announce"])
    s, port = lt_encrypted(lt.enc_policy.enabled, lt.enc_level.both)
    c.lt_add(s, t, src, seed=True)
    dst = os.path.join(c.TMP, "dst-enc3")
    p, _, name = c.nexsuj("download", t, dst, peers=[("127.0.0.1", port)],
                          extra=["--no-trackers", "--json", "--encryption", "required"])
    c.wait_exit(p, "nexsuj download --encryption required")
    c.same(src, dst, "enc3")
    counts = summary(name)["encryption"]
    c.log(f"nexsuj's peer connections: {counts}")
    assert counts["rc4"] >= 1 and counts["plaintext"] == counts["obfuscated"] == 0, counts


def scenario_required_refuses_plaintext():
    """Under --encryption required, nexsuj refuses a plaintext-only libtorrent, as seeder and as leecher."""
    src = c.content("enc4", 2_000_000, 34)
    t = c.make_torrent(src, "enc4", ["http://127.0.0.1:1/announce"])
    # nexsuj seeds; libtorrent (encryption disabled) dials it in plaintext and is turned away.
    seed, port, name = c.nexsuj("seed", t, src, extra=["--no-trackers", "--encryption", "required"])
    c.ready(name)
    s, _ = lt_encrypted(lt.enc_policy.disabled, lt.enc_level.plaintext)
    dst = os.path.join(c.TMP, "dst-enc4")
    h = c.lt_add(s, t, dst, peers=[("127.0.0.1", port)])
    why = refused_by(s, port)
    c.log(f"libtorrent leecher: {why}")
    assert h.status().total_payload_download == 0
    seed.terminate()
    seed.wait(10)
    # libtorrent seeds in plaintext only; nexsuj (required) dials it encrypted and is turned away.
    s2, port2 = lt_encrypted(lt.enc_policy.disabled, lt.enc_level.plaintext)
    h2 = c.lt_add(s2, t, src, seed=True)
    dst2 = os.path.join(c.TMP, "dst-enc4b")
    p, _, name = c.nexsuj("download", t, dst2, peers=[("127.0.0.1", port2)],
                          extra=["--no-trackers", "--encryption", "required", "--log", "debug"])
    c.wait_until("nexsuj to give up on the plaintext-only peer",
                 lambda: "encryption handshake" in c.read_log(name), 60)
    c.log("nexsuj leecher: " + next(l for l in c.read_log(name).splitlines() if "encryption handshake" in l)[-160:])
    assert h2.status().total_payload_upload == 0
    p.terminate()
    p.wait(10)


def scenario_transmission_requires_encryption():
    """A transmission leecher with encryption required downloads from a nexsuj seeder through our tracker."""
    src = c.content("enc5", 5_000_000, 35)
    http, _ = c.tracker(c.NET.host)
    t = c.make_torrent(src, "enc5", [http])
    seed, _, name = c.nexsuj("seed", t, src, host=c.NET.host)
    c.ready(name)
    dst = os.path.join(c.TMP, "dst-enc5")
    tr = c.Transmission(dst, encryption="-er")
    tr.add(t)
    c.wait_until("the transmission leecher (encryption required)", tr.done)
    c.same(src, dst, "enc5", settle=30)
    tr.stop()
    seed.terminate()
    seed.wait(10)


def scenario_utp_from_libtorrent():
    """nexsuj downloads over uTP from a libtorrent seeder with TCP disabled."""
    src = c.content("utp1", 8_000_000, 41)
    t = c.make_torrent(src, "utp1", ["http://127.0.0.1:1/announce"])
    s, port = lt_utp_only()
    c.lt_add(s, t, src, seed=True)
    dst = os.path.join(c.TMP, "dst-utp1")
    p, _, name = c.nexsuj("download", t, dst, peers=[("127.0.0.1", port)], extra=["--no-trackers", "--json"])
    c.wait_exit(p, "nexsuj download from a uTP-only libtorrent")
    c.same(src, dst, "utp1")
    got = summary(name)["transports"]
    c.log(f"nexsuj's peer connections: {got}")
    assert got["utp"] >= 1 and got["tcp"] == 0, got


def scenario_utp_to_libtorrent():
    """A libtorrent leecher with TCP disabled downloads over uTP from a nexsuj seeder."""
    src = c.content("utp2", 8_000_000, 42)
    t = c.make_torrent(src, "utp2", ["http://127.0.0.1:1/announce"])
    seed, port, name = c.nexsuj("seed", t, src, extra=["--no-trackers", "--transport", "utp"])
    c.ready(name)
    s, _ = lt_utp_only()
    dst = os.path.join(c.TMP, "dst-utp2")
    h = c.lt_add(s, t, dst, peers=[("127.0.0.1", port)])
    c.wait_until("the uTP-only libtorrent leecher", lambda: h.status().is_seeding)
    c.same(src, dst, "utp2")
    seed.terminate()
    seed.wait(10)


def scenario_utp_rc4_with_libtorrent():
    """uTP and forced RC4 together: libtorrent (uTP only, RC4 forced) seeds to nexsuj, then leeches from it."""
    src = c.content("utp3", 5_000_000, 43)
    t = c.make_torrent(src, "utp3", ["http://127.0.0.1:1/announce"])
    s, port = lt_utp_only(lt.enc_policy.forced, lt.enc_level.rc4)
    c.lt_add(s, t, src, seed=True)
    dst = os.path.join(c.TMP, "dst-utp3")
    p, _, name = c.nexsuj("download", t, dst, peers=[("127.0.0.1", port)],
                          extra=["--no-trackers", "--json", "--encryption", "required", "--transport", "utp"])
    c.wait_exit(p, "nexsuj download over uTP with RC4")
    c.same(src, dst, "utp3")
    sm = summary(name)
    c.log(f"nexsuj's peer connections: {sm['transports']}, {sm['encryption']}")
    assert sm["transports"]["utp"] >= 1 and sm["encryption"]["rc4"] >= 1 and sm["encryption"]["plaintext"] == 0, sm
    seed, sport, sname = c.nexsuj("seed", t, dst, extra=["--no-trackers", "--transport", "utp", "--encryption",
                                                        "required"])
    c.ready(sname)
    s2, _ = lt_utp_only(lt.enc_policy.forced, lt.enc_level.rc4)
    dst2 = os.path.join(c.TMP, "dst-utp3b")
    h = c.lt_add(s2, t, dst2, peers=[("127.0.0.1", sport)])
    c.wait_until("the uTP + RC4 libtorrent leecher", lambda: h.status().is_seeding)
    c.same(src, dst2, "utp3")
    seed.terminate()
    seed.wait(10)


SCENARIOS = {
    "forced_rc4_seeds": (scenario_forced_rc4_seeds, False),
    "forced_rc4_leeches": (scenario_forced_rc4_leeches, False),
    "required_meets_optional": (scenario_required_meets_optional, False),
    "required_refuses_plaintext": (scenario_required_refuses_plaintext, False),
    "transmission_requires_encryption": (scenario_transmission_requires_encryption, True),
    "utp_from_libtorrent": (scenario_utp_from_libtorrent, False),
    "utp_to_libtorrent": (scenario_utp_to_libtorrent, False),
    "utp_rc4_with_libtorrent": (scenario_utp_rc4_with_libtorrent, False),
}

if __name__ == "__main__":
    sys.exit(c.main(SCENARIOS, label="transports"))
