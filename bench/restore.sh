#!/usr/bin/env bash
# Restore benchmark, on the local store:
#   (a) full restore: `sqbackup restore ID --target T` vs the vendor's path, a copy of the whole
#       image to local disk followed by `unsquashfs -d` (target: ours ≤ 0.6× time), and vs
#       `unsquashfs -d` of the store's own image file (no copy; target: ≤ 1.0×);
#   (b) rollback with 1% of the files changed vs a full restore (target: ≤ 0.1× time and bytes);
#   (c) over HTTP with a 20 ms round trip (Tests/Servers/range_server.py behind delay_proxy.py):
#       `sqbackup restore URL` vs 8 parallel ranged curls of the image + `unsquashfs -d`.
#
#   (d) time until a `restore --lazy` root over that HTTP link is usable (first `ls` done;
#       target: <= 1 s), then `unmount`.
#
#   bench/restore.sh            (uses bench/out/tree, the ~200 MB mixed tree of bench/create.sh)
#   TREE_MB=1024 bench/restore.sh   (a ~1 GiB tree in bench/out/tree-1024)
#
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
# RESTORE_WORK is where both restore (default bench/out/restore-work). On ext4, deleting and
# re-creating thousands of files makes inode allocation slower run after run (ext4_create's
# recently_deleted scan) for both tools alike; RESTORE_WORK=/dev/shm/restore-bench measures the
# tools instead of that.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
megabytes=${TREE_MB:-200}
tree=$out/tree
[ "$megabytes" = 200 ] || tree=$out/tree-$megabytes
. bench/common.sh
bench_tree "$tree" "$megabytes"
bench_binary
store=$PWD/$out/restore-store
work=${RESTORE_WORK:-$out/restore-work}
rm -rf "$store" "$work"
mkdir -p "$work"
id=$("$SQBACKUP_BIN" create "$tree" --store "file://$store" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
image=$(find "$store" -name data.sqsh)
field() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

ours=()
vendor=()
direct=()
for run in 1 2 3; do
    rm -rf "$work/ours" "$work/vendor" "$work/image.sqsh"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    start=$(seconds)
    "$SQBACKUP_BIN" restore "$id" --store "file://$store" --target "$work/ours" --json > "$work/full.json"
    ours+=("$(echo "$(seconds) - $start" | bc)")
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    start=$(seconds)
    cp "$image" "$work/image.sqsh"
    unsquashfs -q -n -d "$work/vendor" "$work/image.sqsh" > /dev/null
    vendor+=("$(echo "$(seconds) - $start" | bc)")
    rm -rf "$work/vendor"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    start=$(seconds)
    unsquashfs -q -n -d "$work/vendor" "$image" > /dev/null
    direct+=("$(echo "$(seconds) - $start" | bc)")
done
ours_median=$(printf '%s\n' "${ours[@]}" | median)
vendor_median=$(printf '%s\n' "${vendor[@]}" | median)
direct_median=$(printf '%s\n' "${direct[@]}" | median)
full_fetched=$(field "$work/full.json" bytesFetched)

# (b) change 1% of the regular files (new content, new mtime), then roll back.
mapfile -t files < <(find "$work/ours" -type f | sort)
step=100
rollback=()
for run in 1 2 3; do
    for ((i = run; i < ${#files[@]}; i += step)); do echo "changed $run" >> "${files[$i]}"; done
    start=$(seconds)
    "$SQBACKUP_BIN" restore "$id" --store "file://$store" --target "$work/ours" --force --json > "$work/rollback.json"
    rollback+=("$(echo "$(seconds) - $start" | bc)")
done
rollback_median=$(printf '%s\n' "${rollback[@]}" | median)
rollback_fetched=$(field "$work/rollback.json" bytesFetched)
rollback_written=$(field "$work/rollback.json" filesRestored)

printf 'image %s bytes, %s files\n' "$(stat -c %s "$image")" "${#files[@]}"
printf 'full restore: ours %.2f s, copy + unsquashfs -d %.2f s, ratio %.2f (target <= 0.6)\n' \
    "$ours_median" "$vendor_median" "$(echo "$ours_median / $vendor_median" | bc -l)"
printf 'full restore: ours %.2f s, unsquashfs -d of the same image %.2f s, ratio %.2f (target <= 1.0)\n' \
    "$ours_median" "$direct_median" "$(echo "$ours_median / $direct_median" | bc -l)"
printf 'rollback 1%%: %.3f s (%s files rewritten, %s bytes fetched) vs full %.2f s (%s bytes): time %.3f, bytes %.3f (target <= 0.1)\n' \
    "$rollback_median" "$rollback_written" "$rollback_fetched" "$ours_median" "$full_fetched" \
    "$(echo "$rollback_median / $ours_median" | bc -l)" "$(echo "$rollback_fetched / $full_fetched" | bc -l)"

# (c) HTTP with a 20 ms round trip. The servers exit when their stdin (fds 3 and 4) closes.
http=$work/http
mkdir -p "$http"
cp "$image" "$http/img.sqsh"
exec 3> >(exec python3 Tests/Servers/range_server.py "$http" 0 > "$work/range_server.log" 2>&1)
until grep -q READY "$work/range_server.log" 2>/dev/null; do sleep 0.1; done
upstream=$(sed -n 's/READY port=//p' "$work/range_server.log")
exec 4> >(DELAY_MS=10 exec python3 Tests/Servers/delay_proxy.py "$upstream" 0 > "$work/delay_proxy.log" 2>&1)
until grep -q READY "$work/delay_proxy.log" 2>/dev/null; do sleep 0.1; done
url=http://127.0.0.1:$(sed -n 's/READY port=//p' "$work/delay_proxy.log")/img.sqsh
size=$(stat -c %s "$image")
remote_ours=()
remote_vendor=()
for run in 1 2 3; do
    rm -rf "$work/h-ours" "$work/h-vendor" "$work"/part* "$work/h.sqsh"
    start=$(seconds)
    "$SQBACKUP_BIN" restore "$url" --target "$work/h-ours" --json > /dev/null
    remote_ours+=("$(echo "$(seconds) - $start" | bc)")
    start=$(seconds)
    pids=()
    for k in 0 1 2 3 4 5 6 7; do
        curl -s -r $((k * size / 8))-$(((k + 1) * size / 8 - 1)) "$url" -o "$work/part$k" &
        pids+=($!)
    done
    wait "${pids[@]}"  # not a bare wait: that would also wait for the servers
    cat "$work"/part{0..7} > "$work/h.sqsh"
    unsquashfs -q -n -d "$work/h-vendor" "$work/h.sqsh" > /dev/null
    remote_vendor+=("$(echo "$(seconds) - $start" | bc)")
done
lazy=()
for run in 1 2 3; do
    start=$(seconds)
    SQBACKUP_STATE_DIR=$work/state "$SQBACKUP_BIN" restore "$url" --target "$work/lazy" --lazy > /dev/null
    ls "$work/lazy" > /dev/null
    lazy+=("$(echo "$(seconds) - $start" | bc)")
    SQBACKUP_STATE_DIR=$work/state "$SQBACKUP_BIN" unmount "$work/lazy"
done
exec 3>&- 4>&-
lazy_median=$(printf '%s\n' "${lazy[@]}" | median)
remote_ours_median=$(printf '%s\n' "${remote_ours[@]}" | median)
remote_vendor_median=$(printf '%s\n' "${remote_vendor[@]}" | median)
printf 'http, 20 ms RTT: ours %.2f s, 8 ranged curls + unsquashfs -d %.2f s, ratio %.2f (target <= 0.6)\n' \
    "$remote_ours_median" "$remote_vendor_median" "$(echo "$remote_ours_median / $remote_vendor_median" | bc -l)"
printf 'lazy root usable over http, 20 ms RTT: %.3f s (target <= 1 s)\n' "$lazy_median"
