#!/usr/bin/env bash
# Private-tracker cost and site page latency, all in one run on this machine:
#  1. Announces/s over HTTP with passkeys on `nexsuj serve` (USERS accounts, TORRENTS torrents, accounting
#     on, flushed to the database every 3 s) against public announces on `nexsuj tracker` (same engine,
#     open mode), the same wrk load (bench/private-announce.lua: keep-alive, 128 connections, every
#     (user, torrent) pair a peer whose counters grow). Server pinned to CPU 0 with one HTTP worker, wrk to
#     CPU 1. Target: private >= 0.8 x public.
#  2. Page latency under wrk (8 connections) for browse (`/`) and search (`/?q=ubuntu`) with TORRENTS
#     torrents, on SQLite and on PostgreSQL: p50 and p99.
#
#   bash bench/private-announce.sh [SECONDS]        # SECONDS per measurement, default 15
#
# Env: USERS (10000), TORRENTS (100000), NEXSUJ_BENCH_PG (postgres://postgres@127.0.0.1:5432: a server
# where the database nexsuj_bench may be created and dropped; PostgreSQL is started if it is down).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
users=${USERS:-10000}
torrents=${TORRENTS:-100000}
pg=${NEXSUJ_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}
work=$(mktemp -d)
server=""
stop_server() {
    if [[ -n $server ]]; then kill -INT "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    server=""
}
cleanup() { stop_server; psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS nexsuj_bench" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
cargo build -q --release --locked -p nexsuj
nexsuj=$CARGO_TARGET_DIR/release/nexsuj
port=3399
base="http://127.0.0.1:$port"

start_server() { # command and arguments; the server gets CPU 0
    taskset -c 0 "$@" 2>"$work/server.log" &
    server=$!
    for _ in $(seq 300); do
        curl -s -o /dev/null "$base/announce" && return 0
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server did not start:" >&2
    cat "$work/server.log" >&2
    return 1
}

stat() { curl -s "$base/stats" | /usr/bin/python3 -c "import json,sys; s=json.load(sys.stdin)['http']; print(s['$1'] if '$1' in s else s['errors']['$1'])"; }

announce_rate() { # label → "rate refused-rate"
    local a0 r0 a1 r1
    # Warm-up: every peer announces once, so the measured run sees steady swarms.
    TARGETS=$work/data/targets.txt taskset -c 1 wrk -t1 -c128 -d3s -s bench/private-announce.lua "$base" >/dev/null
    a0=$(stat announces)
    r0=$(stat refused)
    TARGETS=$work/data/targets.txt taskset -c 1 wrk -t1 -c128 -d"${secs}s" -s bench/private-announce.lua "$base" >"$work/wrk-$1.txt"
    a1=$(stat announces)
    r1=$(stat refused)
    echo "$(( (a1 - a0) / secs )) $(( (r1 - r0) / secs ))"
}

page_latency() { # path → "p50 p99 req/s"
    taskset -c 1 wrk -t1 -c8 -d"${secs}s" --latency "$base$1" >"$work/page.txt"
    awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /^Requests\/sec/ {rps=$2} END {print p50, p99, rps}' "$work/page.txt"
}

wait_cached() { # the site's caches hold the loaded users and torrents
    for _ in $(seq 100); do
        curl -s "$base/site/metrics" | grep -q "nexsuj_site_torrents_registered $torrents" && return 0
        sleep 0.2
    done
    echo "the site did not load the bench data" >&2
    return 1
}

# The announce targets (and the SQLite data) are made once; PostgreSQL gets the same rows.
mkdir -p "$work/sqlite"
echo "== private data: $users users, $torrents torrents" >&2
start_server env NEXSUJ_TRACKER_HTTP_WORKERS=1 NEXSUJ_LOG=warn "$nexsuj" serve --http "127.0.0.1:$port" \
    --udp "127.0.0.1:$((port + 1))" --data-dir "$work/sqlite"
/usr/bin/python3 bench/private_announce_data.py sqlite "$work/sqlite/nexsuj.db" "$work/data" "$users" "$torrents"
stop_server

echo "== public: nexsuj tracker (open mode)" >&2
NEXSUJ_HTTP_WORKERS=1 start_server "$nexsuj" tracker --http "127.0.0.1:$port" --udp "127.0.0.1:$((port + 1))"
read -r public public_refused < <(announce_rate public)
stop_server

echo "== private: nexsuj serve on SQLite" >&2
start_server env NEXSUJ_TRACKER_HTTP_WORKERS=1 NEXSUJ_LOG=warn "$nexsuj" serve --http "127.0.0.1:$port" \
    --udp "127.0.0.1:$((port + 1))" --data-dir "$work/sqlite"
wait_cached
read -r private private_refused < <(announce_rate private)
flushed=$(curl -s "$base/site/metrics" | awk '/^nexsuj_site_flush_rows_total/ {print $2}')
read -r s_browse_p50 s_browse_p99 s_browse_rps < <(page_latency "/")
read -r s_search_p50 s_search_p99 s_search_rps < <(page_latency "/?q=ubuntu")
stop_server

echo "== PostgreSQL" >&2
if ! psql -q "$pg/postgres" -c "SELECT 1" >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi
psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS nexsuj_bench" -c "CREATE DATABASE nexsuj_bench" >/dev/null
start_server env NEXSUJ_TRACKER_HTTP_WORKERS=1 NEXSUJ_LOG=warn "$nexsuj" serve --http "127.0.0.1:$port" \
    --udp "127.0.0.1:$((port + 1))" --data-dir "$work/pg" --database-url "$pg/nexsuj_bench"
/usr/bin/python3 bench/private_announce_data.py postgres "$pg/nexsuj_bench" "$work/pgdata" "$users" "$torrents"
kill -HUP "$server"
wait_cached
read -r pg_private pg_private_refused < <(announce_rate private-pg)
read -r p_browse_p50 p_browse_p99 p_browse_rps < <(page_latency "/")
read -r p_search_p50 p_search_p99 p_search_rps < <(page_latency "/?q=ubuntu")
stop_server

ratio=$(/usr/bin/python3 -c "print(f'{$private / $public:.2f}')")
pg_ratio=$(/usr/bin/python3 -c "print(f'{$pg_private / $public:.2f}')")
cat <<EOF
private-tracker announces ($users users, $torrents torrents, accounting on; HTTP, 1 worker, ${secs}s):
  public  (nexsuj tracker)          $public announces/s   (refused $public_refused/s)
  private (nexsuj serve, SQLite)    $private announces/s   (refused $private_refused/s)  ratio $ratio  (target >= 0.8)
  private (nexsuj serve, PostgreSQL) $pg_private announces/s   (refused $pg_private_refused/s)  ratio $pg_ratio
  accounting rows flushed (SQLite run): $flushed
page latency with $torrents torrents (wrk, 8 connections, ${secs}s):
  SQLite      browse p50 $s_browse_p50 p99 $s_browse_p99 ($s_browse_rps req/s)   search p50 $s_search_p50 p99 $s_search_p99 ($s_search_rps req/s)
  PostgreSQL  browse p50 $p_browse_p50 p99 $p_browse_p99 ($p_browse_rps req/s)   search p50 $p_search_p50 p99 $p_search_p99 ($p_search_rps req/s)
EOF
