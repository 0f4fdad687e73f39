#!/usr/bin/env bash
# Scale benchmark: images of millions of entries (tar2sqfs from a generated tar stream), mount
# time, cold find, cold ls -lR | wc, daemon peak RSS; sqbackup vs squashfuse_ll side by side.
# Usage: bench/scale.sh [path/to/sqbackup] [runs] [entries…]   (root: FUSE and drop_caches)
# Images are kept in /var/tmp/sqbackup-scale (SCALE_WORKDIR): ~0.1 GB per million entries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. bench/common.sh
sqbackup=${1:-}
if [ -z "$sqbackup" ]; then bench_binary; sqbackup=$SQBACKUP_BIN; fi
runs=${2:-3}
shift $(($# > 2 ? 2 : $#))
exec python3 bench/scale_bench.py --sqbackup "$sqbackup" --runs "$runs" \
    --workdir "${SCALE_WORKDIR:-/var/tmp/sqbackup-scale}" --entries "${@:-1000000}"
