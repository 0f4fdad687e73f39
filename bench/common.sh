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

# start_s3_server LOG: the S3 test server (moto, signatures checked) with bucket `bench`, as a
# coprocess that exits when its stdin closes. Sets s3_pid, s3_in and s3_ready (its READY line, read
# with s3_field NAME) and exports BENCH_S3_* for it. Install a trap calling stop_s3_server first.
start_s3_server() {
    coproc S3 { exec python3 Tests/Servers/s3_server.py 0 --bucket bench 2>"$1"; }
    s3_pid=$S3_PID
    exec {s3_in}>&"${S3[1]}"
    read -r s3_ready <&"${S3[0]}"
    case "$s3_ready" in READY*) ;; *) echo "the S3 server did not start: $s3_ready" >&2; return 1 ;; esac
    export BENCH_S3_ENDPOINT="http://127.0.0.1:$(s3_field port)" BENCH_S3_BUCKET=bench
    export BENCH_S3_ACCESS_KEY=$(s3_field access_key) BENCH_S3_SECRET_KEY=$(s3_field secret_key)
    export BENCH_S3_REGION=$(s3_field region)
}
s3_field() { tr ' ' '\n' <<< "$s3_ready" | sed -n "s/^$1=//p"; }
stop_s3_server() {
    [ -n "${s3_pid:-}" ] || return 0
    exec {s3_in}>&-
    kill "$s3_pid" 2> /dev/null || true
    wait "$s3_pid" 2> /dev/null || true
}
