#!/usr/bin/python3
"""Interop tests for `nexsuj create`, `nexsuj info` and `nexsuj verify`.

Checks that torrents nexsuj writes read the same in libtorrent and transmission, that torrents written by
mktorrent, transmission-create and libtorrent read the same in nexsuj and verify against their data, and that
magnet links survive a round trip.

Run with Debian's python, which has the libtorrent bindings:

    NEXSUJ=target/release/nexsuj /usr/bin/python3 interop/metainfo.py [NAME_FILTER ...]

NEXSUJ defaults to target/release/nexsuj under the repository root. Every test works in its own folder under one
temp dir that is deleted at the end. The last line printed is `N passed, N failed`.
"""

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import libtorrent as lt

REPO = Path(__file__).resolve().parent.parent
NEXSUJ = str(Path(os.environ.get("NEXSUJ") or REPO / "target/release/nexsuj").resolve())
TRACKER = "http://127.0.0.1:6969/announce"
KIB = 1024
MIB = 1024 * KIB

# A single file of odd size.
SINGLE = {"single.bin": 3 * MIB + 12345}
# Nested folders; sizes chosen against 16/32 KiB pieces: files crossing piece boundaries, one exactly a piece,
# one smaller than a piece, one empty. `a-b` vs `a/b` and `B` vs `a` tell component-wise byte order apart from
# plain string order.
MULTI = {
    "a/b/c/deep.bin": 70001,
    "a/b/c/empty": 0,
    "a/b/tiny.txt": 100,
    "a/b.dat": 32 * KIB,
    "a/Z.bin": 33333,
    "a-b/side.bin": 40000,
    "B/upper.bin": 50000,
    "zeta.bin": 123457,
}


class Failure(Exception):
    """A check that did not hold; the message says what was expected and what came."""


class Checks:
    """Collects mismatches so one test reports all of them, not just the first."""

    def __init__(self):
        self.problems = []

    def eq(self, what, expected, actual):
        if expected != actual:
            self.problems.append(f"{what}: expected {expected!r}, got {actual!r}")

    def true(self, what, cond, detail=""):
        if not cond:
            self.problems.append(f"{what}{': ' + detail if detail else ''}")

    def done(self):
        if self.problems:
            raise Failure("\n".join(self.problems))


# ---------------------------------------------------------------------------------------------- helpers


def run(cmd, cwd=None, rc=0):
    """Runs a command; with `rc` set, fails unless it exits with that code."""
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=120)
    if rc is not None and proc.returncode != rc:
        raise Failure(
            f"`{' '.join(map(str, cmd))}` exited {proc.returncode}, expected {rc}\n"
            f"stdout: {proc.stdout.strip()[:2000]}\nstderr: {proc.stderr.strip()[:2000]}"
        )
    return proc


def nexsuj(*args, cwd=None, rc=0):
    return run([NEXSUJ, *args], cwd=cwd, rc=rc)


def load_json(proc, cmd):
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        raise Failure(f"`{cmd}` did not print JSON ({e}): {proc.stdout[:500]!r}") from None


def nx_info(target):
    return load_json(nexsuj("info", target, "--json"), f"nexsuj info {target} --json")


def nx_verify(torrent, folder):
    """Returns (exit code, parsed --json output)."""
    proc = nexsuj("verify", torrent, folder, "--json", rc=None)
    if proc.returncode not in (0, 1):
        raise Failure(f"`nexsuj verify {torrent} {folder} --json` exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.returncode, load_json(proc, f"nexsuj verify {torrent} {folder} --json")


def content(seed, size):
    """Deterministic pseudo-random bytes."""
    return random.Random(seed).randbytes(size)


def write_tree(root, name, spec):
    """Writes `spec` ({relative path: size}) under root/name; a single-file spec is written as root/name itself."""
    if list(spec) == [name]:
        (root / name).write_bytes(content(name, spec[name]))
        return root / name
    for rel, size in spec.items():
        path = root / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content(rel, size))
    return root / name


def component_order(paths):
    return sorted(paths, key=lambda p: [c.encode() for c in p.split("/")])


def real_files(files):
    return [(f["path"], f["length"]) for f in files if not f["pad"]]


def nx_tiers(info):
    """Tracker tiers from `nexsuj info --json`, each sorted: clients shuffle within a tier (BEP 12)."""
    tiers = info.get("announce_list") or ([[info["announce"]]] if info.get("announce") else [])
    return [sorted(tier) for tier in tiers]


# ---------------------------------------------------------------------------------------------- other tools


def lt_view(torrent):
    """What libtorrent reads in a .torrent, shaped like `nexsuj info --json`."""
    ti = lt.torrent_info(str(torrent))
    hashes = ti.info_hashes()
    fs = ti.files()
    name = ti.name()
    trackers = list(ti.trackers())
    files = []
    for i in range(fs.num_files()):
        path = fs.file_path(i).replace(os.sep, "/")
        if path.startswith(name + "/"):  # multi-file: libtorrent includes the torrent name, nexsuj does not
            path = path[len(name) + 1 :]
        pad = bool(fs.file_flags(i) & lt.file_storage.flag_pad_file)
        files.append({"path": path, "length": fs.file_size(i), "pad": pad})
    return {
        "name": name,
        "info_hash_v1": str(hashes.v1) if hashes.has_v1() else None,
        "info_hash_v2": str(hashes.v2) if hashes.has_v2() else None,
        "total_size": sum(f["length"] for f in files if not f["pad"]),
        "private": ti.priv(),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "files": files,
        "offsets": [fs.file_offset(i) for i in range(fs.num_files())],
        "tiers": [sorted(t.url for t in trackers if t.tier == n) for n in sorted({t.tier for t in trackers})],
    }


def compare_with_lt(checks, info, view, with_pads=False):
    for key in ("name", "info_hash_v1", "info_hash_v2", "total_size", "private", "piece_length", "num_pieces"):
        checks.eq(f"{key} (libtorrent vs nexsuj info)", view[key], info.get(key))
    checks.eq("tracker tiers (libtorrent vs nexsuj info)", view["tiers"], nx_tiers(info))
    if with_pads:
        checks.eq("files with pads (libtorrent vs nexsuj info)", view["files"], info.get("files"))
    else:
        checks.eq("files (libtorrent vs nexsuj info)", real_files(view["files"]), real_files(info.get("files", [])))


UNITS = {"B": 1, "kB": 1000, "MB": 1000**2, "GB": 1000**3, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}
SIZE = re.compile(r"([\d.]+) (\w+)$")


def parse_size(text):
    """Transmission prints sizes like `3.16 MB`, truncated; returns (bytes, tolerance)."""
    m = SIZE.match(text.strip())
    if not m or m.group(2) not in UNITS:
        raise Failure(f"cannot parse transmission size {text!r}")
    number, unit = m.group(1), UNITS[m.group(2)]
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number) * unit, unit * 10**-decimals + 1


def transmission_view(torrent):
    """Parses `transmission-show` output: name, hash, piece count, total size, privacy, files."""
    out = run(["transmission-show", torrent]).stdout
    view = {"files": [], "tiers": []}
    section = None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        field = re.match(r"  (Name|Hash|Piece Count|Total Size|Privacy): (.*)$", line)
        if section == "GENERAL" and field:
            view[field.group(1)] = field.group(2)
        elif section == "TRACKERS" and line.startswith("  Tier #"):
            view["tiers"].append([])
        elif section == "TRACKERS" and line.startswith("  ") and view["tiers"]:
            view["tiers"][-1].append(line.strip())
        elif section == "FILES" and line.startswith("  "):
            m = re.match(r"  (.*) \(([^()]*)\)$", line)
            if m:
                view["files"].append((m.group(1), parse_size(m.group(2))))
    return view


def compare_with_transmission(checks, info, torrent):
    view = transmission_view(torrent)
    checks.eq("Hash (transmission-show vs nexsuj info)", info["info_hash_v1"], view.get("Hash"))
    checks.eq("Name (transmission-show vs nexsuj info)", info["name"], view.get("Name"))
    checks.eq("Piece Count (transmission-show vs nexsuj info)", str(info["num_pieces"]), view.get("Piece Count"))
    checks.eq("tracker tiers (transmission-show vs nexsuj info)", nx_tiers(info),
              [sorted(tier) for tier in view["tiers"]])
    privacy = "Private torrent" if info["private"] else "Public torrent"
    checks.eq("Privacy (transmission-show vs nexsuj info)", privacy, view.get("Privacy"))
    total, tol = parse_size(view.get("Total Size", "?"))
    checks.true("Total Size", abs(total - info["total_size"]) <= tol,
                f"transmission-show says {view.get('Total Size')}, nexsuj info says {info['total_size']} bytes")
    # transmission-show lists files sorted by its own rules, with the torrent name in front for multi-file.
    expected = dict(real_files(info["files"]))
    single = list(expected) == [info["name"]]
    shown = {(p if single else p.split("/", 1)[-1]): size for p, size in view["files"]}
    checks.eq("file paths (transmission-show vs nexsuj info)", sorted(expected), sorted(shown))
    for path, length in expected.items():
        size, tol = shown.get(path, (None, 0))
        checks.true(f"size of {path}", size is not None and abs(size - length) <= tol,
                    f"transmission-show says ~{size} bytes, nexsuj info says {length}")


def lt_create(src, out, piece_length, flags):
    fs = lt.file_storage()
    lt.add_files(fs, str(src))
    ct = lt.create_torrent(fs, piece_length, flags=flags)
    ct.add_tracker(TRACKER)
    lt.set_piece_hashes(ct, str(src.parent))
    out.write_bytes(lt.bencode(ct.generate()))


# ---------------------------------------------------------------------------------------------- tests

TESTS = []


def test(name):
    def register(fn):
        TESTS.append((name, fn))
        return fn

    return register


def nexsuj_created(kind, name, spec, *flags, transmission=True, check=None):
    """(a) A torrent from `nexsuj create` reads the same in libtorrent and transmission, and verifies."""

    @test(f"create/{kind}")
    def _(tmp):
        src = write_tree(tmp, name, spec)
        torrent = tmp / f"{kind}.torrent"
        nexsuj("create", src, "-t", TRACKER, "-t", "http://127.0.0.1:6970/announce", "--no-date", *flags,
               "-o", torrent, cwd=tmp)
        info = nx_info(torrent)
        checks = Checks()
        checks.eq("real files (what was written vs nexsuj info)", sorted(spec.items()),
                  sorted(real_files(info["files"])))
        # libtorrent shows v2-only torrents with pad files of its own making, which are not in the file.
        compare_with_lt(checks, info, lt_view(torrent), with_pads="--v2" not in flags)
        if transmission:
            compare_with_transmission(checks, info, torrent)
        if check:
            check(checks, info, torrent)
        rc, result = nx_verify(torrent, tmp)
        checks.eq("nexsuj verify exit code on intact data", 0, rc)
        checks.eq("nexsuj verify ok", True, result.get("ok"))
        checks.done()


def check_order(checks, info, _torrent):
    paths = [f["path"] for f in info["files"] if not f["pad"]]
    checks.eq("file order (component-wise byte order)", component_order(paths), paths)


def check_source(checks, info, torrent):
    raw = lt.bdecode(torrent.read_bytes())
    checks.eq("info.source in the file", b"Interop", raw[b"info"].get(b"source"))
    checks.eq("info.private in the file", 1, raw[b"info"].get(b"private"))
    checks.eq("source (nexsuj info)", "Interop", info.get("source"))


def check_hybrid(checks, info, torrent):
    check_order(checks, info, torrent)
    view = lt_view(torrent)
    files, offsets, piece = view["files"], view["offsets"], view["piece_length"]
    for i, f in enumerate(files):
        if not f["pad"] and f["length"] > 0:
            checks.true(f"{f['path']} starts on a piece boundary", offsets[i] % piece == 0, f"offset {offsets[i]}")
    checks.true("no pad file after the last file", not files[-1]["pad"], repr(files[-1]))
    # Transmission 3.00 cannot parse hybrid torrents ("Error parsing .torrent file", exit 1): only require that
    # it neither crashes nor disagrees when it does read one.
    proc = run(["transmission-show", torrent], rc=None)
    checks.true("transmission-show does not crash", proc.returncode in (0, 1), f"exit {proc.returncode}")
    if proc.returncode == 0:
        compare_with_transmission(checks, info, torrent)


nexsuj_created("single", "single.bin", SINGLE, "--piece-length", "256KiB")
nexsuj_created("single-auto-piece", "single.bin", SINGLE)
nexsuj_created("multi", "multi", MULTI, "--piece-length", "32KiB", check=check_order)
nexsuj_created("private-source", "multi", MULTI, "--piece-length", "16384", "--private", "--source", "Interop",
               "--tier", "http://127.0.0.1:6971/announce,udp://127.0.0.1:6972",
               check=check_source)
nexsuj_created("hybrid", "multi", MULTI, "--hybrid", "--piece-length", "16KiB", transmission=False,
               check=check_hybrid)
nexsuj_created("hybrid-single", "single.bin", SINGLE, "--hybrid", "--piece-length", "1MiB", transmission=False,
               check=check_hybrid)
nexsuj_created("v2", "multi", MULTI, "--v2", "--piece-length", "16KiB", transmission=False, check=check_order)


def mktorrent(log2):
    return lambda src, out: run(["mktorrent", "-l", log2, "-a", TRACKER, "-o", out, src])


def transmission_create(kib):
    return lambda src, out: run(["transmission-create", "-s", kib, "-t", TRACKER, "-o", out, src])


def libtorrent(piece_length, flags):
    return lambda src, out: lt_create(src, out, piece_length, flags)


def made_by_others(kind, name, spec, make):
    """(b) A torrent from another tool reads the same in nexsuj as in libtorrent, and nexsuj verify catches a
    flipped byte and a deleted file."""

    @test(f"others/{kind}")
    def _(tmp):
        data = tmp / "data"
        data.mkdir()
        src = write_tree(data, name, spec)
        torrent = tmp / f"{kind}.torrent"
        make(src, torrent)
        info = nx_info(torrent)
        checks = Checks()
        compare_with_lt(checks, info, lt_view(torrent))

        rc, result = nx_verify(torrent, data)
        checks.eq("verify exit code on intact data", 0, rc)
        checks.eq("verify ok on intact data", True, result.get("ok"))
        checks.eq("verify num_pieces", info.get("num_pieces"), result.get("num_pieces"))

        files = [(p, n) for p, n in real_files(info["files"]) if n > 0]
        flipped, length = max(files, key=lambda f: f[1])
        on_disk = src if src.is_file() else src / flipped
        original = on_disk.read_bytes()
        corrupt = bytearray(original)
        corrupt[length // 2] ^= 0x01
        on_disk.write_bytes(corrupt)
        rc, result = nx_verify(torrent, data)
        checks.eq(f"verify exit code after flipping byte {length // 2} of {flipped}", 1, rc)
        checks.eq("verify ok after flipping a byte", False, result.get("ok"))
        checks.true(f"bad_files names {flipped}", flipped in result.get("bad_files", []), repr(result))
        checks.true("bad_pieces is not empty", result.get("bad_pieces"), repr(result))
        human = nexsuj("verify", torrent, data, rc=None)
        checks.eq("verify (no --json) exit code after flipping a byte", 1, human.returncode)
        checks.true(f"verify (no --json) names {flipped}", flipped in human.stdout + human.stderr, human.stdout)
        on_disk.write_bytes(original)

        deleted = files[-1][0]
        (src if src.is_file() else src / deleted).unlink()
        rc, result = nx_verify(torrent, data)
        checks.eq(f"verify exit code after deleting {deleted}", 1, rc)
        checks.eq("verify ok after deleting a file", False, result.get("ok"))
        checks.true(f"missing_files names {deleted}", deleted in result.get("missing_files", []), repr(result))
        checks.done()


V1, V2, HYBRID = lt.create_torrent.v1_only, lt.create_torrent.v2_only, 0
made_by_others("mktorrent-single-1MiB", "single.bin", SINGLE, mktorrent(20))
made_by_others("mktorrent-single-256KiB", "single.bin", SINGLE, mktorrent(18))
made_by_others("mktorrent-multi-32KiB", "multi", MULTI, mktorrent(15))
made_by_others("mktorrent-multi-64KiB", "multi", MULTI, mktorrent(16))
made_by_others("transmission-create-single", "single.bin", SINGLE, transmission_create(512))
made_by_others("transmission-create-multi", "multi", MULTI, transmission_create(32))
made_by_others("libtorrent-v1-single", "single.bin", SINGLE, libtorrent(256 * KIB, V1))
made_by_others("libtorrent-v1-multi", "multi", MULTI, libtorrent(16 * KIB, V1))
made_by_others("libtorrent-v2-single", "single.bin", SINGLE, libtorrent(256 * KIB, V2))
made_by_others("libtorrent-v2-multi", "multi", MULTI, libtorrent(16 * KIB, V2))
made_by_others("libtorrent-hybrid-single", "single.bin", SINGLE, libtorrent(512 * KIB, HYBRID))
made_by_others("libtorrent-hybrid-multi", "multi", MULTI, libtorrent(32 * KIB, HYBRID))


@test("verify/missing-empty-file")
def _(tmp):
    """A missing file is missing even when it is empty and no piece covers it."""
    src = write_tree(tmp, "multi", MULTI)
    torrent = tmp / "multi.torrent"
    nexsuj("create", src, "-t", TRACKER, "--piece-length", "32KiB", "-o", torrent)
    (src / "a/b/c/empty").unlink()
    rc, result = nx_verify(torrent, tmp)
    checks = Checks()
    checks.eq("verify exit code after deleting the empty file a/b/c/empty", 1, rc)
    checks.true("missing_files names a/b/c/empty", "a/b/c/empty" in result.get("missing_files", []), repr(result))
    checks.done()


def magnet_round_trip(kind, name, spec, make):
    """(c) The magnet link from `nexsuj info` names the same torrent in `nexsuj info MAGNET` and libtorrent."""

    @test(f"magnet/{kind}")
    def _(tmp):
        src = write_tree(tmp, name, spec)
        torrent = tmp / f"{kind}.torrent"
        make(src, torrent)
        info = nx_info(torrent)
        magnet = info.get("magnet") or ""
        checks = Checks()
        checks.true("magnet starts with magnet:?", magnet.startswith("magnet:?"), repr(magnet))
        again = nx_info(magnet)
        for key in ("info_hash_v1", "info_hash_v2", "name"):
            checks.eq(f"{key} (nexsuj info FILE vs nexsuj info MAGNET)", info.get(key), again.get(key))
        params = lt.parse_magnet_uri(magnet)
        hashes = params.info_hashes
        checks.eq("info_hash_v1 (libtorrent parse_magnet_uri)", info.get("info_hash_v1"),
                  str(hashes.v1) if hashes.has_v1() else None)
        checks.eq("info_hash_v2 (libtorrent parse_magnet_uri)", info.get("info_hash_v2"),
                  str(hashes.v2) if hashes.has_v2() else None)
        checks.done()


def nexsuj_create_with(*flags):
    return lambda src, out: nexsuj("create", src, "-t", TRACKER, "--no-date", *flags, "-o", out)


magnet_round_trip("nexsuj-v1", "multi", MULTI, nexsuj_create_with("--piece-length", "32KiB"))
magnet_round_trip("nexsuj-hybrid", "multi", MULTI, nexsuj_create_with("--hybrid", "--piece-length", "32KiB"))
magnet_round_trip("nexsuj-v2", "single.bin", SINGLE, nexsuj_create_with("--v2"))
magnet_round_trip("libtorrent-hybrid", "multi", MULTI, libtorrent(16 * KIB, HYBRID))


@test("errors/not-a-torrent")
def _(tmp):
    """Errors are one `error:` line on stderr; verify exits 2 on a bad torrent file."""
    bad = tmp / "bad.torrent"
    bad.write_bytes(b"this is not bencode")
    checks = Checks()
    for args, expected_rc in ((["info", bad, "--json"], None), (["verify", bad, tmp], 2)):
        proc = nexsuj(*args, rc=None)
        cmd = "nexsuj " + " ".join(map(str, args))
        checks.true(f"`{cmd}` exits non-zero", proc.returncode != 0, f"exit {proc.returncode}")
        if expected_rc is not None:
            checks.eq(f"`{cmd}` exit code", expected_rc, proc.returncode)
        lines = proc.stderr.strip().splitlines()
        checks.true(f"`{cmd}` prints one `error:` line on stderr", len(lines) == 1 and lines[0].startswith("error:"),
                    repr(proc.stderr))
    checks.done()


# ---------------------------------------------------------------------------------------------- runner


def main():
    if not os.access(NEXSUJ, os.X_OK):
        print(f"error: nexsuj binary not found at {NEXSUJ} (set NEXSUJ)", file=sys.stderr)
        return 1
    filters = sys.argv[1:]
    passed = failed = 0
    root = Path(tempfile.mkdtemp(prefix="nexsuj-interop-"))
    try:
        for i, (name, fn) in enumerate(TESTS):
            if filters and not any(f in name for f in filters):
                continue
            tmp = root / f"{i:02}"
            tmp.mkdir()
            try:
                fn(tmp)
            except Failure as e:
                failed += 1
                print(f"FAIL {name}\n" + "\n".join("     " + line for line in str(e).splitlines()), flush=True)
            except Exception:  # a bug in the test or a tool blowing up: report it as a failure, keep going
                failed += 1
                print(f"FAIL {name} (exception)\n" + traceback.format_exc(), flush=True)
            else:
                passed += 1
                print(f"ok   {name}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
