#!/usr/bin/env bash
# Live P2P streaming end to end: an HLS live stream made here (Debian's ffmpeg: a test pattern, 2 s segments,
# a sliding playlist) served by a local origin; `nexsuj live` on loopback serving the SDK and hls.js; Debian's
# chromium (playwright-core) opening viewers of the stream (live_browser.mjs), then two pages where real
# WebTorrent clients (npm's webtorrent) seed and download a file through our WebTorrent tracker
# (live_webtorrent.mjs). Reads $NEXSUJ. Screenshots go to $NEXSUJ_ARTIFACTS/live (default: a temp dir).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/playwright.sh"
hls_version=1.7.4
webtorrent_version=2.8.5
for pkg in "hls.js@$hls_version" "webtorrent@$webtorrent_version"; do
    name=${pkg%@*}
    if [[ ! -f $pw_dir/node_modules/$name/package.json ]] ||
        ! grep -q "\"version\": \"${pkg##*@}\"" "$pw_dir/node_modules/$name/package.json"; then
        # --ignore-scripts: webtorrent's install script insists on pnpm; the dist bundles need no build.
        (cd "$pw_dir" && npm install --no-audit --no-fund --silent --ignore-scripts "$pkg" >/dev/null)
    fi
done

work=$(mktemp -d /tmp/nexsuj-live-XXXXXX)
shots=${NEXSUJ_ARTIFACTS:-$work}/live
mkdir -p "$shots" "$work/hls" "$work/static"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work/profile" "$work/hls" "$work/static"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
origin_port=$(free_port)
live_port=$(free_port)

# The stream: real time (-re), a keyframe every 2 s, a 6-segment sliding playlist; old segments stay on disk so
# that the test can compare what viewers got with what the origin served.
ffmpeg -hide_banner -loglevel error -re -f lavfi -i "testsrc2=size=640x360:rate=25" \
    -f lavfi -i "sine=frequency=440:sample_rate=44100" -c:v libx264 -preset veryfast -tune zerolatency \
    -g 50 -keyint_min 50 -sc_threshold 0 -b:v 800k -c:a aac -b:a 64k -f hls -hls_time 2 -hls_list_size 6 \
    -hls_flags omit_endlist -hls_segment_filename "$work/hls/seg%05d.ts" "$work/hls/stream.m3u8" &
pids+=($!)
cp "$pw_dir/node_modules/webtorrent/dist/webtorrent.min.js" "$work/static/"
echo '<!doctype html><meta charset="utf-8"><title>webtorrent</title>' >"$work/static/index.html"
# The origin: static files with CORS (the players' page is on the tracker's origin), counting bytes served.
ORIGIN_LOG="$work/origin.log" /usr/bin/python3 "$here/live_origin.py" "$origin_port" "$work" &
pids+=($!)
"$NEXSUJ" live --listen "127.0.0.1:$live_port" --hls-js "$pw_dir/node_modules/hls.js/dist/hls.min.js" \
    --log warn 2>"$work/live.log" &
pids+=($!)
for _ in $(seq 100); do
    [[ -f $work/hls/stream.m3u8 ]] && grep -q seg00002 "$work/hls/stream.m3u8" 2>/dev/null &&
        /usr/bin/python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$live_port/channels')" \
            2>/dev/null && break
    sleep 0.2
done

export PW_DIR="$pw_dir" SHOTS="$shots" LIVE="http://127.0.0.1:$live_port" ORIGIN="http://127.0.0.1:$origin_port" \
    HLS_DIR="$work/hls" ORIGIN_LOG="$work/origin.log"
PROFILE_DIR="$work/profile" node "$here/live_browser.mjs"
PROFILE_DIR="$work/profile-wt" node "$here/live_webtorrent.mjs"
echo "screenshots: $shots"
