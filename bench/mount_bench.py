#!/usr/bin/env python3
"""sqbackup mount vs squashfuse_ll: cold full read, metadata walks, random 4 KiB reads.

Both mount the same image; every run starts from a fresh mount and dropped page cache, and
the two are interleaved so machine noise hits both alike. Prints medians and ours/theirs ratios.
"""
import argparse, os, random, shutil, statistics, subprocess, sys, tempfile, time

def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)

def make_tree(root, entries, big_mib):
    rng = random.Random(7)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz ") for _ in range(rng.randint(3, 12))) for _ in range(2000)]
    per_dir = 100
    for d in range(entries // per_dir):
        dpath = os.path.join(root, "tree", f"d{d // 100:03d}", f"d{d:05d}")
        os.makedirs(dpath, exist_ok=True)
        for f in range(per_dir):
            size = rng.choice([0, 100, 700, 3000, 12000, 40000])
            data = b" ".join(rng.choice(words) for _ in range(size // 7 + 1))[:size]
            with open(os.path.join(dpath, f"f{f:03d}.txt"), "wb") as out:
                out.write(data)
    with open(os.path.join(root, "big.bin"), "wb") as out:
        chunk_rng = random.Random(11)
        for _ in range(big_mib):
            # Half random, half text: compressible, but not trivially.
            out.write(chunk_rng.randbytes(512 * 1024))
            out.write(b" ".join(chunk_rng.choice(words) for _ in range(70000))[: 512 * 1024].ljust(512 * 1024, b"."))

def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")

def mount(kind, image, mnt, sqbackup):
    if kind == "sqbackup":
        sh(sqbackup, "mount", image, mnt)
    else:
        sh("squashfuse_ll", image, mnt)
        for _ in range(200):
            if os.path.ismount(mnt):
                break
            time.sleep(0.01)

def unmount(mnt):
    if os.path.ismount(mnt):
        subprocess.run(["umount", mnt], check=False)
    for _ in range(200):
        if not os.path.ismount(mnt):
            return
        time.sleep(0.02)

def read_all(mnt):
    total = 0
    for dirpath, _, files in os.walk(mnt):
        for name in files:
            with open(os.path.join(dirpath, name), "rb", buffering=0) as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
    return total

def ls_lr(mnt):
    sh("ls", "-lR", mnt, stdout=subprocess.DEVNULL)

def find_all(mnt):
    sh("find", mnt, "-printf", "%p %s %m\n", stdout=subprocess.DEVNULL)

def random_reads(mnt, count=3000):
    path = os.path.join(mnt, "big.bin")
    size = os.path.getsize(path)
    rng = random.Random(5)
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(count):
            os.pread(fd, 4096, rng.randrange(0, size - 4096) & ~4095)
    finally:
        os.close(fd)

CASES = [
    ("read every file, cold", read_all),
    ("ls -lR, fresh mount", ls_lr),
    ("find, fresh mount", find_all),
    ("3000 random 4 KiB reads, cold", random_reads),
]

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqbackup", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--big-mib", type=int, default=256)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (FUSE mounts and drop_caches)")
    if args.workdir:
        run(args, args.workdir)
        return
    # A tree of its own (~1.8 GB with the image): removed afterwards; --workdir keeps one.
    work = tempfile.mkdtemp(prefix="sqbackup-bench-")
    try:
        run(args, work)
    finally:
        unmount(os.path.join(work, "mnt"))
        shutil.rmtree(work, ignore_errors=True)

def run(args, work):
    image = os.path.join(work, "bench.sqsh")
    if not os.path.exists(image):
        print(f"building a tree of {args.entries} entries + a {args.big_mib} MiB file in {work} ...", flush=True)
        make_tree(os.path.join(work, "src"), args.entries, args.big_mib)
        env = dict(os.environ)
        env.pop("SOURCE_DATE_EPOCH", None)
        sh("mksquashfs", os.path.join(work, "src"), image, "-comp", "zstd", "-Xcompression-level", "3",
           "-noappend", "-quiet", "-no-progress", env=env, stdout=subprocess.DEVNULL)
    print(f"image: {os.path.getsize(image) / 1e6:.1f} MB, {args.runs} runs each, medians\n", flush=True)
    mnt = os.path.join(work, "mnt")
    os.makedirs(mnt, exist_ok=True)
    unmount(mnt)
    results = {}
    for label, action in CASES:
        times = {"sqbackup": [], "squashfuse_ll": []}
        for run in range(args.runs):
            order = ["sqbackup", "squashfuse_ll"] if run % 2 == 0 else ["squashfuse_ll", "sqbackup"]
            for kind in order:
                drop_caches()
                mount(kind, image, mnt, args.sqbackup)
                start = time.perf_counter()
                action(mnt)
                times[kind].append(time.perf_counter() - start)
                unmount(mnt)
        ours = statistics.median(times["sqbackup"])
        theirs = statistics.median(times["squashfuse_ll"])
        results[label] = (ours, theirs)
        print(f"{label:34s} sqbackup {ours:8.3f}s  squashfuse_ll {theirs:8.3f}s  ratio {ours / theirs:5.2f}", flush=True)
    print("\nratio = sqbackup / squashfuse_ll (target <= 1.0)")

if __name__ == "__main__":
    main()
