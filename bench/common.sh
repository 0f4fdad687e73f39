# Shared by the bench scripts (sourced from the repository root).

# bench_tree DIR MEGABYTES: the deterministic mixed tree of bench/make_tree.py, made once.
bench_tree() {
    if [ ! -f "$1.done" ]; then
        rm -rf "$1"
        python3 bench/make_tree.py "$1" $(($2 * 1024 * 1024))
        touch "$1.done"
    fi
}

# bench_binary: sets SQBACKUP_BIN to a release build (in .build-bench) unless it is already set.
bench_binary() {
    if [ -z "${SQBACKUP_BIN:-}" ]; then
        swift build -c release --scratch-path .build-bench --product sqbackup >&2
        SQBACKUP_BIN=.build-bench/release/sqbackup
    fi
}
