#!/usr/bin/env python3
"""Writes the deterministic ~200 MB mixed tree used by bench/create.sh.

Same seed, same bytes: source-like text, logs, incompressible binaries, duplicates, thousands of
tiny files and a few large ones, spread over nested directories.
"""
import os
import random
import sys

root = sys.argv[1]
target = int(sys.argv[2]) if len(sys.argv) > 2 else 200 * 1024 * 1024
rng = random.Random(20261129)
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz_') for _ in range(rng.randint(2, 12))) for _ in range(4000)]
written = 0


def put(path, data):
    global written
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'wb') as f:
        f.write(data)
    os.utime(full, (1_700_000_000, 1_700_000_000))
    written += len(data)


def source_text(size):
    lines = []
    length = 0
    while length < size:
        indent = '    ' * rng.randint(0, 4)
        line = indent + ' '.join(rng.choice(words) for _ in range(rng.randint(1, 10))) + ';\n'
        lines.append(line)
        length += len(line)
    return ''.join(lines).encode()[:size]


def log_text(size):
    out = []
    length = 0
    t = 1_700_000_000
    while length < size:
        t += rng.randint(0, 3)
        line = '%d INFO %s request=%08x took=%dms %s\n' % (
            t, rng.choice(words), rng.getrandbits(32), rng.randint(1, 900), rng.choice(words))
        out.append(line)
        length += len(line)
    return ''.join(out).encode()[:size]


share = target // 100
# Source tree: ~35%
i = 0
while written < 35 * share:
    put('src/mod%02d/pkg%02d/file%05d.c' % (i % 23, i % 7, i), source_text(rng.randint(200, 60_000)))
    i += 1
# Logs: ~15%
i = 0
start = written
while written - start < 15 * share:
    put('logs/app-%03d.log' % i, log_text(rng.randint(100_000, 3_000_000)))
    i += 1
# Incompressible binaries: ~25%
i = 0
start = written
blobs = []
while written - start < 25 * share:
    blob = rng.randbytes(rng.randint(500_000, 6_000_000))
    blobs.append(blob)
    put('bin/blob-%03d.bin' % i, blob)
    i += 1
# Duplicates of some binaries and sources: ~10%
i = 0
start = written
while written - start < 10 * share:
    put('backup/copy-%03d.bin' % i, blobs[i % len(blobs)])
    i += 1
# Tiny files: ~5000 in one place
for i in range(5000):
    put('tiny/%02d/t%05d.cfg' % (i % 50, i), source_text(rng.randint(0, 2000)))
# Large semi-compressible file: the rest
rest = max(0, target - written)
chunks = []
while sum(len(c) for c in chunks) < rest:
    chunks.append(rng.randbytes(4096) if rng.random() < 0.3 else source_text(16384))
put('large/dataset.dat', b''.join(chunks)[:rest])
print('%s: %d bytes' % (root, written))
