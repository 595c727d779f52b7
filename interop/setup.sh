#!/usr/bin/env bash
# Installs the programs the interop suites and the benchmarks compare nexsuj against (Debian packages, and
# aquatic_http from crates.io).
# Idempotent: installs only what is missing, running `apt-get update` at most once. Quiet unless it fails.
set -euo pipefail

packages=(python3-libtorrent transmission-cli transmission-daemon mktorrent hyperfine aria2 iproute2 chromium time bc ffmpeg nginx-light libnginx-mod-stream openssl redis-server)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ $status == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -gt 0 ]]; then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    if ! { "${sudo[@]}" apt-get update -q &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "error: could not install: ${missing[*]}" >&2
        exit 1
    fi
fi

# aquatic_http, the fastest open HTTP tracker, for the client suite (and the benchmarks, which look for it in the
# same place): installed once from crates.io into $NEXSUJ_TOOLS, built in a target dir of its own so that it does not
# fight the workspace's build. Not --locked: its lockfile pins metrics 0.22.3, which current rustc rejects (E0521);
# cargo then takes the newest compatible versions, as bench/lib.sh does.
tools=${NEXSUJ_TOOLS:-/var/tmp/nexsuj-tools}
if [[ ! -x $tools/bin/aquatic_http ]]; then
    aquatic_log=$(mktemp)
    if ! CARGO_TARGET_DIR=${AQUATIC_TARGET_DIR:-/var/tmp/aquatic-target} \
        cargo install -q --root "$tools" aquatic_http --version 0.9.0 >"$aquatic_log" 2>&1; then
        cat "$aquatic_log" >&2
        rm -f "$aquatic_log"
        echo "error: could not install aquatic_http 0.9.0 into $tools" >&2
        exit 1
    fi
    rm -f "$aquatic_log"
fi

# The bindings belong to Debian's python, not to whatever python3 comes first on PATH.
if ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "error: /usr/bin/python3 cannot import libtorrent (package python3-libtorrent)" >&2
    exit 1
fi
