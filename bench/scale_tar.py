#!/usr/bin/env python3
"""Writes a tar stream of N entries to stdout, with no files on disk: for bench/scale.sh.

The shape of a large source tree: 100 files per directory, 100 directories per group, names of
realistic length, small files of a few dozen bytes (tail-packed into fragments by tar2sqfs), one
symlink per directory. Deterministic, so ours and squashfuse_ll read the same image.
"""
import sys

BLOCK = 512

def header(name, size, kind, mode, link=b""):
    h = bytearray(BLOCK)
    h[0:len(name)] = name
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"%07o\0" % 1000
    h[116:124] = b"%07o\0" % 1000
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 1_700_000_000
    h[148:156] = b" " * 8
    h[156:157] = kind
    h[157:157 + len(link)] = link
    h[257:265] = b"ustar\x0000"
    h[148:155] = b"%06o\0" % sum(h)
    return bytes(h)

def main():
    entries = int(sys.argv[1])
    out = sys.stdout.buffer
    per_dir, per_group = 100, 100
    written = 0
    directory = 0
    pending = []
    while written < entries:
        group = b"group-%04d/" % (directory // per_group)
        if directory % per_group == 0:
            pending.append(header(group, 0, b"5", 0o755))
            written += 1
        path = group + b"project-directory-%06d/" % directory
        pending.append(header(path, 0, b"5", 0o755))
        written += 1
        for number in range(per_dir - 1):
            data = b"contents of file %d in directory %d\n" % (number, directory)
            pending.append(header(path + b"source-file-%03d.txt" % number, len(data), b"0", 0o644))
            pending.append(data + b"\0" * (-len(data) % BLOCK))
        pending.append(header(path + b"link-to-first", 0, b"2", 0o777, b"source-file-000.txt"))
        written += per_dir
        directory += 1
        if len(pending) > 4096:
            out.write(b"".join(pending))
            pending.clear()
    pending.append(b"\0" * (BLOCK * 2))
    out.write(b"".join(pending))

if __name__ == "__main__":
    main()
