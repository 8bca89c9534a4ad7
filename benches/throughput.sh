#!/usr/bin/env bash
# End-to-end throughput of `bedrock-ledger ingest` on a body-heavy corpus, next to two baselines:
# the machine's own gunzip (2 processes) and DuckDB's read_json + GROUP BY over the native S3 objects.
# Then, if benches/oracle.py exists, checks the tool's per-month/identity/model aggregate against it.
#
#   bash benches/throughput.sh [CORPUS_DIR]
#
# Without CORPUS_DIR a corpus is generated once into bench-out/corpus (BENCH_TARGET_MB, default
# 2000 MB of JSON). Set BEDROCK_LEDGER_BIN to skip the release build. MB = 10^6 bytes of
# uncompressed JSON, as counted by gen_corpus.py (CORPUS.stats.json).
set -euo pipefail
ARG=${1:-}
[[ -n $ARG ]] && ARG=$(realpath -m -- "$ARG")  # relative to the caller, before the cd
cd "$(dirname "$0")/.."

OUT=bench-out
CORPUS=${ARG:-$OUT/corpus}
DUCKDB_VERSION=2.0.1
mkdir -p "$OUT"

say() { printf '== %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }

# ---- corpus -------------------------------------------------------------------------------
if [[ $# -eq 0 && ! -d $CORPUS ]]; then
  say "generating corpus into $CORPUS (${BENCH_TARGET_MB:-2000} MB)"
  python3 benches/gen_corpus.py --out "$CORPUS" --objects 3000 --target-mb "${BENCH_TARGET_MB:-2000}" --seed 1 >/dev/null
fi
[[ -d $CORPUS ]] || { echo "throughput.sh: no corpus at $CORPUS" >&2; exit 2; }
PROFILES=$CORPUS.profiles.csv
PROFILE_ARGS=()
[[ -f $PROFILES ]] && PROFILE_ARGS=(--profiles "$PROFILES")

# Split the corpus into gzip and plain files by magic bytes (Firehose objects have no extension),
# and get the uncompressed byte counts: from the generator's stats, or by decompressing once.
python3 - "$CORPUS" "$OUT" <<'EOF'
import gzip, json, os, sys
corpus, out = sys.argv[1], sys.argv[2]
gz, plain, native = [], [], []
for dp, dn, fn in os.walk(corpus):
    dn.sort()
    for f in sorted(fn):
        p = os.path.join(dp, f)
        with open(p, "rb") as fh:
            (gz if fh.read(2) == b"\x1f\x8b" else plain).append(p)
        if "/BedrockModelInvocationLogs/" in p and p.endswith(".json.gz") and "/data/" not in p:
            native.append(p)
for name, files in (("gz", gz), ("plain", plain)):
    with open(os.path.join(out, name + ".list"), "wb") as fh:
        fh.write(b"".join(os.fsencode(p) + b"\0" for p in files))
with open(os.path.join(out, "native.json"), "w") as fh:
    json.dump(native, fh)
stats_path = corpus + ".stats.json"
if os.path.exists(stats_path):
    s = json.load(open(stats_path))
    total, nat = s["total_uncompressed_bytes"], s["by_shape"]["native"]["uncompressed_bytes"]
    expected = s["requests_unique"]
else:
    def size(p):
        with open(p, "rb") as fh:
            b = fh.read()
        return len(gzip.decompress(b)) if b[:2] == b"\x1f\x8b" else len(b)
    total = sum(size(p) for p in gz + plain)
    nat = sum(size(p) for p in native)
    expected = "?"
stored = sum(os.path.getsize(p) for p in gz + plain)
with open(os.path.join(out, "sizes.env"), "w") as fh:
    fh.write(f"TOTAL_BYTES={total}\nNATIVE_BYTES={nat}\nSTORED_BYTES={stored}\n"
             f"N_FILES={len(gz) + len(plain)}\nN_NATIVE={len(native)}\nEXPECTED={expected}\n")
EOF
# shellcheck disable=SC1091
source "$OUT/sizes.env"
say "corpus $CORPUS: $N_FILES objects, $(calc "$TOTAL_BYTES/1e6") MB uncompressed, $(calc "$STORED_BYTES/1e6") MB stored"

# ---- tools --------------------------------------------------------------------------------
# shellcheck source=benches/tools.sh
source benches/tools.sh

# Warm the page cache so that every contender reads from memory.
xargs -0 -r cat -- <"$OUT/gz.list" >/dev/null
xargs -0 -r cat -- <"$OUT/plain.list" >/dev/null

# ---- bedrock-ledger ingest ----------------------------------------------------------------
say "bedrock-ledger ingest"
rm -rf "$OUT/data"
mkdir -p "$OUT/data"
t0=$(now)
/usr/bin/time -v -o "$OUT/ingest.time" \
  "$BIN" ingest "$CORPUS" --data "$OUT/data" "${PROFILE_ARGS[@]}" -v >"$OUT/ingest.stdout" 2>"$OUT/ingest.stderr" || {
  echo "throughput.sh: ingest failed; last lines of its stderr:" >&2
  tail -n 20 "$OUT/ingest.stderr" >&2
  exit 1
}
t1=$(now)
tail -n 2 "$OUT/ingest.stderr" >&2 || true
INGEST_S=$(calc "$t1-$t0" 2)
# Phase times from `-v` (the ingest_finished event), and the commit phase's share of the run.
read -r PLAN_S DECODE_S COMMIT_S < <(sed -n 's/.*ingest_finished: finished plan_seconds=\([0-9.]*\) fetch_decode_seconds=\([0-9.]*\) commit_seconds=\([0-9.]*\).*/\1 \2 \3/p' "$OUT/ingest.stderr")
[[ -n ${COMMIT_S:-} ]] || { echo "throughput.sh: no phase times in the ingest's -v output" >&2; exit 1; }
COMMIT_SHARE=$(calc "100*$COMMIT_S/$INGEST_S" 0)
RSS_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/ingest.time")
RECORDS=$("$BIN" sql --data "$OUT/data" --format csv "select count(*) from invocations" | tail -n 1 | tr -d '\r"')
[[ $RECORDS =~ ^[0-9]+$ ]] || { echo "throughput.sh: unexpected count(*) output: $RECORDS" >&2; exit 1; }
INGEST_MBS=$(calc "$TOTAL_BYTES/1e6/$INGEST_S")
RECS_S=$(calc "$RECORDS/$INGEST_S" 0)

# ---- baseline 1: gunzip, 2 processes ------------------------------------------------------
say "baseline: gzip -dc with 2 processes"
t0=$(now)
xargs -0 -r -P2 -n 64 gzip -dc -- <"$OUT/gz.list" >/dev/null
xargs -0 -r -n 64 cat -- <"$OUT/plain.list" >/dev/null
t1=$(now)
GUNZIP_S=$(calc "$t1-$t0" 2)
GUNZIP_MBS=$(calc "$TOTAL_BYTES/1e6/$GUNZIP_S")
RATIO=$(calc "$INGEST_MBS/$GUNZIP_MBS" 2)

# ---- baseline 2: DuckDB read_json + GROUP BY over the native S3 objects -------------------
VENV=$OUT/venv
if ! "$VENV/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  say "installing duckdb==$DUCKDB_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "duckdb==$DUCKDB_VERSION"
fi
say "baseline: DuckDB $DUCKDB_VERSION read_json over $N_NATIVE native objects"
DUCKDB_S=$("$VENV/bin/python" - "$OUT/native.json" <<'EOF'
import json, sys, time
import duckdb
files = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET enable_progress_bar = false")
t0 = time.perf_counter()
rows = con.execute("""
    SELECT substr(timestamp, 1, 7) AS month, identity.arn AS identity, modelId AS model,
           count(*) AS requests, count(errorCode) AS failed_requests,
           sum(input.inputTokenCount) AS input_tokens, sum(output.outputTokenCount) AS output_tokens,
           sum(input.cacheReadInputTokenCount) AS cache_read_tokens,
           sum(input.cacheWriteInputTokenCount) AS cache_write_tokens
    FROM read_json(?, format = 'newline_delimited', compression = 'gzip', ignore_errors = true,
                   columns = {timestamp: 'VARCHAR', identity: 'STRUCT(arn VARCHAR)', modelId: 'VARCHAR',
                              errorCode: 'VARCHAR',
                              input: 'STRUCT(inputTokenCount BIGINT, cacheReadInputTokenCount BIGINT, cacheWriteInputTokenCount BIGINT)',
                              output: 'STRUCT(outputTokenCount BIGINT)'})
    GROUP BY ALL ORDER BY ALL""", [files]).fetchall()
secs = time.perf_counter() - t0
print(f"duckdb: {len(rows)} groups, {sum(r[3] for r in rows)} records", file=sys.stderr)
print(f"{secs:.2f}")
EOF
)
DUCKDB_MBS=$(calc "$NATIVE_BYTES/1e6/$DUCKDB_S")

# ---- correctness: oracle vs the tool's aggregate ------------------------------------------
ORACLE=skipped
if [[ -f benches/oracle.py ]]; then
  say "oracle: benches/oracle.py vs bedrock-ledger sql"
  python3 benches/oracle.py "${PROFILE_ARGS[@]}" "$CORPUS" >"$OUT/oracle.csv"
  "$BIN" sql --data "$OUT/data" --format csv "SELECT month, coalesce(identity,'') AS identity, coalesce(model,'') AS model, count(*) AS requests, count(error_code) AS failed_requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens FROM invocations GROUP BY 1,2,3 ORDER BY 1,2,3" >"$OUT/ledger.csv"
  if diff <(LC_ALL=C sort "$OUT/oracle.csv") <(LC_ALL=C sort "$OUT/ledger.csv") >"$OUT/oracle.diff"; then
    ORACLE=MATCH
  else
    ORACLE="DIFFER ($(grep -c '^[<>]' "$OUT/oracle.diff" || true) lines; < oracle, > ledger; full diff in $OUT/oracle.diff)"
    head -n 40 "$OUT/oracle.diff" >&2
  fi
fi

# ---- summary ------------------------------------------------------------------------------
cat <<EOF

bedrock-ledger throughput ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ))
  corpus            $CORPUS: $N_FILES objects, $(calc "$TOTAL_BYTES/1e6") MB JSON, $(calc "$STORED_BYTES/1e6") MB stored
  ingest            ${INGEST_S} s wall, ${INGEST_MBS} MB/s, ${RECS_S} records/s ($RECORDS records; generator: $EXPECTED unique requests), peak RSS $(calc "$RSS_KB/1024" 0) MiB
  gunzip (2 procs)  ${GUNZIP_S} s, ${GUNZIP_MBS} MB/s
  phases            list+plan $(calc "$PLAN_S" 2) s, fetch+decode $(calc "$DECODE_S" 2) s, commit $(calc "$COMMIT_S" 2) s (${COMMIT_SHARE}% of the run; target < 15%)
  ingest / gunzip   ${RATIO} (target >= 0.7)
  DuckDB ${DUCKDB_VERSION}      ${DUCKDB_S} s over the native S3 objects ($(calc "$NATIVE_BYTES/1e6") MB), ${DUCKDB_MBS} MB/s
  oracle            $ORACLE
EOF
