#!/usr/bin/env bash
# The spec's "testing multiple scenarios" pattern: back up a seeded baseline, run scenario A,
# restore the baseline, run scenario B, compare the outcomes. Every scenario starts from exactly
# the same state. Runs on the embedded local store in a temp dir.
# Usage: examples/scenarios.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-scenarios.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
db="$work/workspace/db.txt"

echo "== seed the baseline"
mkdir -p "$work/workspace"
printf 'alice 100\nbob 50\n' > "$db"
baseline=$("$sqbackup" create "$work/workspace" --description "seeded baseline" --meta kind=baseline --json |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')

run_scenario() {  # run_scenario NAME COMMAND: from the baseline, apply COMMAND, record the outcome
  "$sqbackup" restore "$baseline" >/dev/null
  cmp -s "$db" <(printf 'alice 100\nbob 50\n') || fail "scenario $1 did not start from the baseline"
  eval "$2"
  printf '%s\n' "$(awk '{ s += $2 } END { print s }' "$db")" > "$work/result-$1"
  echo "scenario $1: total $(cat "$work/result-$1")"
}

run_scenario A 'printf "carol 25\n" >> "$db"'                 # a new account
run_scenario B 'sed -i "s/bob 50/bob 0/" "$db"'               # bob spends everything
run_scenario C 'printf "dave 7\n" >> "$db"; touch "$work/workspace/scratch.tmp"'  # new files are undone too

echo "== compare"
[ "$(cat "$work/result-A")" = 175 ] || fail "scenario A: $(cat "$work/result-A"), expected 175"
[ "$(cat "$work/result-B")" = 100 ] || fail "scenario B: $(cat "$work/result-B"), expected 100"
[ "$(cat "$work/result-C")" = 157 ] || fail "scenario C: $(cat "$work/result-C"), expected 157"

"$sqbackup" restore "$baseline" >/dev/null
[ ! -e "$work/workspace/scratch.tmp" ] || fail "the restore kept a file scenario C made"
"$sqbackup" delete "$baseline"
echo "scenarios example finished: A, B and C each ran from the same baseline"
