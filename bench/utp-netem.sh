#!/usr/bin/env bash
# Benchmark, not a test: uTP against TCP through a bottleneck, and whether uTP's LEDBAT gets out of the way of other
# traffic. A test host in a network namespace (10.84.N.2) reached through a router in another (its two veth links
# carry a 20 Mbit/s token bucket with a 300 ms queue on the router's side, `tc tbf`), so that a flow that fills the
# queue raises everyone's delay. Before the queues, a delay line with random loss (bench/link.py, in the router:
# DELAY ms each way, default 25, and LOSS each way, default 0.005 — a 50 ms round trip losing ~1 % of its packets;
# DELAY=0 LOSS=0 for none). It stands in for `tc netem`, which this machine's kernel lacks. The queue is the router's, not this host's
# own: a queue in the sender's qdisc would hold TCP to two packets in it (TCP small queues) and starve any TCP flow
# behind a UDP one, whatever uTP did. A nexsuj seeder on this side; in the namespace:
#   1. nexsuj downloads SIZE over TCP, then over uTP: seconds each;
#   2. a bulk TCP flow (python sockets, CUBIC then BBR) runs 20 s alone, then 20 s beside a nexsuj uTP download
#      that started 3 s before it: the flow's throughput in both, and the download's while they share the link;
#   3. the same with CUBIC beside libtorrent's own uTP pair (libtorrent seeding here to libtorrent there).
# Needs root (ip netns, tc).
#
#   bash bench/utp-netem.sh      # env: SIZE (default 64M), NEXSUJ, DELAY, LOSS,
#                                # FLOWS (default "cubic:nexsuj bbr:nexsuj cubic:libtorrent": CC:PROGRAM pairs)
set -euo pipefail

size=${SIZE:-64M}
nexsuj=${NEXSUJ:-${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj
piece=256KiB
source "$(dirname "$0")/pairs.sh"

n=$(($$ % 200 + 20))
ns=nxu$n router=nxr$n ha=nxu${n}a ra=nxu${n}b rb=nxu${n}c gb=nxu${n}d
host=10.83.$n.1 gw_host=10.83.$n.254 guest=10.84.$n.2 gw_guest=10.84.$n.254
delay=${DELAY:-25} loss=${LOSS:-0.005}
cleanup_ns() {
    ip netns del "$ns" 2>/dev/null || true
    ip netns del "$router" 2>/dev/null || true
    ip link del "$ha" 2>/dev/null || true
}
trap 'cleanup_ns; cleanup' EXIT
cleanup_ns
ip netns add "$ns"
ip netns add "$router"
ip link add "$ha" type veth peer name "$ra"
ip link set "$ra" netns "$router"
ip addr add "$host/24" dev "$ha" && ip link set "$ha" up
ip route add "10.84.$n.0/24" via "$gw_host"
ip netns exec "$router" ip link add "$rb" type veth peer name "$gb"
ip netns exec "$router" ip link set "$gb" netns "$ns"
ip netns exec "$router" ip addr add "$gw_host/24" dev "$ra"
ip netns exec "$router" ip addr add "$gw_guest/24" dev "$rb"
ip netns exec "$router" ip link set "$ra" up
ip netns exec "$router" ip link set "$rb" up
ip netns exec "$router" sysctl -q -w net.ipv4.ip_forward=1
ip netns exec "$ns" ip addr add "$guest/24" dev "$gb"
ip netns exec "$ns" ip link set "$gb" up && ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip route add default via "$gw_guest"
ip netns exec "$router" tc qdisc add dev "$ra" root tbf rate 20mbit burst 32kbit latency 300ms
ip netns exec "$router" tc qdisc add dev "$rb" root tbf rate 20mbit burst 32kbit latency 300ms
if [[ $delay != 0 || $loss != 0 ]]; then
    # The delay line: each direction routed into one TUN device of bench/link.py and out of the other.
    ip netns exec "$router" $py "$(dirname "$0")/link.py" tla tlb "$delay" "$loss" >"$tmp/link.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do grep -q ready "$tmp/link.log" && break; sleep 0.1; done
    for key in all default; do ip netns exec "$router" sysctl -q -w "net.ipv4.conf.$key.rp_filter=0"; done
    for dev in tla tlb; do
        ip netns exec "$router" ip link set "$dev" up
        ip netns exec "$router" sysctl -q -w "net.ipv4.conf.$dev.rp_filter=0"
    done
    ip netns exec "$router" ip rule add iif "$ra" lookup 101
    ip netns exec "$router" ip route add "10.84.$n.0/24" dev tla table 101
    ip netns exec "$router" ip rule add iif "$rb" lookup 102
    ip netns exec "$router" ip route add "10.83.$n.0/24" dev tlb table 102
fi

port=$(free_port)
"$nexsuj" seed "$tmp/data.torrent" "$tmp/seed" --no-trackers --no-dht --encryption disabled --transport both \
    --listen "$host" --port "$port" >"$tmp/seed.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "pieces verified" "$tmp/seed.log" && break; sleep 0.1; done

nexsuj_download() { # TRANSPORT PORT: nexsuj downloads into $tmp/out in the namespace
    ip netns exec "$ns" "$nexsuj" download "$tmp/data.torrent" -o "$tmp/out" --no-trackers --no-dht \
        --encryption disabled --transport "$1" --peer "$host:$port" --listen "$guest" --port "$2"
}

download() { # TRANSPORT: prints seconds
    rm -rf "$tmp/out" && mkdir -p "$tmp/out"
    local start end
    start=$(date +%s.%N)
    nexsuj_download "$1" 7001 >"$tmp/dl.log" 2>&1
    end=$(date +%s.%N)
    cmp -s "$tmp/seed/data.bin" "$tmp/out/data.bin" || { echo "error: $1 download differs" >&2; exit 1; }
    echo "$end - $start" | bc
}

bytes=$(stat -c %s "$tmp/seed/data.bin")
for t in tcp utp; do
    s=$(download "$t")
    printf '%-4s download of %s: %6.1f s  %6.2f Mbit/s\n' "$t" "$size" "$s" "$(echo "$bytes * 8 / $s / 1000000" | bc -l)"
done

# A bulk TCP flow: the receiver in the namespace counts bytes for SECONDS; the sender here writes without pause, with
# the congestion control named.
cat >"$tmp/bulk.py" <<'PY'
import socket, sys, time
role, addr, port, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if role == "recv":
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind((addr, port)); l.listen(1)
    print("ready", flush=True)
    c, _ = l.accept(); total = 0; start = time.time()
    while time.time() - start < seconds:
        b = c.recv(1 << 16)
        if not b:
            break
        total += len(b)
    print(f"{total * 8 / (time.time() - start) / 1e6:.2f}", flush=True)
else:
    s = socket.socket()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[5].encode())
    s.connect((addr, port)); chunk = b"x" * (1 << 16)
    try:
        while True:
            s.sendall(chunk)
    except OSError:
        pass
PY
bulk() { # SECONDS CC: prints the flow's Mbit/s
    local bport=7100 recv_pid send_pid
    ip netns exec "$ns" $py "$tmp/bulk.py" recv "$guest" "$bport" "$1" >"$tmp/bulk.out" 2>&1 &
    recv_pid=$!
    for _ in $(seq 50); do grep -q ready "$tmp/bulk.out" && break; sleep 0.1; done
    $py "$tmp/bulk.py" send "$guest" "$bport" "$1" "$2" >/dev/null 2>&1 &
    send_pid=$!
    wait "$recv_pid" || true
    kill "$send_pid" 2>/dev/null || true
    wait "$send_pid" 2>/dev/null || true
    tail -1 "$tmp/bulk.out"
}
written() { du -B1 "$tmp/out/data.bin" 2>/dev/null | cut -f1 || echo 0; } # bytes on disk (the file is sparse)
# libtorrent's own uTP pair ($lt_utp), for reference: its seeder here, its leecher in the namespace.
lt_port=$(free_port)
LT_LISTEN=$host $py "$lt" seed "$tmp/data.torrent" "$tmp/seed" "$lt_port" - "$lt_utp" >"$tmp/lt-seed.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/lt-seed.log" && break; sleep 0.1; done

start_download() { # PROGRAM
    if [[ $1 == nexsuj ]]; then
        nexsuj_download utp 7002 >"$tmp/dl2.log" 2>&1 &
    else
        ip netns exec "$ns" env LT_LISTEN="$guest" LT_PEER_HOST="$host" \
            $py "$lt" leech "$tmp/data.torrent" "$tmp/out" 7003 "$lt_port" "$lt_utp" >"$tmp/dl2.log" 2>&1 &
    fi
    dl=$!
}

for run in ${FLOWS:-cubic:nexsuj bbr:nexsuj cubic:libtorrent}; do
    cc=${run%%:*} program=${run#*:}
    alone=$(bulk 20 "$cc")
    rm -rf "$tmp/out" && mkdir -p "$tmp/out"
    start_download "$program"
    pids+=("$dl")
    sleep 3
    before=$(written)
    beside=$(bulk 20 "$cc")
    after=$(written)
    kill "$dl" 2>/dev/null || true
    wait "$dl" 2>/dev/null || true
    printf '%-5s bulk TCP flow alone: %6.2f Mbit/s; beside a %-10s uTP download: %6.2f Mbit/s, the download %6.2f Mbit/s\n' \
        "$cc" "$alone" "$program" "$beside" "$(echo "($after - $before) * 8 / 20 / 1000000" | bc -l)"
done
