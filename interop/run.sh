#!/usr/bin/env bash
# Interop tests: nexsuj against real programs (libtorrent, transmission, mktorrent).
#
#   bash interop/run.sh [SUITE ...]      # every suite, or only the named ones
#
# Uses the nexsuj binary in $NEXSUJ (default target/release/nexsuj); builds nothing itself.
# A suite is a script in this folder that reads $NEXSUJ, cleans up after itself and exits non-zero on failure.
# To add one (tracker, site, ...): write the script, add a `suite_NAME` function below and list NAME in SUITES.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")

SUITES=(metainfo tracker site client transports daemon dht live scale_out)

# create / info / verify against libtorrent, transmission-show/-create and mktorrent
suite_metainfo() { /usr/bin/python3 "$here/metainfo.py"; }
# nexsuj tracker with libtorrent, transmission (network namespace) and aria2, over HTTP and UDP
suite_tracker() { /usr/bin/python3 "$here/tracker.py"; }
# nexsuj serve: a libtorrent seeder and a transmission leecher through the private tracker, accounted by the
# site; then chromium (playwright-core) signs up, logs in, uploads, searches and downloads
suite_site() { /usr/bin/python3 "$here/site.py" && bash "$here/site_browser.sh"; }
# nexsuj download/seed with libtorrent and transmission (network namespace): each way, both at once, a mixed
# swarm through our tracker, a malicious peer banned, kill -9 and restart, a corrupted piece found by recheck
suite_client() { /usr/bin/python3 "$here/client.py"; }

# the client's transports: MSE/PE encryption with libtorrent (forced RC4 each way, optional, refused) and with a
# transmission that requires it (network namespace); HTTPS trackers: nexsuj serve behind nginx (TLS, a test CA),
# announced to by nexsuj seed, nexsuj download and libtorrent
suite_transports() { /usr/bin/python3 "$here/transports.py" && /usr/bin/python3 "$here/https_tracker.py"; }

# nexsuj daemon through its HTTP API only: libtorrent and transmission (magnet) peers, rate limits, kill -9 and
# resume; then chromium drives the web UI and plays a video streamed while it downloads (ffprobe reads it too)
suite_daemon() { /usr/bin/python3 "$here/daemon.py"; }

# nexsuj's DHT with libtorrent's on loopback: ping, and get-peers finding a seeder announced in the DHT only
suite_dht() { /usr/bin/python3 "$here/dht.py"; }

# nexsuj live: an ffmpeg HLS stream watched by chromium viewers sharing segments over WebRTC (P2P share, byte
# identity, no stalls, a viewer leaving), and WebTorrent clients in chromium meeting through our tracker
suite_live() { bash "$here/live.sh"; }

# three nexsuj serve sharing PostgreSQL and Redis (then a Redis Cluster) behind nginx: libtorrent and transmission
# through different instances, 10,000 concurrent announces counted exactly, BEP 12 failover, Redis and PostgreSQL
# outages without lost or doubled accounting
suite_scale_out() { /usr/bin/python3 "$here/scale_out.py"; }

selected=("$@")
[[ ${#selected[@]} -gt 0 ]] || selected=("${SUITES[@]}")
for suite in "${selected[@]}"; do
    if ! declare -F "suite_$suite" >/dev/null; then
        echo "error: unknown interop suite '$suite' (known: ${SUITES[*]})" >&2
        exit 1
    fi
done

nexsuj=${NEXSUJ:-$repo/target/release/nexsuj}
if [[ ! -x $nexsuj ]]; then
    echo "error: no nexsuj binary at $nexsuj; build it with 'cargo build --release -p nexsuj' or set NEXSUJ" >&2
    exit 1
fi
NEXSUJ=$(cd "$(dirname "$nexsuj")" && pwd)/$(basename "$nexsuj")
export NEXSUJ

bash "$here/setup.sh"

cd "$repo"
failed=()
for suite in "${selected[@]}"; do
    echo "-- interop suite: $suite (NEXSUJ=$NEXSUJ)"
    "suite_$suite" || failed+=("$suite")
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "interop: failed: ${failed[*]}" >&2
    exit 1
fi
echo "interop: passed: ${selected[*]}"
