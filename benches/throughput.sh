#!/usr/bin/env bash
# End-to-end throughput of `bedrock-ledger ingest` (from an empty dataset) on body-heavy corpora,
# next to what bounds it and what it replaces. For each corpus it measures:
#   ingest, all cores   wall time, MB/s, records/s, peak RSS, and the phases `-v` reports
#                       (list+plan, fetch+decode, commit)
#   ingest, 1 core      the same under `taskset -c 0`; with the all-core run this gives the speedup
#                       S = T1/Tp and, by Amdahl's law on p cores, the serial fraction it implies,
#                       f = (p/S - 1)/(p - 1) (on 2 cores: f = 2/S - 1), for the run and each phase
#   inflate-only        benches/inflate_only.rs: read every object and inflate the gzip ones with
#                       flate2 + zlib-rs on ingest's threads, output discarded: the floor the
#                       target is set against; and again as ingest inflates (`--whole-members`:
#                       an object of one gzip member in one call by libdeflate)
#   gunzip              the machine's GNU `gzip -dc`, 2 processes
#   DuckDB 2.0.1        read_json + GROUP BY over the native S3 objects (installed into a venv)
#   oracle              if benches/oracle.py exists, the per (month, identity, model) aggregate
#                       of the ingested table against it
# and prints a summary per corpus with these targets:
#   ingest MB/s >= 5x DuckDB's        ingest wall <= 1.5x inflate-only's
#   ingest MB/s >= 0.7x gunzip's      commit < 15% of the run         peak RSS < 1 GiB
#
#   bash benches/throughput.sh [CORPUS_DIR...]
#
# Without CORPUS_DIR two corpora of the same ~9,000 requests (benches/gen_corpus.py, seed 1,
# ~700 MB of JSON each) are generated once under bench-out/ and measured:
#   corpus-small  ~9,600 objects of tens of KB, as Bedrock delivers to S3 (one or two records each)
#   corpus-large  a few dozen objects of tens of MB (plus the CLI pages, offloaded bodies and noise
#                 every corpus has)
# Every time printed is the median of ROUNDS runs (default 3; the peak RSS is the largest of
# them): one run of about a second on a shared machine varies by 10% or more.
# Each corpus's logs, lists and datasets go to bench-out/throughput/<n>-<corpus name>/. Set
# BEDROCK_LEDGER_BIN to skip the release build of the binary (the example is built either way,
# in CARGO_TARGET_DIR). MB = 10^6 bytes of uncompressed JSON, as counted by gen_corpus.py
# (CORPUS.stats.json) or, without stats, by decompressing every object once.
set -euo pipefail
CORPORA=()
for arg in "$@"; do
  CORPORA+=("$(realpath -m -- "$arg")") # relative to the caller, before the cd
done
cd "$(dirname "$0")/.."

OUT=bench-out
DUCKDB_VERSION=2.0.1
ROUNDS=${ROUNDS:-3}
CORES=$(nproc)
mkdir -p "$OUT"

say() { printf '== %s\n' "$*" >&2; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# The line of stdin whose first number is the median (the lower middle of an even count).
median_line() { sort -g | awk '{ line[NR] = $0 } END { print line[int((NR + 1) / 2)] }'; }
# ROUNDS runs of COMMAND..., each printing its seconds; prints their median.
median_of() {
  local r
  for ((r = 0; r < ROUNDS; r++)); do "$@"; done | median_line
}
# "met" or "MISSED" for a comparison such as "2.1 <= 1.5".
verdict() { awk "BEGIN { print ($1) ? \"met\" : \"MISSED\" }"; }
# Speedup from 1 core to all and the serial fraction Amdahl's law gives for it (outside 0..1 when
# the run got slower or the times are noise); not for phases too short to tell.
scaling() {
  awk -v t1="$1" -v tp="$2" -v p="$CORES" 'BEGIN {
    if (p < 2) { printf "n/a (1 core)"; exit }
    if (t1 < 0.1 || tp < 0.1) { printf "n/a (< 0.1 s)"; exit }
    s = t1 / tp
    printf "%.2fx (serial fraction %.2f)", s, (p / s - 1) / (p - 1)
  }'
}

# ---- corpora ------------------------------------------------------------------------------
# Both from the same seed and size, so they hold the same requests delivered in different objects.
# --objects is what gen_corpus.py aims for; an object holds at least one record, so for
# corpus-small it writes ~9,600 (one native object per request, the rest exports and Firehose).
generate() {
  local dir=$1
  shift
  [[ -f $dir.stats.json ]] && return # written last: the corpus is complete
  rm -rf "$dir"
  say "generating $dir (gen_corpus.py $*)"
  python3 benches/gen_corpus.py --out "$dir" --seed 1 --target-mb 700 "$@" >/dev/null
}
if [[ $# -eq 0 ]]; then
  CORPORA=("$OUT/corpus-small" "$OUT/corpus-large")
  generate "$OUT/corpus-small" --objects 24500
  generate "$OUT/corpus-large" --objects 140
fi
for corpus in "${CORPORA[@]}"; do
  [[ -d $corpus ]] || { echo "throughput.sh: no corpus at $corpus" >&2; exit 2; }
done

# ---- tools --------------------------------------------------------------------------------
# shellcheck source=benches/tools.sh
source benches/tools.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
say "cargo build --release --example inflate_only (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo build --release --example inflate_only
INFLATE=$CARGO_TARGET_DIR/release/examples/inflate_only

install_duckdb

# ---- the inflate-only floor ---------------------------------------------------------------
# inflate_only [--whole-members]: inflates every object of $RUN's lists; prints the seconds.
inflate_only() {
  local seconds bytes
  read -r seconds bytes < <("$INFLATE" "$@" "$RUN/gz.list" "$RUN/plain.list")
  [[ $bytes == "$TOTAL_BYTES" ]] || {
    echo "throughput.sh: inflate_only $* read $bytes uncompressed bytes, the corpus holds $TOTAL_BYTES" >&2
    exit 1
  }
  echo "$seconds"
}

# gunzip_once: GNU gzip -dc over $RUN's gzip objects in 2 processes (the plain ones read with
# cat); prints the seconds.
gunzip_once() {
  local t0 t1
  t0=$(now)
  xargs -0 -r -P2 -n 64 gzip -dc -- <"$RUN/gz.list" >/dev/null
  xargs -0 -r -n 64 cat -- <"$RUN/plain.list" >/dev/null
  t1=$(now)
  calc "$t1-$t0" 2
  echo
}

# ---- one ingest ---------------------------------------------------------------------------
# ingest NAME [COMMAND PREFIX...]: ingests $CORPUS into the empty dataset $RUN/data-NAME, logs in
# $RUN/ingest-NAME.*; sets WALL_S, PLAN_S, DECODE_S, COMMIT_S (seconds) and RSS_MIB.
ingest() {
  local name=$1 t0 t1
  shift
  local data=$RUN/data-$name log=$RUN/ingest-$name
  rm -rf "$data"
  mkdir -p "$data"
  t0=$(now)
  "$@" /usr/bin/time -v -o "$log.time" \
    "$BIN" ingest "$CORPUS" --data "$data" "${PROFILE_ARGS[@]}" -v >"$log.stdout" 2>"$log.stderr" || {
    echo "throughput.sh: ingest ($name) failed; last lines of its stderr:" >&2
    tail -n 20 "$log.stderr" >&2
    exit 1
  }
  t1=$(now)
  tail -n 2 "$log.stderr" >&2 || true
  WALL_S=$(calc "$t1-$t0" 2)
  # Phase times from `-v` (the ingest_finished event).
  PLAN_S='' DECODE_S='' COMMIT_S=''
  read -r PLAN_S DECODE_S COMMIT_S < <(sed -n 's/.*ingest_finished: finished plan_seconds=\([0-9.]*\) fetch_decode_seconds=\([0-9.]*\) commit_seconds=\([0-9.]*\).*/\1 \2 \3/p' "$log.stderr")
  [[ -n $COMMIT_S ]] || { echo "throughput.sh: no phase times in the ingest's -v output" >&2; exit 1; }
  RSS_MIB=$(calc "$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log.time")/1024" 0)
}

# ingest_median NAME [COMMAND PREFIX...]: ROUNDS ingests; sets WALL_S, PLAN_S, DECODE_S and
# COMMIT_S to those of the run of median wall time, and RSS_MIB to the largest peak of them all.
ingest_median() {
  local r runs=() rss_max=0
  for ((r = 0; r < ROUNDS; r++)); do
    ingest "$@"
    runs+=("$WALL_S $PLAN_S $DECODE_S $COMMIT_S")
    ((RSS_MIB > rss_max)) && rss_max=$RSS_MIB
  done
  read -r WALL_S PLAN_S DECODE_S COMMIT_S < <(printf '%s\n' "${runs[@]}" | median_line)
  RSS_MIB=$rss_max
}

# ---- one corpus ---------------------------------------------------------------------------
# measure N CORPUS: runs everything on CORPUS in $RUN and writes its summary to $RUN/summary.txt.
measure() {
  CORPUS=$2
  RUN=$OUT/throughput/$1-$(basename "$CORPUS")
  mkdir -p "$RUN"
  PROFILE_ARGS=()
  [[ -f $CORPUS.profiles.csv ]] && PROFILE_ARGS=(--profiles "$CORPUS.profiles.csv")

  # Split the corpus into gzip and plain files by magic bytes (Firehose objects have no
  # extension), and get the uncompressed byte counts: from the generator's stats, or by
  # decompressing once.
  python3 - "$CORPUS" "$RUN" <<'EOF'
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
  source "$RUN/sizes.env"
  say "corpus $CORPUS: $N_FILES objects, $(calc "$TOTAL_BYTES/1e6") MB uncompressed, $(calc "$STORED_BYTES/1e6") MB stored"

  # Warm the page cache so that every contender reads from memory.
  xargs -0 -r cat -- <"$RUN/gz.list" >/dev/null
  xargs -0 -r cat -- <"$RUN/plain.list" >/dev/null

  # -- bedrock-ledger ingest, on all cores and on one --
  say "bedrock-ledger ingest ($CORES cores, $ROUNDS runs)"
  ingest_median all
  local ingest_s=$WALL_S plan_s=$PLAN_S decode_s=$DECODE_S commit_s=$COMMIT_S rss_mib=$RSS_MIB
  local records
  records=$("$BIN" sql --data "$RUN/data-all" --format csv "select count(*) from invocations" | tail -n 1 | tr -d '\r"')
  [[ $records =~ ^[0-9]+$ ]] || { echo "throughput.sh: unexpected count(*) output: $records" >&2; exit 1; }
  local ingest_mbs commit_share
  ingest_mbs=$(calc "$TOTAL_BYTES/1e6/$ingest_s")
  commit_share=$(calc "100*$commit_s/$ingest_s" 0)

  say "bedrock-ledger ingest (1 core: taskset -c 0, $ROUNDS runs)"
  ingest_median 1core taskset -c 0

  # -- the inflate-only floors: zlib-rs alone (the target's), and ingest's own inflating --
  say "inflate-only floor ($INFLATE)"
  local inflate_s whole_inflate_s
  inflate_s=$(median_of inflate_only)
  say "inflate-only, one gzip member in one call as ingest does ($INFLATE --whole-members)"
  whole_inflate_s=$(median_of inflate_only --whole-members)

  # -- baseline 1: gunzip, 2 processes --
  say "baseline: gzip -dc with 2 processes"
  local gunzip_s gunzip_mbs
  gunzip_s=$(median_of gunzip_once)
  gunzip_mbs=$(calc "$TOTAL_BYTES/1e6/$gunzip_s")

  # -- baseline 2: DuckDB read_json + GROUP BY over the native S3 objects --
  say "baseline: DuckDB $DUCKDB_VERSION read_json over $N_NATIVE native objects"
  local duckdb_s duckdb_mbs
  duckdb_s=$("$VENV/bin/python" - "$RUN/native.json" "$ROUNDS" <<'EOF'
import json, statistics, sys, time
import duckdb
files = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET enable_progress_bar = false")
def run():
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
    print(f"duckdb: {len(rows)} groups, {sum(r[3] for r in rows)} records, {secs:.2f} s", file=sys.stderr)
    return secs
print(f"{statistics.median_low(run() for _ in range(int(sys.argv[2]))):.2f}")
EOF
  )
  duckdb_mbs=$(calc "$NATIVE_BYTES/1e6/$duckdb_s")

  # -- correctness: oracle vs the tool's aggregate --
  local oracle=skipped
  if [[ -f benches/oracle.py ]]; then
    say "oracle: benches/oracle.py vs bedrock-ledger sql"
    python3 benches/oracle.py "${PROFILE_ARGS[@]}" "$CORPUS" >"$RUN/oracle.csv"
    "$BIN" sql --data "$RUN/data-all" --format csv "SELECT month, coalesce(identity,'') AS identity, coalesce(model,'') AS model, count(*) AS requests, count(error_code) AS failed_requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens, sum(cache_write_tokens) AS cache_write_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens FROM invocations GROUP BY 1,2,3 ORDER BY 1,2,3" >"$RUN/ledger.csv"
    if diff <(LC_ALL=C sort "$RUN/oracle.csv") <(LC_ALL=C sort "$RUN/ledger.csv") >"$RUN/oracle.diff"; then
      oracle=MATCH
    else
      oracle="DIFFER ($(grep -c '^[<>]' "$RUN/oracle.diff" || true) lines; < oracle, > ledger; full diff in $RUN/oracle.diff)"
      head -n 40 "$RUN/oracle.diff" >&2
    fi
  fi

  # -- summary --
  local vs_duckdb vs_inflate vs_gunzip
  vs_duckdb=$(calc "$ingest_mbs/$duckdb_mbs" 2)
  vs_inflate=$(calc "$ingest_s/$inflate_s" 2)
  vs_gunzip=$(calc "$ingest_mbs/$gunzip_mbs" 2)
  cat >"$RUN/summary.txt" <<EOF

bedrock-ledger throughput ($CORES cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), medians of $ROUNDS runs)
  corpus            $CORPUS: $N_FILES objects, $(calc "$TOTAL_BYTES/1e6") MB JSON, $(calc "$STORED_BYTES/1e6") MB stored
  ingest            ${ingest_s} s wall, ${ingest_mbs} MB/s, $(calc "$records/$ingest_s" 0) records/s ($records records; generator: $EXPECTED unique requests), peak RSS $rss_mib MiB (target < 1024: $(verdict "$rss_mib < 1024"))
  phases            list+plan $(calc "$plan_s" 2) s, fetch+decode $(calc "$decode_s" 2) s, commit $(calc "$commit_s" 2) s (${commit_share}% of the run; target < 15%)
  ingest, 1 core    ${WALL_S} s wall, $(calc "$TOTAL_BYTES/1e6/$WALL_S") MB/s, peak RSS $RSS_MIB MiB
  phases, 1 core    list+plan $(calc "$PLAN_S" 2) s, fetch+decode $(calc "$DECODE_S" 2) s, commit $(calc "$COMMIT_S" 2) s
  1 -> $CORES cores      wall $(scaling "$WALL_S" "$ingest_s"); list+plan $(scaling "$PLAN_S" "$plan_s"); fetch+decode $(scaling "$DECODE_S" "$decode_s"); commit $(scaling "$COMMIT_S" "$commit_s")
  inflate-only      ${inflate_s} s, $(calc "$TOTAL_BYTES/1e6/$inflate_s") MB/s (zlib-rs, $CORES threads)
  ingest's inflate  ${whole_inflate_s} s, $(calc "$TOTAL_BYTES/1e6/$whole_inflate_s") MB/s (libdeflate for an object of one gzip member, zlib-rs for the rest)
  gunzip (2 procs)  ${gunzip_s} s, ${gunzip_mbs} MB/s
  DuckDB ${DUCKDB_VERSION}      ${duckdb_s} s over the native S3 objects ($(calc "$NATIVE_BYTES/1e6") MB), ${duckdb_mbs} MB/s
  ingest / DuckDB   ${vs_duckdb}x the MB/s (target >= 5: $(verdict "$vs_duckdb >= 5"))
  ingest / inflate  ${vs_inflate}x the wall time (target <= 1.5: $(verdict "$vs_inflate <= 1.5")); $(calc "$ingest_s/$whole_inflate_s" 2)x ingest's own inflating
  ingest / gunzip   ${vs_gunzip} (target >= 0.7)
  oracle            $oracle
EOF
}

SUMMARIES=()
for i in "${!CORPORA[@]}"; do
  measure "$((i + 1))" "${CORPORA[$i]}"
  SUMMARIES+=("$RUN/summary.txt")
done
cat "${SUMMARIES[@]}"
