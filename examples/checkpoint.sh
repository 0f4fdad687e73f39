#!/usr/bin/env bash
# The spec's checkpoint pattern with the CLI, on the embedded local store in a temp dir:
# back up a project, break it, browse the checkpoint by id without extracting it, then clean up.
# Usage: examples/checkpoint.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-checkpoint.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
cleanup() {
  "$sqbackup" unmount "$work/mnt" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/workspace/src" "$work/mnt"
printf 'def answer():\n    return 42\n' > "$work/workspace/src/app.py"
printf '# my project\n' > "$work/workspace/README.md"

echo "== checkpoint before the refactor"
id=$("$sqbackup" create "$work/workspace" --description "before refactor" \
  --meta session_id=demo --sandbox-id demo-sandbox --ttl 1d --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "backup id: $id"

echo "== the refactor goes wrong"
printf 'def answer(:\n' > "$work/workspace/src/app.py"

echo "== list the checkpoints of this session"
"$sqbackup" list --meta session_id=demo

echo "== mount the checkpoint by id (read-only, lazily) and compare"
"$sqbackup" mount "$id" "$work/mnt"
diff -u "$work/mnt/src/app.py" "$work/workspace/src/app.py" || true

echo "== roll the file back from the checkpoint"
cp "$work/mnt/src/app.py" "$work/workspace/src/app.py"
cat "$work/workspace/src/app.py"

echo "== unmount and delete the checkpoint"
"$sqbackup" unmount "$work/mnt"
"$sqbackup" delete "$id"
echo "checkpoint example finished"
