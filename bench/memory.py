#!/usr/bin/env python3
"""The mount daemon's peak memory while files stream through it, against squashfuse_ll.

Usage (as root, from the repository root; bench/memory.sh builds the binary and calls this):
    memory.py SQBACKUP_BIN [--runs N] [--caches 256,32] [--files 4] [--file-mib 256] [--stores local[,s3]]

A tree of FILES half-compressible files of FILE_MIB MiB each is backed up once into a local store
and, with `s3` in --stores, into the tests' moto server (Tests/Servers/s3_server.py). Each run
mounts the backup by id with `--memory-cache CACHE` (a fresh disk cache directory, so every block
is fetched), drops the page cache, reads all the files at once, sequentially in 1 MiB reads, one
thread per file, and reads the daemon's peak resident set (VmHWM in /proc/PID/status) before
unmounting. squashfuse_ll mounts the same image file, read the same way. Runs are interleaved;
medians are printed: ours as peak minus the configured memory cache (the target is at most 64 MiB
above it), squashfuse_ll as its peak. moto serves a 1 GiB object at a few MiB/s (it reads the
whole object for every range), so `s3` runs take minutes each; use smaller files with it.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time

OUT = "bench/out/memory"


def sh(*args, env=None, capture=False):
    result = subprocess.run(list(args), env=env, check=True, text=True, capture_output=capture)
    return result.stdout if capture else None


def make_tree(root, files, mib):
    """Half random, half runs of one byte: zstd stores about half of each block."""
    done = root + ".done"
    if os.path.exists(done) and open(done).read() == f"{files} {mib}":
        return
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rng = random.Random(20261208)
    for index in range(files):
        with open(os.path.join(root, f"big{index}.bin"), "wb") as out:
            for _ in range(mib * 8):
                out.write(rng.randbytes(64 << 10) + bytes([index + 65]) * (64 << 10))
    with open(done, "w") as marker:
        marker.write(f"{files} {mib}")


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as control:
        control.write("3\n")


def read_all(mountpoint, names):
    """Reads every file at once, one thread each, 1 MiB at a time; returns the seconds taken."""
    errors = []

    def read(name):
        try:
            with open(os.path.join(mountpoint, name), "rb", buffering=0) as source:
                while source.read(1 << 20):
                    pass
        except OSError as error:
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=read, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return time.monotonic() - started


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    state = [line.strip() for line in open(f"/proc/{pid}/status") if line.startswith(("Name:", "State:"))]
    raise RuntimeError(f"no VmHWM for pid {pid} ({', '.join(state)})")


def wait_unmounted(mountpoint):
    for _ in range(200):
        if not os.path.ismount(mountpoint):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{mountpoint} is still mounted")


def run_ours(binary, backup_id, env, mountpoint, cache_mib, names):
    cache_dir = os.path.join(OUT, "disk-cache")
    shutil.rmtree(cache_dir, ignore_errors=True)
    drop_caches()
    sh(binary, "mount", backup_id, mountpoint, "--memory-cache", f"{cache_mib}M", "--cache-dir", cache_dir, env=env)
    try:
        status = json.loads(sh(binary, "status", mountpoint, "--json", env=env, capture=True))
        mounts = status["mounts"] if isinstance(status, dict) else status
        pid = mounts[0]["pid"]
        seconds = read_all(mountpoint, names)
        peak = peak_kib(pid)
    finally:
        sh(binary, "unmount", mountpoint, env=env)
        wait_unmounted(mountpoint)
    return peak / 1024 - cache_mib, seconds


def run_theirs(image, mountpoint, names):
    drop_caches()
    daemon = subprocess.Popen(["squashfuse_ll", "-f", image, mountpoint])
    try:
        for _ in range(200):
            if os.path.ismount(mountpoint):
                break
            time.sleep(0.05)
        seconds = read_all(mountpoint, names)
        peak = peak_kib(daemon.pid)
    finally:
        subprocess.run(["umount", mountpoint], check=False)
        daemon.wait(timeout=30)
    return peak / 1024, seconds


def start_moto():
    server = subprocess.Popen(
        [sys.executable, "Tests/Servers/s3_server.py", "0", "--bucket", "bench"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(OUT, "s3_server.log"), "w"), text=True)
    ready = server.stdout.readline().split()
    if not ready or ready[0] != "READY":
        raise RuntimeError(f"the S3 server did not start: {ready}")
    fields = dict(item.split("=", 1) for item in ready[1:])
    env = dict(os.environ)
    env.update({
        "BACKUP_BUCKET_NAME": "bench", "BACKUP_BUCKET_ENDPOINT": f"http://127.0.0.1:{fields['port']}",
        "R2_ACCESS_KEY_ID": fields["access_key"], "R2_SECRET_ACCESS_KEY": fields["secret_key"],
        "AWS_REGION": fields["region"], "SQBACKUP_STORE": "", "SQBACKUP_STORE_DIR": "",
    })
    return server, env


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("sqbackup")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--caches", default="256,32")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--file-mib", type=int, default=256)
    parser.add_argument("--stores", default="local")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    tree = os.path.join(OUT, "tree")
    make_tree(tree, args.files, args.file_mib)
    names = sorted(os.listdir(tree))
    mountpoint = os.path.join(OUT, "mnt")
    os.makedirs(mountpoint, exist_ok=True)

    stores = {}
    servers = []
    store_dir = os.path.abspath(os.path.join(OUT, "store"))
    shutil.rmtree(store_dir, ignore_errors=True)
    for store in args.stores.split(","):
        if store == "local":
            env = dict(os.environ, SQBACKUP_STORE=f"file://{store_dir}", SQBACKUP_STORE_DIR="")
        else:
            server, env = start_moto()
            servers.append(server)
        backup_id = sh(args.sqbackup, "create", tree, "--quiet", env=env, capture=True).strip()
        stores[store] = (backup_id, env)
    local_id = stores.get("local", (None,))[0]
    image = os.path.join(store_dir, "backups", local_id, "data.sqsh") if local_id else None
    if image is None:
        image = os.path.join(OUT, "image.sqsh")
        sh(args.sqbackup, "create", tree, "--output", image, "--quiet", capture=True)

    caches = [int(value) for value in args.caches.split(",")]
    samples = {}
    try:
        for run in range(args.runs):
            cases = [("squashfuse_ll", None, None)] + [
                (f"sqbackup {store}, cache {cache} MiB", store, cache) for store in stores for cache in caches]
            if run % 2:
                cases.reverse()
            for label, store, cache in cases:
                if store is None:
                    result = run_theirs(image, mountpoint, names)
                else:
                    backup_id, env = stores[store]
                    result = run_ours(args.sqbackup, backup_id, env, mountpoint, cache, names)
                samples.setdefault(label, []).append(result)
                print(f"run {run + 1}: {label}: {result[0]:.1f} MiB, {result[1]:.2f} s", file=sys.stderr, flush=True)
    finally:
        for server in servers:
            server.stdin.close()
            server.wait(timeout=30)
    total = args.files * args.file_mib
    print(f"{args.files} files of {args.file_mib} MiB read at once, medians of {args.runs} interleaved runs, "
          f"load average {os.getloadavg()[0]:.1f}")
    for label, values in samples.items():
        memory = statistics.median(value[0] for value in values)
        seconds = statistics.median(value[1] for value in values)
        spread = f"{min(v[0] for v in values):.0f}–{max(v[0] for v in values):.0f}"
        what = "peak RSS" if label == "squashfuse_ll" else "peak RSS − cache"
        print(f"{label:32s} {what:16s} {memory:7.1f} MiB (runs {spread})  read {total / seconds:6.0f} MiB/s")


if __name__ == "__main__":
    main()
