#!/usr/bin/env bash
# Benchmark, not a test: how fast leechers download a 1 GiB file from a libtorrent seeder on loopback (TCP only,
# seed_mode, warmed up by a throwaway leecher); the same-program pairs nexsuj -> nexsuj and libtorrent -> libtorrent;
# and how a nexsuj seeder serves a swarm of 4 nexsuj leechers.
#
# Why the pairs: from a libtorrent seeder every leecher finishes in about the same time, because the seeder is the
# limit (one libtorrent seeder serves ~250-300 MB/s here). A pair shows what an engine does on both ends.
#
#   bash bench/client.sh      # env: SIZE (default 1G, as `head -c` takes it), PIECE (default 1MiB), RUNS (default 3),
#                             #      NEXSUJ (default $CARGO_TARGET_DIR/release/nexsuj), RQBIT (default: rqbit on PATH, else
#                             #      /var/tmp/nexsuj-tools/rqbit/bin/rqbit, installed there with `cargo install`)
#
# Leechers in turn (RUNS rounds of nexsuj, rqbit, libtorrent, so that drift hits all alike). For each: median wall
# seconds, peak resident memory, CPU seconds (user+sys) and CPU seconds per GiB of the median run; ratio = tool
# seconds / nexsuj seconds (>1 means nexsuj is faster). Every download is compared byte for byte with the original.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
size=${SIZE:-1G}
runs=${RUNS:-3}
piece=${PIECE:-1MiB}
nexsuj=${NEXSUJ:-${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj
tools=/var/tmp/nexsuj-tools
rqbit=${RQBIT:-$(command -v rqbit || echo "$tools/rqbit/bin/rqbit")}

if [[ ! -x $rqbit ]]; then
    echo "installing rqbit into $tools/rqbit (cargo install, a few minutes)" >&2
    CARGO_TARGET_DIR=$tools/rqbit-target cargo install rqbit --locked --root "$tools/rqbit" >&2
    rqbit=$tools/rqbit/bin/rqbit
fi
source "$(dirname "$0")/pairs.sh"


lt_port=$(free_port)
$py "$lt" seed "$tmp/data.torrent" "$tmp/seed" "$lt_port" >"$tmp/seed.log" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/seed.log" && break; sleep 0.1; done

# name | command (downloads into $tmp/out)
run_leecher() {
    local name=$1
    local port
    port=$(free_port)
    case $name in
    warmup | libtorrent) echo "$py $lt leech $tmp/data.torrent $tmp/out $port $lt_port" ;;
    nexsuj) echo "$nexsuj download $tmp/data.torrent -o $tmp/out --no-trackers --peer 127.0.0.1:$lt_port --listen 127.0.0.1 --port $port" ;;
    nexsuj-pair) echo "$nexsuj download $tmp/data.torrent -o $tmp/out --no-trackers --peer 127.0.0.1:$seed_port --listen 127.0.0.1 --port $port" ;;
    rqbit) echo "$rqbit --disable-dht --disable-dht-persistence --disable-upnp-port-forward --disable-lsd --disable-trackers --listen-port $port download --disable-http-api -e -o $tmp/out --initial-peers 127.0.0.1:$lt_port $tmp/data.torrent" ;;
    esac
}

declare -A wall rss cpu
measure() { # name round
    local name=$1 cmd
    rm -rf "$tmp/out" && mkdir -p "$tmp/out"
    cmd=$(run_leecher "$name")
    echo "-- $name (round $2): $cmd" >&2
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" $cmd >"$tmp/$name.log" 2>&1 || { cat "$tmp/$name.log" >&2; exit 1; }
    cmp "$tmp/seed/data.bin" "$tmp/out/data.bin" || { echo "error: $name downloaded different bytes" >&2; exit 1; }
    read -r w m u s <"$tmp/time"
    echo "$w $((m / 1024)) $(echo "$u + $s" | bc)" >>"$tmp/$name.runs"
}
measure warmup 0
for ((round = 1; round <= runs; round++)); do
    for name in nexsuj rqbit libtorrent; do measure "$name" "$round"; done
done
for name in nexsuj rqbit libtorrent; do
    read -r w m c < <(sort -n "$tmp/$name.runs" | sed -n "$(((runs + 1) / 2))p")
    wall[$name]=$w rss[$name]=$m cpu[$name]=$c
    echo "$name runs (s): $(cut -d' ' -f1 "$tmp/$name.runs" | tr '\n' ' ')" >&2
done

gib=$(echo "scale=6; $(stat -c %s "$tmp/seed/data.bin") / 1073741824" | bc)
printf '\n%-12s %9s %12s %9s %12s %8s\n' leecher seconds "resident MB" "CPU s" "CPU s/GiB" ratio
for name in nexsuj rqbit libtorrent; do
    printf '%-12s %9.2f %12d %9.2f %12.2f %8.2f\n' "$name" "${wall[$name]}" "${rss[$name]}" "${cpu[$name]}" \
        "$(echo "${cpu[$name]} / $gib" | bc -l)" "$(echo "${wall[$name]} / ${wall[nexsuj]}" | bc -l)"
done

# Same-program pairs: a nexsuj seeder for nexsuj leechers (libtorrent -> libtorrent is the libtorrent row above).
kill "${pids[0]}" 2>/dev/null || true
seed_port=$(free_port)
"$nexsuj" seed "$tmp/data.torrent" "$tmp/seed" --no-trackers --listen 127.0.0.1 --port "$seed_port" \
    >"$tmp/nseed.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "pieces verified" "$tmp/nseed.log" && break; sleep 0.1; done
for ((round = 1; round <= runs; round++)); do measure nexsuj-pair "$round"; done
read -r pw pm pc < <(sort -n "$tmp/nexsuj-pair.runs" | sed -n "$(((runs + 1) / 2))p")
echo "nexsuj -> nexsuj runs (s): $(cut -d' ' -f1 "$tmp/nexsuj-pair.runs" | tr '\n' ' ')" >&2
printf '\nsame-program pairs (median of %d; leecher seconds, resident MB and CPU s/GiB)\n' "$runs"
printf '  nexsuj -> nexsuj          %6.2f s  %5d MB  %6.2f CPU s/GiB\n' "$pw" "$pm" "$(echo "$pc / $gib" | bc -l)"
printf '  libtorrent -> libtorrent  %6.2f s  %5d MB  %6.2f CPU s/GiB\n' "${wall[libtorrent]}" "${rss[libtorrent]}" \
    "$(echo "${cpu[libtorrent]} / $gib" | bc -l)"
printf '  ratio libtorrent pair / nexsuj pair = %.2f\n' "$(echo "${wall[libtorrent]} / $pw" | bc -l)"

# A swarm: the same nexsuj seeder, 4 nexsuj leechers that also know each other.
ports=()
for i in 1 2 3 4; do ports+=("$(free_port)"); done
start=$(date +%s.%N)
swarm=()
for i in 1 2 3 4; do
    peers=(--peer "127.0.0.1:$seed_port")
    for j in 1 2 3 4; do [[ $j == "$i" ]] || peers+=(--peer "127.0.0.1:${ports[$((j - 1))]}"); done
    mkdir -p "$tmp/swarm$i"
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/swarm$i.time" "$nexsuj" download "$tmp/data.torrent" -o "$tmp/swarm$i" \
        --no-trackers --listen 127.0.0.1 --port "${ports[$((i - 1))]}" "${peers[@]}" >"$tmp/swarm$i.log" 2>&1 &
    swarm+=($!)
done
for p in "${swarm[@]}"; do wait "$p"; done
end=$(date +%s.%N)
for i in 1 2 3 4; do cmp "$tmp/seed/data.bin" "$tmp/swarm$i/data.bin"; done
printf '\nswarm: 1 nexsuj seeder -> 4 nexsuj leechers, all done in %.2f s\n' "$(echo "$end - $start" | bc)"
for i in 1 2 3 4; do
    read -r w m u s <"$tmp/swarm$i.time"
    printf '  leecher %d: %6.2f s, %4d MB resident, %5.2f CPU s\n' "$i" "$w" $((m / 1024)) "$(echo "$u + $s" | bc)"
done
