#!/usr/bin/env bash
# Runs the test suite with a time limit. A suite that hangs (a FUSE request nobody answers, a
# child that never exits) must fail with a picture of who waits on what, not hold CI until
# its own limit: past SQB_TEST_TIMEOUT seconds (default 1500) this prints the process tree,
# the FUSE mounts, each stuck thread's kernel stack and the test process's thread backtraces,
# then kills the run and exits 124.
set -uo pipefail
cd "$(dirname "$0")/.."
limit=${SQB_TEST_TIMEOUT:-1500}

# Line-buffered, so the log shows the last tests that really ran, not a 4 KiB-old block.
runner=()
command -v stdbuf >/dev/null && runner=(stdbuf -oL -eL)
# Helpers and mount daemons leave the process group and are reparented, so they are found
# by this mark in the environment they inherit.
export SQB_TEST_RUN="tests-$$-$RANDOM"
# The man page tests run `make install` with swift-argument-parser's generate-manual, built here
# because a test cannot build it: `swift test` holds the build directory's lock.
"${SWIFT:-swift}" build --product generate-manual >/dev/null || exit 1
"${runner[@]}" "${SWIFT:-swift}" test "$@" &
tests=$!

ours() {
  grep -lzx "SQB_TEST_RUN=$SQB_TEST_RUN" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 | grep -vx "$$"
}

# A background job of a script ignores SIGINT, so Ctrl-C (or CI stopping this) must be passed on.
trap 'kill -TERM $(ours) 2>/dev/null; exit 130' INT TERM

diagnose() {
  echo "=== tests still running after ${limit}s: what they wait on ==="
  ps -eo pid,ppid,pgid,stat,etimes,wchan:30,args --forest | grep -v ' \[.*\]$' | tail -n 80
  echo "--- FUSE mounts"
  grep -E ' fuse[. ]|fuse\.' /proc/self/mounts || echo "(none)"
  local pid task
  for pid in $(ours); do
    for task in /proc/"$pid"/task/*; do
      # Threads blocked in the kernel (D), or asleep anywhere but the usual idle waits.
      case "$(cut -d' ' -f3 "$task/stat" 2>/dev/null)" in D|S) ;; *) continue ;; esac
      local wchan
      wchan=$(cat "$task/wchan" 2>/dev/null)
      case "$wchan" in *futex*|*poll*|*select*|*sigsuspend*|*nanosleep*|0|"") continue ;; esac
      echo "--- $pid/$(basename "$task") $(cat "$task/comm" 2>/dev/null) in $wchan"
      cat "$task/stack" 2>/dev/null | head -n 12
    done
  done
  if command -v gdb >/dev/null; then
    for pid in $(ours); do
      grep -qE 'PackageTests|sqbackup' /proc/"$pid"/cmdline 2>/dev/null || continue
      echo "--- backtraces of $pid: $(tr '\0' ' ' < /proc/"$pid"/cmdline | cut -c1-120)"
      timeout 60 gdb -p "$pid" -batch -ex 'thread apply all bt 25' 2>/dev/null \
        | grep -E '^(Thread|#)' | head -n 600
    done
  fi
}

waited=0
while kill -0 "$tests" 2>/dev/null; do
  sleep 5
  waited=$((waited + 5))
  if [ "$waited" -ge "$limit" ]; then
    diagnose
    kill -KILL $(ours) 2>/dev/null
    # The killed daemons' mounts are dead now ("not connected"); detach those, and only those.
    awk '$3 ~ /^fuse/ { print $2 }' /proc/self/mounts | while read -r mountpoint; do
      mountpoint=$(printf '%b' "$mountpoint")
      if timeout 5 stat "$mountpoint" 2>&1 | grep -q 'not connected'; then umount -l "$mountpoint" 2>/dev/null; fi
    done
    wait "$tests" 2>/dev/null
    echo "error: the tests did not finish within ${limit}s (SQB_TEST_TIMEOUT); see above" >&2
    exit 124
  fi
done
wait "$tests"
