#!/usr/bin/env python3
"""sqbackup mount vs squashfuse_ll on images of millions of entries, made by tar2sqfs from a
generated tar stream (bench/scale_tar.py; no files on disk).

Per tool and run, from dropped caches: mount time (until the mountpoint answers), a cold `find`
(names only: no stat), a cold `ls -lR | wc -l` (every entry stat'ed), and the daemon's peak
RSS (VmHWM) after each walk. Tools are interleaved so machine noise hits both alike; prints
medians and ours/theirs ratios.
"""
import argparse, os, statistics, subprocess, sys, time

def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)

def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")

def image_for(work, entries):
    image = os.path.join(work, f"scale-{entries}.sqsh")
    if not os.path.exists(image):
        start = time.perf_counter()
        tar = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "scale_tar.py"), str(entries)],
                               stdout=subprocess.PIPE)
        sh("tar2sqfs", "-q", "-f", "-c", "zstd", image + ".part", stdin=tar.stdout)
        tar.stdout.close()
        if tar.wait() != 0:
            sys.exit("scale_tar.py failed")
        os.rename(image + ".part", image)
        print(f"made {image} in {time.perf_counter() - start:.0f} s", flush=True)
    return image

def daemon_pid(mnt):
    want = os.path.abspath(mnt).encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if want in args and any(b"squashfuse_ll" in a or b"sqbackup" in a for a in args[:1]):
            return int(pid)
    return None

def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def mount(kind, image, mnt, sqbackup):
    start = time.perf_counter()
    if kind == "sqbackup":
        sh(sqbackup, "mount", image, mnt)
    else:
        sh("squashfuse_ll", image, mnt)
    while not os.path.ismount(mnt):
        time.sleep(0.001)
    os.listdir(mnt)
    return time.perf_counter() - start

def unmount(mnt):
    if os.path.ismount(mnt):
        subprocess.run(["umount", mnt], check=False)
    for _ in range(500):
        if not os.path.ismount(mnt):
            return
        time.sleep(0.02)

def timed_walk(command, mnt):
    start = time.perf_counter()
    sh("sh", "-c", command.replace("MNT", mnt), stdout=subprocess.DEVNULL)
    return time.perf_counter() - start

WALKS = [("find", "find MNT"), ("ls -lR | wc", "ls -lR MNT | wc -l")]

def measure(image, mnt, sqbackup, runs):
    kinds = ["sqbackup", "squashfuse_ll"]
    samples = {kind: {} for kind in kinds}
    for run in range(runs):
        for kind in kinds if run % 2 == 0 else reversed(kinds):
            for label, command in WALKS:
                drop_caches()
                took = mount(kind, image, mnt, sqbackup)
                pid = daemon_pid(mnt)
                samples[kind].setdefault("mount", []).append(took)
                samples[kind].setdefault(label, []).append(timed_walk(command, mnt))
                samples[kind].setdefault(f"peak RSS after {label} (MiB)", []).append(
                    peak_rss_mib(pid) if pid else float("nan"))
                unmount(mnt)
    return samples

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqbackup", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--workdir", default="/var/tmp/sqbackup-scale")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (FUSE mounts and drop_caches)")
    os.makedirs(args.workdir, exist_ok=True)
    mnt = os.path.join(args.workdir, "mnt")
    os.makedirs(mnt, exist_ok=True)
    unmount(mnt)
    for entries in args.entries:
        image = image_for(args.workdir, entries)
        print(f"\n{entries:,} entries, image {os.path.getsize(image) / 1e6:.0f} MB, {args.runs} runs, medians", flush=True)
        samples = measure(image, mnt, args.sqbackup, args.runs)
        for key in samples["sqbackup"]:
            ours = statistics.median(samples["sqbackup"][key])
            theirs = statistics.median(samples["squashfuse_ll"][key])
            unit = "" if "MiB" in key else "s"
            print(f"  {key:32s} sqbackup {ours:9.3f}{unit}  squashfuse_ll {theirs:9.3f}{unit}  ratio {ours / theirs:6.2f}",
                  flush=True)
    print("\nratio = sqbackup / squashfuse_ll")

if __name__ == "__main__":
    main()
