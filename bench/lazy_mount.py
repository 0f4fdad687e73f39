#!/usr/bin/env python3
"""Lazy mount over a slow network: sqbackup's URL mount vs the vendor's restore path.

A range server (Tests/Servers/range_server.py, or nginx with --server nginx) serves one
image of about --image-mib MiB; Tests/Servers/delay_proxy.py in front adds --delay-ms each
way (20 ms round trip by default; this kernel has no netem) and, with --link-mbit, caps the
link's rate (default unlimited: then loopback and the CPU are the link). Measured, median of --runs,
each pair interleaved so that machine noise hits both alike:

  (a) time to the first `ls`: `sqbackup mount URL` + ls, vs the vendor's path: the whole
      image downloaded with --parallel ranged curls, then squashfuse_ll + ls. Target >= 20x.
  (b) sequential read of the big file (cold cache) through our mount, vs --parallel ranged
      curls of the same bytes of the image to /dev/null. Target >= 0.9x throughput.
  (c) random 4 KiB reads in the big file: requests, bytes and latency per read, read from the
      range server's counters (always range_server.py: nginx does not count). Also the
      requests that the mount and an `ls -lR` made (targets: <= 3 and 0).

Every mount of ours gets a fresh --cache-dir, so each run is cold. Needs root (FUSE),
mksquashfs, squashfuse_ll, curl; nginx only with --server nginx.
"""
import argparse
import concurrent.futures
import json
import mmap
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = os.path.join(HERE, "..", "Tests", "Servers")


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(*args, **kw):
    return subprocess.run(args, check=True, **kw)


# ---------------------------------------------------------------- image


def make_image(work, image_mib, files):
    """A tree of small text files plus one big incompressible file, so the image is ~image_mib."""
    image = os.path.join(work, "serve", "image.sqsh")
    stamp = os.path.join(work, f"image-{image_mib}-{files}.done")
    if os.path.exists(stamp) and os.path.exists(image):
        return image
    source = os.path.join(work, "src")
    shutil.rmtree(source, ignore_errors=True)
    rng = random.Random(5)
    for index in range(files):
        directory = os.path.join(source, "tree", f"d{index // 1000:02d}", f"e{index // 100:03d}")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, f"f{index:05d}.txt"), "w") as out:
            out.write(f"file {index}\n" * rng.randint(1, 300))
    big_mib = max(1, image_mib - 8)
    with open(os.path.join(source, "big.bin"), "wb") as out:
        # Random bytes: squashfs stores them uncompressed, so the image is as big as the data
        # and the file's bytes can be found in it (see locate()).
        for _ in range(big_mib):
            out.write(os.urandom(1 << 20))
    os.makedirs(os.path.dirname(image), exist_ok=True)
    if os.path.exists(image):
        os.unlink(image)
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    run("mksquashfs", source, image, "-comp", "zstd", "-Xcompression-level", "3", "-noappend", "-quiet",
        stdout=subprocess.DEVNULL, env=env)
    open(stamp, "w").close()
    return image


def locate(image, source_file):
    """Offset of source_file's first block inside image (its data is stored uncompressed)."""
    with open(source_file, "rb") as f:
        probe = f.read(4096)
    with open(image, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        offset = m.find(probe)
    if offset < 0:
        raise SystemExit("big.bin's data not found verbatim in the image (was it compressed?)")
    return offset


# ---------------------------------------------------------------- servers


class Helper:
    """A Tests/Servers script: started with a pipe on stdin (it exits when the pipe closes)."""

    def __init__(self, script, args, env=None):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(SERVERS, script)] + [str(a) for a in args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            raise SystemExit(f"{script} did not start: {line!r}")
        self.port = int(line.split("port=")[1].split()[0])

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


class Nginx:
    def __init__(self, root, work):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="nginx-", dir=work)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as out:
            out.write(f"""
daemon off; user root; worker_processes 2; pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; keepalive_timeout 120;
  server {{ listen 127.0.0.1:{self.port}; root {root}; location / {{ }} }}
}}
""")
        self.process = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir])
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nginx did not start; see " + self.dir)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


def server_stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats") as answer:
        return json.load(answer)


def server_reset(port):
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/__reset", method="POST")).read()


# ---------------------------------------------------------------- mounts


def wait_mounted(mountpoint, timeout=30):
    deadline = time.monotonic() + timeout
    while not os.path.ismount(mountpoint):
        if time.monotonic() > deadline:
            raise SystemExit(f"{mountpoint} did not mount")
        time.sleep(0.002)


def unmount(mountpoint):
    subprocess.run(["umount", mountpoint], check=False, stderr=subprocess.DEVNULL)
    for _ in range(500):
        if not os.path.ismount(mountpoint):
            break
        time.sleep(0.01)
    else:
        subprocess.run(["umount", "-l", mountpoint], check=False)
    # Our daemon finishes its disk-cache writes after the unmount; the next run must not race it.
    for _ in range(3000):
        if subprocess.run(["pgrep", "-f", f"sqbackup mount .* {mountpoint} "], stdout=subprocess.DEVNULL).returncode:
            return
        time.sleep(0.01)


def mount_ours(args, url, mountpoint, cache_dir, prefetch="none"):
    flags = args.mount_args.format(cache_dir=cache_dir, cache_size=args.cache_size, prefetch=prefetch).split()
    run(args.sqbackup, "mount", url, mountpoint, *flags)
    # The command returns when the daemon reports ready; check rather than trust.
    wait_mounted(mountpoint)


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


# ---------------------------------------------------------------- the vendor's path


def ranged_curls(url, start, length, parallel, outputs):
    """`parallel` curls, each one contiguous slice of [start, start+length), into outputs[i]."""
    step = -(-length // parallel)
    jobs = []
    for index in range(parallel):
        first = start + index * step
        last = min(start + length, first + step) - 1
        if first > last:
            break
        jobs.append(subprocess.Popen(
            ["curl", "-sf", "--http1.1", "-r", f"{first}-{last}", "-o", outputs[index], url]))
    for job in jobs:
        if job.wait() != 0:
            raise SystemExit(f"curl failed ({job.args})")
    return len(jobs)


def vendor_download(url, size, parallel, work):
    """The whole image to local disk by parallel ranges, parts joined in the kernel."""
    parts = [os.path.join(work, f"part{index}") for index in range(parallel)]
    count = ranged_curls(url, 0, size, parallel, parts)
    image = os.path.join(work, "downloaded.sqsh")
    with open(image, "wb") as out:
        for part in parts[:count]:
            with open(part, "rb") as piece:
                remaining = os.fstat(piece.fileno()).st_size
                while remaining:
                    remaining -= os.copy_file_range(piece.fileno(), out.fileno(), remaining)
            os.unlink(part)
    return image


# ---------------------------------------------------------------- measurements


def first_ls_ours(args, url, mountpoint, work):
    cache = fresh(os.path.join(work, "cache-a"))
    start = time.monotonic()
    mount_ours(args, url, mountpoint, cache)
    os.listdir(mountpoint)
    elapsed = time.monotonic() - start
    unmount(mountpoint)
    return elapsed


def first_ls_vendor(args, url, size, mountpoint, work):
    scratch = fresh(os.path.join(work, "vendor"))
    start = time.monotonic()
    image = vendor_download(url, size, args.parallel, scratch)
    run("squashfuse_ll", image, mountpoint)
    wait_mounted(mountpoint)
    os.listdir(mountpoint)
    elapsed = time.monotonic() - start
    unmount(mountpoint)
    shutil.rmtree(scratch, ignore_errors=True)
    return elapsed


def read_all(path, chunk=1 << 20):
    total = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            data = os.read(fd, chunk)
            if not data:
                return total
            total += len(data)
    finally:
        os.close(fd)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds all cores spent busy (everything but idle and iowait) since boot."""
    fields = [int(value) for value in open("/proc/stat").readline().split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS


def process_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def daemon_pid(mountpoint):
    found = subprocess.run(["pgrep", "-f", f"mount .* {re.escape(mountpoint)} .*--foreground"],
                           capture_output=True, text=True)
    pids = found.stdout.split()
    return int(pids[0]) if pids else None


def process_tree_seconds(pids):
    """CPU seconds of `pids` and their children (nginx's workers)."""
    total = 0.0
    for pid in pids:
        total += process_seconds(pid)
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        total += sum(process_seconds(int(child)) for child in children)
    return total


HARNESS_PIDS = []  # the range server, proxies and nginx, filled in by main()


class CpuMeter:
    """CPU spent during one side's read, per GB read: the whole machine, the side's own process
    (our mount daemon, or the curls), the reading process, the server and proxy, and whatever
    else ran meanwhile ("other": anything large there means the machine was not quiet)."""

    def __init__(self, pid=None):
        self.pid = pid
        self.machine = machine_busy_seconds()
        self.side = process_seconds(pid) if pid else 0.0
        self.harness = process_tree_seconds(HARNESS_PIDS)
        self.own = os.times()

    def finish(self, bytes_read, children=False):
        own = os.times()
        gb = max(bytes_read, 1) / 1e9
        machine = machine_busy_seconds() - self.machine
        harness = process_tree_seconds(HARNESS_PIDS) - self.harness
        if children:
            side = (own.children_user + own.children_system) - (self.own.children_user + self.own.children_system)
            reader = 0.0
        else:
            side = process_seconds(self.pid) - self.side if self.pid else 0.0
            reader = (own.user + own.system) - (self.own.user + self.own.system)
        return {"machine": machine / gb, "side": side / gb, "reader": reader / gb, "harness": harness / gb,
                "other": max(0.0, machine - side - reader - harness) / gb}


def sequential_ours(args, url, mountpoint, work, expected, cpu):
    cache = fresh(os.path.join(work, "cache-b"))
    mount_ours(args, url, mountpoint, cache)
    try:
        meter = CpuMeter(daemon_pid(mountpoint))
        start = time.monotonic()
        got = read_all(os.path.join(mountpoint, "big.bin"))
        elapsed = time.monotonic() - start
        cpu.append(meter.finish(got))
    finally:
        unmount(mountpoint)
    if got != expected:
        raise SystemExit(f"read {got} bytes of big.bin, expected {expected}")
    return expected / elapsed / 1e6


def sequential_curl(args, url, start_offset, length, cpu):
    meter = CpuMeter()
    start = time.monotonic()
    ranged_curls(url, start_offset, length, args.parallel, ["/dev/null"] * args.parallel)
    elapsed = time.monotonic() - start
    cpu.append(meter.finish(length, children=True))
    return length / elapsed / 1e6


def random_reads(args, url, mountpoint, work, stats_port, big_size):
    cache = fresh(os.path.join(work, "cache-c"))
    server_reset(stats_port)
    mount_ours(args, url, mountpoint, cache)
    after_mount = server_stats(stats_port)
    server_reset(stats_port)
    for _ in os.walk(mountpoint):
        pass
    subprocess.run(["ls", "-lR", mountpoint], check=True, stdout=subprocess.DEVNULL)
    after_walk = server_stats(stats_port)
    server_reset(stats_port)
    rng = random.Random(13)
    latencies = []
    fd = os.open(os.path.join(mountpoint, "big.bin"), os.O_RDONLY)
    try:
        # Tell the kernel not to read ahead, as a random-access application would.
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        for _ in range(args.random_reads):
            offset = rng.randrange(0, big_size // 4096) * 4096
            start = time.monotonic()
            if len(os.pread(fd, 4096, offset)) != 4096:
                raise SystemExit("short 4 KiB read")
            latencies.append(time.monotonic() - start)
    finally:
        os.close(fd)
        unmount(mountpoint)
    reads = server_stats(stats_port)
    return {
        "mount_requests": after_mount["requests"], "mount_bytes": after_mount["bytes"],
        "walk_requests": after_walk["requests"],
        "requests_per_read": reads["requests"] / args.random_reads,
        "bytes_per_read": reads["bytes"] / args.random_reads,
        "latency_ms_median": statistics.median(latencies) * 1000,
        "latency_ms_p90": sorted(latencies)[int(len(latencies) * 0.9)] * 1000,
    }


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqbackup", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image-mib", type=int, default=1024)
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--delay-ms", type=float, default=10, help="one way; the round trip is twice this")
    parser.add_argument("--link-mbit", type=float, default=0,
                        help="the proxy's link rate each way in Mbit/s, shared by all connections (0: unlimited)")
    parser.add_argument("--parallel", type=int, default=8, help="ranged curls of the vendor path and raw read")
    parser.add_argument("--random-reads", type=int, default=200)
    parser.add_argument("--cache-size", default="2G")
    parser.add_argument("--mount-args", default="--cache-dir {cache_dir} --cache-size {cache_size} --prefetch {prefetch}",
                        help="flags after `sqbackup mount URL MOUNTPOINT`; {cache_dir} is fresh for every mount")
    parser.add_argument("--server", choices=["python", "nginx"], default="python",
                        help="upstream for (a) and (b); (c) always uses range_server.py, which counts")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "sqbackup-lazy-bench"))
    parser.add_argument("--only", default="abc", help="which measurements, e.g. 'a' or 'bc'")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root (FUSE mounts)")
    for tool in ["mksquashfs", "squashfuse_ll", "curl"] + (["nginx"] if args.server == "nginx" else []):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (apt-get install squashfs-tools squashfuse curl nginx)")
    if not os.access(args.sqbackup, os.X_OK):
        raise SystemExit(f"{args.sqbackup} is not executable; build it first")

    os.makedirs(args.work, exist_ok=True)
    log(f"building a ~{args.image_mib} MiB image in {args.work} (kept for later runs)...")
    image = make_image(args.work, args.image_mib, args.files)
    size = os.path.getsize(image)
    big_size = os.path.getsize(os.path.join(args.work, "src", "big.bin"))
    big_offset = locate(image, os.path.join(args.work, "src", "big.bin"))
    mountpoint = fresh(os.path.join(args.work, "mnt"))
    unmount(mountpoint)

    counting = Helper("range_server.py", [os.path.dirname(image), 0])
    upstream = Nginx(os.path.dirname(image), args.work) if args.server == "nginx" else None
    env = {"DELAY_MS": str(args.delay_ms), "LINK_MBIT": str(args.link_mbit)}
    fast_proxy = Helper("delay_proxy.py", [upstream.port if upstream else counting.port], env)
    counting_proxy = Helper("delay_proxy.py", [counting.port], env) if upstream else fast_proxy
    HARNESS_PIDS.extend({helper.process.pid for helper in (counting, fast_proxy, counting_proxy)})
    if upstream:
        HARNESS_PIDS.append(upstream.process.pid)
    url = f"http://127.0.0.1:{fast_proxy.port}/image.sqsh"
    counted_url = f"http://127.0.0.1:{counting_proxy.port}/image.sqsh"
    print(f"image {size / 2**20:.0f} MiB, big file {big_size / 2**20:.0f} MiB at offset {big_offset}; "
          f"{args.server} behind a {2 * args.delay_ms:.0f} ms round trip, link "
          f"{f'{args.link_mbit:.0f} Mbit/s' if args.link_mbit else 'unlimited'}; {args.runs} runs, medians")

    results = {"a_ours": [], "a_vendor": [], "b_ours": [], "b_curl": []}
    cpu = {"ours": [], "curl": []}
    try:
        for index in range(args.runs):
            # Alternate which side goes first so that warm-up and drift favour neither.
            flip = index % 2 == 1
            if "a" in args.only:
                pair = [lambda: results["a_ours"].append(first_ls_ours(args, url, mountpoint, args.work)),
                        lambda: results["a_vendor"].append(
                            first_ls_vendor(args, url, size, mountpoint, args.work))]
                for step in (pair[::-1] if flip else pair):
                    step()
            if "b" in args.only:
                pair = [lambda: results["b_ours"].append(
                            sequential_ours(args, url, mountpoint, args.work, big_size, cpu["ours"])),
                        lambda: results["b_curl"].append(
                            sequential_curl(args, url, big_offset, big_size, cpu["curl"]))]
                for step in (pair[::-1] if flip else pair):
                    step()
            log(f"run {index + 1}/{args.runs}: " + ", ".join(
                f"{key} {values[-1]:.3f}" for key, values in results.items() if values))
        random_result = None
        if "c" in args.only:
            random_result = random_reads(args, counted_url, mountpoint, args.work, counting.port, big_size)
    finally:
        unmount(mountpoint)
        for helper in {id(h): h for h in (fast_proxy, counting_proxy, counting)}.values():
            helper.stop()
        if upstream:
            upstream.stop()

    median = {key: statistics.median(values) for key, values in results.items() if values}
    if "a" in args.only:
        print(f"(a) first ls: ours {median['a_ours'] * 1000:.0f} ms, vendor (download + squashfuse) "
              f"{median['a_vendor'] * 1000:.0f} ms -> {median['a_vendor'] / median['a_ours']:.1f}x faster "
              f"(target >= 20x)")
    if "b" in args.only:
        print(f"(b) sequential read: ours {median['b_ours']:.0f} MB/s, {args.parallel} ranged curls "
              f"{median['b_curl']:.0f} MB/s -> {median['b_ours'] / median['b_curl']:.2f}x (target >= 0.9x)")
        cpu_median = {side: {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                      for side, runs in cpu.items() if runs}
        ours, curl = cpu_median["ours"], cpu_median["curl"]
        # Where a side's rate is bound by the machine, not the link, these say why.
        print(f"(b) CPU seconds per GB read: ours {ours['machine']:.2f} (daemon {ours['side']:.2f}, reader "
              f"{ours['reader']:.2f}, server and proxy {ours['harness']:.2f}, other {ours['other']:.2f}); "
              f"curls {curl['machine']:.2f} (curls {curl['side']:.2f}, server and proxy {curl['harness']:.2f}, "
              f"other {curl['other']:.2f}); the machine has {os.cpu_count()} cores")
        median["b_cpu_per_gb"] = cpu_median
    if random_result:
        r = random_result
        print(f"(c) mount: {r['mount_requests']} requests, {r['mount_bytes'] / 1024:.0f} KiB (target <= 3); "
              f"ls -lR + walk: {r['walk_requests']} requests (target 0)")
        print(f"(c) random 4 KiB reads: {r['requests_per_read']:.2f} requests and "
              f"{r['bytes_per_read'] / 1024:.1f} KiB per read, latency median {r['latency_ms_median']:.1f} ms, "
              f"p90 {r['latency_ms_p90']:.1f} ms; the vendor path reads {size / 2**20:.0f} MiB before the first")
    print(json.dumps({"medians": median, "random": random_result, "runs": args.runs, "image_bytes": size,
                      "delay_ms_one_way": args.delay_ms, "link_mbit": args.link_mbit,
                      "server": args.server}))


if __name__ == "__main__":
    main()
