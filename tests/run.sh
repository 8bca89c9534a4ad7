#!/usr/bin/env bash
# The whole test suite, as the README's second command and CI (.ci/run) run it: formatting,
# lints, unit + integration tests (the integration tests run the real binary on fixtures/), and
# the independent oracle against its checked-in expectations.
set -euo pipefail
cd "$(dirname "$0")/.."

# Reuse one target directory across runs and clones: a clean DataFusion + AWS SDK build is slow.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/bedrock-ledger-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

step "cargo test"
cargo test --locked --all-targets

step "oracle reproduces fixtures/expected/aggregates.csv"
python3 benches/oracle.py --profiles fixtures/profiles.csv fixtures/logs 2>/dev/null \
  | diff -u fixtures/expected/aggregates.csv -
echo "oracle: 1 passed, 0 failed"
