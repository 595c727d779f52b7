#!/usr/bin/python3
"""Data for bench/private-announce.sh: USERS accounts and TORRENTS torrents loaded straight into a
migrated nexsuj site database (SQLite file or PostgreSQL through psql), plus the announce targets
for wrk (one `passkey hex-info-hash` line per torrent, torrent i owned by user i % USERS).

    private_announce_data.py sqlite PATH.db OUT_DIR USERS TORRENTS
    private_announce_data.py postgres URL OUT_DIR USERS TORRENTS
"""

import csv
import hashlib
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa "
         "quebec romeo sierra tango uniform victor whiskey xray yankee zulu ubuntu debian fedora arch gentoo "
         "movie series album live remaster concert documentary anime season episode collection complete "
         "bluray webrip hdtv flac mp3 aac x264 x265 hevc 1080p 720p 2160p hdr remux proper repack").split()
CATEGORIES = ("movie", "tv", "music", "anime", "software", "game", "book", "other")


def passkey(u):
    return hashlib.md5(f"user{u}".encode()).hexdigest()


def info_hash(t):
    return hashlib.sha1(f"torrent{t}".encode()).hexdigest()


def users(n, now):
    for u in range(1, n + 1):
        yield (f"user{u}", f"user{u}", f"user{u}@bench.example", "$argon2id$unused", 0, passkey(u), int(u == 1), now)


def torrents(n, n_users, now, rng):
    for t in range(n):
        words = rng.sample(WORDS, 3)
        title = f"{' '.join(words).title()} {t}"
        cat = CATEGORIES[t % len(CATEGORIES)]
        labels = ",".join(rng.sample(WORDS, 2))
        name = title.replace(" ", ".")
        size = rng.randrange(1 << 20, 50 << 30)
        search = f"{title} {name} {labels} {cat}".lower()
        files = f'[["{name}.mkv",{size}]]'
        yield (info_hash(t), name, title, cat, labels, "bench torrent", search, size, 1, files,
               t % n_users + 1, now - (n - t), rng.randrange(0, 50), rng.randrange(0, 20))


COLUMNS_U = "nick, nick_key, email, pwd_hash, sex, passkey, is_admin, created_at"
COLUMNS_T = ("info_hash, name, title, category, labels, description, search, size, file_count, files, "
             "uploader_id, created_at, seeders, leechers")


def main():
    kind, target, out, n_users, n_torrents = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    rng, now = random.Random(42), int(time.time())
    out.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        db = sqlite3.connect(target)
        db.executemany(f"INSERT INTO users ({COLUMNS_U}) VALUES (?,?,?,?,?,?,?,?)", users(n_users, now))
        db.executemany(f"INSERT INTO torrents ({COLUMNS_T}, info) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?, x'6465')",
                       torrents(n_torrents, n_users, now, rng))
        db.commit()
        db.close()
    else:
        rows_t = (row + ("\\x6465",) for row in torrents(n_torrents, n_users, now, rng))
        for name, rows in (("users", users(n_users, now)), ("torrents", rows_t)):
            with open(out / f"{name}.csv", "w", newline="") as f:
                csv.writer(f).writerows(rows)
        sql = (f"\\copy users ({COLUMNS_U}) FROM '{out}/users.csv' WITH (FORMAT csv)\n"
               f"\\copy torrents ({COLUMNS_T}, info) FROM '{out}/torrents.csv' WITH (FORMAT csv)\n"
               "ANALYZE;\n")
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", target], input=sql, text=True, check=True)
    with open(out / "targets.txt", "w") as f:
        for t in range(n_torrents):
            f.write(f"{passkey(t % n_users + 1)} {info_hash(t)}\n")


if __name__ == "__main__":
    main()
