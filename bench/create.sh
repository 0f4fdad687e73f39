#!/usr/bin/env bash
# Image build benchmark: sqbackup's builder vs mksquashfs, same compressor, level and block size.
#
#   bench/create.sh [LEVEL] [BLOCK_SIZE] [RUNS]        (defaults: 3, 131072 and 5)
#
# Generates a deterministic ~200 MB mixed tree once (bench/out/tree), then times RUNS runs of
#   sqbackup create TREE --output IMG --compressor zstd --level L --block-size B --threads 2
# and of
#   mksquashfs TREE IMG -comp zstd -Xcompression-level L -b B -processors 2 -noappend
# and prints the medians and the ratios ours/mksquashfs (target: time ≤ 1.0×, size ≤ 1.0×), with
# each tool's CPU time (user + system, median) and the load average, since the machine is shared.
#
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
level=${1:-3}
block=${2:-131072}
runs=${3:-5}
out=bench/out
tree=$out/tree
. bench/common.sh
bench_tree "$tree" 200

bench_binary


# timed FILE COMMAND…: runs COMMAND and appends "wall cpu" (seconds) to FILE.
timed() {
    local file=$1
    shift
    /usr/bin/time -a -o "$file" -f '%e %U %S' "$@" > /dev/null
}

run_ours() {
    rm -f "$out/ours.sqfs"
    timed "$out/ours.times" "$SQBACKUP_BIN" create "$tree" --output "$out/ours.sqfs" --compressor zstd --level "$level" \
        --block-size "$block" --threads 2
}

run_theirs() {
    rm -f "$out/mksquashfs.sqfs"
    timed "$out/mksquashfs.times" env -u SOURCE_DATE_EPOCH mksquashfs "$tree" "$out/mksquashfs.sqfs" -comp zstd -Xcompression-level "$level" \
        -b "$block" -processors 2 -noappend -no-progress -quiet
}

# Interleaved, so that load from elsewhere on the machine hits both tools alike.
rm -f "$out/ours.times" "$out/mksquashfs.times"
load_before=$(cut -d' ' -f1 /proc/loadavg)
for _ in $(seq "$runs"); do
    run_ours
    run_theirs
done
load_after=$(cut -d' ' -f1 /proc/loadavg)
wall() { awk '{ print $1 }' "$1" | median; }
cpu() { awk '{ print $2 + $3 }' "$1" | median; }
spread() { awk '{ print $1 }' "$1" | sort -g | sed -n '1p;$p' | paste -sd- -; }
ours_time=$(wall "$out/ours.times")
theirs_time=$(wall "$out/mksquashfs.times")
ours_size=$(stat -c %s "$out/ours.sqfs")
theirs_size=$(stat -c %s "$out/mksquashfs.sqfs")
tree_size=$(du -sb "$tree" | cut -f1)

printf 'tree        %d bytes\n' "$tree_size"
printf 'zstd level %s, block size %s, 2 threads, median of %s, load average %s → %s\n' "$level" "$block" "$runs" \
    "$load_before" "$load_after"
printf 'sqbackup    %6.2f s (runs %s s, CPU %.2f s)  %d bytes\n' "$ours_time" "$(spread "$out/ours.times")" \
    "$(cpu "$out/ours.times")" "$ours_size"
printf 'mksquashfs  %6.2f s (runs %s s, CPU %.2f s)  %d bytes\n' "$theirs_time" "$(spread "$out/mksquashfs.times")" \
    "$(cpu "$out/mksquashfs.times")" "$theirs_size"
printf 'ratio       time %.3f×  CPU %.3f×  size %.3f×\n' "$(echo "$ours_time / $theirs_time" | bc -l)" \
    "$(echo "$(cpu "$out/ours.times") / $(cpu "$out/mksquashfs.times")" | bc -l)" \
    "$(echo "$ours_size / $theirs_size" | bc -l)"
