#!/usr/bin/env python3
"""Memory check the fuzzers cannot reach: small gzip objects that inflate to one huge unit.

AFL mutates inputs of at most 1 MiB and rarely forms a valid deflate stream of a high ratio, so
it does not find these. Each object below is ~260 KB of gzip holding 256 MiB in one unit the
decoder reads whole: a CLI page, a native line, a Firehose member; the last, the same size in
ordinary lines, shows the block-bounded case for comparison. The script writes them to a
temporary folder and replays each through the `object` target in its own process, printing the
peak RSS (`replay` reads VmHWM). Needs the fuzz build (`bash fuzz/run.sh` or
`FUZZ_SECONDS=0 ...`); run: `python3 fuzz/memory_bombs.py [MiB]`.
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import zlib

MIB = int(sys.argv[1]) if len(sys.argv) > 1 else 256
BIN = pathlib.Path(
    os.environ.get("FUZZ_TARGET_DIR", pathlib.Path.home() / ".cache/bedrock-ledger-fuzz-target")
) / "release" / "replay"


def gzip_of(parts):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return b"".join([c.compress(p) for p in parts] + [c.flush()])


def main():
    spaces, letters = b" " * (1 << 20), b"a" * (1 << 20)
    line = b'{"requestId":"r","timestamp":"2026-10-01T00:00:00Z"}'
    line += b" " * (63 - len(line)) + b"\n"
    lines = line * ((1 << 20) // len(line))
    bombs = {
        "cli-page": [b'{"events":['] + [spaces] * MIB + [b"]}"],
        "native-line": [b'{"requestId":"'] + [letters] * MIB + [b'"}\n'],
        "firehose-member": [b'{"messageType":"DATA_MESSAGE","logEvents":[{"message":"x"}']
        + [spaces] * MIB
        + [b"]}"],
        # The control: as many bytes in ordinary short lines stay within a few blocks.
        "native-many-lines": [lines] * MIB,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, parts in bombs.items():
            path = pathlib.Path(tmp) / f"{name}.gz"
            path.write_bytes(gzip_of(parts))
            run = subprocess.run(
                [str(BIN), "object", str(path)],
                env={**os.environ, "RAYON_NUM_THREADS": "1"},
                capture_output=True,
                text=True,
            )
            rss = next(
                (l.split()[1] for l in run.stdout.splitlines() if l.startswith("peak_rss_mb")), "?"
            )
            status = "ok" if run.returncode == 0 else f"exit {run.returncode}"
            print(
                f"{name:16} {path.stat().st_size:>8} bytes gzip -> {MIB} MiB inflated: "
                f"peak RSS {rss} MB ({status})"
            )


if __name__ == "__main__":
    main()
