#!/usr/bin/env bash
# The whole test suite, as the README's second command and CI (.ci/run) run it: formatting,
# lints, unit + integration tests (the integration tests run the real binary on fixtures/ and
# against a real S3 API server on 127.0.0.1 that this script installs and starts, read the
# Delta tables back with an independent pyarrow reader, and render the HTML report in Debian's
# headless Chromium, which this script installs), and the independent oracle against its
# checked-in expectations.
set -euo pipefail
cd "$(dirname "$0")/.."

# The same target directory as `cargo run` (the README's first command) unless the caller
# chose one: .ci/run keeps one across clones, since a clean DataFusion + AWS SDK build is slow.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --locked --all-targets -- -D warnings

step "starting a local AWS API server (S3, CloudWatch Logs, Glue, Athena: moto, pinned) on 127.0.0.1"
# Installed into a virtual environment outside the clone, reused by later runs. pyarrow is for
# the independent Delta reader (tests/delta_reader.py) and for seeding Athena results, sqlglot
# for the Athena SQL check (tests/athena_sql.py), cfn-lint for the deployment template.
VENV="${BEDROCK_LEDGER_VENV:-$HOME/.cache/bedrock-ledger-venv}"
PINNED=("moto[server]==5.2.5" "pyarrow==22.0.0" "sqlglot==30.30.0" "cfn-lint==1.58.0")
if ! "$VENV/bin/python" - "${PINNED[@]}" 2>/dev/null <<'PY'
import re, sys
from importlib.metadata import version
sys.exit(any(version(re.sub(r"\[.*\]", "", name)) != wanted
             for name, wanted in (pin.split("==") for pin in sys.argv[1:])))
PY
then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PINNED[@]}"
fi
export BEDROCK_LEDGER_TEST_PYTHON="$VENV/bin/python"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_LOG=$(mktemp)
# moto's server, with the Athena behaviours moto lacks (result pages, failed queries).
"$VENV/bin/python" tests/aws_server.py -H 127.0.0.1 -p "$PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -f "$MOTO_LOG"' EXIT
python3 - "$PORT" <<'PY' || { echo "moto did not start:" >&2; cat "$MOTO_LOG" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
export BEDROCK_LEDGER_TEST_S3="http://127.0.0.1:$PORT"
echo "moto listening on $BEDROCK_LEDGER_TEST_S3" >&2

step "cfn-lint deploy/nightly.yaml (every check, informational ones included)"
"$VENV/bin/cfn-lint" --include-checks I -- deploy/nightly.yaml
echo "cfn-lint: deploy/nightly.yaml passed" >&2

step "a headless Chromium (Debian's chromium) for the HTML report's rendering test"
# From Debian's packages, installed once per machine; the test fails without it, never skips.
if ! command -v chromium >/dev/null; then
  SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
export BEDROCK_LEDGER_TEST_CHROMIUM="$(command -v chromium)"
chromium --version >&2

step "cargo test"
cargo test --locked --all-targets

step "oracle reproduces fixtures/expected/aggregates.csv"
python3 benches/oracle.py --profiles fixtures/profiles.csv fixtures/logs 2>/dev/null \
  | diff -u fixtures/expected/aggregates.csv -
echo "oracle: 1 passed, 0 failed"
