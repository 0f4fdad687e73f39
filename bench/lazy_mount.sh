#!/usr/bin/env bash
# Lazy-mount benchmark: sqbackup's URL mount behind a 20 ms round trip vs the
# vendor's path (parallel download + squashfuse) and vs raw parallel curl.
# Usage: bench/lazy_mount.sh [path/to/sqbackup] [runs] [extra lazy_mount.py flags…]
#   e.g. bench/lazy_mount.sh "" 5 --server nginx --image-mib 1024
# Needs root (FUSE), mksquashfs, squashfuse_ll and curl; nginx only with --server nginx.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
sqbackup=${1:-}
[ -n "$sqbackup" ] || sqbackup=$(cd "$here/.." && release_build)
runs=${2:-5}
shift $(( $# > 2 ? 2 : $# ))
exec python3 "$here/lazy_mount.py" --sqbackup "$sqbackup" --runs "$runs" "$@"
