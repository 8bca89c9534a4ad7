#!/usr/bin/env bash
# The README's screenshots of the sample's October report, taken with Debian's headless
# Chromium (the one tests/run.sh installs):
#   cargo run -- run sample/logs --data sample-ledger --profiles sample/profiles.csv --teams sample/teams.csv
#   bash docs/screenshots.sh sample-ledger/reports/chargeback-2026-10.html
set -euo pipefail
cd "$(dirname "$0")/.."
report=$(realpath "${1:?usage: docs/screenshots.sh REPORT.html}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shoot() { # shoot PAGE PNG HEIGHT
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --proxy-server=127.0.0.1:9 \
    --window-size="1000,$3" --screenshot="$2" "file://$1" 2>/dev/null
}

# The top of the page: the headline, the unpriced usage, spend per day and by team.
shoot "$report" docs/report-2026-10.png 1450
# The breakdowns by team and model: the page without what comes before them.
python3 - "$report" "$work/teams.html" <<'PY'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
head, body = page.split("<body>", 1)
start = body.index('<section id="teams">')
end = body.index('<section id="cost-centers">')
models = body.index('<section id="models">')
by_scope = body.index("<h3>By model and inference scope</h3>")
open(sys.argv[2], "w", encoding="utf-8").write(
    head + "<body>" + body[start:end] + body[models:by_scope] + "</section></body></html>")
PY
shoot "$work/teams.html" docs/report-2026-10-teams.png 1300
echo "wrote docs/report-2026-10.png and docs/report-2026-10-teams.png" >&2
