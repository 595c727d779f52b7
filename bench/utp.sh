#!/usr/bin/env bash
# Benchmark, not a test: 1 GiB over loopback uTP (BEP 29). Pairs, each in turn, the leecher timed:
#   nexsuj -> nexsuj over TCP, then over uTP (both sides --transport utp);
#   libtorrent -> nexsuj over uTP (libtorrent with TCP off; nexsuj --transport utp);
#   libtorrent -> libtorrent over uTP (both with TCP off).
# Encryption off everywhere (plaintext), libtorrent's seeder in seed_mode warmed by a throwaway leecher of the same
# pair. Prints wall seconds, MB/s and the leecher's CPU seconds (user+sys) per run.
#
#   bash bench/utp.sh      # env: SIZE (default 1G), RUNS (default 1), NEXSUJ (default $CARGO_TARGET_DIR/release/nexsuj)
set -euo pipefail

size=${SIZE:-1G}
runs=${RUNS:-1}
nexsuj=${NEXSUJ:-${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj
piece=1MiB
source "$(dirname "$0")/pairs.sh"
bytes=$(stat -c %s "$tmp/seed/data.bin")


# seed PROGRAM TRANSPORT: starts the seeder; sets seed_pid, seed_port.
seed() {
    seed_port=$(free_port)
    if [[ $1 == nexsuj ]]; then
        "$nexsuj" seed "$tmp/data.torrent" "$tmp/seed" --no-trackers --no-dht --encryption disabled --transport "$2" \
            --listen 127.0.0.1 --port "$seed_port" >"$tmp/seed.log" 2>&1 &
        seed_pid=$!
        for _ in $(seq 600); do grep -q "pieces verified" "$tmp/seed.log" && break; sleep 0.1; done
    else
        $py "$lt" seed "$tmp/data.torrent" "$tmp/seed" "$seed_port" - "$lt_utp" >"$tmp/seed.log" 2>&1 &
        seed_pid=$!
        for _ in $(seq 100); do grep -q ready "$tmp/seed.log" && break; sleep 0.1; done
    fi
    pids+=("$seed_pid")
}

leech() { # PROGRAM TRANSPORT LABEL
    local port cmd
    port=$(free_port)
    rm -rf "$tmp/out" && mkdir -p "$tmp/out"
    if [[ $1 == nexsuj ]]; then
        cmd="$nexsuj download $tmp/data.torrent -o $tmp/out --no-trackers --no-dht --encryption disabled --transport $2 --peer 127.0.0.1:$seed_port --listen 127.0.0.1 --port $port"
    else
        cmd="$py $lt leech $tmp/data.torrent $tmp/out $port $seed_port $lt_utp"
    fi
    /usr/bin/time -f '%e %U %S' -o "$tmp/time" $cmd >"$tmp/leech.log" 2>&1 || { cat "$tmp/leech.log" >&2; exit 1; }
    cmp -s "$tmp/seed/data.bin" "$tmp/out/data.bin" || { echo "error: $3: bytes differ" >&2; exit 1; }
    read -r w u s <"$tmp/time"
    [[ $3 == warmup ]] && return
    printf '%-30s %8.2f s %9.1f MB/s %8.2f CPU s\n' "$3" "$w" "$(echo "$bytes / $w / 1000000" | bc -l)" "$(echo "$u + $s" | bc)"
}

stop_seed() { kill "$seed_pid" 2>/dev/null || true; wait "$seed_pid" 2>/dev/null || true; }

printf '%-30s %10s %14s %14s\n' pair seconds throughput "leecher CPU"
seed nexsuj tcp
for ((r = 1; r <= runs; r++)); do leech nexsuj tcp "nexsuj -> nexsuj (TCP)"; done
stop_seed
seed nexsuj utp
for ((r = 1; r <= runs; r++)); do leech nexsuj utp "nexsuj -> nexsuj (uTP)"; done
stop_seed
seed libtorrent utp
leech nexsuj utp warmup
for ((r = 1; r <= runs; r++)); do leech nexsuj utp "libtorrent -> nexsuj (uTP)"; done
for ((r = 1; r <= runs; r++)); do leech libtorrent utp "libtorrent -> libtorrent (uTP)"; done
stop_seed
