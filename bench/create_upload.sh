#!/usr/bin/env bash
# End-to-end create benchmark: `sqbackup create` streaming into the local S3 server (moto, Tests/Servers/
# s3_server.py, SigV4 and payload hashes checked) vs mksquashfs followed by a parallel multipart upload
# of its file to the same server (boto3, bench/s3_upload.py: multipart_chunksize = our part size,
# max_concurrency 4 = our parts in flight).
#
#   bench/create_upload.sh [LEVEL] [BLOCK_SIZE] [PART_SIZE] [RUNS]   (defaults: 3, 131072, 8388608, 5)
#
# Same ~200 MB tree as bench/create.sh (bench/out/tree). Runs alternate ours / baseline, objects are
# deleted between runs (not timed); prints medians and the ratio ours/baseline (target ≤ 0.7×). The
# baseline's upload time excludes Python's start-up and boto3's import. Also times, interleaved the
# same way, `sqbackup create` into a local directory store (file://, on the disk of bench/out).
#
# BENCH_DELAY_MS=N puts Tests/Servers/delay_proxy.py in front of the server for both paths: N ms
# each way, and at most BENCH_BUFFER_MIB (default 1) MiB in flight per connection, so each
# connection is limited to BENCH_BUFFER_MIB / N MiB per millisecond, as a TCP window over a long
# round trip is. BENCH_LINK_MBIT=M (with BENCH_DELAY_MS) also caps the link at M Mbit/s each way,
# shared by all connections. SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-3}
block=${2:-131072}
part=${3:-8388608}
runs=${4:-5}
out=bench/out
tree=$out/tree
. bench/common.sh
bench_tree "$tree" 200

bench_binary

proxy_in=
stop_server() {
    [ -n "$proxy_in" ] && exec {proxy_in}>&-
    stop_s3_server
    rm -rf "$out/local-store"
}
trap stop_server EXIT
start_s3_server "$out/s3_server.log"
port=$(s3_field port)
if [ -n "${BENCH_DELAY_MS:-}" ]; then
    rm -f "$out/proxy.out"
    exec {proxy_in}> >(exec env DELAY_MS="$BENCH_DELAY_MS" BUFFER_MIB="${BENCH_BUFFER_MIB:-1}" LINK_MBIT="${BENCH_LINK_MBIT:-0}" \
        python3 Tests/Servers/delay_proxy.py "$port" > "$out/proxy.out" 2>&1)
    for _ in $(seq 100); do grep -q '^READY' "$out/proxy.out" 2> /dev/null && break; sleep 0.1; done
    port=$(sed -n 's/^READY port=\([0-9]*\).*/\1/p' "$out/proxy.out")
    [ -n "$port" ] || { echo "the delay proxy did not start" >&2; exit 1; }
    export BENCH_S3_ENDPOINT="http://127.0.0.1:$port"
fi


run_ours() {
    local start end
    start=$(seconds)
    env BACKUP_BUCKET_NAME=bench BACKUP_BUCKET_ENDPOINT="$BENCH_S3_ENDPOINT" \
        R2_ACCESS_KEY_ID="$BENCH_S3_ACCESS_KEY" R2_SECRET_ACCESS_KEY="$BENCH_S3_SECRET_KEY" \
        AWS_REGION="$BENCH_S3_REGION" SQBACKUP_STORE= SQBACKUP_STORE_DIR= \
        "$SQBACKUP_BIN" create "$tree" --compressor zstd --level "$level" --block-size "$block" --threads 2 \
        --part-size "$part" > /dev/null
    end=$(seconds)
    python3 bench/s3_upload.py --empty
    echo "$end - $start" | bc
}

run_baseline() {
    rm -f "$out/mksquashfs.sqfs"
    local start end upload
    start=$(seconds)
    env -u SOURCE_DATE_EPOCH mksquashfs "$tree" "$out/mksquashfs.sqfs" -comp zstd -Xcompression-level "$level" \
        -b "$block" -processors 2 -noappend -no-progress -quiet > /dev/null
    end=$(seconds)
    upload=$(python3 bench/s3_upload.py "$out/mksquashfs.sqfs" baseline/data.sqsh "$part")
    python3 bench/s3_upload.py --empty
    echo "$(echo "$end - $start + $upload" | bc) $(echo "$end - $start" | bc) $upload"
}

run_local() {
    rm -rf "$out/local-store"
    local start end
    start=$(seconds)
    "$SQBACKUP_BIN" create "$tree" --store "file://$PWD/$out/local-store" --compressor zstd --level "$level" \
        --block-size "$block" --threads 2 > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
ours_times=()
baseline_times=()
mksquashfs_times=()
upload_times=()
local_times=()
for _ in $(seq "$runs"); do
    ours_times+=("$(run_ours)")
    read -r total build upload <<< "$(run_baseline)"
    baseline_times+=("$total")
    mksquashfs_times+=("$build")
    upload_times+=("$upload")
    local_times+=("$(run_local)")
done
ours=$(printf '%s\n' "${ours_times[@]}" | median)
baseline=$(printf '%s\n' "${baseline_times[@]}" | median)
local_store=$(printf '%s\n' "${local_times[@]}" | median)

printf 'tree %d bytes, image %d bytes; zstd level %s, block size %s, part size %s, 2 threads, median of %s\n' \
    "$(du -sb "$tree" | cut -f1)" "$(stat -c %s "$out/mksquashfs.sqfs")" "$level" "$block" "$part" "$runs"
[ -n "${BENCH_DELAY_MS:-}" ] && printf 'through delay_proxy.py: %s ms each way, %s MiB per connection in flight, link %s Mbit/s (0: unlimited)\n' \
    "$BENCH_DELAY_MS" "${BENCH_BUFFER_MIB:-1}" "${BENCH_LINK_MBIT:-0}"
printf 'load average before %s, after %s\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf 'sqbackup create → S3            %6.2f s   runs: %s\n' "$ours" "${ours_times[*]}"
printf 'mksquashfs + boto3 multipart    %6.2f s   runs: %s\n' "$baseline" "${baseline_times[*]}"
printf '  of which mksquashfs          %6.2f s   runs: %s\n' "$(printf '%s\n' "${mksquashfs_times[@]}" | median)" \
    "${mksquashfs_times[*]}"
printf '  of which upload               %6.2f s   runs: %s\n' "$(printf '%s\n' "${upload_times[@]}" | median)" \
    "${upload_times[*]}"
printf 'ratio ours/baseline             %6.3f×  (target ≤ 0.7×)\n' "$(echo "$ours / $baseline" | bc -l)"
printf 'sqbackup create → local store   %6.2f s   runs: %s\n' "$local_store" "${local_times[*]}"
