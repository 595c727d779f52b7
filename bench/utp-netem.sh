#!/usr/bin/env bash
# Benchmark, not a test: uTP against TCP through a bottleneck, and whether uTP's LEDBAT gets out of the way of other
# traffic. A network namespace (test host 10.83.N.2) reached over a veth pair whose both ends carry a 20 Mbit/s
# token bucket with a 300 ms queue (`tc tbf`), so that a flow that fills the queue raises everyone's delay; with
# NETEM=1 the link also gets `netem delay 25ms loss 0.5%` (50 ms RTT, ~1 % loss) — where the kernel has sch_netem
# (this machine's does not). A nexsuj seeder on this side; in the namespace:
#   1. nexsuj downloads SIZE over TCP, then over uTP: seconds each;
#   2. a bulk TCP flow (python sockets) runs 30 s alone, then 30 s beside a nexsuj uTP download: its throughput in
#      both, and the uTP download's.
# Needs root (ip netns, tc).
#
#   bash bench/utp-netem.sh      # env: SIZE (default 24M), NEXSUJ
set -euo pipefail

size=${SIZE:-24M}
nexsuj=${NEXSUJ:-${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj
piece=256KiB
source "$(dirname "$0")/pairs.sh"

n=$(($$ % 200 + 20))
ns=nxu$n va=nxu${n}a vb=nxu${n}b host=10.83.$n.1 guest=10.83.$n.2
shape() { # DEVICE [netns]
    local ex=()
    [[ -n ${2:-} ]] && ex=(ip netns exec "$2")
    if [[ ${NETEM:-0} == 1 ]]; then
        "${ex[@]}" tc qdisc add dev "$1" root handle 1: netem delay 25ms loss 0.5%
        "${ex[@]}" tc qdisc add dev "$1" parent 1: handle 2: tbf rate 20mbit burst 32kbit latency 300ms
    else
        "${ex[@]}" tc qdisc add dev "$1" root tbf rate 20mbit burst 32kbit latency 300ms
    fi
}
cleanup_ns() { ip netns del "$ns" 2>/dev/null || true; ip link del "$va" 2>/dev/null || true; }
trap 'cleanup_ns; cleanup' EXIT
cleanup_ns
ip netns add "$ns"
ip link add "$va" type veth peer name "$vb"
ip link set "$vb" netns "$ns"
ip addr add "$host/24" dev "$va" && ip link set "$va" up
ip netns exec "$ns" ip addr add "$guest/24" dev "$vb"
ip netns exec "$ns" ip link set "$vb" up && ip netns exec "$ns" ip link set lo up
shape "$va"
shape "$vb" "$ns"

port=$(free_port)
"$nexsuj" seed "$tmp/data.torrent" "$tmp/seed" --no-trackers --no-dht --encryption disabled --transport both \
    --listen "$host" --port "$port" >"$tmp/seed.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do grep -q "pieces verified" "$tmp/seed.log" && break; sleep 0.1; done

download() { # TRANSPORT: prints seconds
    rm -rf "$tmp/out" && mkdir -p "$tmp/out"
    local start end
    start=$(date +%s.%N)
    ip netns exec "$ns" "$nexsuj" download "$tmp/data.torrent" -o "$tmp/out" --no-trackers --no-dht \
        --encryption disabled --transport "$1" --peer "$host:$port" --listen "$guest" --port 7001 >"$tmp/dl.log" 2>&1
    end=$(date +%s.%N)
    cmp -s "$tmp/seed/data.bin" "$tmp/out/data.bin" || { echo "error: $1 download differs" >&2; exit 1; }
    echo "$end - $start" | bc
}

bytes=$(stat -c %s "$tmp/seed/data.bin")
for t in tcp utp; do
    s=$(download "$t")
    printf '%-4s download of %s: %6.1f s  %6.2f Mbit/s\n' "$t" "$size" "$s" "$(echo "$bytes * 8 / $s / 1000000" | bc -l)"
done

# A bulk TCP flow: the receiver in the namespace counts bytes for SECONDS; the sender here writes without pause.
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
    s = socket.create_connection((addr, port)); chunk = b"x" * (1 << 16)
    try:
        while True:
            s.sendall(chunk)
    except OSError:
        pass
PY
bulk() { # SECONDS: prints the flow's Mbit/s
    local bport=7100 recv_pid send_pid
    ip netns exec "$ns" $py "$tmp/bulk.py" recv "$guest" "$bport" "$1" >"$tmp/bulk.out" 2>&1 &
    recv_pid=$!
    for _ in $(seq 50); do grep -q ready "$tmp/bulk.out" && break; sleep 0.1; done
    $py "$tmp/bulk.py" send "$guest" "$bport" "$1" >/dev/null 2>&1 &
    send_pid=$!
    wait "$recv_pid" || true
    kill "$send_pid" 2>/dev/null || true
    wait "$send_pid" 2>/dev/null || true
    tail -1 "$tmp/bulk.out"
}
alone=$(bulk 30)
echo "bulk TCP flow alone: $alone Mbit/s"
rm -rf "$tmp/out" && mkdir -p "$tmp/out"
ip netns exec "$ns" "$nexsuj" download "$tmp/data.torrent" -o "$tmp/out" --no-trackers --no-dht \
    --encryption disabled --transport utp --peer "$host:$port" --listen "$guest" --port 7002 >"$tmp/dl2.log" 2>&1 &
dl=$!
pids+=("$dl")
sleep 3
beside=$(bulk 30)
got=$(du -sb "$tmp/out" | cut -f1)
kill "$dl" 2>/dev/null || true
echo "bulk TCP flow beside a uTP download: $beside Mbit/s (the uTP download got $((got / 1000000)) MB in ~33 s)"
