#!/usr/bin/env bash
# A month of a mid-size company's requests, ingested two ways, with time and peak memory per run:
#   one-shot   the whole month in one `bedrock-ledger ingest`
#   nightly    one ingest per night over a bucket that gains a day of objects each night, as the
#              platform team's job runs; a night's cost must follow the day's requests, not the
#              month already stored
# Both tables are then checked against the generator's ground truth (requests, token sums), and
# the month's reports are timed on the nightly table next to DuckDB over the same Parquet files
# (benches/reports.sh).
#
#   bash benches/month.sh [CORPUS_DIR]
#
# Without CORPUS_DIR a corpus is generated once into bench-out/month with benches/gen_month.py
# (BENCH_REQUESTS, default 10000000, over BENCH_DAYS, default 28, in BENCH_MONTH, default
# 2026-10). Set BEDROCK_LEDGER_BIN to skip the release build. Needs GNU time (installed with
# apt-get when missing).
set -euo pipefail
ARG=${1:-}
[[ -n $ARG ]] && ARG=$(realpath -m -- "$ARG")
cd "$(dirname "$0")/.."

OUT=bench-out
CORPUS=${ARG:-$OUT/month}
WORK=$OUT/month-runs
say() { printf '== %s\n' "$*" >&2; }

if [[ ! -d $CORPUS ]]; then
  say "generating $CORPUS (${BENCH_REQUESTS:-10000000} requests over ${BENCH_DAYS:-28} days)"
  python3 benches/gen_month.py --out "$CORPUS" --requests "${BENCH_REQUESTS:-10000000}" \
    --days "${BENCH_DAYS:-28}" --month "${BENCH_MONTH:-2026-10}"
fi
STATS=$CORPUS.stats.json
[[ -f $STATS ]] || { echo "month.sh: no $STATS beside the corpus" >&2; exit 2; }

# shellcheck source=benches/tools.sh
source benches/tools.sh

# One ingest of BUCKET into DATA; appends a line "label requests seconds rss_mib list decode
# commit stored" to $WORK/runs.txt.
ingest() {
  local label=$1 bucket=$2 data=$3 day_requests=$4
  /usr/bin/time -f '%e %M' -o "$WORK/time.txt" "$BIN" ingest "$bucket" --data "$data" -v \
    >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || {
    echo "month.sh: ingest ($label) failed; its stderr ends:" >&2
    tail -n 20 "$WORK/stderr.txt" >&2
    exit 1
  }
  read -r seconds rss_kb <"$WORK/time.txt"
  local phases
  phases=$(sed -n 's/.*ingest_finished: finished plan_seconds=\([0-9.]*\) fetch_decode_seconds=\([0-9.]*\) commit_seconds=\([0-9.]*\).*/\1 \2 \3/p' \
    "$WORK/stderr.txt")
  [[ -n $phases ]] || { echo "month.sh: no phase times in the ingest's -v output" >&2; exit 1; }
  local stored
  stored=$("$BIN" sql --data "$data" --format csv "SELECT count(*) FROM invocations" | tail -n 1)
  echo "$label $day_requests $seconds $((rss_kb / 1024)) $phases $stored" >>"$WORK/runs.txt"
  awk -v l="$label" '{ if ($1 == l) printf "  %-9s %9d requests  %7.1f s  %5d MiB peak  (plan %.1f s, fetch+decode %.1f s, commit %.1f s)  %9d stored\n", $1, $2, $3, $4, $5, $6, $7, $8 }' \
    "$WORK/runs.txt" >&2
}

# The table's totals against the generator's, as "requests input output cache_read cache_write".
check() {
  local data=$1 label=$2 got want
  got=$("$BIN" sql --data "$data" --format csv "SELECT count(*) AS r, sum(input_tokens) AS i, sum(output_tokens) AS o, sum(cache_read_tokens) AS cr, sum(cache_write_tokens) AS cw FROM invocations" | tail -n 1 | tr ',' ' ')
  want=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['requests'], s['input_tokens'], s['output_tokens'], s['cache_read_tokens'], s['cache_write_tokens'])" "$STATS")
  if [[ $got == "$want" ]]; then
    echo "  $label: the table holds exactly the generated requests and tokens ($got)" >&2
  else
    echo "month.sh: $label table differs from the generator: got '$got', want '$want'" >&2
    exit 1
  fi
}

rm -rf "$WORK"
mkdir -p "$WORK"
: >"$WORK/runs.txt"
DAYS=$(find "$CORPUS/days" -mindepth 1 -maxdepth 1 -type d | sort)
TOTAL=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['requests'])" "$STATS")

say "one-shot: the whole month in one run"
mkdir -p "$WORK/bucket-all"
for day in $DAYS; do cp -al "$day/." "$WORK/bucket-all/"; done
ingest one-shot "$WORK/bucket-all" "$WORK/data-one-shot" "$TOTAL"
check "$WORK/data-one-shot" one-shot

say "nightly: one run per night, the bucket gaining a day each night"
mkdir -p "$WORK/bucket"
night=0
for day in $DAYS; do
  night=$((night + 1))
  cp -al "$day/." "$WORK/bucket/"
  requests=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['days'][int(sys.argv[2]) - 1]['requests'])" "$STATS" "$night")
  ingest "night-$night" "$WORK/bucket" "$WORK/data-nightly" "$requests"
done
check "$WORK/data-nightly" nightly

python3 - "$WORK/runs.txt" <<'EOF'
import statistics, sys
runs = [l.split() for l in open(sys.argv[1])]
one = next(r for r in runs if r[0] == "one-shot")
nights = [r for r in runs if r[0].startswith("night-")]
secs = [float(r[2]) for r in nights]
rss = [int(r[3]) for r in nights]
commit_share = [float(r[6]) / float(r[2]) for r in nights]
third = max(1, len(nights) // 3)
print(f"""
bedrock-ledger, one month ({one[1]} requests)
  one-shot     {float(one[2]):.1f} s, peak RSS {one[3]} MiB (commit {float(one[6]):.1f} s)
  nightly      {len(nights)} runs: {min(secs):.1f} to {max(secs):.1f} s (median {statistics.median(secs):.1f} s), peak RSS {min(rss)} to {max(rss)} MiB
               first {third} nights {statistics.mean(secs[:third]):.1f} s on average, last {third} {statistics.mean(secs[-third:]):.1f} s
               while the month stored before a night grew from 0 to {nights[-2][7] if len(nights) > 1 else 0} rows
               commit phase {statistics.median(commit_share):.0%} of a night (median)
  peak RSS     {max(rss + [int(one[3])])} MiB over every run (target < 1024)""")
EOF

BEDROCK_LEDGER_BIN=$BIN bash benches/reports.sh "$WORK/data-nightly" "${BENCH_MONTH:-2026-10}"
