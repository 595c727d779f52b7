#!/usr/bin/env bash
# Benchmark, not a test: `nexsuj live` (release build, its defaults but the per-address caps, since every
# simulated viewer comes from 127.0.0.1) under bench/live-load: 10,000 viewers in 100 channels announcing,
# then heartbeating (10 s) and reporting (20 s) for 60 s over 32 keep-alive connections, 1 % asking for peers
# each second; 1,000 signaling sockets in pairs trading an offer and an answer every second. Both run on the
# same 2 cores.
#
#   bash bench/live-load.sh [PEERS] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
peers=${1:-10000}
seconds=${2:-60}

(cd "$here/.." && cargo build --release --locked -q -p nexsuj -p nexsuj-live-load)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
NEXSUJ_ANNOUNCES_PER_IP_PER_MINUTE=100000000 NEXSUJ_MAX_SOCKETS_PER_IP=100000 \
    "$CARGO_TARGET_DIR/release/nexsuj" live --listen "127.0.0.1:$port" --log warn &
pids+=($!)
server=$!
for _ in $(seq 50); do /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/channels')" 2>/dev/null && break; sleep 0.1; done
"$CARGO_TARGET_DIR/release/live-load" --server "127.0.0.1:$port" --pid "$server" --peers "$peers" --seconds "$seconds"
