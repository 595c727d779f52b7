# Sourced by the browser tests: checks for Debian's chromium and npm, and installs playwright-core (never a
# browser) into $pw_dir, which it sets: $NEXSUJ_NPM_DIR, default /var/tmp/nexsuj-npm.
pw_dir=${NEXSUJ_NPM_DIR:-/var/tmp/nexsuj-npm}
pw_version=1.57.0

[[ -x /usr/bin/chromium ]] || { echo "error: /usr/bin/chromium is missing (interop/setup.sh installs it)" >&2; exit 1; }
command -v npm >/dev/null || { echo "error: npm is missing" >&2; exit 1; }
if [[ ! -f $pw_dir/node_modules/playwright-core/package.json ]]; then
    mkdir -p "$pw_dir"
    (cd "$pw_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent \
        "playwright-core@$pw_version" >/dev/null)
fi
