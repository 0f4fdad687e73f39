#!/usr/bin/env bash
# The spec's "backup before destructive operations" pattern: back up before `rm -rf node_modules`
# and a reinstall; when the reinstall fails, restore the backup and the project works as before.
# Runs on the embedded local store in a temp dir.
# Usage: examples/destructive-op.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-destructive.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
project="$work/project"

mkdir -p "$project/node_modules/left-pad"
printf '{ "name": "app", "dependencies": { "left-pad": "1.3.0" } }\n' > "$project/package.json"
printf 'module.exports = (s, n) => s.padStart(n)\n' > "$project/node_modules/left-pad/index.js"
works() { [ -f "$project/node_modules/left-pad/index.js" ]; }
works || fail "the project is broken before the operation"

echo "== back up before the destructive operation"
id=$("$sqbackup" create "$project" --description "before reinstalling node_modules" --ttl 1d --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

echo "== rm -rf node_modules, then a reinstall that fails (no network in this sandbox)"
rm -rf "$project/node_modules"
reinstall() { mkdir -p "$project/node_modules" && false; }
if reinstall && works; then
  fail "the reinstall was expected to fail in this example"
fi
works && fail "node_modules is still there after rm -rf"

echo "== the reinstall failed: restore the backup"
"$sqbackup" restore "$id"
works || fail "node_modules did not come back"
cat "$project/node_modules/left-pad/index.js"

"$sqbackup" delete "$id"
echo "destructive operation example finished: node_modules restored"
