#!/usr/bin/env bash
# Image build benchmark: sqbackup's builder vs mksquashfs, same compressor, level and block size.
#
#   bench/create.sh [LEVEL] [BLOCK_SIZE]        (defaults: 3 and 131072)
#
# Generates a deterministic ~200 MB mixed tree once (bench/out/tree), then times three runs of
#   sqbackup create TREE --output IMG --compressor zstd --level L --block-size B --threads 2
# and of
#   mksquashfs TREE IMG -comp zstd -Xcompression-level L -b B -processors 2 -noappend
# and prints the medians and the ratios ours/mksquashfs (target: time ≤ 1.0×, size ≤ 1.02×).
#
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-3}
block=${2:-131072}
out=bench/out
tree=$out/tree
. bench/common.sh
bench_tree "$tree" 200

bench_binary


run_ours() {
    rm -f "$out/ours.sqfs"
    local start end
    start=$(seconds)
    "$SQBACKUP_BIN" create "$tree" --output "$out/ours.sqfs" --compressor zstd --level "$level" \
        --block-size "$block" --threads 2 > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}

run_theirs() {
    rm -f "$out/mksquashfs.sqfs"
    local start end
    start=$(seconds)
    env -u SOURCE_DATE_EPOCH mksquashfs "$tree" "$out/mksquashfs.sqfs" -comp zstd -Xcompression-level "$level" \
        -b "$block" -processors 2 -noappend -no-progress -quiet > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}

# Interleaved, so that load from elsewhere on the machine hits both tools alike.
ours_times=()
theirs_times=()
for _ in 1 2 3; do
    ours_times+=("$(run_ours)")
    theirs_times+=("$(run_theirs)")
done
ours_time=$(printf '%s\n' "${ours_times[@]}" | median)
theirs_time=$(printf '%s\n' "${theirs_times[@]}" | median)
ours_size=$(stat -c %s "$out/ours.sqfs")
theirs_size=$(stat -c %s "$out/mksquashfs.sqfs")
tree_size=$(du -sb "$tree" | cut -f1)

printf 'tree        %d bytes\n' "$tree_size"
printf 'zstd level %s, block size %s, 2 threads, median of 3\n' "$level" "$block"
printf 'sqbackup    %6.2f s  %d bytes\n' "$ours_time" "$ours_size"
printf 'mksquashfs  %6.2f s  %d bytes\n' "$theirs_time" "$theirs_size"
printf 'ratio       time %.3f×  size %.3f×\n' "$(echo "$ours_time / $theirs_time" | bc -l)" \
    "$(echo "$ours_size / $theirs_size" | bc -l)"
