#!/usr/bin/env bash
# Browser test of `nexsuj serve`: starts the site on free loopback ports with a fresh data dir,
# then drives Debian's chromium through playwright-core (site_browser.mjs): sign up, log in,
# upload, search, download. Screenshots go to $NEXSUJ_ARTIFACTS/site-browser (default: a temp dir,
# printed at the end). playwright-core is installed from npm into $NEXSUJ_NPM_DIR (default
# /var/tmp/nexsuj-npm); it never downloads a browser.
#
#   NEXSUJ=target/release/nexsuj bash interop/site_browser.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
nexsuj=${NEXSUJ:?set NEXSUJ to the nexsuj binary}
source "$here/playwright.sh"

work=$(mktemp -d /tmp/nexsuj-site-browser-XXXXXX)
shots=${NEXSUJ_ARTIFACTS:-$work}/site-browser
mkdir -p "$shots"
server=""
cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work/data" "$work/profile"
}
trap cleanup EXIT

port() { /usr/bin/python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"; }
http="127.0.0.1:$(port SOCK_STREAM)"
udp="127.0.0.1:$(port SOCK_DGRAM)"

head -c 3000000 /dev/urandom > "$work/browser-payload.bin"
"$nexsuj" create "$work/browser-payload.bin" -t http://elsewhere.example/announce -o "$work/upload.torrent" -f >/dev/null 2>&1

NEXSUJ_LOG=info "$nexsuj" serve --http "$http" --udp "$udp" --data-dir "$work/data" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 200); do
    grep -q "nexsuj site ready" "$work/serve.log" && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
grep -q "nexsuj site ready" "$work/serve.log" || { echo "error: the site did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

status=0
BASE="http://$http" OUTBOX="$work/data/outbox" TORRENT="$work/upload.torrent" SHOTS="$shots" \
    PW_DIR="$pw_dir" PROFILE_DIR="$work/profile" node "$here/site_browser.mjs" || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- nexsuj serve log" >&2
    tail -40 "$work/serve.log" >&2
fi
echo "screenshots: $shots"
exit $status
