#!/usr/bin/env bash
# Benchmark, not a test: how fast `nexsuj create` hashes a 1 GiB file next to mktorrent, transmission-create and
# libtorrent, all v1 with 256 KiB pieces, from a warm page cache.
#
#   bash bench/create.sh            # env: RUNS (default 5), SIZE (default 1G, as `head -c` takes it),
#                                   #      NEXSUJ (default target/release/nexsuj)
#
# Prints one row per tool: median seconds and ratio = tool median / nexsuj median (>1 means nexsuj is faster).
# Uses hyperfine when installed (interop/setup.sh installs it), else a plain timing loop.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
size=${SIZE:-1G}
url=http://127.0.0.1:6969/announce
nexsuj=${NEXSUJ:-$repo/target/release/nexsuj}
[[ $nexsuj == /* ]] || nexsuj=$PWD/$nexsuj

for tool in "$nexsuj" mktorrent transmission-create /usr/bin/python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "error: $tool not found (build nexsuj with 'cargo build --release -p nexsuj'; run interop/setup.sh)" >&2
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nexsuj-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
file=$tmp/data.bin

echo "writing $size of pseudo-random data to $file" >&2
if command -v openssl >/dev/null; then
    # AES-CTR over zeros: deterministic and much faster than /dev/urandom. openssl dies of SIGPIPE when head
    # has enough, hence the `|| true`.
    { openssl enc -aes-128-ctr -pbkdf2 -nosalt -pass pass:nexsuj-bench </dev/zero 2>/dev/null || true; } |
        head -c "$size" >"$file"
else
    head -c "$size" /dev/urandom >"$file"
fi
cat "$file" >/dev/null # warm the page cache: measure hashing, not the disk

cat >"$tmp/lt_create.py" <<'EOF'
import os
import sys
import libtorrent as lt

src, out, url = sys.argv[1:]
fs = lt.file_storage()
lt.add_files(fs, src)
ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
ct.add_tracker(url)
lt.set_piece_hashes(ct, os.path.dirname(src))
open(out, "wb").write(lt.bencode(ct.generate()))
EOF

# name | command (writes $tmp/<name>.torrent)
names=(nexsuj mktorrent transmission-create libtorrent)
declare -A cmds=(
    [nexsuj]="$nexsuj create $file -t $url --piece-length 256KiB --no-date -o $tmp/nexsuj.torrent"
    [mktorrent]="mktorrent -t 2 -l 18 -a $url -o $tmp/mktorrent.torrent $file"
    [transmission-create]="transmission-create -s 256 -t $url -o $tmp/transmission-create.torrent $file"
    [libtorrent]="/usr/bin/python3 $tmp/lt_create.py $file $tmp/libtorrent.torrent $url"
)

# json_field FILE '["key"][0]...': prints that field of a JSON file
json_field() { /usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

declare -A median
if command -v hyperfine >/dev/null; then
    for name in "${names[@]}"; do
        hyperfine --runs "$runs" --warmup 1 --style basic --command-name "$name" \
            --prepare "rm -f $tmp/$name.torrent" --output null \
            --export-json "$tmp/$name.json" "${cmds[$name]}" >&2
        median[$name]=$(json_field "$tmp/$name.json" '["results"][0]["median"]')
    done
else
    echo "hyperfine not found: timing with a plain loop" >&2
    for name in "${names[@]}"; do
        times=()
        for ((i = -1; i < runs; i++)); do # run -1 is a warm-up, not timed
            rm -f "$tmp/$name.torrent"
            start=$(date +%s.%N)
            if ! ${cmds[$name]} >/dev/null 2>"$tmp/stderr"; then
                cat "$tmp/stderr" >&2
                echo "error: $name failed: ${cmds[$name]}" >&2
                exit 1
            fi
            end=$(date +%s.%N)
            ((i < 0)) || times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')")
        done
        median[$name]=$(printf '%s\n' "${times[@]}" | sort -g |
            awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
    done
fi

# Sanity: the same data, piece size and tracker give the same info-hash in nexsuj and mktorrent.
hash_of() { "$nexsuj" info "$1" --json >"$tmp/info.json" && json_field "$tmp/info.json" '["info_hash_v1"]'; }
if [[ $(hash_of "$tmp/nexsuj.torrent") != $(hash_of "$tmp/mktorrent.torrent") ]]; then
    echo "warning: nexsuj and mktorrent disagree on the info-hash of the same file" >&2
fi

echo
echo "create: $size file, 256 KiB pieces, v1, median of $runs runs, $(nproc) cores"
printf '%-22s %12s %8s\n' tool "median (s)" ratio
for name in "${names[@]}"; do
    awk -v tool="$name" -v t="${median[$name]}" -v base="${median[nexsuj]}" \
        'BEGIN { printf "%-22s %12.3f %8.2f\n", tool, t, t / base }'
done
