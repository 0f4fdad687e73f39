#!/usr/bin/env bash
# The main job on the embedded default: snapshot a small project and mount the snapshot
# read-only without extracting it, then unmount. Usage: examples/demo.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-demo.XXXXXX)
cleanup() {
  "$sqbackup" unmount "$work/mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/project/src" "$work/mnt"
printf 'print("hello from the snapshot")\n' > "$work/project/src/main.py"
printf '# demo project\n' > "$work/project/README.md"
ln -s src/main.py "$work/project/entrypoint"

echo "== building a snapshot image of $work/project"
mksquashfs "$work/project" "$work/project.sqsh" -comp zstd -noappend -quiet -no-progress >/dev/null

echo "== mounting it read-only (returns once the mount is ready)"
"$sqbackup" mount "$work/project.sqsh" "$work/mnt"
ls -lR "$work/mnt"
cat "$work/mnt/src/main.py"

echo "== unmounting"
"$sqbackup" unmount "$work/mnt"
echo "demo finished"
