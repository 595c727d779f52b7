#!/usr/bin/env bash
# Announces/s of 1, 2 and 3 `nexsuj tracker` instances sharing one Redis, against one in-memory instance, with the
# same load: aquatic_udp_load_test (100k torrents, 1M peers, connect/announce 1/20, numwant capped at 30), one
# load-test process per instance, for SECONDS (default 20) per configuration.
#
#   bash bench/tracker-cluster.sh [SECONDS]
#
# On a 2-core machine everything shares two CPUs: tracker instances are pinned to CPU 0, load generators to CPU 1,
# Redis is left to the scheduler. So besides responses/s the script prints what each part used (CPU cores, from
# /proc) and the figure the target is stated in: announces per CPU-second of tracker. A flood measures the
# ceiling, not latency (requests queue by construction), so latency comes from a second part: one instance under
# an open-loop paced load (bench/udp_paced.py, RATE announces/s, default 5000), p50/p99/p99.9 and CPU per announce.
# Redis runs as a cache would be in a benchmark: no persistence (a deployment adds appendonly everysec).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
source bench/lib.sh
cargo_tool aquatic_udp_load_test
apt_tool redis-server
redis_port=6391
base_port=3301

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

load() { # port → responses/s
    "$tools/bin/aquatic_udp_load_test" -p |
        sed -e "s/^server_address = .*/server_address = \"127.0.0.1:$1\"/" \
            -e "s/^duration = .*/duration = $secs/" \
            -e "s/^number_of_torrents = .*/number_of_torrents = 100000/" \
            -e "s/^number_of_peers = .*/number_of_peers = 1000000/" \
            -e "s/^weight_connect = .*/weight_connect = 1/" \
            -e "s/^weight_announce = .*/weight_announce = 20/" \
            -e "s/^weight_scrape = .*/weight_scrape = 0/" >"$work/load-$1.toml"
    taskset -c 1 "$tools/bin/aquatic_udp_load_test" -c "$work/load-$1.toml" 2>&1 |
        awk '/^Average responses per second:/ {print $5}'
}

run() { # label instances [redis]
    local label=$1 n=$2 store=${3:-}
    local trackers=() args=()
    [[ -n $store ]] && args=(--redis-url "redis://127.0.0.1:$redis_port")
    redis-cli -p "$redis_port" flushall >/dev/null
    for ((i = 0; i < n; i++)); do
        NEXSUJ_LOG=error NEXSUJ_HTTP_WORKERS=1 NEXSUJ_UDP_WORKERS=1 NEXSUJ_MAX_NUMWANT=30 NEXSUJ_MAX_PEERS_PER_IP=0 \
            taskset -c 0 "$nexsuj" tracker --http "127.0.0.1:$((base_port + 100 + i))" \
            --udp "127.0.0.1:$((base_port + i))" "${args[@]}" &
        trackers+=($!)
        pids+=($!)
        wait_udp $((base_port + i))
    done
    local t0=() r0 s0
    for p in "${trackers[@]}"; do t0+=("$(cpu_ticks "$p")"); done
    r0=$(cpu_ticks "$redis_pid")
    s0=$(date +%s.%N)
    local loads=()
    for ((i = 0; i < n; i++)); do
        load $((base_port + i)) >"$work/rps-$i" &
        loads+=($!)
    done
    wait "${loads[@]}"
    local elapsed total=0 tcpu=0 rcpu
    elapsed=$(echo "$(date +%s.%N) - $s0" | bc -l)
    for ((i = 0; i < n; i++)); do total=$(echo "$total + $(cat "$work/rps-$i")" | bc -l); done
    for ((i = 0; i < n; i++)); do
        tcpu=$(echo "$tcpu + ($(cpu_ticks "${trackers[$i]}") - ${t0[$i]}) / $(getconf CLK_TCK)" | bc -l)
    done
    rcpu=$(echo "($(cpu_ticks "$redis_pid") - $r0) / $(getconf CLK_TCK)" | bc -l)
    printf '  %-22s %9.0f responses/s  tracker %.2f cores, redis %.2f cores  %8.0f responses per tracker CPU-s\n' \
        "$label" "$total" "$(echo "$tcpu / $elapsed" | bc -l)" "$(echo "$rcpu / $elapsed" | bc -l)" \
        "$(echo "$total * $secs / $tcpu" | bc -l)"
    for p in "${trackers[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
}

# paced LABEL [redis]: one instance under bench/udp_paced.py at $rate announces/s: latency, and CPU per announce
# of the tracker and of Redis.
paced() {
    local label=$1 store=${2:-} args=()
    [[ -n $store ]] && args=(--redis-url "redis://127.0.0.1:$redis_port")
    redis-cli -p "$redis_port" flushall >/dev/null
    NEXSUJ_LOG=error NEXSUJ_HTTP_WORKERS=1 NEXSUJ_UDP_WORKERS=1 NEXSUJ_MAX_NUMWANT=30 NEXSUJ_MAX_PEERS_PER_IP=0 \
        taskset -c 0 "$nexsuj" tracker --http "127.0.0.1:$((base_port + 100))" --udp "127.0.0.1:$base_port" "${args[@]}" &
    local tracker=$!
    pids+=("$tracker")
    wait_udp "$base_port"
    local t0 r0 sent answered p50 p99 p999
    t0=$(cpu_ticks "$tracker")
    r0=$(cpu_ticks "$redis_pid")
    read -r sent answered p50 p99 p999 < <(taskset -c 1 /usr/bin/python3 bench/udp_paced.py "$base_port" "$rate" "$secs")
    local tick
    tick=$(getconf CLK_TCK)
    printf '  %-22s %d/%d answered  p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  CPU per announce: tracker %.1f µs, redis %.1f µs\n' \
        "$label" "$answered" "$sent" "$p50" "$p99" "$p999" \
        "$(echo "($(cpu_ticks "$tracker") - $t0) * 1000000 / $tick / $sent" | bc -l)" \
        "$(echo "($(cpu_ticks "$redis_pid") - $r0) * 1000000 / $tick / $sent" | bc -l)"
    kill "$tracker"
    wait "$tracker" 2>/dev/null || true
}

echo "== ceiling: ${secs}s per configuration; 100k torrents, 1M peers, connect/announce 1/20, flood"
run "1 instance, memory" 1
run "1 instance, redis" 1 redis
run "2 instances, redis" 2 redis
run "3 instances, redis" 3 redis
rate=${RATE:-5000}
echo "== latency: $rate announces/s paced (bench/udp_paced.py), 10k torrents, 100k peers, ${secs}s"
paced "1 instance, memory"
paced "1 instance, redis" redis
echo "  redis: $(redis-cli -p "$redis_port" info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r') used," \
    "$(redis-cli -p "$redis_port" dbsize) keys after the last run"
