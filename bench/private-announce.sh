#!/usr/bin/env bash
# Private-tracker cost and site page latency, on SQLite and on PostgreSQL, on this (shared, noisy) machine:
#  1. Announces/s over HTTP with passkeys on `nexsuj serve` (USERS accounts, TORRENTS torrents, accounting
#     on, flushed to the database every 3 s) against public announces on `nexsuj tracker` (same engine,
#     open mode), the same wrk load (bench/private-announce.lua: keep-alive, 128 connections, every
#     (user, torrent) pair a peer whose counters grow). Both servers run at the same time, on their own
#     ports, each with one HTTP worker, both pinned to CPU 0; wrk runs on CPU 1. The runs alternate
#     public/private (ABBA order) for ROUNDS rounds, so that background load hits both alike; the table
#     shows every run, the medians and the ratio of the medians. Target: private >= 0.8 x public.
#     Before each public run the site has flushed everything it had (it sits idle meanwhile).
#     Also shown: CPU time of each server process (all its threads, from /proc; PostgreSQL's own
#     processes not included) per announce, which background load disturbs less than rates,
#     and the site's flush statistics (flushes, rows, duration: whether the database keeps up).
#  2. Page latency under wrk (8 connections) for browse (`/`) and search (`/?q=ubuntu`) with TORRENTS
#     torrents, on SQLite and on PostgreSQL: p50 and p99. Target: p50 < 20 ms, p99 < 60 ms.
#
#   bash bench/private-announce.sh [SECONDS]        # SECONDS per run, default 15
#
# Env: USERS (10000), TORRENTS (100000), ROUNDS (3), WARMUP (10 seconds of load on each server before
# the rounds), DATABASES ("sqlite postgres"), NEXSUJ_BENCH_PG
# (postgres://postgres@127.0.0.1:5432: a server where the database nexsuj_bench may be created and
# dropped; PostgreSQL is started if it is down).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
users=${USERS:-10000}
torrents=${TORRENTS:-100000}
rounds=${ROUNDS:-3}
warmup=${WARMUP:-10}
databases=${DATABASES:-sqlite postgres}
pg=${NEXSUJ_BENCH_PG:-postgres://postgres@127.0.0.1:5432}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}
work=$(mktemp -d)
declare -A pid=()
stop() { # name
    local p=${pid[$1]:-}
    if [[ -n $p ]]; then kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
    pid[$1]=""
}
cleanup() {
    for name in "${!pid[@]}"; do stop "$name"; done
    psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS nexsuj_bench" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
cargo build -q --release --locked -p nexsuj
nexsuj=$CARGO_TARGET_DIR/release/nexsuj
py=/usr/bin/python3

free_port() { $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
public_url=http://127.0.0.1:$(free_port)
private_url=http://127.0.0.1:$(free_port)
declare -A url=([public]=$public_url [private]=$private_url)

start() { # name command args…: started on CPU 0, one HTTP worker, listening on ${url[name]}
    local name=$1 base=${url[$1]}
    shift
    # The load generator is one address standing in for 10k users, and it re-announces the
    # same peers within seconds: lift the per-address cap, and let every announce be credited
    # (min interval 0) so the accounting path is what is measured.
    taskset -c 0 env NEXSUJ_HTTP_WORKERS=1 NEXSUJ_TRACKER_HTTP_WORKERS=1 NEXSUJ_LOG=warn \
        NEXSUJ_MAX_PEERS_PER_IP=0 NEXSUJ_TRACKER_MAX_PEERS_PER_IP=0 NEXSUJ_TRACKER_MIN_INTERVAL=0 \
        NEXSUJ_MIN_INTERVAL=0 "$@" \
        --http "${base#http://}" --udp 127.0.0.1:0 2>"$work/$name.log" &
    pid[$name]=$!
    for _ in $(seq 600); do
        curl -s -o /dev/null "$base/announce" && return 0
        kill -0 "${pid[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "$name did not start:" >&2
    cat "$work/$name.log" >&2
    return 1
}
start_site() { # database-url data-dir
    start private "$nexsuj" serve --data-dir "$2" --database-url "$1"
}

stat() { # name field → a counter of the server's /stats
    curl -s "${url[$1]}/stats" | $py -c "import json,sys; s=json.load(sys.stdin); h=s['http']
print({'announces': h['announces'], 'refused': h['errors']['refused'], 'backpressure': s['backpressure']}['$2'])"
}
metric() { # name → a value of the site's /site/metrics
    curl -s "$private_url/site/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

wrk_announces() { # name seconds [out]
    TARGETS=$work/data/targets.txt taskset -c 1 wrk -t1 -c128 -d"$2s" -s bench/private-announce.lua \
        "${url[$1]}" >"${3:-/dev/null}"
}

site_idle() { # the site has flushed everything (so it takes no CPU from a public run)
    for _ in $(seq 600); do
        [[ $(metric nexsuj_site_accounting_waiting) == 0 ]] && return 0
        sleep 0.1
    done
    echo "the site's accounting did not drain" >&2
    return 1
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/${pid[$1]}/stat"; } # user + system time of all threads

announce_rate() { # name → "announces/s CPU-µs/announce" of one run; the site's CPU includes the
    # flush of the run's last seconds (it is idle otherwise)
    local a0 a1 c0 c1
    [[ $1 == public ]] && site_idle
    a0=$(stat "$1" announces)
    c0=$(cpu_ticks "$1")
    wrk_announces "$1" "$secs" "$work/wrk-$1.txt"
    a1=$(stat "$1" announces)
    [[ $1 == private ]] && site_idle
    c1=$(cpu_ticks "$1")
    echo "$(( (a1 - a0) / secs )) $(( (c1 - c0) * 1000000 / $(getconf CLK_TCK) * 10 / (a1 - a0 + 1) ))"
}

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

page_latency() { # path → "p50 p99 req/s"
    taskset -c 1 wrk -t1 -c8 -d"${secs}s" --latency "$private_url$1" >"$work/page.txt"
    awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /^Requests\/sec/ {rps=$2} END {print p50, p99, rps}' "$work/page.txt"
}

wait_cached() { # the site's caches hold the loaded users and torrents
    for _ in $(seq 300); do
        [[ $(metric nexsuj_site_torrents_registered) == "$torrents" ]] && return 0
        sleep 0.2
    done
    echo "the site did not load the bench data" >&2
    return 1
}

load_data() { # sqlite|postgres database-url ("" for SQLite in data-dir) data-dir: migrate (one start of
    # the site), then load
    start_site "$2" "$3"
    stop private
    if [[ $1 == sqlite ]]; then
        $py bench/private_announce_data.py sqlite "$3/nexsuj.db" "$work/data" "$users" "$torrents"
    else
        $py bench/private_announce_data.py postgres "$2" "$work/data" "$users" "$torrents"
    fi
}

report=$work/report.txt
label() { case $1 in sqlite) echo SQLite ;; postgres) echo PostgreSQL ;; esac; }
{
    echo "private-tracker announces ($users users, $torrents torrents, accounting on; HTTP, one worker each,"
    echo "public and private servers both on CPU 0, wrk on CPU 1; $rounds rounds of ${secs}s, alternating):"
} >"$report"
pages="page latency with $torrents torrents (wrk, 8 connections, ${secs}s; target p50 < 20ms, p99 < 60ms):"

start public "$nexsuj" tracker
for db in $databases; do
    echo "== $(label "$db"): loading $users users and $torrents torrents" >&2
    mkdir -p "$work/$db"
    if [[ $db == sqlite ]]; then
        db_url=""
    else
        if ! psql -q "$pg/postgres" -c "SELECT 1" >/dev/null 2>&1; then
            pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
        fi
        psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS nexsuj_bench" -c "CREATE DATABASE nexsuj_bench" >/dev/null
        db_url=$pg/nexsuj_bench
    fi
    load_data "$db" "$db_url" "$work/$db"
    start_site "$db_url" "$work/$db"
    wait_cached
    # Warm-up: nearly every peer announces, so the measured runs see steady swarms and the
    # flushes update accounting rows rather than create them.
    wrk_announces private "$warmup"
    wrk_announces public "$warmup"
    pub=() priv=() pub_cpu=() priv_cpu=() ratios=()
    for r in $(seq "$rounds"); do
        if (( r % 2 )); then order="public private"; else order="private public"; fi
        for side in $order; do
            read -r rate cpu < <(announce_rate "$side")
            echo "   round $r $side: $rate announces/s, $((cpu / 10)).$((cpu % 10)) µs CPU per announce" >&2
            if [[ $side == public ]]; then pub+=("$rate") pub_cpu+=("$cpu"); else priv+=("$rate") priv_cpu+=("$cpu"); fi
        done
        ratios+=("$($py -c "print(f'{${priv[-1]} / max(${pub[-1]}, 1):.2f}')")")
    done
    site_idle
    flushes=$(metric nexsuj_site_flushes_total)
    rows=$(metric nexsuj_site_flush_rows_total)
    flush_secs=$(metric nexsuj_site_flush_seconds_total)
    flush_max=$(metric nexsuj_site_flush_max_seconds)
    failures=$(metric nexsuj_site_flush_failures_total)
    backpressure=$(stat private backpressure)
    refused=$(stat private refused)
    pub_m=$(median "${pub[@]}")
    priv_m=$(median "${priv[@]}")
    ratio=$($py -c "print(f'{$priv_m / $pub_m:.2f}')")
    pub_cpu_m=$(median "${pub_cpu[@]}")
    priv_cpu_m=$(median "${priv_cpu[@]}")
    {
        printf '  %-10s public   %s   median %7d/s   CPU %s µs/announce\n' "$(label "$db")" \
            "$(printf '%7d ' "${pub[@]}")" "$pub_m" "$($py -c "print($pub_cpu_m / 10)")"
        printf '  %-10s private  %s   median %7d/s   CPU %s µs/announce\n' "" \
            "$(printf '%7d ' "${priv[@]}")" "$priv_m" "$($py -c "print($priv_cpu_m / 10)")"
        printf '             ratio of medians %s (target >= 0.8); per round %s; public/private CPU per announce %s\n' \
            "$ratio" "${ratios[*]}" "$($py -c "print(f'{$pub_cpu_m / max($priv_cpu_m, 1):.2f}')")"
        $py -c "f, r, s, m = $flushes, $rows, $flush_secs, $flush_max
print(f'             flush: {f} flushes, {r} rows ({r // max(f, 1)}/flush), {s / max(f, 1):.3f} s per flush on average, '
      f'max {m:.3f} s, {r / max(s, 1e-9):.0f} rows/s of flush time; failures $failures, backpressure $backpressure, refused $refused')"
    } >>"$report"
    echo "== $(label "$db"): page latency" >&2
    read -r b50 b99 brps < <(page_latency "/")
    read -r s50 s99 srps < <(page_latency "/?q=ubuntu")
    pages+=$(printf '\n  %-10s browse p50 %s p99 %s (%s req/s)   search p50 %s p99 %s (%s req/s)' \
        "$(label "$db")" "$b50" "$b99" "$brps" "$s50" "$s99" "$srps")
    stop private
done
stop public
cat "$report"
echo "$pages"
