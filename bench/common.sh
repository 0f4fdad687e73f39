# Shared by the bench scripts (sourced from the repository root).

# bench_tree DIR MEGABYTES: the deterministic mixed tree of bench/make_tree.py, made once, and
# read once so that whichever tool runs first doesn't pay for the cold page cache.
bench_tree() {
    mkdir -p "$(dirname "$1")"
    if [ ! -f "$1.done" ]; then
        rm -rf "$1"
        python3 bench/make_tree.py "$1" $(($2 * 1024 * 1024))
        touch "$1.done"
    fi
    tar cf - "$1" > /dev/null
}

# bench_binary: sets SQBACKUP_BIN to a release build as `make release` makes it (in .build-bench) unless it is already set.
bench_binary() {
    if [ -z "${SQBACKUP_BIN:-}" ]; then
        swift build -c release --static-swift-stdlib -Xswiftc -use-ld=lld --scratch-path .build-bench --product sqbackup >&2
        SQBACKUP_BIN=.build-bench/release/sqbackup
    fi
}

# seconds: now, for timing; median: the median of the numbers on stdin, one per line.
seconds() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
