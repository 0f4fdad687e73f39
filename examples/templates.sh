#!/usr/bin/env bash
# The spec's "template creation" pattern: set up a project once, back it up, then start each new
# sandbox from the template. As root the instances are lazy roots (`restore --lazy`: ready at once,
# a writable overlay on a read-only mount); otherwise each is a real restore into a new directory.
# Runs on the embedded local store in a temp dir.
# Usage: examples/templates.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-templates.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"   # lazy roots keep their upper layers here
lazy=()
[ "$(id -u)" = 0 ] && lazy=(--lazy)
cleanup() {
  for sandbox in "$work"/sandbox-*; do
    [ -e "$sandbox" ] && "$sqbackup" unmount "$sandbox" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

echo "== set up the template once (the spec's npm create + npm install)"
mkdir -p "$work/template/node_modules/left-pad" "$work/template/src"
printf '{ "name": "app", "version": "1.0.0" }\n' > "$work/template/package.json"
printf 'module.exports = (s, n) => s.padStart(n)\n' > "$work/template/node_modules/left-pad/index.js"
printf 'console.log("hello")\n' > "$work/template/src/main.js"
id=$("$sqbackup" create "$work/template" --description "vite template" --meta kind=template --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "template backup: $id"

for n in 1 2 3; do
  sandbox="$work/sandbox-$n"
  "$sqbackup" restore "$id" --target "$sandbox" ${lazy[@]+"${lazy[@]}"} >/dev/null
  printf 'sandbox %s was here\n' "$n" > "$sandbox/src/NOTES.md"   # each instance is writable
  cmp -s "$sandbox/package.json" "$work/template/package.json" || fail "sandbox $n lacks the template"
  echo "New project ready from template! ($sandbox${lazy[@]+, lazy})"
done

echo "== the instances are independent"
for n in 1 2 3; do
  grep -q "sandbox $n" "$work/sandbox-$n/src/NOTES.md" || fail "sandbox $n lost its own write"
done
[ ! -e "$work/template/src/NOTES.md" ] || fail "a sandbox wrote into the template"

for n in 1 2 3; do
  if [ ${#lazy[@]} -gt 0 ]; then "$sqbackup" unmount "$work/sandbox-$n"; else rm -rf "$work/sandbox-$n"; fi
done
"$sqbackup" delete "$id"
echo "templates example finished: 3 sandboxes from one template"
