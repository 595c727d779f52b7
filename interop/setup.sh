#!/usr/bin/env bash
# Installs the programs the interop suites and the benchmarks compare nexsuj against.
# Idempotent: installs only what is missing, running `apt-get update` at most once. Quiet unless it fails.
set -euo pipefail

packages=(python3-libtorrent transmission-cli transmission-daemon mktorrent hyperfine aria2 iproute2 chromium time bc)

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

# The bindings belong to Debian's python, not to whatever python3 comes first on PATH.
if ! /usr/bin/python3 -c 'import libtorrent' 2>/dev/null; then
    echo "error: /usr/bin/python3 cannot import libtorrent (package python3-libtorrent)" >&2
    exit 1
fi
