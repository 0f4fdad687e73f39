#!/usr/bin/env bash
# Mount daemon memory under load: peak RSS (VmHWM) minus the configured memory cache while several
# large files stream through the mount at once, from the local store (and moto, see below), with the
# default 256 MiB memory cache and a small one; squashfuse_ll on the same image side by side.
#
#   bench/memory.sh [RUNS] [extra bench/memory.py arguments…]      (root; default 5 runs)
#   bench/memory.sh 3 --stores local,s3 --file-mib 64               (moto too; it is slow)
#
# Target: ours at most 64 MiB above the configured memory cache.
# SQBACKUP_BIN overrides the sqbackup binary (default: a release build in .build-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
shift || true
. bench/common.sh
bench_binary
python3 bench/memory.py "$SQBACKUP_BIN" --runs "$runs" "$@"
