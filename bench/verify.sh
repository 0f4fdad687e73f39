#!/usr/bin/env bash
# Verify benchmark: `sqbackup verify ID` (every block's SHA-256 and the whole-image hash) vs a raw
# parallel download of the same image (bench/parallel_read.py: 8 MiB ranges on 8 threads, as
# verify reads; boto3 ranged GETs on S3, preads in the local store), bytes thrown away.
#
#   bench/verify.sh [MEGABYTES] [RUNS]        (defaults: 1024, 3)
#
# The tree (bench/out/verify-tree) is mostly incompressible: random files of 64 MiB plus a 64 MiB
# slice of bench/make_tree.py's mixed tree, so the image is about as large as the tree. One backup
# goes to a local directory store (bench/out/verify-store), read both warm in the page cache and
# cold (drop_caches before each run of either side: root), one to the local S3 server (moto,
# Tests/Servers/s3_server.py, multipart upload). Runs alternate ours / baseline; prints medians
# and the ratio baseline/ours as a speed (target ≥ 0.9×).
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench);
# BENCH_SKIP_S3=1 leaves out the S3 server (a minute or more per run).
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-1024}
runs=${2:-3}
out=bench/out
tree=$out/verify-tree
store=$out/verify-store
. bench/common.sh

if [ ! -f "$tree.done" ]; then
    rm -rf "$tree"
    python3 bench/make_tree.py "$tree/mixed" $((64 * 1024 * 1024))
    python3 - "$tree/random" $(((megabytes - 64) / 64)) << 'PY'
import os, random, sys
os.makedirs(sys.argv[1], exist_ok=True)
rng = random.Random(7)
for index in range(int(sys.argv[2])):
    with open(os.path.join(sys.argv[1], f"blob{index:03}"), "wb") as f:
        f.write(rng.randbytes(64 << 20))
PY
    touch "$tree.done"
fi
bench_binary

stop_server() {
    stop_s3_server
    rm -rf "$store"
}
trap stop_server EXIT
start_s3_server "$out/s3_server.log"

s3_env=(env BACKUP_BUCKET_NAME=bench BACKUP_BUCKET_ENDPOINT="$BENCH_S3_ENDPOINT"
    R2_ACCESS_KEY_ID="$BENCH_S3_ACCESS_KEY" R2_SECRET_ACCESS_KEY="$BENCH_S3_SECRET_KEY"
    AWS_REGION="$BENCH_S3_REGION" SQBACKUP_STORE= SQBACKUP_STORE_DIR=)
local_env=(env SQBACKUP_STORE= SQBACKUP_STORE_DIR="$store" BACKUP_BUCKET_NAME= R2_ACCESS_KEY_ID= AWS_ACCESS_KEY_ID=)
backup_id() { sed -n 's/^backup \([0-9a-f-]*\)$/\1/p'; }
rm -rf "$store"
local_id=$("${local_env[@]}" "$SQBACKUP_BIN" create "$tree" --threads 2 | backup_id)
s3_id=
[ -n "${BENCH_SKIP_S3:-}" ] || s3_id=$("${s3_env[@]}" "$SQBACKUP_BIN" create "$tree" --threads 2 | backup_id)
image=$store/backups/$local_id/data.sqsh
size=$(stat -c %s "$image")
echo "image: $((size / 1048576)) MiB; local $local_id, S3 $s3_id"

verify_local() {
    local start end
    start=$(seconds)
    "${local_env[@]}" "$SQBACKUP_BIN" verify "$local_id" > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}
verify_s3() {
    local start end
    start=$(seconds)
    "${s3_env[@]}" "$SQBACKUP_BIN" verify "$s3_id" > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

: > "$out/verify-times"
for run in $(seq "$runs"); do
    cat "$image" > /dev/null
    echo "local ours $(verify_local)" >> "$out/verify-times"
    echo "local raw $(python3 bench/parallel_read.py file "$image")" >> "$out/verify-times"
    drop_caches
    echo "cold ours $(verify_local)" >> "$out/verify-times"
    drop_caches
    echo "cold raw $(python3 bench/parallel_read.py file "$image")" >> "$out/verify-times"
    if [ -n "$s3_id" ]; then
        echo "s3 ours $(verify_s3)" >> "$out/verify-times"
        echo "s3 raw $(python3 bench/parallel_read.py s3 "backups/$s3_id/data.sqsh")" >> "$out/verify-times"
    fi
    echo "run $run: $(tail -n "$([ -n "$s3_id" ] && echo 6 || echo 4)" "$out/verify-times" | tr '\n' ' ')" >&2
done

report() {
    local ours raw
    ours=$(awk -v k="$1" '$1 == k && $2 == "ours" { print $3 }' "$out/verify-times" | median)
    raw=$(awk -v k="$1" '$1 == k && $2 == "raw" { print $3 }' "$out/verify-times" | median)
    printf '%-6s verify %6.2f s (%5.0f MiB/s)  raw download %6.2f s (%5.0f MiB/s)  speed ratio %.2fx (target >= 0.9x)\n' \
        "$1" "$ours" "$(echo "$size / 1048576 / $ours" | bc -l)" "$raw" "$(echo "$size / 1048576 / $raw" | bc -l)" \
        "$(echo "$raw / $ours" | bc -l)"
}
echo "medians of $runs runs, load average $(cut -d' ' -f1-3 /proc/loadavg):"
report local
report cold
[ -z "$s3_id" ] || report s3
