#!/usr/bin/env python3
"""Generate one month of metadata-only Amazon Bedrock invocation logs, one folder per day.

    python3 benches/gen_month.py --out DIR [--requests N] [--days D] [--month YYYY-MM]
                                 [--objects-per-hour K] [--duplicates F] [--seed S] [--jobs J]

The scale of a mid-size company running Claude Code through Bedrock: by default 10,000,000
requests over 28 days (about 360k a day, 1,000 people), with no bodies (the logging
configuration most companies choose for coding agents). Each day is a tree of its own,

  DIR/days/DD/AWSLogs/<acct>/BedrockModelInvocationLogs/us-east-1/YYYY/MM/DD/HH/<ts>Z_<hex>.json.gz
        native S3 delivery: gzip JSON lines, 12 objects an hour (--objects-per-hour; Bedrock
        writes many small objects when traffic is spread over accounts and regions)
  DIR/days/DD/exportedlogs/day-DD/aws/bedrock/modelinvocations/000000.gz
        a CloudWatch export task holding a share (--duplicates) of the day's requests again:
        duplicates the ingest must store once

so a benchmark can lay the days into one bucket folder one night at a time (benches/month.sh).
Writes DIR.stats.json with the ground truth: unique requests and token sums (and the byte counts
benches/throughput.sh reads, so it can run on this corpus too). Python stdlib only;
every request is derived from (seed, day, index), so the output does not depend on --jobs.
"""

import argparse
import gzip
import json
import multiprocessing as mp
import os
import random
import sys
import uuid
from datetime import datetime, timezone

ACCOUNT = "111122223333"
REGION = "us-east-1"
USERS = 1000
MODELS = [
    ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 6),
    ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 3),
    ("us.anthropic.claude-opus-4-1-20250805-v1:0", 1),
]
MODEL_IDS = [m for m, w in MODELS for _ in range(w)]
OPERATIONS = ["InvokeModelWithResponseStream"] * 3 + ["Converse"]
EXPORT_STREAM = "aws/bedrock/modelinvocations"


def iso(ts_ms):
    t = datetime.fromtimestamp(ts_ms / 1000, timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{ts_ms % 1000:03d}Z"


def record(r, ts_ms):
    """One record line and its token counts (input, output, cache read, cache write)."""
    rid = str(uuid.UUID(int=r.getrandbits(128), version=4))
    user = r.randrange(USERS)
    # People signed in through IAM Identity Center: each session is a person, so each user is an
    # identity of its own in the chargeback (a plain role would charge them all to the role).
    arn = (f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_ClaudeCodeUsers_4f8e2c1a9b3d7e6f/"
           f"user{user:04d}@example.com")
    model = r.choice(MODEL_IDS)
    inp = r.randint(1, 40)
    read = r.randint(0, 120_000)
    write = r.randint(0, 6_000)
    out = r.randint(1, 3_000)
    line = (
        '{"schemaType":"ModelInvocationLog","schemaVersion":"1.0",'
        f'"timestamp":"{iso(ts_ms)}","accountId":"{ACCOUNT}",'
        f'"identity":{{"arn":"{arn}"}},"region":"{REGION}","requestId":"{rid}",'
        f'"operation":"{r.choice(OPERATIONS)}","modelId":"{model}",'
        '"input":{"inputContentType":"application/json",'
        f'"inputTokenCount":{inp},"cacheReadInputTokenCount":{read},'
        f'"cacheWriteInputTokenCount":{write}}},'
        '"output":{"outputContentType":"application/json",'
        f'"outputTokenCount":{out}}}}}'
    )
    return line, (inp, out, read, write)


def write_gz(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = ("\n".join(lines) + "\n").encode()
    with open(path, "wb") as fh:
        fh.write(gzip.compress(data, compresslevel=1, mtime=0))
    return len(data)


def generate_day(task):
    out, seed, year, month, day, requests, duplicate_share, objects_per_hour = task
    r = random.Random(f"{seed}-{year}-{month}-{day}")
    start_ms = int(datetime(year, month, day, tzinfo=timezone.utc).timestamp() * 1000)
    times = sorted(start_ms + r.randrange(86_400_000) for _ in range(requests))
    root = os.path.join(out, "days", f"{day:02d}")
    native = os.path.join(root, "AWSLogs", ACCOUNT, "BedrockModelInvocationLogs", REGION,
                          f"{year:04d}", f"{month:02d}", f"{day:02d}")
    totals = [0, 0, 0, 0]
    exported = []
    bytes_written = 0
    native_bytes = 0
    objects = 0
    slot_ms = 3_600_000 // objects_per_hour
    slots = {}
    for ts in times:
        slots.setdefault((ts - start_ms) // slot_ms, []).append(ts)
    for slot, stamps in sorted(slots.items()):
        lines = []
        for ts in stamps:
            line, counts = record(r, ts)
            lines.append(line)
            for k, v in enumerate(counts):
                totals[k] += v
            if r.random() < duplicate_share:
                exported.append(f"{iso(ts)} {line}")
        slot_start = start_ms + slot * slot_ms
        hour = (slot * slot_ms) // 3_600_000
        stamp = datetime.fromtimestamp(slot_start / 1000, timezone.utc).strftime("%Y-%m-%dT%H-%M-%S")
        name = f"{stamp}.{slot_start % 1000:03d}Z_{r.getrandbits(64):016x}.json.gz"
        native_bytes += write_gz(os.path.join(native, f"{hour:02d}", name), lines)
        objects += 1
    if exported:
        r.shuffle(exported)  # export tasks are not in time order
        path = os.path.join(root, "exportedlogs", f"day-{day:02d}", EXPORT_STREAM, "000000.gz")
        bytes_written += write_gz(path, exported)
        objects += 1
    return dict(day=day, requests=requests, duplicates=len(exported), objects=objects,
                uncompressed_bytes=bytes_written + native_bytes, native_bytes=native_bytes, input_tokens=totals[0], output_tokens=totals[1],
                cache_read_tokens=totals[2], cache_write_tokens=totals[3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output directory (must not exist or be empty)")
    ap.add_argument("--requests", type=int, default=10_000_000)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--month", default="2026-10", help="YYYY-MM (default 2026-10)")
    ap.add_argument("--objects-per-hour", type=int, default=12,
                    help="native objects per hour (default 12)")
    ap.add_argument("--duplicates", type=float, default=0.02,
                    help="share of requests delivered again through a CloudWatch export (default 0.02)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    if os.path.isdir(args.out) and os.listdir(args.out):
        sys.exit(f"gen_month.py: {args.out} is not empty")
    year, month = map(int, args.month.split("-"))
    per_day = [args.requests // args.days + (1 if d < args.requests % args.days else 0)
               for d in range(args.days)]
    tasks = [(args.out, args.seed, year, month, d + 1, n, args.duplicates, args.objects_per_hour)
             for d, n in enumerate(per_day)]
    with mp.Pool(args.jobs) as pool:
        days = pool.map(generate_day, tasks)
    keys = ("requests", "duplicates", "objects", "uncompressed_bytes", "input_tokens",
            "output_tokens", "cache_read_tokens", "cache_write_tokens")
    stats = {k: sum(d[k] for d in days) for k in keys}
    stats["days"] = days
    # The keys benches/throughput.sh reads.
    stats["total_uncompressed_bytes"] = stats["uncompressed_bytes"]
    stats["by_shape"] = {"native": {"uncompressed_bytes": sum(d["native_bytes"] for d in days)}}
    stats["requests_unique"] = stats["requests"]
    with open(args.out.rstrip("/") + ".stats.json", "w") as fh:
        json.dump(stats, fh, indent=1)
    print(f"{stats['requests']} requests ({stats['duplicates']} delivered twice) in "
          f"{stats['objects']} objects, {stats['uncompressed_bytes'] / 1e6:.0f} MB of JSON",
          file=sys.stderr)


if __name__ == "__main__":
    main()
