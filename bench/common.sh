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

# The flags of `make release` (Makefile RELEASE): the Swift runtime linked statically, with lld.
release_flags=(-c release --static-swift-stdlib -Xswiftc -use-ld=lld)

# release_build [swift build flags…]: builds sqbackup as `make release` does (run from the
# repository root) and prints the binary's path.
release_build() {
    swift build "${release_flags[@]}" "$@" --product sqbackup >&2
    echo "$(swift build "${release_flags[@]}" "$@" --show-bin-path)/sqbackup"
}

# bench_binary: sets SQBACKUP_BIN to a release build (in .build-bench) unless it is already set.
bench_binary() {
    if [ -z "${SQBACKUP_BIN:-}" ]; then
        SQBACKUP_BIN=$(release_build --scratch-path .build-bench)
    fi
}

# seconds: now, for timing; median: the median of the numbers on stdin, one per line.
seconds() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
