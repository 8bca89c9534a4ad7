# Sourced by the bench scripts: GNU time for peak RSS, and the release binary to measure.
# Sets BIN. Needs `say` from the caller.

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
