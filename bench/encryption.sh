#!/usr/bin/env bash
# Benchmark, not a test: what MSE/PE encryption costs. 1 GiB over loopback TCP between a seeder and a leecher of the
# same program, plaintext against RC4 (both sides' encryption forced: nexsuj `--encryption disabled|required`,
# libtorrent `out_enc_policy`/`in_enc_policy` disabled|forced with `allowed_enc_level` plaintext|rc4). For each side:
# CPU seconds (user+sys) per GiB over the transfer only (the seeder's start-up check excluded), and the leecher's wall
# seconds. Medians of RUNS.
#
#   bash bench/encryption.sh      # env: SIZE (default 1G), RUNS (default 3), NEXSUJ (default
#                                 # $CARGO_TARGET_DIR/release/nexsuj)
set -euo pipefail

size=${SIZE:-1G}
runs=${RUNS:-3}
nexsuj=${NEXSUJ:-${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj
piece=1MiB
source "$(dirname "$0")/pairs.sh"
ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
hz=$(getconf CLK_TCK)
gib=$(echo "scale=6; $(stat -c %s "$tmp/seed/data.bin") / 1073741824" | bc)


# lt_crypto plaintext|rc4: libtorrent's settings for it (policies disabled|forced = 2|0, levels plaintext|rc4 = 1|2).
lt_crypto() {
    if [[ $1 == rc4 ]]; then
        echo '{"out_enc_policy":0,"in_enc_policy":0,"allowed_enc_level":2}'
    else
        echo '{"out_enc_policy":2,"in_enc_policy":2,"allowed_enc_level":1}'
    fi
}

# start_seeder PROGRAM CRYPTO: starts it, waits until it serves; sets seed_pid, seed_port.
start_seeder() {
    seed_port=$(free_port)
    if [[ $1 == nexsuj ]]; then
        local policy=disabled
        [[ $2 == rc4 ]] && policy=required
        "$nexsuj" seed "$tmp/data.torrent" "$tmp/seed" --no-trackers --no-dht --encryption "$policy" \
            --listen 127.0.0.1 --port "$seed_port" >"$tmp/seed.log" 2>&1 &
        seed_pid=$!
        for _ in $(seq 600); do grep -q "pieces verified" "$tmp/seed.log" && break; sleep 0.1; done
    else
        $py "$lt" seed "$tmp/data.torrent" "$tmp/seed" "$seed_port" - "$(lt_crypto "$2")" >"$tmp/seed.log" 2>&1 &
        seed_pid=$!
        for _ in $(seq 100); do grep -q ready "$tmp/seed.log" && break; sleep 0.1; done
    fi
    pids+=("$seed_pid")
}

leech_cmd() { # PROGRAM CRYPTO
    local port
    port=$(free_port)
    if [[ $1 == nexsuj ]]; then
        local policy=disabled
        [[ $2 == rc4 ]] && policy=required
        echo "$nexsuj download $tmp/data.torrent -o $tmp/out --no-trackers --no-dht --encryption $policy --peer 127.0.0.1:$seed_port --listen 127.0.0.1 --port $port"
    else
        echo "$py $lt leech $tmp/data.torrent $tmp/out $port $seed_port $(lt_crypto "$2")"
    fi
}

for program in nexsuj libtorrent; do
    for crypto in plaintext rc4; do
        start_seeder "$program" "$crypto"
        # A throwaway first leecher: libtorrent's seed_mode hashes each piece on its first read.
        rm -rf "$tmp/out" && mkdir -p "$tmp/out"
        $(leech_cmd "$program" "$crypto") >/dev/null 2>&1
        for ((round = 1; round <= runs; round++)); do
            rm -rf "$tmp/out" && mkdir -p "$tmp/out"
            before=$(ticks "$seed_pid")
            /usr/bin/time -f '%e %U %S' -o "$tmp/time" $(leech_cmd "$program" "$crypto") >"$tmp/leech.log" 2>&1 ||
                { cat "$tmp/leech.log" >&2; exit 1; }
            after=$(ticks "$seed_pid")
            cmp -s "$tmp/seed/data.bin" "$tmp/out/data.bin" || { echo "error: $program $crypto: bytes differ" >&2; exit 1; }
            read -r w u s <"$tmp/time"
            echo "$w $(echo "$u + $s" | bc) $(echo "scale=3; ($after - $before) / $hz" | bc)" >>"$tmp/$program-$crypto.runs"
            echo "-- $program $crypto round $round: $(tail -1 "$tmp/$program-$crypto.runs") (wall, leecher CPU, seeder CPU)" >&2
        done
        kill "$seed_pid" 2>/dev/null || true
        wait "$seed_pid" 2>/dev/null || true
    done
done

printf '\n%-11s %-10s %9s %18s %18s\n' program stream seconds "leecher CPU s/GiB" "seeder CPU s/GiB"
for program in nexsuj libtorrent; do
    for crypto in plaintext rc4; do
        read -r w lc sc < <(sort -n "$tmp/$program-$crypto.runs" | sed -n "$(((runs + 1) / 2))p")
        printf '%-11s %-10s %9.2f %18.2f %18.2f\n' "$program" "$crypto" "$w" "$(echo "$lc / $gib" | bc -l)" \
            "$(echo "$sc / $gib" | bc -l)"
    done
done
