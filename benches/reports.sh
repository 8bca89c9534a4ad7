#!/usr/bin/env bash
# The month's reports on a dataset, each a process of its own (opening the tables included),
# median of RUNS (default 3) runs, with peak RSS:
#   chargeback     `report chargeback` (CSV and manifest)
#   by_model       `query by_model`       (named query)
#   daily_trend    `query daily_trend`    (named query)
#   html           `report html`
# each twice: as shipped, reading the rollup `daily_usage`, and on a copy of the dataset without
# its rollup (hard links, so no data is copied), where every report sums the request table. Next
# to them DuckDB aggregates the month's Parquet files (the live files of the Delta log) into the
# chargeback's groups and into each named query's, timed inside DuckDB, so its process start and
# file listing are not counted: the comparison favours DuckDB.
#
#   bash benches/reports.sh DATASET MONTH
#
# Set BEDROCK_LEDGER_BIN to skip the release build. Needs GNU time (installed with apt-get when
# missing) and installs DuckDB into bench-out/venv.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: bash benches/reports.sh DATASET MONTH" >&2; exit 2; }
DATA=$(realpath -- "$1")
MONTH=$2
cd "$(dirname "$0")/.."

OUT=bench-out
RUNS=${RUNS:-3}
DUCKDB_VERSION=2.0.1
WORK=$OUT/reports-runs
say() { printf '== %s\n' "$*" >&2; }

# shellcheck source=benches/tools.sh
source benches/tools.sh
install_duckdb

rm -rf "$WORK"
mkdir -p "$WORK"
# The same dataset without its rollup: every month is then summed from the request table.
cp -al "$DATA" "$WORK/no-rollup"
rm -rf "$WORK/no-rollup/daily_usage"

reports() {
  local tag=$1 data=$2
  timed "chargeback-$tag" "$BIN" report chargeback --month "$MONTH" --data "$data" \
    --out "$WORK/chargeback-$tag.csv"
  timed "by_model-$tag" "$BIN" query by_model --month "$MONTH" --data "$data" --format csv
  cp "$WORK/stdout.txt" "$WORK/by_model-$tag.csv"
  timed "daily_trend-$tag" "$BIN" query daily_trend --month "$MONTH" --data "$data" --format csv
  cp "$WORK/stdout.txt" "$WORK/daily_trend-$tag.csv"
  timed "html-$tag" "$BIN" report html --month "$MONTH" --data "$data" \
    --out "$WORK/report-$tag.html"
}

say "reports of $MONTH over $DATA, with its rollup and without"
{
  reports rollup "$DATA"
  reports requests "$WORK/no-rollup"
} >"$WORK/ours.txt"
for name in chargeback by_model daily_trend; do
  ext=csv
  cmp -s "$WORK/$name-rollup.$ext" "$WORK/$name-requests.$ext" || {
    echo "reports.sh: $name differs between the rollup and the request table" >&2
    exit 1
  }
done

say "DuckDB $DUCKDB_VERSION over the month's Parquet files"
"$VENV/bin/python" - "$DATA/invocations" "$MONTH" "$RUNS" >"$WORK/duckdb.txt" <<'EOF'
import json, os, statistics, sys, time
import duckdb

table, month, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
# The live files of the month: the Delta log's adds less its removes, replayed in order.
live = {}
log = os.path.join(table, "_delta_log")
for name in sorted(n for n in os.listdir(log) if n.endswith(".json")):
    for line in open(os.path.join(log, name)):
        action = json.loads(line)
        if "add" in action and action["add"]["partitionValues"].get("month") == month:
            live[action["add"]["path"]] = True
        elif "remove" in action:
            live.pop(action["remove"]["path"], None)
files = [os.path.join(table, p) for p in sorted(live)]
con = duckdb.connect()
con.execute("SET threads = 2")
con.execute("SET enable_progress_bar = false")
listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
con.execute(f"CREATE VIEW month AS SELECT * FROM read_parquet([{listed}])")
QUERIES = {
    # The chargeback's groups without teams (a join DuckDB would add on top).
    "chargeback": """SELECT identity, principal_type, model, count(*), count(error_code),
        sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
        sum(input_cost_usd), sum(output_cost_usd), sum(cache_read_cost_usd),
        sum(cache_write_cost_usd), sum(cost_usd),
        sum(CASE WHEN price_status = 'unpriced' THEN 1 ELSE 0 END)
        FROM month GROUP BY ALL ORDER BY ALL""",
    "by_model": """SELECT model, inference_scope, count(*), count(DISTINCT identity),
        sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens),
        sum(cost_usd), round(avg(latency_ms), 1)
        FROM month GROUP BY ALL ORDER BY ALL""",
    "daily_trend": """SELECT CAST(date_trunc('day', timestamp) AS DATE) AS day, count(*),
        count(DISTINCT identity), count(error_code),
        sum(input_tokens + cache_read_tokens + cache_write_tokens), sum(output_tokens),
        sum(cost_usd) FROM month GROUP BY 1 ORDER BY 1""",
}
for name, sql in QUERIES.items():
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - t0)
    print(f"{name}-duckdb {statistics.median(times):.2f} {len(files)}")
EOF

python3 - "$WORK/ours.txt" "$WORK/duckdb.txt" "$DATA" "$MONTH" "$BIN" <<'EOF'
import subprocess, sys
ours = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1])}
duck = {l.split()[0]: l.split()[1:] for l in open(sys.argv[2])}
data, month, binary = sys.argv[3:6]
def count(sql):
    out = subprocess.run([binary, "sql", "--data", data, "--format", "csv", sql],
                         check=True, capture_output=True, text=True).stdout
    return int(out.splitlines()[1])
requests = count(f"SELECT count(*) FROM invocations WHERE month = '{month}'")
rollup_rows = count(f"SELECT count(*) FROM daily_usage WHERE month = '{month}'")
files = next(iter(duck.values()))[1]
print(f"""
bedrock-ledger reports of {month}: {requests} requests, {rollup_rows} rollup rows, {files} data files
  {'report':<12} {'rollup':>16} {'request table':>16} {'DuckDB':>8}  rollup vs DuckDB""")
for name in ["chargeback", "by_model", "daily_trend", "html"]:
    r, rr = ours[f"{name}-rollup"]
    q, qr = ours[f"{name}-requests"]
    d = duck.get(f"{name}-duckdb", [None])[0]
    ratio = f"{float(d) / float(r):.1f}x faster" if d and float(r) > 0 else ""
    if d and float(r) >= float(d):
        ratio = f"{float(r) / float(d):.1f}x slower"
    print(f"  {name:<12} {r:>6} s {rr:>5} MiB {q:>6} s {qr:>5} MiB {d or '-':>6} s  {ratio}")
EOF
