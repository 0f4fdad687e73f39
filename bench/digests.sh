#!/usr/bin/env bash
# What verified bytes cost, each pair interleaved in one run (root: FUSE and drop_caches):
#   (a) create: `sqbackup create --output` with block digests vs `--no-block-digests`
#       (target: ≤ 1.03×);
#   (b) reads through the mount of a backup in a local store (no network, so the check's CPU is
#       all there is to see): every file read cold (`tar` of the mount), and 3000 random 4 KiB
#       reads, verified vs `--no-verify` (target: ≤ 1.05×).
#
#   bench/digests.sh [RUNS]       (default 5; the ~200 MB tree of bench/create.sh)
#
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=bench/out
tree=$out/tree
. bench/common.sh
bench_tree "$tree" 200
bench_binary
work=$(mktemp -d "${TMPDIR:-/tmp}/sqb-digests.XXXXXX")
mnt=$work/mnt
mkdir -p "$mnt"
cleanup() {
    mountpoint -q "$mnt" && "$SQBACKUP_BIN" unmount "$mnt" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

timed_create() {
    rm -f "$work/image.sqfs"
    # The read benchmarks drop the page cache: bring the tree back first, for both sides alike.
    tar cf - "$tree" | cat > /dev/null
    local start end
    start=$(seconds)
    "$SQBACKUP_BIN" create "$tree" --output "$work/image.sqfs" --threads 2 "$@" > /dev/null
    end=$(seconds)
    echo "$end - $start" | bc
}

export SQBACKUP_STORE_DIR=$work/store
id=$("$SQBACKUP_BIN" create "$tree" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
# The files the random reads pick from: the largest ones of the tree.
find "$tree" -type f -size +1M -printf '%P\n' > "$work/large"

# timed_reads KIND FLAGS…: mounts fresh (no disk cache, cold page cache), times KIND, unmounts.
timed_reads() {
    local kind=$1
    shift
    drop_caches
    "$SQBACKUP_BIN" mount "$id" "$mnt" --no-disk-cache "$@"
    local start end
    start=$(seconds)
    if [ "$kind" = sequential ]; then
        tar cf - -C "$mnt" . | cat > /dev/null
    else
        python3 - "$mnt" "$work/large" <<'EOF'
import os, random, sys
mnt, listing = sys.argv[1], sys.argv[2]
files = [os.path.join(mnt, line.strip()) for line in open(listing) if line.strip()]
rng = random.Random(5)
sizes = {f: os.path.getsize(f) for f in files}
for _ in range(3000):
    f = rng.choice(files)
    with open(f, 'rb') as handle:
        handle.seek(rng.randrange(0, max(1, sizes[f] - 4096)))
        handle.read(4096)
EOF
    fi
    end=$(seconds)
    "$SQBACKUP_BIN" unmount "$mnt"
    echo "$end - $start" | bc
}

declare -A times
for _ in $(seq "$runs"); do
    times[create_on]+="$(timed_create) "
    times[create_off]+="$(timed_create --no-block-digests) "
    times[seq_on]+="$(timed_reads sequential) "
    times[seq_off]+="$(timed_reads sequential --no-verify) "
    times[rand_on]+="$(timed_reads random) "
    times[rand_off]+="$(timed_reads random --no-verify) "
done
med() { printf '%s\n' ${times[$1]} | median; }
report() {
    local on off
    on=$(med "$2")
    off=$(med "$3")
    printf '%-34s %8.3f s %8.3f s   %.3f×\n' "$1" "$on" "$off" "$(echo "$on / $off" | bc -l)"
}
printf '%-34s %10s %10s   %s\n' "median of $runs" "verified" "unverified" "ratio"
report "create (builder, 200 MB tree)" create_on create_off
report "read every file, cold" seq_on seq_off
report "3000 random 4 KiB reads, cold" rand_on rand_off
