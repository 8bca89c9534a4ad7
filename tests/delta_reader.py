#!/usr/bin/env python3
"""An independent reader of the `invocations` Delta table: pyarrow for Parquet, and a replay of
`_delta_log` written here from the Delta protocol, not delta-rs.

    python tests/delta_reader.py DATASET_DIR > aggregates.csv

Prints the per-month/identity/model aggregates in the format of fixtures/expected/aggregates.csv,
so the tests can check that what we wrote is what any Delta reader (Athena, Spark, Trino) reads.
Refuses a table this reader cannot read faithfully (a reader version above 1, reader features,
deletion vectors), instead of reading it wrong.

The replay (https://github.com/delta-io/delta/blob/master/PROTOCOL.md, "Action Reconciliation"):
start from the checkpoint named by `_delta_log/_last_checkpoint` (single-file or multi-part
Parquet), then apply every later `NNNNNNNNNNNNNNNNNNNN.json` commit in order; a file is live when
its last action is an `add`. Partition values come from `add.partitionValues`, not the file.
"""

import csv
import json
import os
import sys
from collections import defaultdict
from urllib.parse import unquote

import pyarrow.parquet as pq

COUNTERS = ["input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
            "cache_write_1h_tokens"]


def fail(message):
    sys.exit(f"delta_reader.py: {message}")


class Replay:
    """The table state: live files with their partition values, the protocol and metadata."""

    def __init__(self):
        self.files = {}
        self.protocol = None
        self.metadata = None

    def apply(self, action):
        if "add" in action:
            add = action["add"]
            if add.get("deletionVector"):
                fail(f"{add['path']} has a deletion vector, which this reader does not apply")
            self.files[unquote(add["path"])] = add.get("partitionValues") or {}
        elif "remove" in action:
            self.files.pop(unquote(action["remove"]["path"]), None)
        elif "protocol" in action:
            self.protocol = action["protocol"]
        elif "metaData" in action:
            self.metadata = action["metaData"]


def checkpoint_actions(log, last):
    """The actions of the checkpoint `_last_checkpoint` names, as JSON-like dicts."""
    version = last["version"]
    parts = last.get("parts")
    if parts:
        names = [f"{version:020d}.checkpoint.{i:010d}.{parts:010d}.parquet" for i in range(1, parts + 1)]
    else:
        names = [f"{version:020d}.checkpoint.parquet"]
    for name in names:
        rows = pq.read_table(os.path.join(log, name)).to_pylist()
        for row in rows:
            for kind in ("add", "remove", "protocol", "metaData"):
                value = row.get(kind)
                if value is None:
                    continue
                if kind == "add" and isinstance(value.get("partitionValues"), list):
                    value = dict(value, partitionValues=dict(value["partitionValues"]))
                yield {kind: value}


def replay(table_dir):
    log = os.path.join(table_dir, "_delta_log")
    if not os.path.isdir(log):
        fail(f"no Delta table at {table_dir} (no _delta_log)")
    state = Replay()
    start = 0
    last_path = os.path.join(log, "_last_checkpoint")
    if os.path.exists(last_path):
        with open(last_path) as fh:
            last = json.load(fh)
        for action in checkpoint_actions(log, last):
            state.apply(action)
        start = last["version"] + 1
    commits = sorted(int(n[:20]) for n in os.listdir(log) if len(n) == 25 and n.endswith(".json"))
    commits = [v for v in commits if v >= start]
    if commits and commits != list(range(start, commits[-1] + 1)):
        fail(f"commits after the checkpoint are not contiguous from {start}: {commits}")
    for version in commits:
        with open(os.path.join(log, f"{version:020d}.json")) as fh:
            for line in fh:
                if line.strip():
                    state.apply(json.loads(line))
    if state.protocol is None or state.metadata is None:
        fail(f"{table_dir}: the log holds no protocol or no metadata")
    if state.protocol["minReaderVersion"] > 1 or state.protocol.get("readerFeatures"):
        fail(f"{table_dir}: needs reader version {state.protocol['minReaderVersion']}, "
             f"features {state.protocol.get('readerFeatures')}; this reader implements version 1")
    return state, (commits[-1] if commits else start - 1)


def aggregates(table_dir):
    state, version = replay(table_dir)
    partition_columns = state.metadata.get("partitionColumns", [])
    groups = defaultdict(lambda: [0, 0] + [0] * len(COUNTERS))
    rows = 0
    for path, partition in sorted(state.files.items()):
        present = [c for c in ["identity", "model", "error_code"] + COUNTERS
                   if c not in partition_columns]
        table = pq.read_table(os.path.join(table_dir, path), columns=present).to_pydict()
        n = len(table[present[0]])
        rows += n
        for i in range(n):
            key = (partition["month"], table["identity"][i] or "", table["model"][i] or "")
            g = groups[key]
            g[0] += 1
            g[1] += table["error_code"][i] is not None
            for k, column in enumerate(COUNTERS):
                g[2 + k] += table[column][i]
    return groups, rows, version, state


def main():
    if len(sys.argv) != 2:
        fail("usage: delta_reader.py DATASET_DIR")
    table_dir = os.path.join(sys.argv[1], "invocations")
    groups, rows, version, state = aggregates(table_dir)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["month", "identity", "model", "requests", "failed_requests"] + COUNTERS)
    for key in sorted(groups):
        out.writerow(list(key) + groups[key])
    protocol = state.protocol
    print(f"version {version}: {len(state.files)} live files, {rows} rows, protocol "
          f"({protocol['minReaderVersion']}, {protocol['minWriterVersion']})", file=sys.stderr)


if __name__ == "__main__":
    main()
