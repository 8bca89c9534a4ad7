#!/usr/bin/env python3
"""Independent reference aggregation of Amazon Bedrock model-invocation logs.

    python3 benches/oracle.py [--profiles FILE] INPUT... > aggregates.csv

Written from the aggregation rules below and the log shapes in README.md (What it reads), not from
the Rust code, so that the two can check each other. Python 3.11 standard library only.

INPUT are files or directories (walked recursively, sorted by path). Every file is classified by
its content, never by its name:

  * gzip is detected by the magic bytes 1f 8b; multi-member gzip is read to the end;
  * native S3 delivery: JSON lines, one record per line (CRLF and blank lines tolerated);
  * CloudWatch export task: `<24-char timestamp, e.g. 2025-08-18T16:57:13.000Z><space><message>`;
  * Firehose subscription: JSON envelopes concatenated with no delimiter (CONTROL_MESSAGE skipped);
  * CLI page: one JSON document `{"events":[{..."message":...}], ...}`;
  * noise (counted, not rejected): empty objects, the two permission texts, and offloaded bodies
    (an object holding a single JSON document that is not a record).

A record is a JSON object with a non-empty string `requestId` and an RFC 3339 `timestamp`. A line,
export line, log event or CLI event that is not one is a rejected line; an object of no known shape
is a rejected object. The permission text as a log-event message is skipped, not rejected.

Records are deduplicated on requestId (first occurrence wins) and summed per (month, identity,
model). Memory holds the set of seen request ids and the aggregates only: JSON-lines and export
shapes are streamed line by line; Firehose and CLI objects are read whole (they are one document).

Aggregation rules:
  * month: UTC YYYY-MM of the record's `timestamp` (not the S3 key, not the export/event prefix);
  * identity: `identity.arn` as is, except `arn:<p>:sts::<acct>:assumed-role/<Role>/<session>` ->
    `arn:<p>:iam::<acct>:role/<Role>` unless Role starts with `AWSReservedSSO_` (kept whole);
    no identity -> "";
  * model: strip `arn:...:foundation-model/` or `arn:...:inference-profile/`, then one geography
    prefix (us-gov. before us.); application-inference-profile ARNs via --profiles (then the same
    normalisation), unresolved -> ""; provisioned-model, custom-model-deployment, prompt-router and
    default-prompt-router ARNs -> "";
  * tokens (absent = 0): input.inputTokenCount, output.outputTokenCount,
    input.cacheReadInputTokenCount, input.cacheWriteInputTokenCount; 1h cache writes from
    outputBodyJson.usage.cache_creation.ephemeral_1h_input_tokens (object body) or the
    message_start chunk's message.usage.cache_creation (array body), capped at the cache writes;
  * failed: non-empty `errorCode`.

Output: CSV on stdout sorted by (month, identity, model); a one-line summary on stderr.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import re
import sys
import zlib
from datetime import datetime, timedelta, timezone

PERMISSION_TEXTS = {
    "Permissions are correctly set for Amazon Bedrock logs.",
    "Permission Check Successful",
}

EXPORT_PREFIX = re.compile(rb"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z ")

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)

# us-gov. must be tried before us.
GEO_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "global.")

ASSUMED_ROLE = re.compile(r"^arn:([^:]+):sts::([^:]*):assumed-role/([^/]+)/(.+)$")

RECORD_KEYS = ("schemaType", "schemaVersion", "requestId", "modelId", "operation", "accountId")

DECODER = json.JSONDecoder()

HEADER = [
    "month", "identity", "model", "requests", "failed_requests", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
]


# --------------------------------------------------------------------------- normalisation


def month_of(ts) -> str | None:
    """UTC YYYY-MM of an RFC 3339 timestamp, or None if it does not parse."""
    if not isinstance(ts, str):
        return None
    m = RFC3339.match(ts)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        dt = datetime(y, mo, d, h, mi, s, tzinfo=timezone.utc)
    except ValueError:
        return None
    if m.group(9):  # numeric offset: local = UTC + offset
        off = timedelta(hours=int(m.group(10)), minutes=int(m.group(11)))
        if int(m.group(10)) > 23 or int(m.group(11)) > 59:
            return None
        dt = dt - off if m.group(9) == "+" else dt + off
    return f"{dt.year:04d}-{dt.month:02d}"


def normalize_identity(rec: dict) -> str:
    ident = rec.get("identity")
    if not isinstance(ident, dict):
        return ""
    arn = ident.get("arn")
    if not isinstance(arn, str):
        return ""
    m = ASSUMED_ROLE.match(arn)
    if m:
        partition, account, role, _session = m.groups()
        if role.startswith("AWSReservedSSO_"):
            return arn  # the session is the person
        return f"arn:{partition}:iam::{account}:role/{role}"
    return arn


def strip_geo(model_id: str) -> str:
    for p in GEO_PREFIXES:
        if model_id.startswith(p):
            return model_id[len(p):]
    return model_id


def normalize_model(model_id, profiles: dict[str, str], _depth: int = 0) -> str:
    if not isinstance(model_id, str):
        return ""
    if model_id.startswith("arn:"):
        parts = model_id.split(":", 5)
        if len(parts) < 6 or "/" not in parts[5]:
            return ""
        rtype, rid = parts[5].split("/", 1)
        if rtype in ("foundation-model", "inference-profile"):
            model_id = rid
        elif rtype == "application-inference-profile":
            mapped = profiles.get(model_id)
            if mapped is None or _depth > 0:
                return ""
            return normalize_model(mapped, profiles, _depth + 1)
        else:  # provisioned-model, custom-model-deployment, (default-)prompt-router, ...
            return ""
    return strip_geo(model_id)


def count(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def one_hour_writes(output) -> int:
    if not isinstance(output, dict):
        return 0
    body = output.get("outputBodyJson")
    usage = None
    if isinstance(body, dict):
        usage = body.get("usage")
    elif isinstance(body, list):
        for chunk in body:
            if isinstance(chunk, dict) and chunk.get("type") == "message_start":
                msg = chunk.get("message")
                usage = msg.get("usage") if isinstance(msg, dict) else None
                break
    if not isinstance(usage, dict):
        return 0
    cc = usage.get("cache_creation")
    if not isinstance(cc, dict):
        return 0
    return count(cc.get("ephemeral_1h_input_tokens"))


# --------------------------------------------------------------------------- aggregation


class Ledger:
    def __init__(self, profiles: dict[str, str]):
        self.profiles = profiles
        self.seen: set[str] = set()
        self.rows: dict[tuple[str, str, str], list[int]] = {}
        self.records = 0
        self.duplicates = 0
        self.rejected_lines = 0
        self.rejected_objects = 0
        self.noise_objects = 0
        self.noise_messages = 0
        self.control_messages = 0
        self.objects = 0

    # A message is the text of one line / log event / CLI event.
    def message(self, text: str) -> None:
        if text.strip() in PERMISSION_TEXTS:
            self.noise_messages += 1
            return
        try:
            rec = json.loads(text)
        except ValueError:
            self.rejected_lines += 1
            return
        self.value(rec)

    def value(self, rec) -> None:
        if not isinstance(rec, dict):
            self.rejected_lines += 1
            return
        rid = rec.get("requestId")
        month = month_of(rec.get("timestamp"))
        if not isinstance(rid, str) or not rid or month is None:
            self.rejected_lines += 1
            return
        self.records += 1
        if rid in self.seen:
            self.duplicates += 1
            return
        self.seen.add(rid)
        inp = rec.get("input") if isinstance(rec.get("input"), dict) else {}
        out = rec.get("output") if isinstance(rec.get("output"), dict) else {}
        cache_write = count(inp.get("cacheWriteInputTokenCount"))
        err = rec.get("errorCode")
        key = (month, normalize_identity(rec), normalize_model(rec.get("modelId"), self.profiles))
        row = self.rows.setdefault(key, [0] * 7)
        row[0] += 1
        row[1] += 1 if isinstance(err, str) and err != "" else 0
        row[2] += count(inp.get("inputTokenCount"))
        row[3] += count(out.get("outputTokenCount"))
        row[4] += count(inp.get("cacheReadInputTokenCount"))
        row[5] += cache_write
        row[6] += min(one_hour_writes(out), cache_write)

    def write_csv(self, fh) -> None:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HEADER)
        for key in sorted(self.rows):
            w.writerow([*key, *self.rows[key]])

    def summary(self) -> str:
        return (
            f"objects={self.objects} records={self.records} distinct={len(self.seen)} "
            f"duplicates={self.duplicates} rejected_lines={self.rejected_lines} "
            f"rejected_objects={self.rejected_objects} noise_objects={self.noise_objects} "
            f"noise_messages={self.noise_messages} control_messages={self.control_messages} "
            f"rows={len(self.rows)}"
        )


# --------------------------------------------------------------------------- framing


def open_bytes(path: str):
    """A binary stream of the object's content, gunzipped (all members) if it starts with 1f 8b."""
    f = open(path, "rb")
    magic = f.read(2)
    f.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def is_record_like(v) -> bool:
    return isinstance(v, dict) and any(k in v for k in RECORD_KEYS)


def valid_export_prefix(line: bytes) -> bool:
    m = EXPORT_PREFIX.match(line)
    if not m:
        return False
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    try:
        datetime(y, mo, d, h, mi, s)
    except ValueError:
        return False
    return True


def lines_of(stream):
    """Non-blank lines without their line ending (LF or CRLF), as bytes."""
    for raw in stream:
        line = raw.rstrip(b"\r\n")
        if line.strip():
            yield line


def decode(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def process_object(path: str, L: Ledger) -> None:
    L.objects += 1
    with open_bytes(path) as stream:
        try:
            classify_and_read(stream, L)
        except (OSError, EOFError, zlib.error):
            # corrupt or truncated gzip: whatever was read so far stands
            L.rejected_objects += 1


def classify_and_read(stream, L: Ledger) -> None:
    """Decide the shape from the first decisive line, then read the object in that shape."""
    it = lines_of(stream)
    undecided = 0  # leading lines that look like neither JSON nor an export line
    permission_lines = 0
    mode = None
    line = b""
    for line in it:
        if undecided == 0 and permission_lines == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        text = decode(line)
        if text is not None and text.strip() in PERMISSION_TEXTS:
            permission_lines += 1
            continue
        if valid_export_prefix(line):
            mode = "export"
            break
        t = text.strip() if text is not None else ""
        if not t.startswith(("{", "[")):
            undecided += 1
            continue
        first = undecided == 0 and permission_lines == 0
        if first and t in ("{", "["):
            # a pretty-printed single document: a CLI page (or a pretty offloaded body)
            whole_document(line + b"\n" + b"".join(stream), L)
            return
        try:
            v, end = DECODER.raw_decode(t)
            parsed = True
        except ValueError:
            parsed = False
        if parsed and first and isinstance(v, dict) and "messageType" in v:
            firehose(line + b"".join(stream), L)
            return
        if parsed and first and end == len(t) and not is_record_like(v):
            # one JSON document that is not a record: an offloaded body (or a compact CLI
            # page), unless more lines follow, in which case it is a bad line of a JSON-lines object
            nxt = next(it, None)
            if nxt is None:
                if isinstance(v, dict) and isinstance(v.get("events"), list):
                    cli_page(v, L)
                else:
                    L.noise_objects += 1
                return
            L.rejected_lines += 1
            json_lines_rest([nxt], it, L)
            return
        mode = "jsonl"
        break

    if mode is None:  # end of object before any decisive line
        if undecided:
            L.rejected_objects += 1  # text of no known shape
        else:
            L.noise_objects += 1  # empty, blank, or only a permission text
        return

    # line-oriented shapes: undecided lines before the decision are bad lines of this object
    L.rejected_lines += undecided
    L.noise_messages += permission_lines
    if mode == "export":
        export_lines(line, it, L)
    else:
        json_lines_rest([line], it, L)


def json_lines_rest(first: list[bytes], it, L: Ledger) -> None:
    for line in _chain(first, it):
        text = decode(line)
        if text is None:
            L.rejected_lines += 1
            continue
        L.message(text)


def export_lines(first: bytes, it, L: Ledger) -> None:
    for line in _chain([first], it):
        if not valid_export_prefix(line):
            text = decode(line)
            if text is not None and text.strip() in PERMISSION_TEXTS:
                L.noise_messages += 1
            else:
                L.rejected_lines += 1
            continue
        text = decode(line[25:])
        if text is None:
            L.rejected_lines += 1
            continue
        L.message(text)


def _chain(first, it):
    yield from first
    yield from it


def event_message(ev, L: Ledger) -> None:
    msg = ev.get("message") if isinstance(ev, dict) else None
    if not isinstance(msg, str):
        L.rejected_lines += 1
        return
    L.message(msg)


def firehose(data: bytes, L: Ledger) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        L.rejected_objects += 1
        return
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n":
            pos += 1
        if pos >= n:
            return
        try:
            env, pos = DECODER.raw_decode(text, pos)
        except ValueError:
            L.rejected_lines += 1  # the unreadable tail of the object
            return
        if not isinstance(env, dict):
            L.rejected_lines += 1
            continue
        if env.get("messageType") == "CONTROL_MESSAGE":
            L.control_messages += 1
            continue
        events = env.get("logEvents")
        if env.get("messageType") != "DATA_MESSAGE" or not isinstance(events, list):
            L.rejected_lines += 1
            continue
        for ev in events:
            event_message(ev, L)


def cli_page(doc: dict, L: Ledger) -> None:
    for ev in doc["events"]:
        event_message(ev, L)


def whole_document(data: bytes, L: Ledger) -> None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        L.rejected_objects += 1
        return
    if isinstance(doc, dict) and isinstance(doc.get("events"), list):
        cli_page(doc, L)
    elif is_record_like(doc):
        L.value(doc)
    else:
        L.noise_objects += 1


# --------------------------------------------------------------------------- main


def walk(inputs: list[str]):
    for inp in inputs:
        if os.path.isdir(inp):
            found = []
            for root, dirs, files in os.walk(inp):
                dirs.sort()
                found.extend(os.path.join(root, f) for f in files)
            yield from sorted(found)
        else:
            yield inp


def load_profiles(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        return {row["arn"].strip(): row["model_id"].strip() for row in csv.DictReader(f) if row.get("arn")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profiles", help="CSV with header arn,model_id for application inference profiles")
    ap.add_argument("inputs", nargs="+", help="files or directories")
    args = ap.parse_args(argv)
    L = Ledger(load_profiles(args.profiles))
    for path in walk(args.inputs):
        process_object(path, L)
    try:
        L.write_csv(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    print(L.summary(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
