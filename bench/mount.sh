#!/usr/bin/env bash
# Mount benchmark: sqbackup mount vs squashfuse_ll on the same image, side by side.
# Usage: bench/mount.sh [path/to/sqbackup] [runs]   (root: needs FUSE and drop_caches)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
sqbackup=${1:-$(cd "$here/.." && release_build)}
exec python3 "$here/mount_bench.py" --sqbackup "$sqbackup" --runs "${2:-5}"
