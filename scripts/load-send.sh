#!/usr/bin/env bash
# Load test of sending: N subscribers (default 5,000) get one article each,
# into Mailpit on loopback, at --concurrency 1, 4 and 8. Prints messages per
# second and the sender's peak resident memory for each run.
# Needs mailpit (go install github.com/axllent/mailpit@v1.33.1) and GNU time.
set -euo pipefail
n=${1:-5000}
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
work=$(mktemp -d)
cleanup() { [ -n "${mp:-}" ] && kill "$mp" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
go build -o "$work/newsletter" ./cmd/newsletter
nl() { "$work/newsletter" --db "$work/load.db" --config "$work/none.toml" "$@"; }
export NEWSLETTER_CONFIG=
mailpit --smtp 127.0.0.1:21025 --listen 127.0.0.1:28025 --database "$work/mailpit.db" \
  --max 0 --disable-version-check --smtp-disable-rdns -q > "$work/mailpit.log" 2>&1 &
mp=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:28025/api/v1/info >/dev/null && break; sleep 0.1; done
awk -v n="$n" 'BEGIN { print "email,name"; for (i = 0; i < n; i++) printf "reader%07d@example.org,Reader %d\n", i, i }' > "$work/readers.csv"
"$work/newsletter" --db "$work/load.db" subscribers import "$work/readers.csv" 2>/dev/null
"$work/newsletter" --db "$work/load.db" articles add examples/articles 2>/dev/null
for c in 1 4 8; do
  again=""; [ "$c" != 1 ] && again="--again"
  /usr/bin/time -v "$work/newsletter" --db "$work/load.db" send plant-a-tree-with-us-on-saturday $again \
    --transport "smtp://127.0.0.1:21025?tls=none" --concurrency "$c" 2> "$work/run.txt" || { cat "$work/run.txt"; exit 1; }
  summary=$(grep -E '^campaign [0-9]+' "$work/run.txt")
  rss=$(grep 'Maximum resident set size' "$work/run.txt" | awk '{print $NF}')
  echo "concurrency $c: $summary; peak RSS ${rss} KB"
done
