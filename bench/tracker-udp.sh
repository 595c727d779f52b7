#!/usr/bin/env bash
# UDP tracker throughput and memory: aquatic_udp_load_test against nexsuj and against aquatic_udp in turn,
# same load, one server worker pinned to CPU 0 and one load worker pinned to CPU 1.
#
#   bash bench/tracker-udp.sh [SECONDS] [ROUNDS]
#
# Throughput: the load test's default mix (1M torrents, 2M peers, connect/announce/scrape 50/50/1) for
# SECONDS (default 30) per server, ROUNDS times (default 3) alternating which server goes first; prints
# each run's responses/s and the ratio nexsuj / aquatic_udp of the medians.
# Memory: 100k torrents and 1M peers, announces only, until the swarms are full; prints resident memory
# (VmHWM) and the peers each server holds.
#
# Tools are installed with `cargo install` into $NEXSUJ_TOOLS (default /var/tmp/nexsuj-tools) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
rounds=${2:-3}
source bench/lib.sh
cargo_tool aquatic_udp aquatic_udp_load_test
port=3199

start_server() { # name → sets $server_pid
    case $1 in
    nexsuj)
        # The load generator is one address standing in for 2M peers: no per-address cap.
        NEXSUJ_LOG=error NEXSUJ_HTTP_WORKERS=1 NEXSUJ_UDP_WORKERS=1 NEXSUJ_MAX_NUMWANT=30 NEXSUJ_MAX_PEERS_PER_IP=${NEXSUJ_MAX_PEERS_PER_IP:-0} \
            taskset -c 0 "$nexsuj" tracker --http "127.0.0.1:$((port - 1))" --udp "127.0.0.1:$port" &
        ;;
    aquatic_udp)
        "$tools/bin/aquatic_udp" -p |
            sed -e "s/^address = .*/address = \"127.0.0.1:$port\"/" \
                -e 's/^print_to_stdout = .*/print_to_stdout = true/' \
                -e 's/^interval = .*/interval = 5/' \
                -e 's/^torrent_cleaning_interval = .*/torrent_cleaning_interval = 10/' >"$work/aquatic.toml"
        taskset -c 0 "$tools/bin/aquatic_udp" -c "$work/aquatic.toml" >"$work/aquatic.out" 2>&1 &
        ;;
    esac
    server_pid=$!
    pids+=("$server_pid")
    wait_udp "$port"
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
}

load() { # duration torrents peers weight_connect weight_announce weight_scrape → responses/s
    "$tools/bin/aquatic_udp_load_test" -p |
        sed -e "s/^server_address = .*/server_address = \"127.0.0.1:$port\"/" \
            -e "s/^duration = .*/duration = $1/" \
            -e "s/^number_of_torrents = .*/number_of_torrents = $2/" \
            -e "s/^number_of_peers = .*/number_of_peers = $3/" \
            -e "s/^weight_connect = .*/weight_connect = $4/" \
            -e "s/^weight_announce = .*/weight_announce = $5/" \
            -e "s/^weight_scrape = .*/weight_scrape = $6/" >"$work/load.toml"
    taskset -c 1 "$tools/bin/aquatic_udp_load_test" -c "$work/load.toml" 2>&1 |
        awk '/^Average responses per second:/ {print $5}'
}

echo "== throughput: default load, ${secs}s per run, $rounds round(s)"
echo "   (CPU µs/response: the server's CPU time over the responses it sent, which background load"
echo "    disturbs less than responses/s)"
: >"$work/nexsuj.rps"
: >"$work/aquatic_udp.rps"
for ((r = 1; r <= rounds; r++)); do
    order=(nexsuj aquatic_udp)
    ((r % 2 == 0)) && order=(aquatic_udp nexsuj)
    for name in "${order[@]}"; do
        start_server "$name"
        t0=$(cpu_ticks "$server_pid")
        rps=$(load "$secs" 1000000 2000000 50 50 1)
        t1=$(cpu_ticks "$server_pid")
        stop_server
        us=$(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / ($rps * $secs)" | bc -l)
        echo "$rps" >>"$work/$name.rps"
        echo "$us" >>"$work/$name.us"
        printf '  round %d  %-12s %10.0f responses/s  %6.2f CPU µs/response\n' "$r" "$name" "$rps" "$us"
    done
done
ours=$(median <"$work/nexsuj.rps")
theirs=$(median <"$work/aquatic_udp.rps")
printf '  median: nexsuj %.0f, aquatic_udp %.0f responses/s; ratio nexsuj/aquatic_udp = %.2f\n' \
    "$ours" "$theirs" "$(echo "$ours / $theirs" | bc -l)"
printf '  median CPU per response: nexsuj %.2f µs, aquatic_udp %.2f µs\n' \
    "$(median <"$work/nexsuj.us")" "$(median <"$work/aquatic_udp.us")"

echo "== memory: 100k torrents, 1M peers, announces only, 60s"
for name in nexsuj aquatic_udp; do
    start_server "$name"
    load 60 100000 1000000 1 20 0 >/dev/null
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
    if [[ $name == nexsuj ]]; then
        peers=$(curl -s "http://127.0.0.1:$((port - 1))/stats" |
            /usr/bin/python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["seeders"]+s["leechers"], "peers in", s["torrents"], "torrents")')
    else
        sleep 11 # aquatic counts peers only when it cleans (every 10 s here)
        peers="$(grep -E '^ +peers:' "$work/aquatic.out" | tail -1 | tr -s ' ' | cut -d' ' -f3 | tr -d ,) peers"
    fi
    stop_server
    printf '  %-12s VmHWM %8.1f MiB  %s\n' "$name" "$(echo "$hwm / 1024" | bc -l)" "$peers"
done
