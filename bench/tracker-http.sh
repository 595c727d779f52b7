#!/usr/bin/env bash
# HTTP tracker throughput: nexsuj against aquatic_http and Debian's opentracker, same load. Every server
# runs in its own recommended layout on its defaults (nexsuj: one HTTP worker per core; aquatic_http: one
# socket worker and one swarm worker that pass messages; opentracker: as Debian builds it), on the same
# cores: none is pinned, and neither is the load generator, so all share the machine alike. The script
# prints each one's configuration. Pinning a server to one core is unfair to aquatic_http, whose two
# workers then take turns on it (it answered a third of its unpinned rate that way).
#
# Besides responses/s it prints the server's CPU time per response (user + system, all threads), which
# says how much work each answer costs whatever the layout.
#
#   bash bench/tracker-http.sh [SECONDS] [ROUNDS]
#
# Two loads, each for SECONDS (default 20) per run, ROUNDS rounds (default 3) with the servers' order
# rotating, so that background load spreads over all of them; medians and their ratios are printed:
#  1. wrk, 128 keep-alive connections, one thread, a Lua script of announces over a fixed set of 10k
#     info-hashes (so opentracker, which Debian builds whitelist-only, can be given them): nexsuj,
#     aquatic_http, opentracker.
#  2. aquatic_http_load_test (128 keep-alive connections, 10k torrents, its own random info-hashes, so
#     opentracker cannot take part): nexsuj and aquatic_http.
# Tools are installed when missing: wrk and opentracker with apt-get, aquatic with `cargo install` into
# $NEXSUJ_TOOLS (default /var/tmp/nexsuj-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
rounds=${2:-3}
source bench/lib.sh
apt_tool wrk opentracker
cargo_tool aquatic_http aquatic_http_load_test
port=3299

# 10k info-hashes from a fixed seed: percent-encoded for the Lua script, hex for opentracker's whitelist.
/usr/bin/python3 - "$work" <<'PY'
import random, sys
rnd = random.Random(20261202)
hashes = [bytes(rnd.getrandbits(8) for _ in range(20)) for _ in range(10000)]
with open(f"{sys.argv[1]}/hashes.lua", "w") as f:
    f.write("hashes = {\n")
    for h in hashes:
        f.write('"' + "".join(f"%{b:02x}" for b in h) + '",\n')
    f.write("}\n")
with open(f"{sys.argv[1]}/wl.txt", "w") as f:
    f.write("".join(h.hex() + "\n" for h in hashes))
PY
cat >"$work/announce.lua" <<EOF
dofile("$work/hashes.lua")
math.randomseed(7)
local n = 0
request = function()
    n = n + 1
    local h = hashes[math.random(#hashes)]
    local left = (math.random(4) == 1) and 0 or math.random(1, 1000000)
    local path = string.format(
        "/announce?info_hash=%s&peer_id=-WR0001-%012d&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=50&event=started",
        h, n % 1000000, 1024 + math.random(60000), left)
    return wrk.format("GET", path)
end
EOF

wait_http() {
    for _ in $(seq 100); do
        # A TCP connect is enough: aquatic_http never answers a request without a query.
        timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no HTTP tracker answered on $port" >&2
    return 1
}

start_server() { # name → sets $server_pid
    # A fresh port for each run: connections the previous server left in FIN_WAIT would keep a
    # listener without SO_REUSEADDR (aquatic_http's, say) from binding the old one.
    port=$((port + 2))
    case $1 in
    nexsuj)
        # The load generator is one address standing in for every peer: no per-address caps.
        NEXSUJ_LOG=error NEXSUJ_MAX_PEERS_PER_IP=0 NEXSUJ_MAX_CONNECTIONS_PER_IP=0 "$nexsuj" tracker --http "127.0.0.1:$port" \
            --udp "127.0.0.1:$((port + 1))" &
        ;;
    aquatic_http)
        "$tools/bin/aquatic_http" -p | sed -e "s/^address = .*/address = \"127.0.0.1:$port\"/" >"$work/aquatic.toml"
        "$tools/bin/aquatic_http" -c "$work/aquatic.toml" >/dev/null 2>&1 &
        ;;
    opentracker)
        opentracker -i 127.0.0.1 -p "$port" -P "$((port + 1))" -u nobody -d "$work" -w /wl.txt \
            >/dev/null 2>&1 &
        ;;
    esac
    server_pid=$!
    pids+=("$server_pid")
    wait_http
}

stop_server() {
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
}

wrk_load() {
    wrk -t1 -c128 -d"${secs}s" --latency -s "$work/announce.lua" "http://127.0.0.1:$port" >"$work/wrk.out"
    local rps p50 p99
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.out")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
    echo "$rps $p50 $p99"
}

aquatic_load() {
    "$tools/bin/aquatic_http_load_test" -p |
        sed -e "s/^server_address = .*/server_address = \"127.0.0.1:$port\"/" \
            -e "s/^duration = .*/duration = $secs/" -e 's/^enable_tls = .*/enable_tls = false/' >"$work/load.toml"
    "$tools/bin/aquatic_http_load_test" -c "$work/load.toml" 2>&1 |
        awk '/^Average responses per second:/ {print $5}'
}

ratio() { echo "$1 / $2" | bc -l; }

# rounds LOAD NAME...: ROUNDS rounds, the servers' order rotating each round; prints each run and
# leaves the per-server results in $work/LOAD-NAME.
rounds() {
    local load=$1 r i n
    shift
    local names=("$@")
    n=${#names[@]}
    for ((r = 0; r < rounds; r++)); do
        for ((i = 0; i < n; i++)); do
            local name=${names[(i + r) % n]}
            start_server "$name"
            local t0 t1 us
            t0=$(cpu_ticks "$server_pid")
            if [[ $load == wrk ]]; then
                read -r rps p50 p99 < <(wrk_load)
            else
                rps=$(aquatic_load)
            fi
            t1=$(cpu_ticks "$server_pid")
            us=$(echo "($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / ($rps * $secs)" | bc -l)
            if [[ $load == wrk ]]; then
                printf '  round %d  %-13s %10.0f responses/s  %6.2f CPU µs/response   latency p50 %-8s p99 %s\n' \
                    $((r + 1)) "$name" "$rps" "$us" "$p50" "$p99"
            else
                printf '  round %d  %-13s %10.0f responses/s  %6.2f CPU µs/response\n' $((r + 1)) "$name" "$rps" "$us"
            fi
            stop_server
            echo "$rps" >>"$work/$load-$name"
            echo "$us" >>"$work/$load-$name.us"
        done
    done
    for name in "${names[@]}"; do
        printf '  median   %-13s %10.0f responses/s  %6.2f CPU µs/response\n' "$name" \
            "$(median <"$work/$load-$name")" "$(median <"$work/$load-$name.us")"
    done
}

echo "== configurations ($(nproc) cores, none pinned)"
echo "  nexsuj:       defaults; http_workers = 0 (one per core), per-address caps off for the one-address load"
echo "  aquatic_http: defaults from 'aquatic_http -p': $("$tools/bin/aquatic_http" -p |
    grep -E '^(socket_workers|swarm_workers) ' | tr '\n' ' ')"
echo "  opentracker:  Debian package $(dpkg-query -W -f '${Version}' opentracker 2>/dev/null), whitelist of the 10k hashes"
echo "  wrk:          1 thread, 128 connections; aquatic_http_load_test: defaults, 128 connections"

echo "== wrk: 128 keep-alive connections, 10k torrents, ${secs}s per run, $rounds round(s)"
rounds wrk nexsuj aquatic_http opentracker
best=$( (median <"$work/wrk-aquatic_http"; median <"$work/wrk-opentracker") | sort -g | tail -1)
printf '  ratio nexsuj / best of the others = %.2f\n' "$(ratio "$(median <"$work/wrk-nexsuj")" "$best")"

echo "== aquatic_http_load_test: 128 keep-alive connections, 10k torrents, ${secs}s per run, $rounds round(s)"
rounds aquatic nexsuj aquatic_http
printf '  ratio nexsuj / aquatic_http = %.2f\n' \
    "$(ratio "$(median <"$work/aquatic-nexsuj")" "$(median <"$work/aquatic-aquatic_http")")"
