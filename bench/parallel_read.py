#!/usr/bin/env python3
"""The baseline of bench/verify.sh: a raw parallel download of one object, bytes thrown away.

Usage: parallel_read.py s3 KEY [RANGE_BYTES] [THREADS]    (endpoint, bucket and keys from BENCH_S3_*)
       parallel_read.py file PATH [RANGE_BYTES] [THREADS]

Ranged GETs (boto3) or preads of RANGE_BYTES (default 8 MiB) on THREADS threads (default 8), as
`sqbackup verify` reads. Prints the seconds the reads took, measured after boto3 is imported and
the client created, so the baseline is not charged for Python's start-up.
"""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

kind, name = sys.argv[1], sys.argv[2]
range_bytes = int(sys.argv[3]) if len(sys.argv) > 3 else 8 << 20
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 8

if kind == "s3":
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=os.environ["BENCH_S3_ENDPOINT"], region_name=os.environ["BENCH_S3_REGION"],
        aws_access_key_id=os.environ["BENCH_S3_ACCESS_KEY"],
        aws_secret_access_key=os.environ["BENCH_S3_SECRET_KEY"], config=Config(max_pool_connections=threads))
    bucket = os.environ["BENCH_S3_BUCKET"]
    size = client.head_object(Bucket=bucket, Key=name)["ContentLength"]

    def read(offset):
        end = min(size, offset + range_bytes) - 1
        body = client.get_object(Bucket=bucket, Key=name, Range=f"bytes={offset}-{end}")["Body"]
        return len(body.read())
else:
    fd = os.open(name, os.O_RDONLY)
    size = os.fstat(fd).st_size

    def read(offset):
        return len(os.pread(fd, min(range_bytes, size - offset), offset))

start = time.monotonic()
with ThreadPoolExecutor(threads) as pool:
    total = sum(pool.map(read, range(0, size, range_bytes)))
elapsed = time.monotonic() - start
if total != size:
    sys.exit(f"read {total} bytes, expected {size}")
print(f"{elapsed:.3f}")
