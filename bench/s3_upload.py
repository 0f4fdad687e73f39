#!/usr/bin/env python3
"""The baseline's upload step for bench/create_upload.sh: one file to the bench S3 server with
boto3's parallel multipart transfer (multipart_chunksize = PART_SIZE, max_concurrency 4).

Usage: s3_upload.py FILE KEY PART_SIZE       (endpoint, bucket and keys from BENCH_S3_* variables)
       s3_upload.py --empty                  (delete every object in the bucket; not timed)

Prints the seconds the transfer took, measured after boto3 is imported and the client created,
so the baseline is not charged for Python's start-up.
"""
import os
import sys
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

client = boto3.client(
    "s3", endpoint_url=os.environ["BENCH_S3_ENDPOINT"], region_name=os.environ["BENCH_S3_REGION"],
    aws_access_key_id=os.environ["BENCH_S3_ACCESS_KEY"], aws_secret_access_key=os.environ["BENCH_S3_SECRET_KEY"],
    config=Config(max_pool_connections=8))
bucket = os.environ["BENCH_S3_BUCKET"]

if sys.argv[1] == "--empty":
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=entry["Key"])
    sys.exit(0)

path, key, part = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=4, use_threads=True)
start = time.monotonic()
client.upload_file(path, bucket, key, Config=config)
elapsed = time.monotonic() - start
size = client.head_object(Bucket=bucket, Key=key)["ContentLength"]
if size != os.path.getsize(path):
    sys.exit(f"uploaded {size} bytes, expected {os.path.getsize(path)}")
print(f"{elapsed:.3f}")
