#!/usr/bin/env bash
# Load test of `newsletter subscribers import`: generates N subscribers
# (default 100,000) as CSV and imports them into a fresh database, printing
# rows per second and the peak resident memory (GNU time, Debian's "time").
set -euo pipefail
n=${1:-100000}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/newsletter" ./cmd/newsletter
awk -v n="$n" 'BEGIN {
  split("Parks Transport Events Housing Libraries Government", c, " ")
  print "email,name,categories,lists,status"
  for (i = 0; i < n; i++)
    printf "reader%07d@example.org,Reader %d,%s;%s,newsletter,active\n", i, i, c[i%6+1], c[int(i/6)%6+1]
}' > "$work/subscribers.csv"
start=$(date +%s.%N)
/usr/bin/time -v "$work/newsletter" --db "$work/load.db" subscribers import "$work/subscribers.csv" 2> "$work/time.txt" || { cat "$work/time.txt"; exit 1; }
end=$(date +%s.%N)
grep -E '^[0-9]+ added' "$work/time.txt" || true
awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%d rows in %.2f s: %.0f rows/s\n", n, e - s, n / (e - s) }'
grep -E 'Maximum resident set size' "$work/time.txt"
