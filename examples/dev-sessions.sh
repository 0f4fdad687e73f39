#!/usr/bin/env bash
# The spec's "development snapshots" pattern: a backup at the start and at the end of each work
# session, linked by a session_id metadata key, and found again with `list --meta`.
# Runs on the embedded local store in a temp dir.
# Usage: examples/dev-sessions.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-sessions.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
ids() { python3 -c 'import json, sys; print(" ".join(sorted(b["id"] for b in json.load(sys.stdin))))'; }
snapshot() {  # snapshot SESSION PHASE
  "$sqbackup" create "$work/workspace" --description "session $1 $2" \
    --meta session_id="$1" --meta phase="$2" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

mkdir -p "$work/workspace"
printf 'v1\n' > "$work/workspace/notes.txt"

echo "== session A"
a_start=$(snapshot a start)
printf 'v2 (session a)\n' > "$work/workspace/notes.txt"
a_end=$(snapshot a end)

echo "== session B"
b_start=$(snapshot b start)
printf 'v3 (session b)\n' > "$work/workspace/notes.txt"
b_end=$(snapshot b end)

echo "== the snapshots of session A"
"$sqbackup" list --meta session_id=a
found=$("$sqbackup" list --meta session_id=a --json | ids)
expected=$(printf '%s\n' "$a_start" "$a_end" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$found" = "$expected" ] || fail "list --meta session_id=a found [$found], expected [$expected]"
end_of_a=$("$sqbackup" list --meta session_id=a --meta phase=end --json | ids)
[ "$end_of_a" = "$a_end" ] || fail "the end of session A is not $a_end"

echo "== look at how session A ended"
"$sqbackup" restore "$end_of_a" --target "$work/session-a-end" >/dev/null
grep -q 'session a' "$work/session-a-end/notes.txt" || fail "session A's end snapshot has the wrong notes"

"$sqbackup" delete "$a_start" "$a_end" "$b_start" "$b_end"
echo "dev sessions example finished: 2 sessions, 4 snapshots linked by session_id"
