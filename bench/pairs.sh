# Shared by the benchmarks that time transfers between peers (client.sh, encryption.sh, utp.sh, utp-netem.sh),
# sourced after they set $nexsuj, $size and $piece: a scratch folder and background processes removed on exit, free
# ports, $size bytes of pseudo-random data with its torrent ($tmp/seed/data.bin, $tmp/data.torrent), and the
# libtorrent peer ($lt, with $lt_utp its settings for uTP only, encryption off).

py=/usr/bin/python3
[[ -x $nexsuj ]] || { echo "error: $nexsuj not found (cargo build --release -p nexsuj)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
$py -c 'import libtorrent' || { echo "error: run interop/setup.sh (python3-libtorrent)" >&2; exit 1; }
lt="$(cd "$(dirname "$0")" && pwd)/lt_peer.py"
# libtorrent over uTP only, encryption off (policy disabled = 2).
lt_utp='{"enable_outgoing_utp":true,"enable_incoming_utp":true,"enable_outgoing_tcp":false,"enable_incoming_tcp":false,"out_enc_policy":2,"in_enc_policy":2}'

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/nexsuj-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$tmp/seed"
echo "writing $size of pseudo-random data" >&2
{ openssl enc -aes-128-ctr -pbkdf2 -nosalt -pass pass:nexsuj-bench </dev/zero 2>/dev/null || true; } |
    head -c "$size" >"$tmp/seed/data.bin"
"$nexsuj" create "$tmp/seed/data.bin" -t http://127.0.0.1:1/announce --piece-length "${piece:-1MiB}" --no-date \
    -o "$tmp/data.torrent" >/dev/null
cat "$tmp/seed/data.bin" >/dev/null
