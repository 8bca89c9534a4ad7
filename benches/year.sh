#!/usr/bin/env bash
# A year of a mid-size company's requests, and what its reports cost: twelve months generated
# by benches/gen_month.py (BENCH_REQUESTS a month, default 8,400,000: about 100 million in the
# year), each ingested in one run (its generated logs deleted after, to bound the disk), then,
# each a process of its own, median of RUNS (default 3) runs, with peak RSS:
#   query by_identity, by_model, top_spenders   over every month of the year
#   report chargeback, report html              of the last month
#
#   bash benches/year.sh
#
# The dataset stays in bench-out/year-data for further runs: delete it to start over. Set
# BEDROCK_LEDGER_BIN to skip the release build. Needs GNU time (installed with apt-get when
# missing). Takes about 40 minutes on 2 cores, most of it generating and ingesting.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=bench-out
DATA=$OUT/year-data
WORK=$OUT/year-runs
YEAR=${BENCH_YEAR:-2026}
say() { printf '== %s\n' "$*" >&2; }

# shellcheck source=benches/tools.sh
source benches/tools.sh
mkdir -p "$WORK"

for month in $(seq -w 1 12); do
  [[ -f $DATA/.ingested-$YEAR-$month ]] && continue
  corpus=$OUT/year-logs-$month
  rm -rf "$corpus" "$corpus.stats.json"
  say "$YEAR-$month: generating ${BENCH_REQUESTS:-8400000} requests"
  python3 benches/gen_month.py --out "$corpus" --requests "${BENCH_REQUESTS:-8400000}" \
    --month "$YEAR-$month" --seed "$((10#$month))" >/dev/null
  say "$YEAR-$month: ingesting"
  /usr/bin/time -f '%e s, %M KiB peak' -o "$WORK/ingest-$month.time" \
    "$BIN" ingest "$corpus/days" --data "$DATA" >/dev/null 2>"$WORK/ingest-$month.stderr" || {
    tail -n 20 "$WORK/ingest-$month.stderr" >&2
    exit 1
  }
  say "$YEAR-$month: $(cat "$WORK/ingest-$month.time")"
  rm -rf "$corpus" "$corpus.stats.json"
  touch "$DATA/.ingested-$YEAR-$month"
done

say "reports over $DATA"
{
  timed by_identity "$BIN" query by_identity --data "$DATA" --format csv
  timed by_model "$BIN" query by_model --data "$DATA" --format csv
  timed top_spenders "$BIN" query top_spenders --data "$DATA" --format csv
  timed chargeback "$BIN" report chargeback --month "$YEAR-12" --data "$DATA" \
    --out "$WORK/chargeback.csv"
  timed html "$BIN" report html --month "$YEAR-12" --data "$DATA" --out "$WORK/report.html"
} >"$WORK/reports.txt"
requests=$("$BIN" sql --data "$DATA" --format csv "SELECT sum(requests) FROM daily_usage" | tail -n 1)
rows=$("$BIN" sql --data "$DATA" --format csv "SELECT count(*) FROM daily_usage" | tail -n 1)
echo
echo "bedrock-ledger reports over a year: $requests requests, $rows rows in daily_usage"
awk '{ printf "  %-13s %6.2f s  %5d MiB peak\n", $1, $2, $3 }' "$WORK/reports.txt"
