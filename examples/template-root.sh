#!/usr/bin/env bash
# The spec's template pattern as an instant root (needs root: kernel overlayfs): snapshot a set-up
# project once, then give each new sandbox a writable copy at once with `restore --lazy`, hydrate it
# in the background, and tear it down. Runs on the embedded local store in a temp dir.
# Usage: sudo examples/template-root.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-template.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"      # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"      # where lazy roots keep their upper layers
cleanup() {
  "$sqbackup" unmount "$work/sandbox" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/template/node_modules/left-pad"
printf '{ "name": "app", "version": "1.0.0" }\n' > "$work/template/package.json"
printf 'module.exports = (s, n) => s.padStart(n)\n' > "$work/template/node_modules/left-pad/index.js"

echo "== template backup"
id=$("$sqbackup" create "$work/template" --description "template" --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

echo "== a new sandbox from the template, usable at once"
"$sqbackup" restore "$id" --target "$work/sandbox" --lazy --hydrate
cat "$work/sandbox/package.json"
printf 'console.log("hi")\n' > "$work/sandbox/main.js"        # writes land in the upper layer
"$sqbackup" status "$work/sandbox" | sed -n 1,2p  # not head: status would die of SIGPIPE

echo "== done with the sandbox"
"$sqbackup" unmount "$work/sandbox"
[ ! -e "$work/sandbox" ] && echo "template root example finished"
