#!/usr/bin/env python3
"""Writes fuzz/seeds/<target>/ from the repository's real inputs (fixtures/, the shipped price
book). Deterministic; run from anywhere: `python3 fuzz/make_seeds.py`. Seeds stay under 64 KiB.

Targets whose input starts with a control byte (`lines`, `envelope`) get that byte prepended;
see fuzz/src/lib.rs for what it selects.
"""

import gzip
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SEEDS = ROOT / "fuzz" / "seeds"
MAX = 64 << 10


def content(path):
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def log_objects():
    """Every log object under fixtures/logs, sorted, as (short name, raw bytes)."""
    for path in sorted((FIXTURES / "logs").rglob("*")):
        if path.is_file():
            yield path.relative_to(FIXTURES / "logs"), path.read_bytes()


def short(rel):
    first = rel.parts[0]
    return f"{first}-{rel.name}"[:80]


def main():
    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    seeds = {}

    def add(target, name, data):
        data = data[:MAX]
        seeds.setdefault(target, {})[name] = data

    natives, exports, firehose, pages = [], [], [], []
    for rel, raw in log_objects():
        name = short(rel)
        # object: every object as stored (gzip or not), and the decompressed content too.
        add("object", name, raw)
        text = content(FIXTURES / "logs" / rel)
        if text != raw:
            add("object", name + ".plain", text)
        # sniff: the start of each object's content, and the raw start of gzip ones.
        add("sniff", name, text[:4096])
        if text != raw:
            add("sniff", name + ".gz", raw)
        kind = rel.parts[0]
        if kind == "s3" and b"requestId" in text and "/data/" not in str(rel):
            natives.append((name, text))
        elif kind == "cw-export" and rel.name.startswith("0000"):
            exports.append((name, text))
        elif kind == "firehose":
            firehose.append((name, text))
        elif kind == "cli":
            pages.append((name, text))

    # Records of 2026 models (every id form) are native lines too.
    models = (FIXTURES / "prices" / "2026-models.jsonl").read_bytes()
    natives.append(("prices-2026-models.jsonl", models))
    add("object", "prices-2026-models.jsonl", models)

    # lines: control byte (bit 0: 0 native / 1 export; bit 1: stream breaks at the end;
    # bits 2..8: head split and read size) + decompressed object.
    for i, (name, text) in enumerate(natives):
        add("lines", f"native-{name}", bytes([(i * 8) & 0xFC]) + text)
    for i, (name, text) in enumerate(exports):
        add("lines", f"export-{name}", bytes([((i * 40) & 0xFC) | 1]) + text)
    add("lines", "native-broken", bytes([0x42]) + natives[0][1][:700])
    add("lines", "export-broken", bytes([0x83]) + exports[0][1][:900])

    # envelope: control byte (bit 0: 0 Firehose / 1 CLI page) + documents.
    for name, text in firehose:
        add("envelope", f"firehose-{name}", b"\x00" + text)
    for name, text in pages:
        add("envelope", f"page-{name}", b"\x01" + text)

    # record: single record texts: native lines, export-line messages, event messages.
    records = []
    for _, text in natives:
        records += [line for line in text.splitlines() if line.strip()]
    for _, text in exports:
        records += [line[25:] for line in text.splitlines() if len(line) > 25]
    for _, text in firehose:
        decoder = json.JSONDecoder()
        s, pos = text.decode(), 0
        while pos < len(s):
            while pos < len(s) and s[pos].isspace():
                pos += 1
            if pos >= len(s):
                break
            doc, pos = decoder.raw_decode(s, pos)
            for event in doc.get("logEvents", []):
                records.append(event["message"].encode())
    seen = set()
    kept = []
    for rec in records:
        if rec not in seen and len(rec) < 16 << 10:
            seen.add(rec)
            kept.append(rec)
    # Keep a few dozen, spread over the list, shortest forms included.
    step = max(1, len(kept) // 36)
    for i, rec in enumerate(kept[::step][:36]):
        add("record", f"record-{i:02}", rec)

    # price_book: the shipped book cut into pieces under 64 KiB (each keeps the header), and a
    # book with long-context rows and every optional column.
    book = (ROOT / "pipeline" / "pricing" / "prices.csv").read_bytes().splitlines(keepends=True)
    header, rows = book[0], book[1:]
    lc = [r for r in rows if r.split(b",")[10:11] not in ([b""], [])]
    add("price_book", "prices-head", b"".join([header] + rows[:12]))
    add("price_book", "prices-long-context", b"".join([header] + lc[:12]))
    add("price_book", "prices-tail", b"".join([header] + rows[-12:]))
    add(
        "price_book",
        "minimal",
        b"model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,"
        b"long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h\n"
        b"amazon.nova-lite-v1:0,*,*,2024-12-03,0.06,0.24,0.015,,,,,,,,\n"
        b"anthropic.claude-sonnet-4-5-20250929-v1:0,geo,us-east-1,2025-09-29,3.3,16.5,0.33,4.125,6.6,"
        b"200000,6.6,24.75,0.66,8.25,13.2\n",
    )

    # teams: the teams file and the profile map (the target reads both formats from any input).
    add("teams", "teams.csv", (FIXTURES / "teams.csv").read_bytes())
    add("teams", "profiles.csv", (FIXTURES / "profiles.csv").read_bytes())
    add(
        "teams",
        "profiles-cycle.csv",
        b"arn,model_id,team,cost_center\n"
        b"arn:aws:bedrock:us-east-1:1:application-inference-profile/a,"
        b"arn:aws:bedrock:us-east-1:1:application-inference-profile/b,t,c\n"
        b"arn:aws:bedrock:us-east-1:1:application-inference-profile/b,"
        b"arn:aws:bedrock:us-east-1:1:application-inference-profile/a,,\n",
    )
    add(
        "teams",
        "teams-globs.csv",
        b"pattern,team,cost_center\n[a-z]*/**/?x,t,\n*a*a*a*b,u,CC\n\"q,\"\"x\"\"\",v,w\n",
    )

    for target, files in sorted(seeds.items()):
        folder = SEEDS / target
        folder.mkdir(parents=True)
        for name, data in sorted(files.items()):
            (folder / name).write_bytes(data)
        sizes = [len(d) for d in files.values()]
        print(f"{target}: {len(files)} seeds, largest {max(sizes)} bytes")


if __name__ == "__main__":
    main()
