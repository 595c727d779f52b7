# Shared by the benchmark scripts (sourced): a scratch dir and background processes cleaned up on exit,
# tools installed once into $NEXSUJ_TOOLS, the nexsuj release binary built.

tools=${NEXSUJ_TOOLS:-/var/tmp/nexsuj-tools}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/nexsuj-target}
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# cargo_tool NAME...: `cargo install`s each crate whose binary is missing from $tools/bin.
cargo_tool() {
    for tool in "$@"; do
        if [[ ! -x $tools/bin/$tool ]]; then
            echo "installing $tool into $tools (once)" >&2
            # Not --locked: aquatic's lockfile pins a `metrics` that current rustc refuses.
            CARGO_TARGET_DIR=$tools/target cargo install -q --root "$tools" "$tool"
        fi
    done
}

# apt_tool COMMAND...: installs the Debian package of the same name when the command is missing.
apt_tool() {
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$cmd" >/dev/null
    done
}

cargo build -q --release --locked -p nexsuj
nexsuj=$CARGO_TARGET_DIR/release/nexsuj

# median: the median of the numbers on stdin, one per line.
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# cpu_ticks PID: user + system clock ticks the process has used so far, all its threads (those that
# have exited too: /proc/PID/stat sums them).
cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }

# wait_udp PORT: waits until a UDP tracker answers a BEP 15 connect on 127.0.0.1:PORT.
wait_udp() {
    /usr/bin/python3 - "$1" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
pkt = struct.pack(">QII", 0x41727101980, 0, 1)
for _ in range(100):
    s.sendto(pkt, ("127.0.0.1", int(sys.argv[1])))
    try:
        s.recvfrom(64); sys.exit(0)
    except socket.timeout:
        pass
sys.exit("no UDP tracker answered")
PY
}
