# Sourced by the bench scripts: GNU time for peak RSS, the release binary to measure (sets BIN)
# and `timed`, which runs a command a few times for its median time. Needs `say` from the caller.

if [[ ! -x /usr/bin/time ]]; then
  say "installing GNU time"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
if [[ -n ${BEDROCK_LEDGER_BIN:-} ]]; then
  BIN=$BEDROCK_LEDGER_BIN
else
  # The same target directory as `cargo run` and tests/run.sh, unless the caller chose one.
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
  say "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  cargo build --release
  BIN=$CARGO_TARGET_DIR/release/bedrock-ledger
fi
[[ -x $BIN ]] || { echo "$0: no binary at $BIN" >&2; exit 2; }

# install_duckdb: DuckDB $DUCKDB_VERSION in the venv $OUT/venv (once); sets VENV.
install_duckdb() {
  VENV=$OUT/venv
  if ! "$VENV/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
    say "installing duckdb==$DUCKDB_VERSION into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "duckdb==$DUCKDB_VERSION"
  fi
}

# timed LABEL COMMAND...: runs COMMAND ${RUNS:-3} times (output in $WORK/stdout.txt and
# stderr.txt); prints "LABEL median_seconds max_peak_rss_mib".
timed() {
  local label=$1 i
  shift
  : >"$WORK/times.txt"
  for ((i = 0; i < ${RUNS:-3}; i++)); do
    /usr/bin/time -a -o "$WORK/times.txt" -f '%e %M' "$@" >"$WORK/stdout.txt" 2>"$WORK/stderr.txt" || {
      echo "$0: $label failed; its stderr ends:" >&2
      tail -n 20 "$WORK/stderr.txt" >&2
      exit 1
    }
  done
  sort -n "$WORK/times.txt" | awk -v l="$label" '{ s[NR] = $1; if ($2 > m) m = $2 }
    END { printf "%s %.2f %d\n", l, s[int((NR + 1) / 2)], m / 1024 }'
}
