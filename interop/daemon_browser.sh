#!/usr/bin/env bash
# Browser test of `nexsuj daemon`'s web UI: drives Debian's chromium through playwright-core
# (daemon_browser.mjs). Called by daemon.py, which starts the daemon and the libtorrent seeders and passes
# NEXSUJ_DAEMON_URL, NEXSUJ_API_TOKEN, TORRENT, HASH, VIDEO_TORRENT, VIDEO_HASH and TARGET. Screenshots go
# to $NEXSUJ_ARTIFACTS/daemon-browser (default: a temp dir, printed at the end). playwright-core is
# installed from npm into $NEXSUJ_NPM_DIR (default /var/tmp/nexsuj-npm); it never downloads a browser.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/playwright.sh"

work=$(mktemp -d /tmp/nexsuj-daemon-browser-XXXXXX)
shots=${NEXSUJ_ARTIFACTS:-$work}/daemon-browser
mkdir -p "$shots"
trap 'rm -rf "$work/profile"' EXIT

BASE=${NEXSUJ_DAEMON_URL:?} TOKEN=${NEXSUJ_API_TOKEN:?} SHOTS="$shots" PW_DIR="$pw_dir" PROFILE_DIR="$work/profile" \
    node "$here/daemon_browser.mjs"
echo "screenshots: $shots"
