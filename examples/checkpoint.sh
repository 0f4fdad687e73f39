#!/usr/bin/env bash
# The spec's "project checkpoints" pattern: back up the project, refactor, run the tests; when
# they fail, `sqbackup restore ID` rolls the directory back to the checkpoint (only what differs is
# written, files the refactor added are removed). Runs on the embedded local store in a temp dir.
# Usage: examples/checkpoint.sh [path/to/sqbackup]
set -euo pipefail
sqbackup=${1:-sqbackup}
work=$(mktemp -d /tmp/sqbackup-checkpoint.XXXXXX)
export SQBACKUP_STORE_DIR="$work/store"   # the local store; no cloud configuration needed
export SQBACKUP_STATE_DIR="$work/state"
export PYTHONDONTWRITEBYTECODE=1          # keep the project to its sources
trap 'rm -rf "$work"' EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }

mkdir -p "$work/workspace/src"
printf 'def answer():\n    return 42\n' > "$work/workspace/src/app.py"
printf 'from app import answer\nassert answer() == 42\n' > "$work/workspace/src/test_app.py"
run_tests() { (cd "$work/workspace/src" && python3 test_app.py) 2>/dev/null; }
run_tests || fail "the project's tests fail before the refactor"

echo "== checkpoint before the refactor"
id=$("$sqbackup" create "$work/workspace" --description "Project checkpoint before refactoring" \
  --meta purpose=checkpoint --ttl 1d --json | json_field id)
echo "backup id: $id"

echo "== the refactor"
printf 'def answer():\n    return 41\n' > "$work/workspace/src/app.py"
printf 'half-done\n' > "$work/workspace/src/new_module.py"

echo "== run the tests"
if run_tests; then
  fail "the broken refactor passed its tests"
fi
echo "tests failed: rolling back to the checkpoint"
"$sqbackup" restore "$id"

echo "== after the rollback"
cat "$work/workspace/src/app.py"
run_tests || fail "the tests still fail after the rollback"
[ ! -e "$work/workspace/src/new_module.py" ] || fail "a file the refactor added survived the rollback"

"$sqbackup" delete "$id"
echo "checkpoint example finished: the tests pass again"
