#!/usr/bin/env bash
# The main job on the embedded default store (a local directory, no cloud account): snapshot a
# small project, list it, mount it read-only by id without extracting it, then clean up.
# Usage: examples/demo.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-demo.XXXXXX)
id=""
cleanup() {
  "$sqbackup" unmount "$work/mnt" 2>/dev/null || true
  [ -z "$id" ] || "$sqbackup" delete "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/project/src" "$work/mnt"
printf 'print("hello from the snapshot")\n' > "$work/project/src/main.py"
printf '# demo project\n' > "$work/project/README.md"
ln -s src/main.py "$work/project/entrypoint"

echo "== sqbackup create $work/project"
id=$("$sqbackup" create "$work/project" --description "demo snapshot" --meta purpose=demo --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "backup id: $id"

echo "== sqbackup list"
"$sqbackup" list --meta purpose=demo

echo "== sqbackup mount $id (read-only; returns once the mount is ready)"
"$sqbackup" mount "$id" "$work/mnt"
ls -lR "$work/mnt"
cat "$work/mnt/src/main.py"
"$sqbackup" status "$work/mnt"

echo "== sqbackup unmount, delete"
"$sqbackup" unmount "$work/mnt"
"$sqbackup" delete "$id"
id=""
echo "demo finished"
